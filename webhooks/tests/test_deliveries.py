"""Sending deliveries to a real receiver: signed JSON, retried with backoff, given up, bounded by the
timeout, each sent once however many senders run; the secret in no log."""
import json
import logging
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from conftest import free_port
from webhooks import services
from webhooks.models import Webhook, WebhookDelivery
from webhooks.tests.conftest import SECRET, signed_by

pytestmark = pytest.mark.django_db

DATA = {"id": 7, "status": "completed", "price": "120.00"}


def webhook_to(url: str, owner, events=("job.finished",), **fields) -> Webhook:
    webhook, _ = services.webhook_create(owner=owner, url=url, events=list(events), secret=SECRET, **fields)
    return webhook


def queue(owner, event="job.finished", data=DATA) -> list[WebhookDelivery]:
    return services.event_queue(owner_id=owner.pk, event=event, data=data)


def fresh(delivery: WebhookDelivery) -> WebhookDelivery:
    delivery.refresh_from_db()
    return delivery


def test_a_delivery_is_a_json_post_signed_with_the_secret_carrying_its_event_id(operator, receiver):
    webhook_to(receiver.url, operator)
    [delivery] = queue(operator)

    assert receiver.requests == []  # queueing sends nothing
    services.deliver_due()

    [received] = receiver.requests
    assert received.path == "/hook"
    assert received.json == {"id": str(delivery.event_id), "event": "job.finished",
                             "created_at": delivery.created_at.isoformat().replace("+00:00", "Z"), "data": DATA}
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["User-Agent"] == "MarketplacePoster-Webhooks/1"
    assert received.headers["X-Webhook-Event"] == "job.finished"
    assert received.headers["X-Webhook-Event-Id"] == received.json["id"]
    assert received.headers["X-Signature-256"].startswith("sha256=")
    assert signed_by(SECRET, received)
    assert not signed_by("another-secret-altogether-000000", received)
    delivery = fresh(delivery)
    assert (delivery.state, delivery.status_code, delivery.attempts, delivery.last_error) == ("delivered", 200, 1, "")
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None


def test_only_the_owners_active_webhooks_that_want_the_event_get_it(operator, other_operator, receiver, other_receiver):
    wanted = webhook_to(receiver.url, operator, events=["post.failed", "job.finished"])
    webhook_to(receiver.url, operator, events=["post.failed"])
    webhook_to(receiver.url, operator, active=False)
    webhook_to(other_receiver.url, other_operator)

    deliveries = queue(operator)

    assert [delivery.webhook_id for delivery in deliveries] == [wanted.pk]


def test_a_failed_attempt_is_retried_with_backoff_and_the_same_body(operator, receiver):
    webhook_to(receiver.url, operator)
    receiver.answer(500, 500, then=200)
    [delivery] = queue(operator)
    start = timezone.now()

    services.deliver_due(now=start)
    first = fresh(delivery).next_attempt_at
    assert (delivery.state, delivery.attempts, delivery.status_code, delivery.last_error) == ("pending", 1, 500, "HTTP 500")
    assert timedelta(seconds=10) <= first - start < timedelta(seconds=12)
    assert services.deliver_due(now=first - timedelta(seconds=1)) == []  # not due yet: nothing sent
    assert len(receiver.requests) == 1

    services.deliver_due(now=first)
    second = fresh(delivery).next_attempt_at
    assert (delivery.state, delivery.attempts) == ("pending", 2)
    assert timedelta(seconds=60) <= second - first < timedelta(seconds=62)

    services.deliver_due(now=second)
    delivery = fresh(delivery)
    assert (delivery.state, delivery.attempts, delivery.status_code, delivery.last_error) == ("delivered", 3, 200, "")
    assert len({request.body for request in receiver.requests}) == 1  # one body, one event id, three times
    assert len(receiver.requests) == 3 and all(signed_by(SECRET, request) for request in receiver.requests)


def test_a_delivery_is_given_up_after_max_attempts_having_backed_off_each_time_longer(settings, operator, receiver):
    settings.WEBHOOK_MAX_ATTEMPTS = 6
    webhook_to(receiver.url, operator)
    receiver.answer(then=500)
    [delivery] = queue(operator)
    now, pauses = timezone.now(), []

    while fresh(delivery).state == "pending":
        services.deliver_due(now=now)
        if fresh(delivery).next_attempt_at:
            pauses.append(round((delivery.next_attempt_at - now).total_seconds()))
            now = delivery.next_attempt_at

    assert pauses == [10, 60, 300, 1800, 7200]
    assert (delivery.state, delivery.attempts, delivery.status_code, delivery.next_attempt_at) == ("failed", 6, 500, None)
    assert services.deliver_due(now=now + timedelta(days=30)) == []  # given up: never sent again
    assert len(receiver.requests) == 6


def test_a_receiver_that_does_not_answer_costs_one_attempt_within_the_timeout_and_holds_up_no_other(
    settings, operator, receiver, other_receiver,
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    receiver.hang()
    silent = webhook_to(receiver.url, operator)
    webhook_to(other_receiver.url, operator)
    queue(operator)

    started = time.monotonic()
    services.deliver_due()
    took = time.monotonic() - started

    assert took < 5  # about the 1 s timeout, not the receiver's patience
    hung = WebhookDelivery.objects.get(webhook=silent)
    answered = WebhookDelivery.objects.exclude(webhook=silent).get()
    assert (hung.state, hung.attempts, hung.status_code, hung.last_error) == ("pending", 1, None, "No answer within 1 s")
    assert (answered.state, answered.status_code) == ("delivered", 200)
    assert len(other_receiver.requests) == 1


def test_a_receiver_that_is_not_there_is_a_failed_attempt(operator):
    webhook_to(f"http://127.0.0.1:{free_port()}/hook", operator)
    [delivery] = queue(operator)

    services.deliver_due()

    delivery = fresh(delivery)
    assert (delivery.state, delivery.attempts, delivery.status_code) == ("pending", 1, None)
    assert delivery.last_error == "Could not connect: Connection refused"


def test_a_redirect_is_not_followed_and_counts_as_a_failed_attempt(operator, receiver):
    webhook_to(receiver.url, operator)
    receiver.answer(302)
    [delivery] = queue(operator)

    services.deliver_due()

    delivery = fresh(delivery)
    assert (delivery.state, delivery.status_code) == ("pending", 302)
    assert delivery.last_error == "HTTP 302 (redirects are not followed)"
    assert [request.path for request in receiver.requests] == ["/hook"]


def test_an_inactive_webhooks_deliveries_wait_until_it_is_active_again(operator, receiver):
    webhook = webhook_to(receiver.url, operator)
    [delivery] = queue(operator)
    services.webhook_update(webhook=webhook, active=False)

    assert services.deliver_due() == []
    services.webhook_update(webhook=webhook, active=True)
    services.deliver_due()

    assert fresh(delivery).state == "delivered"
    assert len(receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_senders_running_at_once_send_each_delivery_once(operator, receiver):
    webhook_to(receiver.url, operator)
    for number in range(30):
        queue(operator, data={"number": number})
    start = threading.Barrier(4)
    failures = []

    def sender():
        try:
            start.wait()
            while services.deliver_due(limit=5):
                pass
        except Exception as exc:  # reported below, with the others
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    sent = sorted(request.json["data"]["number"] for request in receiver.requests)
    assert sent == list(range(30))
    assert set(WebhookDelivery.objects.values_list("state", "attempts")) == {("delivered", 1)}


def test_neither_the_secret_nor_a_signature_is_ever_logged(settings, caplog, operator, receiver):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    caplog.set_level(logging.DEBUG)
    webhook = webhook_to(receiver.url, operator)
    receiver.answer(500, 500, 500, then=200)
    queue(operator)
    queue(operator, data={"id": 8})
    now = timezone.now()

    services.deliver_due(now=now)  # both fail once
    services.deliver_due(now=now + timedelta(minutes=1))  # one fails again (given up), the other is delivered

    assert sorted(WebhookDelivery.objects.values_list("state", flat=True)) == ["delivered", "failed"]
    assert f"webhook {webhook.pk}: job.finished" in caplog.text
    assert "delivered (HTTP 200" in caplog.text and "given up after 2 attempts" in caplog.text
    signatures = {request.headers["X-Signature-256"] for request in receiver.requests}
    assert len(signatures) == 2
    assert SECRET not in caplog.text
    assert not any(signature.removeprefix("sha256=") in caplog.text for signature in signatures)


def test_the_procrastinate_task_sends_what_is_due_and_is_never_retried(operator, receiver):
    from webhooks import tasks

    webhook_to(receiver.url, operator)
    queue(operator)

    assert tasks.deliver_webhooks.retry_strategy is None
    assert tasks.deliver_webhooks.name == "webhooks.deliver_due"
    assert tasks.deliver_webhooks(timestamp=0) == 1
    assert WebhookDelivery.objects.get().state == "delivered"
    assert json.loads(receiver.requests[0].body)["event"] == "job.finished"
