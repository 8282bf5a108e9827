"""Reads for the webhooks app. Every queryset starts from the operator: nothing else is visible."""
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from webhooks.models import Webhook, WebhookDelivery


def webhooks_for(*, user) -> QuerySet[Webhook]:
    """The operator's own webhooks, oldest first."""
    if not user.is_authenticated:  # schema generation runs views without an operator
        return Webhook.objects.none()
    return Webhook.objects.filter(owner=user)


def webhook_for(*, user, pk: int) -> Webhook:
    """One of the operator's webhooks, or 404."""
    return get_object_or_404(webhooks_for(user=user), pk=pk)


def deliveries_for(*, webhook: Webhook) -> QuerySet[WebhookDelivery]:
    """A webhook's deliveries, newest first."""
    return WebhookDelivery.objects.filter(webhook=webhook).order_by("-created_at", "-id")


def webhooks_subscribed(*, owner_id: int, event: str) -> list[Webhook]:
    """The operator's active webhooks that want `event`, in one query (the event is looked for in
    Python: SQLite has no JSON containment)."""
    return [webhook for webhook in Webhook.objects.filter(owner_id=owner_id, active=True).only("id", "events")
            if event in (webhook.events or [])]


def deliveries_due(*, now=None) -> QuerySet[WebhookDelivery]:
    """Pending deliveries whose time has come, of active webhooks, the longest waiting first."""
    return WebhookDelivery.objects.filter(
        state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now or timezone.now(), webhook__active=True,
    ).order_by("next_attempt_at", "id")
