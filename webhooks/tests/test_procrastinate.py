"""JOB_RUNNER=procrastinate: a worker's periodic task sends deliveries, with no web server up.
PostgreSQL only (skipped otherwise), as Procrastinate is."""
import pytest

from postings.tests.conftest import wait_until
from postings.tests.test_procrastinate import (  # noqa: F401  (the fixtures: Procrastinate's schema, emptied after)
    ON_POSTGRESQL,
    Machine,
    procrastinate,
    procrastinate_schema,
)
from webhooks import services
from webhooks.models import WebhookDelivery
from webhooks.tests.conftest import SECRET, signed_by


@pytest.mark.skipif(not ON_POSTGRESQL, reason="Procrastinate needs PostgreSQL: run with DATABASE_URL=postgres://...")
def test_a_procrastinate_worker_alone_sends_what_is_due(procrastinate, live_server_env, operator, receiver):
    webhook, _ = services.webhook_create(owner=operator, url=receiver.url, events=["post.failed"], secret=SECRET)
    [delivery] = services.event_queue(owner_id=operator.pk, event="post.failed", data={"id": 1})

    worker = Machine("webhooks", {**live_server_env, "JOB_RUNNER": "procrastinate"})
    try:
        wait_until(lambda: receiver.of("post.failed"), timeout=90, what="the worker's periodic task to deliver")
        wait_until(lambda: WebhookDelivery.objects.get(pk=delivery.pk).state == "delivered", what="it recorded")
    finally:
        worker.stop()

    [received] = receiver.requests
    assert received.json["id"] == str(delivery.event_id)
    assert signed_by(SECRET, received)
