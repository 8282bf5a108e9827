"""How operators prove who they are to the API.

`Authorization: Bearer <access>` everywhere. The access-token cookie (set by the token endpoint)
on GET and HEAD only: a browser `EventSource(url, {withCredentials: true})` or an `<img src>` from
the dashboard's origin can read, but a cross-site form cannot write with it, so cookie-borne writes
need no CSRF token because there are none.
"""
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

SAFE_METHODS = ("GET", "HEAD")


class BearerOrCookieJWTAuthentication(JWTAuthentication):
    def authenticate(self, request):
        if self.get_header(request) is not None:
            return super().authenticate(request)
        if request.method not in SAFE_METHODS:
            return None
        raw = request.COOKIES.get(settings.AUTH_COOKIE_NAME)
        if not raw:
            return None
        try:
            token = self.get_validated_token(raw.encode())
            return self.get_user(token), token
        except (InvalidToken, TokenError):
            # A stale cookie must not hide a valid Django session (the admin, served pages):
            # let the next authenticator try; with none left the answer is still 401.
            return None


class BearerOrCookieScheme(OpenApiAuthenticationExtension):
    target_class = BearerOrCookieJWTAuthentication
    name = ["jwtAuth", "jwtCookie"]

    def get_security_requirement(self, auto_schema):
        # Either one (a list is an OR in OpenAPI); the cookie only where it is accepted.
        if auto_schema.method in SAFE_METHODS:
            return [{"jwtAuth": []}, {"jwtCookie": []}]
        return {"jwtAuth": []}

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            {"type": "apiKey", "in": "cookie", "name": settings.AUTH_COOKIE_NAME},
        ]


def request_operator(request):
    """The operator behind a plain (non-DRF) request, or None.

    The same credentials as the API: bearer token, the access cookie on GET/HEAD, Django's session.
    """
    try:
        result = BearerOrCookieJWTAuthentication().authenticate(request)
    except (AuthenticationFailed, InvalidToken, TokenError):
        return None
    if result is not None:
        return result[0]
    user = get_user(request) if hasattr(request, "session") else None
    return user if user is not None and user.is_authenticated else None


async def authenticate_operator(request):
    """`request_operator` for an async view."""
    return await sync_to_async(request_operator)(request)


def set_auth_cookie(response, access_token: str) -> None:
    response.set_cookie(
        settings.AUTH_COOKIE_NAME,
        access_token,
        max_age=int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=settings.AUTH_COOKIE_SECURE,
        path="/",
    )
