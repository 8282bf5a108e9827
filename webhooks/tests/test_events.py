"""The three events, from what really causes them: a posting job run by a real worker against the
simulator, a listing that fails there, an account whose session goes stale or away; and a server
whose timekeeper alone sends them."""
import json
import os
import urllib.error
import urllib.request
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.services import accounts_health_watch
from conftest import UvicornServer
from postings.models import PostingJob
from postings.tests.conftest import wait_until
from webhooks import services
from webhooks.models import WebhookDelivery
from webhooks.tests.conftest import SECRET, signed_by

pytestmark = pytest.mark.django_db(transaction=True)


def subscribe(operator, receiver, *events):
    return services.webhook_create(owner=operator, url=receiver.url, events=list(events), secret=SECRET)[0]


def start_posting(api, posts) -> PostingJob:
    response = api.post("/api/posts/start-posting/", {"post_ids": [post.pk for post in posts]}, format="json")
    assert response.status_code == HTTPStatus.ACCEPTED, response.json()
    return PostingJob.objects.get(job_id=response.json()["job_id"])


def job_ended(job: PostingJob) -> bool:
    job.refresh_from_db()
    return job.status not in PostingJob.ACTIVE_STATUSES


def deliver_until(receiver, event: str, count: int = 1):
    """What the timekeeper does, here in the test: deliver what is due until the receiver has it."""
    def arrived():
        services.deliver_due()
        return len(receiver.of(event)) >= count
    wait_until(arrived, timeout=60, what=f"{count} {event} at the receiver")
    return receiver.of(event)


def test_a_finished_job_is_delivered_with_its_job_status_body_queued_by_the_worker_never_sent_by_it(
    worker_env, operator, api, receiver, other_receiver, make_account, make_post,
):
    subscribe(operator, receiver, "job.finished")
    receiver.hang()  # were the worker to send, it would wait here
    account = make_account()
    posts = [make_post(account, title) for title in ("Oak table", "Pine chair")]

    job = start_posting(api, posts)
    wait_until(lambda: job_ended(job), timeout=120, what="the job to end")

    queued = wait_until(lambda: WebhookDelivery.objects.filter(event="job.finished").first(), what="the delivery")
    assert (queued.state, queued.attempts) == ("pending", 0)  # the worker queued it and went on
    assert receiver.requests == []
    services.webhook_update(webhook=queued.webhook, url=other_receiver.url)  # one that answers
    [received] = deliver_until(other_receiver, "job.finished")

    assert (job.status, job.completed_posts) == ("completed", 2)
    assert received.json["data"] == api.get(f"/api/posts/job-status/{job.job_id}/").json()
    assert received.json["data"]["final"] is True
    assert received.json["event"] == "job.finished"
    assert received.headers["X-Webhook-Event-Id"] == received.json["id"] == str(queued.event_id)
    assert signed_by(SECRET, received)


def test_a_failed_listing_is_delivered_with_its_error_log(
    worker_env, simulator, operator, api, receiver, make_account, make_post,
):
    subscribe(operator, receiver, "post.failed", "account.needs_attention")
    account = make_account()
    simulator.fault("policy_rejection", c_user=account.c_user, times=1)
    post = make_post(account, "Rejected lamp")

    job = start_posting(api, [post])
    wait_until(lambda: job_ended(job), timeout=120, what="the job to end")
    [received] = deliver_until(receiver, "post.failed")

    [log] = api.get("/api/posts/error-logs/", {"post_id": post.pk}).json()["error_logs"]
    assert received.json["data"] == log
    assert (log["error_type"], log["post"], log["job_id"]) == ("policy_rejected", post.pk, str(job.job_id))
    assert signed_by(SECRET, received)
    accounts_health_watch()  # a policy refusal says nothing of the account's session
    services.deliver_due()
    assert receiver.of("account.needs_attention") == []


def test_a_session_failure_in_a_worker_makes_the_account_need_attention(
    worker_env, simulator, operator, api, receiver, make_account, make_post,
):
    subscribe(operator, receiver, "account.needs_attention")
    account = make_account()
    simulator.fault("session_expired", c_user=account.c_user)

    job = start_posting(api, [make_post(account, "Walnut desk")])
    wait_until(lambda: job_ended(job), timeout=120, what="the job to end")
    [received] = deliver_until(receiver, "account.needs_attention")

    entry = received.json["data"]
    assert (entry["account_id"], entry["health_status"]) == (account.pk, "warning")
    assert any(reason.startswith("Posting failed with an expired session") for reason in entry["reasons"])


def health_entry(api, account_id: int) -> dict:
    return next(entry for entry in api.get("/api/accounts/health-check/").json()["accounts"]
                if entry["account_id"] == account_id)


def test_an_account_whose_session_goes_stale_then_away_needs_attention_once_per_step(
    settings, operator, api, receiver, make_account,
):
    subscribe(operator, receiver, "account.needs_attention")
    account = make_account()
    accounts_health_watch()  # healthy: nothing to say
    assert WebhookDelivery.objects.count() == 0

    forty_days_ago = (timezone.now() - timedelta(days=40)).timestamp()
    os.utime(account.session_path, (forty_days_ago, forty_days_ago))
    accounts_health_watch()  # what every tick of the timekeeper does
    accounts_health_watch()  # and the next: still warning, nothing new
    [stale] = deliver_until(receiver, "account.needs_attention")

    assert stale.json["data"] == health_entry(api, account.pk)
    assert stale.json["data"]["health_status"] == "warning"
    assert stale.json["data"]["reasons"] == [
        f"Session is 40.0 days old (older than {settings.SESSION_MAX_AGE_DAYS:g} days)"
    ]

    assert api.delete(f"/api/accounts/{account.pk}/session/").status_code == HTTPStatus.NO_CONTENT
    assert api.delete(f"/api/accounts/{account.pk}/session/").status_code == HTTPStatus.NO_CONTENT
    accounts_health_watch()
    _, removed = deliver_until(receiver, "account.needs_attention", count=2)

    assert removed.json["data"] == health_entry(api, account.pk)
    assert (removed.json["data"]["health_status"], removed.json["data"]["reasons"]) == (
        "error", ["No session has been uploaded for this account"]
    )
    assert WebhookDelivery.objects.count() == 2  # warning, then error: once each, however often it is looked at
    assert all(signed_by(SECRET, request) for request in receiver.requests)


def test_an_account_that_recovers_and_fails_again_is_news_again_and_a_new_one_is_not(
    operator, api, receiver, make_account, simulator,
):
    from simulator.client import facebook_cookies

    subscribe(operator, receiver, "account.needs_attention")
    account = make_account()
    created = api.post("/api/accounts/", {"email": "new@example.com"}, format="json")
    assert created.status_code == HTTPStatus.CREATED
    accounts_health_watch()  # the new account has no session yet: its operator knows

    api.delete(f"/api/accounts/{account.pk}/session/")
    session = facebook_cookies(simulator.mint_session("seller@example.com"))
    assert api.put(f"/api/accounts/{account.pk}/session/", session, format="json").json()["valid"] is True
    api.delete(f"/api/accounts/{account.pk}/session/")
    deliver_until(receiver, "account.needs_attention", count=2)

    assert [request.json["data"]["account_id"] for request in receiver.requests] == [account.pk, account.pk]
    assert len({request.json["id"] for request in receiver.requests}) == 2


def call(server, operator, method: str, path: str, body=None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{server.url}{path}", method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {RefreshToken.for_user(operator).access_token}",
                 "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_servers_timekeeper_alone_delivers_a_finished_job(worker_env, operator, receiver, make_account, make_post):
    server = UvicornServer({**worker_env, "TIMEKEEPER_SECONDS": "1"}).start()
    try:
        for itself in (server.url, f"http://localhost:{server.port}/hook"):
            status, body = call(server, operator, "POST", "/api/webhooks/", {"url": itself, "events": ["job.finished"]})
            assert (status, body) == (HTTPStatus.BAD_REQUEST, {"url": [
                "Must not point at this server itself: a webhook tells another system what happened here."
            ]})
        status, webhook = call(server, operator, "POST", "/api/webhooks/", {"url": receiver.url, "events": ["job.finished"]})
        assert status == HTTPStatus.CREATED, webhook
        post = make_post(make_account(), "Cedar chest")

        status, started = call(server, operator, "POST", "/api/posts/start-posting/", {"post_ids": [post.pk]})
        assert status == HTTPStatus.ACCEPTED, started
        wait_until(lambda: receiver.of("job.finished"), timeout=120, what="the server to deliver job.finished")

        [received] = receiver.of("job.finished")
        assert signed_by(webhook["secret"], received)
        assert received.json["data"]["job_id"] == started["job_id"]
        assert received.json["data"]["status"] == "completed"
        status, deliveries = call(server, operator, "GET", f"/api/webhooks/{webhook['id']}/deliveries/")
        assert status == HTTPStatus.OK
        [delivery] = deliveries["results"]
        assert (delivery["state"], delivery["status_code"], delivery["attempts"]) == ("delivered", 200, 1)
        assert delivery["event_id"] == received.json["id"]
    finally:
        server.stop()
