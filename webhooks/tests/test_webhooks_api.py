"""The webhooks API: register, list, change, delete, deliveries; URLs and events checked; the secret
write-only; another operator's webhooks invisible."""
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from webhooks import services
from webhooks.models import Webhook, WebhookDelivery
from webhooks.tests.conftest import SECRET

pytestmark = pytest.mark.django_db

EVENTS_MESSAGE = "Choose from job.finished, post.failed, account.needs_attention."


def register(api, **body):
    return api.post("/api/webhooks/", body, format="json")


def test_registering_without_a_secret_answers_the_generated_one_once(api, receiver):
    response = register(api, url=receiver.url, events=["job.finished", "post.failed"])

    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    webhook = Webhook.objects.get()
    assert body == {
        "id": webhook.pk, "url": receiver.url, "events": ["job.finished", "post.failed"], "active": True,
        "deliveries_url": f"/api/webhooks/{webhook.pk}/deliveries/", "secret": webhook.secret,
        "created_at": body["created_at"], "updated_at": body["updated_at"],
    }
    assert len(webhook.secret) >= 40  # secrets.token_urlsafe(32)
    for answer in (api.get("/api/webhooks/"), api.get(f"/api/webhooks/{webhook.pk}/")):
        assert answer.status_code == HTTPStatus.OK
        assert webhook.secret not in answer.content.decode()
    assert "secret" not in api.get(f"/api/webhooks/{webhook.pk}/").json()


def test_a_secret_the_operator_gives_is_kept_and_never_answered(api, receiver):
    response = register(api, url=receiver.url, events=["post.failed"], secret=SECRET)

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["secret"] is None
    webhook = Webhook.objects.get()
    assert webhook.secret == SECRET
    services.event_queue(owner_id=webhook.owner_id, event="post.failed", data={"id": 1})
    services.deliver_due()
    answers = [
        response,
        api.get("/api/webhooks/"),
        api.get(f"/api/webhooks/{webhook.pk}/"),
        api.patch(f"/api/webhooks/{webhook.pk}/", {"active": False}, format="json"),
        api.get(f"/api/webhooks/{webhook.pk}/deliveries/"),
    ]
    for answer in answers:
        assert answer.status_code in (HTTPStatus.OK, HTTPStatus.CREATED)
        assert SECRET not in answer.content.decode()


def test_the_list_is_the_operators_own_paginated(api, other_api, receiver):
    mine = register(api, url=receiver.url, events=["job.finished"]).json()
    register(other_api, url=receiver.url, events=["job.finished"])

    body = api.get("/api/webhooks/").json()

    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    assert [webhook["id"] for webhook in body["results"]] == [mine["id"]]
    assert "secret" not in body["results"][0]


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://example.com/hook", "Must be an http:// or https:// URL, not ftp://."),
    ("file:///etc/passwd", "Must be an http:// or https:// URL, not file://."),
    ("example.com/hook", "Must be an http:// or https:// URL, not no scheme."),
    ("http://", "Must name a host: http(s)://host[:port]/path."),
    ("https:///hook", "Must name a host: http(s)://host[:port]/path."),
    ("http://example.com:99999/", "The port must be a number from 1 to 65535."),
    ("http://user:pass@example.com/hook", "Must not hold credentials (user:password@): the secret signs each delivery."),
    ("http://exa mple.com/", "Enter a valid URL."),
])
def test_a_url_that_is_not_http_with_a_host_is_refused_naming_the_field(api, url, message):
    response = register(api, url=url, events=["job.finished"])

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"url": [message]}
    assert not Webhook.objects.exists()


ITSELF = "Must not point at this server itself: a webhook tells another system what happened here."


@pytest.mark.parametrize("url", [
    "http://testserver/hook",  # the host the request came to (the test client's), on its port
    "http://testserver:80/api/webhooks/",
    "http://localhost/hook",  # this machine, on the port the request came in on (80)
    "http://127.0.0.1/hook",
    "http://127.1.2.3:80/hook",
    "http://[::1]/hook",
    "http://0.0.0.0/hook",
    "http://LOCALHOST./hook",
])
def test_a_url_that_points_at_the_server_itself_is_refused(api, url):
    response = register(api, url=url, events=["job.finished"])

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"url": [ITSELF]}


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765/hook", "http://localhost:9000/", "https://hooks.example.com/x"])
def test_loopback_on_another_port_and_other_hosts_are_accepted(api, url):
    response = register(api, url=url, events=["job.finished"], secret=SECRET)

    assert response.status_code == HTTPStatus.CREATED, response.json()
    assert response.json()["url"] == url


@pytest.mark.parametrize(("events", "message"), [
    (["job.finished", "job.started"], f'Unknown event: "job.started". {EVENTS_MESSAGE}'),
    (["nope", 3], f'Unknown events: "nope", 3. {EVENTS_MESSAGE}'),
    ([], "This list may not be empty."),
    ("job.finished", 'Expected a list of items but got type "str".'),
])
def test_events_must_be_a_non_empty_list_of_known_ones_naming_the_unknown(api, receiver, events, message):
    response = register(api, url=receiver.url, events=events)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"events": [message]}


def test_an_event_named_twice_is_kept_once(api, receiver):
    response = register(api, url=receiver.url, events=["post.failed", "job.finished", "post.failed"])

    assert response.json()["events"] == ["post.failed", "job.finished"]


def test_a_short_secret_and_unknown_or_read_only_fields_are_refused(api, receiver):
    short = register(api, url=receiver.url, events=["job.finished"], secret="short")
    unknown = register(api, url=receiver.url, events=["job.finished"], owner=1, deliveries_url="/x/")

    assert short.status_code == unknown.status_code == HTTPStatus.BAD_REQUEST
    assert short.json() == {"secret": ["Ensure this field has at least 16 characters."]}
    assert unknown.json() == {"deliveries_url": ["This field is unknown or read-only."],
                              "owner": ["This field is unknown or read-only."]}


def test_patch_changes_url_events_active_and_rotates_the_secret_without_showing_it(api, receiver, other_receiver):
    webhook_id = register(api, url=receiver.url, events=["job.finished"], secret=SECRET).json()["id"]
    rotated = "a-rotated-secret-9876543210-abcdef"

    response = api.patch(f"/api/webhooks/{webhook_id}/", {
        "url": other_receiver.url, "events": ["account.needs_attention"], "active": False, "secret": rotated,
    }, format="json")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert (body["url"], body["events"], body["active"]) == (other_receiver.url, ["account.needs_attention"], False)
    assert "secret" not in body
    assert Webhook.objects.get().secret == rotated


def test_patch_checks_the_url_and_events_as_create_does(api, receiver):
    webhook_id = register(api, url=receiver.url, events=["job.finished"]).json()["id"]

    bad_url = api.patch(f"/api/webhooks/{webhook_id}/", {"url": "http://testserver/"}, format="json")
    bad_events = api.patch(f"/api/webhooks/{webhook_id}/", {"events": ["job.done"]}, format="json")

    assert bad_url.status_code == bad_events.status_code == HTTPStatus.BAD_REQUEST
    assert bad_url.json() == {"url": [ITSELF]}
    assert bad_events.json() == {"events": [f'Unknown event: "job.done". {EVENTS_MESSAGE}']}
    assert Webhook.objects.get().url == receiver.url


def test_deleting_a_webhook_deletes_its_deliveries(api, operator, receiver):
    webhook_id = register(api, url=receiver.url, events=["job.finished"]).json()["id"]
    services.event_queue(owner_id=operator.pk, event="job.finished", data={"id": 1})

    response = api.delete(f"/api/webhooks/{webhook_id}/")

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert not Webhook.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_another_operator_gets_404_for_a_webhook_and_its_deliveries(api, other_api, operator, receiver):
    webhook_id = register(api, url=receiver.url, events=["job.finished"]).json()["id"]
    services.event_queue(owner_id=operator.pk, event="job.finished", data={"id": 1})
    detail = f"/api/webhooks/{webhook_id}/"

    answers = [
        other_api.get(detail), other_api.patch(detail, {"active": False}, format="json"), other_api.delete(detail),
        other_api.get(f"{detail}deliveries/"),
    ]

    assert [answer.status_code for answer in answers] == [HTTPStatus.NOT_FOUND] * 4
    assert all(answer.json() == {"detail": "No Webhook matches the given query."} for answer in answers)
    assert other_api.get("/api/webhooks/").json()["count"] == 0
    webhook = Webhook.objects.get()
    assert webhook.active and webhook.deliveries.count() == 1


def test_deliveries_show_state_status_code_attempts_and_times_newest_first(api, operator, receiver):
    webhook_id = register(api, url=receiver.url, events=["job.finished", "post.failed"]).json()["id"]
    receiver.answer(503)
    services.event_queue(owner_id=operator.pk, event="job.finished", data={"id": 1})
    now = timezone.now()
    services.deliver_due(now=now)  # the first: 503, to be tried again
    later = now + timedelta(seconds=1)
    services.event_queue(owner_id=operator.pk, event="post.failed", data={"id": 2})
    WebhookDelivery.objects.filter(event="post.failed").update(created_at=later, next_attempt_at=later)
    services.deliver_due(now=later)  # the second: 200
    retried, delivered = WebhookDelivery.objects.order_by("pk")

    response = api.get(f"/api/webhooks/{webhook_id}/deliveries/")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    iso = lambda moment: moment.isoformat().replace("+00:00", "Z") if moment else None  # noqa: E731
    assert body == {"count": 2, "next": None, "previous": None, "results": [
        {"id": delivered.pk, "event": "post.failed", "event_id": str(delivered.event_id), "state": "delivered",
         "status_code": 200, "attempts": 1, "last_error": "", "created_at": iso(later),
         "delivered_at": iso(delivered.delivered_at), "next_attempt_at": None},
        {"id": retried.pk, "event": "job.finished", "event_id": str(retried.event_id), "state": "pending",
         "status_code": 503, "attempts": 1, "last_error": "HTTP 503", "created_at": iso(retried.created_at),
         "delivered_at": None, "next_attempt_at": iso(retried.next_attempt_at)},
    ]}
    assert delivered.delivered_at >= later
    assert retried.next_attempt_at >= now + timedelta(seconds=10)


def test_the_admin_lists_webhooks_and_deliveries_without_the_secret(client, django_user_model, receiver):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "correct-horse-9")
    webhook, _ = services.webhook_create(owner=root, url=receiver.url, events=["job.finished"], secret=SECRET)
    services.event_queue(owner_id=root.pk, event="job.finished", data={"id": 1})
    client.force_login(root)

    pages = [
        client.get(reverse("admin:webhooks_webhook_changelist")),
        client.get(reverse("admin:webhooks_webhook_change", args=[webhook.pk])),
        client.get(reverse("admin:webhooks_webhookdelivery_changelist")),
    ]

    assert [page.status_code for page in pages] == [HTTPStatus.OK] * 3
    assert receiver.url in pages[0].content.decode()
    assert "job.finished" in pages[2].content.decode()
    assert all(SECRET not in page.content.decode() for page in pages)
