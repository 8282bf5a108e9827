"""HTTP for Facebook accounts and their sessions."""
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from accounts import selectors, services
from accounts.serializers import (
    AccountSerializer,
    CookieSerializer,
    SessionValidationSerializer,
    StorageStateSerializer,
)


class OwnAccountsMixin:
    def get_queryset(self):
        return selectors.accounts_for(user=self.request.user)


class AccountListCreateApi(OwnAccountsMixin, generics.ListCreateAPIView):
    """The operator's Facebook accounts; create one with `{"email", "name"?}`."""

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
