"""Scheduled posting: start_at and spread_minutes, started by the server's timekeeper (no cron),
cancellable while waiting, and kept across a server restart."""
import signal
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from accounts.models import PostingAttempt
from conftest import UvicornServer
from postings import runners, services, worker
from postings.models import MarketplacePost, PostingJob
from postings.tests.conftest import published_titles, wait_until
from postings.tests.test_fault_drills import call

pytestmark = pytest.mark.django_db(transaction=True)


def iso(moment) -> str:
    return moment.isoformat()


def start(api, posts, **options):
    return api.post("/api/posts/start-posting/", {"post_ids": [p.pk for p in posts], **options}, format="json")


@pytest.mark.parametrize("start_at, says", [
    ("2030-01-01T10:00:00", "Give the time zone"),
    ("2020-01-01T10:00:00Z", "Must be in the future"),
    ("2099-01-01T10:00:00+00:00", "At most 90 days ahead"),
    ("tomorrow at noon", "Datetime has wrong format"),
])
def test_a_start_at_that_cannot_be_used_is_400_and_creates_no_job(api, operator, make_account, make_post, start_at, says):
    response = start(api, [make_post(make_account())], start_at=start_at)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert says in response.json()["start_at"][0]
    assert not PostingJob.objects.exists()
    assert MarketplacePost.objects.get().claimed_by is None


@pytest.mark.parametrize("spread", [0, -5, 7 * 24 * 60 + 1, "soon"])
def test_a_bad_spread_is_400(api, make_account, make_post, spread):
    response = start(api, [make_post(make_account())], spread_minutes=spread)

    assert response.status_code == HTTPStatus.BAD_REQUEST and "spread_minutes" in response.json()


def test_a_scheduled_job_waits_queued_saying_when_and_starts_no_worker(api, operator, make_account, make_post):
    at = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)

    response = start(api, [make_post(make_account())], start_at=at.astimezone(timezone.get_fixed_timezone(60)).isoformat(),
                     spread_minutes=30)

    assert response.status_code == HTTPStatus.ACCEPTED
    body = response.json()
    assert body["message"] == f"Scheduled posting process for 1 pending post(s), starting at {at:%Y-%m-%d %H:%M} UTC"
    job = PostingJob.objects.get(job_id=body["job_id"])
    assert (job.status, job.pid, job.launched_at, job.start_at, job.spread_minutes) == ("queued", None, None, at, 30)
    status = api.get(f"/api/posts/job-status/{job.job_id}/").json()
    assert status["status_message"] == f"Scheduled: starts at {at:%Y-%m-%d %H:%M} UTC"
    assert (status["start_at"], status["spread_minutes"], status["final"]) == (at.isoformat().replace("+00:00", "Z"), 30, False)
    assert not services.job_reap_if_stale(job=job, now=timezone.now() + timedelta(days=3))  # no worker to have died


def test_the_timekeeper_starts_a_job_when_its_time_has_come_and_only_once(
    worker_env, simulator, api, make_account, make_post
):
    at = timezone.now() + timedelta(hours=1)
    job_id = start(api, [make_post(make_account(), "Scheduled table")], start_at=iso(at)).json()["job_id"]

    assert runners.launch_due_jobs(now=at - timedelta(seconds=1)) == []  # not yet
    launched = runners.launch_due_jobs(now=at + timedelta(seconds=1))

    assert [job.job_id for job in launched] == [PostingJob.objects.get(job_id=job_id).job_id]
    assert runners.launch_due_jobs(now=at + timedelta(seconds=2)) == []  # taken once
    job = wait_until(lambda: PostingJob.objects.filter(job_id=job_id, status="completed").first(), timeout=120,
                     what="the scheduled job to post")
    assert job.completed_posts == 1 and published_titles(simulator) == ["Scheduled table"]


def test_a_scheduled_job_cancelled_before_its_time_ends_at_once_with_its_posts_pending(api, make_account, make_post):
    post = make_post(make_account())
    job_id = start(api, [post], start_at=iso(timezone.now() + timedelta(hours=1))).json()["job_id"]

    response = api.post(f"/api/posts/jobs/{job_id}/cancel/")

    assert response.status_code == HTTPStatus.OK
    job = PostingJob.objects.get(job_id=job_id)
    assert (job.status, job.final if hasattr(job, "final") else job.is_final) == ("cancelled", True)
    post.refresh_from_db()
    assert (post.status, post.claimed_by) == ("pending", None)
    assert runners.launch_due_jobs(now=timezone.now() + timedelta(hours=2)) == []


def test_a_spread_job_spaces_its_posts_evenly_over_the_window(
    simulator, settings, skipping_clock, operator, make_account, make_post
):
    settings.POSTING_CONCURRENCY = 1  # one lane: the skipping clock is one timeline
    first, second = make_account("one@example.com"), make_account("two@example.com")
    posts = [make_post(first, "A1"), make_post(first, "A2"), make_post(second, "B1")]
    job, _ = services.posting_job_create(owner=operator, post_ids=[p.pk for p in posts], spread_minutes=30)

    done = worker.run_job(job_id=job.job_id, clock=skipping_clock)

    assert (done.status, done.completed_posts) == ("completed", 3)
    times = sorted(PostingAttempt.objects.values_list("at", flat=True))
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert all(timedelta(minutes=14, seconds=50) < gap < timedelta(minutes=16) for gap in gaps), gaps
    assert [listing["title"] for listing in simulator.listings()] == ["A1", "B1", "A2"]  # accounts take turns


def test_a_job_scheduled_through_the_server_starts_on_time_with_nothing_else_running_even_across_a_restart(
    worker_env, simulator, operator, make_account, make_post
):
    """`make run`'s own process (uvicorn serving config.asgi) is all there is: no cron, no worker."""
    env = {**worker_env, "TIMEKEEPER_SECONDS": "1"}
    server = UvicornServer(env).start()
    account = make_account()
    posts = [make_post(account, "Before restart"), make_post(account, "After restart")]
    at = timezone.now() + timedelta(seconds=8)
    _, body = call(server, operator, "POST", "/api/posts/start-posting/", {"post_ids": [posts[0].pk], "start_at": iso(at)})
    server.stop(signal.SIGTERM)  # a restart while the job waits: it is a row, not a timer
    server.start()
    try:
        job = wait_until(lambda: PostingJob.objects.filter(job_id=body["job_id"], status="completed").first(),
                         timeout=180, what="the scheduled job to run")
        assert at <= job.started_at <= at + timedelta(seconds=60)
        assert published_titles(simulator) == ["Before restart"]
        later = timezone.now() + timedelta(seconds=4)
        _, second = call(server, operator, "POST", "/api/posts/start-posting/",
                         {"post_ids": [posts[1].pk], "start_at": iso(later)})
        job = wait_until(lambda: PostingJob.objects.filter(job_id=second["job_id"], status="completed").first(),
                         timeout=180, what="the second scheduled job to run")
        assert later <= job.started_at <= later + timedelta(seconds=60)
    finally:
        server.stop()
