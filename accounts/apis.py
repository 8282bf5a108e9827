"""HTTP for Facebook accounts and their sessions."""
import asyncio

from asgiref.sync import sync_to_async
from django.db import connection
from django.http import JsonResponse
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.authentication import authenticate_operator
from accounts.serializers import (
    AccountSerializer,
    CookieSerializer,
    HealthCheckSerializer,
    SessionValidationSerializer,
    StorageStateSerializer,
)


class OwnAccountsMixin:
    def get_queryset(self):
        return selectors.accounts_for(user=self.request.user)


class AccountListCreateApi(OwnAccountsMixin, generics.ListCreateAPIView):
    """The operator's Facebook accounts; create one with `{"email", "name"?}` (and optionally its
    proxy, identity and budgets)."""

    serializer_class = AccountSerializer

    def perform_create(self, serializer):
        serializer.instance = services.account_create(owner=self.request.user, **serializer.validated_data)


class AccountDetailApi(OwnAccountsMixin, generics.RetrieveUpdateDestroyAPIView):
    """One account. Deleting it deletes its listings and its session file."""

    serializer_class = AccountSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def perform_update(self, serializer):
        serializer.instance = services.account_update(account=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.account_delete(account=instance)


class AccountResumeApi(OwnAccountsMixin, generics.GenericAPIView):
    serializer_class = AccountSerializer

    @extend_schema(
        summary="Lift the account's pause after a block",
        description="Jobs post with the account again at once. Uploading a fresh session does not lift a "
        "pause: a block is Facebook's on the account, not on its session.",
        request=None, responses=AccountSerializer,
    )
    def post(self, request, pk):
        account = services.account_resume(account=self.get_object())
        return Response(self.get_serializer(account).data)


class AccountSessionApi(OwnAccountsMixin, generics.GenericAPIView):
    """The account's browser session. Stored as a file with owner-only permissions; never returned."""

    parser_classes = [JSONParser]
    serializer_class = SessionValidationSerializer

    @extend_schema(
        summary="Store the account's browser session",
        description="A Playwright storage state, or the JSON array of cookies a cookie-export "
        "extension writes. It must hold facebook.com's `c_user` and `xs` cookies, unexpired. "
        "Answers like validate-session.",
        request=PolymorphicProxySerializer(
            component_name="SessionUpload",
            serializers=[StorageStateSerializer, CookieSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses=SessionValidationSerializer,
    )
    def put(self, request, pk):
        account = self.get_object()
        services.account_session_store(account=account, data=request.data)
        return Response(selectors.account_session_status(account=account).as_validation())

    @extend_schema(summary="Remove the account's browser session", responses={204: None})
    def delete(self, request, pk):
        services.account_session_delete(account=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class AccountHealthApi(APIView):
    @extend_schema(
        summary="Session health of every account (seed section 3)",
        description="`healthy`: the session is valid. `warning`: it exists but is older than "
        "SESSION_MAX_AGE_DAYS, has an expired cookie, or failed (session_expired or captcha, or a live "
        "check) since it was saved. `error`: missing or unusable. `overall_health`: healthy while more "
        "than half of the accounts are healthy, error when none is, warning in between.",
        responses=HealthCheckSerializer,
    )
    def get(self, request):
        return Response(selectors.accounts_health(user=request.user))


_LIVE = {None: False, "": False, "false": False, "0": False, "true": True, "1": True}


async def validate_session(request, pk: int):
    """`GET /api/accounts/<id>/validate-session/[?live=true]`: the seed's three answers.

    A plain async view: `?live=true` runs Chromium for a few seconds, in a thread of its own, so
    that it does not hold the one thread Django gives every synchronous view under ASGI.
    """
    if request.method not in ("GET", "HEAD"):
        return JsonResponse({"detail": f'Method "{request.method}" not allowed.'}, status=405, headers={"Allow": "GET, HEAD"})
    user = await authenticate_operator(request)
    if user is None:  # before anything else, as DRF's views do: a stranger learns nothing
        return JsonResponse(
            {"detail": "Authentication credentials were not provided."}, status=401,
            headers={"WWW-Authenticate": 'Bearer realm="api"'},
        )
    live = _LIVE.get(request.GET.get("live", "").lower(), None)
    if live is None:
        return JsonResponse({"live": ["Must be true or false."]}, status=400)
    account = await sync_to_async(selectors.accounts_for(user=user).filter(pk=pk).first)()
    if account is None:
        return JsonResponse({"detail": "Not found."}, status=404)
    if live:
        try:
            account = await asyncio.to_thread(_check_live_in_thread, account)
        except services.LiveCheckUnavailable as exc:
            return JsonResponse({"detail": str(exc)}, status=503)
    status = await sync_to_async(selectors.account_session_status)(account=account)
    return JsonResponse(status.as_validation())


def _check_live_in_thread(account):
    try:
        return services.account_session_check_live(account=account)
    finally:
        connection.close()  # this thread's own connection: it will not be used again
