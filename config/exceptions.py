"""One place where errors become HTTP answers."""
from http import HTTPStatus

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object is in a state that does not allow this change."
    default_code = "conflict"


def exception_handler(exc, context):
    """DRF's handler, plus Django's own ValidationError (raised by model code) as a 400."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    return drf_exception_handler(exc, context)


def _json_error(status_code: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status_code)


# Django's own error pages answer HTML; every client of this project speaks JSON.
def bad_request(request, exception=None):
    return _json_error(HTTPStatus.BAD_REQUEST, "Bad request.")


def permission_denied(request, exception=None):
    return _json_error(HTTPStatus.FORBIDDEN, "You do not have permission to perform this action.")


def not_found(request, exception=None):
    if not request.path.startswith("/api/"):  # the dashboard's pages: Django's own HTML page
        return defaults.page_not_found(request, exception)
    return _json_error(HTTPStatus.NOT_FOUND, "Not found.")


def server_error(request):
    return _json_error(HTTPStatus.INTERNAL_SERVER_ERROR, "Server error.")


class BadRequest(exceptions.APIException):
    """A 400 with one plain message: `{"detail": "..."}`."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Bad request."
    default_code = "bad_request"
