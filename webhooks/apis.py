"""HTTP for webhooks and their deliveries."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response

from webhooks import selectors, services
from webhooks.models import WebhookDelivery
from webhooks.serializers import WebhookCreatedSerializer, WebhookDeliverySerializer, WebhookSerializer


class OwnWebhooksMixin:
    def get_queryset(self):
        return selectors.webhooks_for(user=self.request.user)


class WebhookListCreateApi(OwnWebhooksMixin, generics.ListCreateAPIView):
    """The operator's webhooks (paginated); register one with `{"url", "events", "secret"?, "active"?}`."""

    serializer_class = WebhookSerializer

    @extend_schema(
        summary="Register a webhook",
        description="Every delivery is a JSON POST `{\"id\", \"event\", \"created_at\", \"data\"}` signed with the "
        "secret (`X-Signature-256: sha256=<hex>`). Without a `secret` the server generates one and answers it "
        "here, once: no later answer shows it.",
        responses={201: WebhookCreatedSerializer},
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        webhook, generated = services.webhook_create(owner=request.user, **serializer.validated_data)
        context = {**self.get_serializer_context(), "generated_secret": generated}
        return Response(WebhookCreatedSerializer(webhook, context=context).data, status=status.HTTP_201_CREATED)


class WebhookDetailApi(OwnWebhooksMixin, generics.RetrieveUpdateDestroyAPIView):
    """One webhook. Deleting it deletes its deliveries; those still pending are not sent."""

    serializer_class = WebhookSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def perform_update(self, serializer):
        serializer.instance = services.webhook_update(webhook=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.webhook_delete(webhook=instance)


@extend_schema_view(get=extend_schema(
    summary="A webhook's deliveries, newest first",
    parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The webhook's id.")],
))
class WebhookDeliveryListApi(generics.ListAPIView):
    """A webhook's deliveries, newest first (paginated): state, the receiver's status code, attempts, times."""

    serializer_class = WebhookDeliverySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no operator, no webhook
            return WebhookDelivery.objects.none()
        return selectors.deliveries_for(webhook=selectors.webhook_for(user=self.request.user, pk=self.kwargs["pk"]))
