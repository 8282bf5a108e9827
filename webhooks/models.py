import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Event(models.TextChoices):
    """What a webhook can be told of."""

    JOB_FINISHED = "job.finished", "A posting job ended (its job-status body)"
    POST_FAILED = "post.failed", "A listing failed (its error log)"
    ACCOUNT_NEEDS_ATTENTION = "account.needs_attention", "An account turned warning or error (its health entry)"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class Webhook(models.Model):
    """Where an operator wants to be told of `events`: a URL that receives signed JSON POSTs."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks")
    url = models.CharField(max_length=2000)
    events = models.JSONField(help_text="A non-empty list of Event values.")
    # Kept as given, because every delivery is signed with it; never shown, never logged.
    secret = models.CharField(max_length=200, default=new_secret)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"webhook {self.pk} ({', '.join(self.events or [])})"


class WebhookDelivery(models.Model):
    """One event for one webhook: its body's data, and how sending it went."""

    class State(models.TextChoices):
        PENDING = "pending"  # to be sent at next_attempt_at (again, after a failed attempt)
        DELIVERED = "delivered"  # a 2xx answer
        FAILED = "failed"  # given up after WEBHOOK_MAX_ATTEMPTS

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=Event.choices)
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    payload = models.JSONField(help_text="The body's `data`, as it was when the event happened.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # When it is due next; while a sender holds it, the end of its lease. Null once it has ended.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="delivery_due_idx")]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} {self.event_id} to webhook {self.webhook_id}: {self.state}"
