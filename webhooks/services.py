"""Writes for the webhooks app: registering webhooks, queueing events for them, and sending them.

An event is only queued where it happens (a WebhookDelivery row, in the worker or the request that
caused it); it is sent later by `deliver_due`, from the server's timekeeper or a Procrastinate
periodic task, so that a slow or dead receiver never holds up a worker or a request.
"""
import hashlib
import hmac
import http.client
import json
import logging
import math
import socket
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from webhooks import selectors
from webhooks.models import Webhook, WebhookDelivery, new_secret

logger = logging.getLogger(__name__)

USER_AGENT = "MarketplacePoster-Webhooks/1"
SIGNATURE_HEADER = "X-Signature-256"
# Pause after the 1st, 2nd, ... failed attempt; the last one repeats if WEBHOOK_MAX_ATTEMPTS asks for more.
BACKOFF_SECONDS = (10, 60, 5 * 60, 30 * 60, 2 * 60 * 60)
# Deliveries sent at the same time by one `deliver_due`: a receiver that does not answer holds one
# of them for WEBHOOK_TIMEOUT_SECONDS, not the others.
SENDERS = 8


def webhook_create(*, owner, url: str, events: list[str], secret: str | None = None,
                   active: bool = True) -> tuple[Webhook, str | None]:
    """Register a webhook; returns (it, the secret if one was generated now: shown once, never again)."""
    generated = new_secret() if secret is None else None
    webhook = Webhook.objects.create(owner=owner, url=url, events=events, secret=secret or generated, active=active)
    return webhook, generated


def webhook_update(*, webhook: Webhook, **fields) -> Webhook:
    """Change a webhook's URL, events, secret or whether it is active."""
    for name, value in fields.items():
        setattr(webhook, name, value)
    webhook.save(update_fields=[*fields, "updated_at"])
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    """Delete a webhook and its deliveries (pending ones are not sent)."""
    webhook.delete()


def as_json(data) -> dict:
    """`data` as the API renders it (DRF's encoder: ISO dates with Z, decimals and UUIDs as strings)."""
    return json.loads(json.dumps(data, cls=JSONEncoder))


def deliveries_create(*, webhooks: list[Webhook], event: str, data: dict) -> list[WebhookDelivery]:
    """Queue one delivery of `event` with `data` for each of `webhooks`, due now; nothing is sent here."""
    if not webhooks:
        return []
    payload, now = as_json(data), timezone.now()
    return WebhookDelivery.objects.bulk_create([
        WebhookDelivery(webhook=webhook, event=event, payload=payload, created_at=now, next_attempt_at=now)
        for webhook in webhooks
    ])


def event_queue(*, owner_id: int, event: str, data) -> list[WebhookDelivery]:
    """Queue `event` for the operator's active webhooks that want it. `data` may be a function, called
    only when one does (building a body costs queries)."""
    webhooks = selectors.webhooks_subscribed(owner_id=owner_id, event=event)
    if not webhooks:
        return []
    return deliveries_create(webhooks=webhooks, event=event, data=data() if callable(data) else data)


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The exact bytes POSTed (the same at every attempt), which the signature covers."""
    envelope = {"id": delivery.event_id, "event": delivery.event, "created_at": delivery.created_at,
                "data": delivery.payload}
    return json.dumps(envelope, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 of the body under the webhook's secret, as GitHub signs."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Outcome:
    status_code: int | None
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: following one could POST the event somewhere the
    operator never registered (this server itself, for one)."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _request(delivery: WebhookDelivery) -> urllib.request.Request:
    body = delivery_body(delivery)
    return urllib.request.Request(delivery.webhook.url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Webhook-Event": delivery.event,
        "X-Webhook-Event-Id": str(delivery.event_id),
        SIGNATURE_HEADER: signature(delivery.webhook.secret, body),
    })


def _send(request: urllib.request.Request) -> Outcome:
    """POST one delivery; never raises for anything the receiver or the network does. No database."""
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    try:
        with _opener.open(request, timeout=timeout) as response:
            return Outcome(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        redirect = " (redirects are not followed)" if 300 <= exc.code < 400 else ""
        return Outcome(exc.code, f"HTTP {exc.code}{redirect}")
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, (TimeoutError, socket.timeout)):
            return Outcome(None, f"No answer within {timeout:g} s")
        return Outcome(None, f"Could not connect: {getattr(exc.reason, 'strerror', None) or exc.reason}")
    except (TimeoutError, socket.timeout):
        return Outcome(None, f"No answer within {timeout:g} s")
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(None, f"The connection failed: {type(exc).__name__} {exc}".strip())


def _lease_seconds(limit: int) -> float:
    """How long claimed deliveries are held: past it, one whose sender died is due again."""
    return settings.WEBHOOK_TIMEOUT_SECONDS * math.ceil(limit / SENDERS) + 60


def _record(delivery: WebhookDelivery, outcome: Outcome, now: datetime) -> None:
    attempts = delivery.attempts + 1
    fields = {"attempts": attempts, "status_code": outcome.status_code, "last_error": outcome.error[:500]}
    what = (delivery.webhook_id, delivery.event, delivery.event_id)
    if outcome.delivered:
        fields.update(state=WebhookDelivery.State.DELIVERED, delivered_at=now, next_attempt_at=None)
        logger.info("webhook %s: %s %s delivered (HTTP %s, attempt %s)", *what, outcome.status_code, attempts)
    elif attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        fields.update(state=WebhookDelivery.State.FAILED, next_attempt_at=None)
        logger.warning("webhook %s: %s %s given up after %s attempts (%s)", *what, attempts, outcome.error)
    else:
        pause = BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1]
        fields.update(next_attempt_at=now + timedelta(seconds=pause))
        logger.warning("webhook %s: %s %s attempt %s failed (%s); next in %s s", *what, attempts, outcome.error, pause)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)


def deliver_due(*, now: datetime | None = None, limit: int = 50) -> list[WebhookDelivery]:
    """Send up to `limit` deliveries that are due, SENDERS at a time; returns those attempted.

    Each is claimed with a conditional UPDATE that moves its next_attempt_at past `now` (a lease):
    of two processes delivering at once, each row goes to the one whose UPDATE changed it. A 2xx
    answer delivers it; anything else (another status, a redirect, no connection, no answer within
    WEBHOOK_TIMEOUT_SECONDS) is a failed attempt, tried again after BACKOFF_SECONDS until
    WEBHOOK_MAX_ATTEMPTS, then given up (`failed`).
    """
    now = now or timezone.now()
    lease_until = now + timedelta(seconds=_lease_seconds(limit))
    claimed = [
        pk for pk in selectors.deliveries_due(now=now).values_list("pk", flat=True)[:limit]
        if WebhookDelivery.objects.filter(pk=pk, state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now)
        .update(next_attempt_at=lease_until)
    ]
    if not claimed:
        return []
    deliveries = list(WebhookDelivery.objects.filter(pk__in=claimed).select_related("webhook").order_by("pk"))
    requests = [_request(delivery) for delivery in deliveries]
    started = timezone.now()
    with ThreadPoolExecutor(max_workers=min(SENDERS, len(requests)), thread_name_prefix="webhook-send") as pool:
        outcomes = list(pool.map(_send, requests))  # the threads only talk HTTP: no database
    finished = now + (timezone.now() - started)  # on the caller's clock
    with transaction.atomic():
        for delivery, outcome in zip(deliveries, outcomes):
            _record(delivery, outcome, finished)
    return deliveries
