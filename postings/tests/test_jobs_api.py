"""Jobs through the API and the command line, with real worker subprocesses."""
import os
import signal
import subprocess
import sys
import threading
from http import HTTPStatus

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from conftest import bearer_client
from postings import services
from postings.models import ErrorLog, MarketplacePost, PostingJob
from postings.tests.conftest import all_jobs_ended, process_alive, wait_until
from postings.tests.factories import AccountFactory, PostFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_start_posting_answers_202_with_the_seed_body_and_the_worker_posts(
    worker_env, simulator, api, operator, make_account, make_post
):
    account = make_account()
    first, second = make_post(account, "Chair"), make_post(account, "Sofa")
    already = make_post(account, "Old", status="posted")

    response = api.post("/api/posts/start-posting/", {"post_ids": [first.pk, second.pk, already.pk]}, format="json")

    assert response.status_code == HTTPStatus.ACCEPTED
    body = response.json()
    job = PostingJob.objects.get()
    assert body == {
        "success": True,
        "message": "Started posting process for 2 pending post(s)",
        "job_id": str(job.job_id),
        "pending_count": 2,
        "total_selected": 3,
        "log_file": str(django_settings.LOG_DIR / f"job_{job.job_id}.log"),
        "status_stream_url": f"/api/posts/status-stream/{job.job_id}/",
        "dry_run": False,
        "start_at": None,
    }
    job = wait_until(lambda: PostingJob.objects.filter(pk=job.pk, status="completed").first(), what="the job")
    assert (job.completed_posts, job.failed_posts) == (2, 0)
    assert sorted(listing["title"] for listing in simulator.listings()) == ["Chair", "Sofa"]
    status = api.get(f"/api/posts/job-status/{job.job_id}/").json()
    assert (status["status"], status["progress_percentage"], status["final"]) == ("completed", 100.0, True)
    assert "Job completed: 2 posted, 0 failed of 2" in open(body["log_file"]).read()


def test_a_dry_run_publishes_nothing_leaves_each_listing_pending_and_shows_its_last_step(
    worker_env, simulator, api, make_account, make_post
):
    account = make_account()
    posts = [make_post(account, "Chair"), make_post(account, "Sofa")]

    response = api.post("/api/posts/start-posting/", {"post_ids": [p.pk for p in posts], "dry_run": True}, format="json")

    assert response.status_code == HTTPStatus.ACCEPTED
    assert response.json()["dry_run"] is True
    job = wait_until(lambda: PostingJob.objects.filter(job_id=response.json()["job_id"]).exclude(
        status__in=PostingJob.ACTIVE_STATUSES).first(), what="the dry run")
    assert (job.status, job.completed_posts, job.failed_posts) == ("completed", 2, 0)
    assert simulator.listings() == []
    assert set(MarketplacePost.objects.values_list("status", "claimed_by", "listing_url")) == {("pending", None, "")}
    status = api.get(f"/api/posts/job-status/{job.job_id}/").json()
    assert (status["dry_run"], status["previews_url"]) == (True, f"/api/posts/jobs/{job.job_id}/previews/")
    previews = api.get(status["previews_url"]).json()
    assert previews["count"] == 2
    assert sorted(item["post_title"] for item in previews["previews"]) == ["Chair", "Sofa"]
    for item in previews["previews"]:
        screenshot = api.get(item["screenshot"])
        assert (screenshot.status_code, screenshot.content[:8]) == (HTTPStatus.OK, b"\x89PNG\r\n\x1a\n")
        assert api.get(item["page_snapshot"]).status_code == HTTPStatus.OK


def test_start_posting_with_an_empty_body_takes_every_pending_post(worker_env, api, make_account, make_post):
    account = make_account()
    make_post(account, "One"), make_post(account, "Two"), make_post(account, "Done", status="posted")

    body = api.post("/api/posts/start-posting/", {}, format="json").json()

    assert (body["pending_count"], body["total_selected"]) == (2, 2)


def test_two_concurrent_start_posting_calls_publish_each_listing_once(
    worker_env, simulator, operator, make_account, make_post
):
    account_a, account_b = make_account("a@example.com"), make_account("b@example.com")
    ids = [make_post(account, f"{account.email} {i}").pk for account in (account_a, account_b) for i in range(2)]
    answers = []
    barrier = threading.Barrier(2)

    def start():
        client = bearer_client(operator)
        barrier.wait()
        answers.append(client.post("/api/posts/start-posting/", {"post_ids": ids}, format="json"))

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    taken = sorted(a.json().get("pending_count", 0) for a in answers)
    assert taken in ([0, 4], [1, 3], [2, 2]) and sum(taken) == 4  # every post taken by exactly one job
    wait_until(all_jobs_ended, what="both jobs")
    titles = [listing["title"] for listing in simulator.listings()]
    assert sorted(titles) == sorted(MarketplacePost.objects.values_list("title", flat=True))
    assert len(titles) == len(set(titles)) == 4
    assert set(MarketplacePost.objects.values_list("status", flat=True)) == {"posted"}


def test_nothing_to_take_is_400_with_success_false(worker_env, api, make_account, make_post):
    post = make_post(make_account(), status="posted")

    response = api.post("/api/posts/start-posting/", {"post_ids": [post.pk]}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["success"] is False
    assert "No pending posts to take" in response.json()["message"]
    assert not PostingJob.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"post_ids": "1"}, "post_ids"),
        ({"post_ids": []}, "post_ids"),
        ({"post_ids": ["x"]}, "post_ids"),
        ({"post_ids": [-1]}, "post_ids"),
        ({"post_ids": [2**70]}, "post_ids"),  # beyond any database id: a 400, not an overflow
        ({"posts": [1]}, "posts"),
    ],
)
def test_bad_start_posting_bodies_are_400_naming_the_field(api, body, field):
    response = api.post("/api/posts/start-posting/", body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()
    assert not PostingJob.objects.exists()


def test_another_operators_post_ids_are_400_naming_them(worker_env, other_api, make_account, make_post):
    post = make_post(make_account())

    response = other_api.post("/api/posts/start-posting/", {"post_ids": [post.pk, 999]}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    named = ", ".join(map(str, sorted([post.pk, 999])))
    assert response.json() == {"post_ids": [f"No such posts of yours: {named}."]}
    assert not PostingJob.objects.exists()


def test_retry_of_a_failed_post_posts_it_again(worker_env, simulator, api, make_account, make_post):
    post = make_post(make_account(), status="failed", retry_count=1, error_message="Commerce Policies")

    response = api.post(f"/api/posts/{post.pk}/retry/")

    assert response.status_code == HTTPStatus.ACCEPTED
    assert (response.json()["pending_count"], response.json()["total_selected"]) == (1, 1)
    wait_until(lambda: MarketplacePost.objects.filter(pk=post.pk, status="posted").exists(), what="the retry")
    post.refresh_from_db()
    assert (post.retry_count, post.error_message) == (1, "")
    assert [listing["title"] for listing in simulator.listings()] == ["Oak table"]


def test_retry_of_a_post_that_did_not_fail_is_409(api, make_account, make_post):
    post = make_post(make_account(), status="posted")

    response = api.post(f"/api/posts/{post.pk}/retry/")

    assert response.status_code == HTTPStatus.CONFLICT
    assert not PostingJob.objects.exists()


def test_jobs_are_listed_newest_first_and_only_the_operators(api, other_api, operator, other_operator):
    older = PostingJob.objects.create(owner=operator, total_posts=1)
    newer = PostingJob.objects.create(owner=operator, total_posts=2)
    PostingJob.objects.create(owner=other_operator)

    body = api.get("/api/posts/jobs/").json()

    assert [job["job_id"] for job in body["results"]] == [str(newer.job_id), str(older.job_id)]
    assert other_api.get(f"/api/posts/job-status/{newer.job_id}/").status_code == HTTPStatus.NOT_FOUND
    assert other_api.post(f"/api/posts/jobs/{newer.job_id}/cancel/").status_code == HTTPStatus.NOT_FOUND


def test_job_status_has_the_seed_fields(api, operator):
    job = PostingJob.objects.create(owner=operator, total_posts=10, completed_posts=3, failed_posts=1, status="running")

    body = api.get(f"/api/posts/job-status/{job.job_id}/").json()

    assert {key: body[key] for key in (
        "id", "job_id", "status", "total_posts", "completed_posts", "failed_posts", "current_post_id",
        "current_post_title", "started_at", "completed_at", "progress_percentage", "final")} == {
        "id": job.pk, "job_id": str(job.job_id), "status": "running", "total_posts": 10, "completed_posts": 3,
        "failed_posts": 1, "current_post_id": None, "current_post_title": "", "started_at": None,
        "completed_at": None, "progress_percentage": 40.0, "final": False,
    }


def test_cancelling_an_ended_job_is_409(api, operator):
    job = PostingJob.objects.create(owner=operator, status="completed")

    assert api.post(f"/api/posts/jobs/{job.job_id}/cancel/").status_code == HTTPStatus.CONFLICT


def test_a_killed_worker_is_reaped_in_flight_post_unknown_untouched_posts_pending(
    worker_env, simulator, settings, api, operator, make_account, make_post
):
    simulator.fault("slow_fields", delay_ms=3000)  # long enough to kill the worker mid-post
    account = make_account()
    posts = [make_post(account, f"Item {i}") for i in range(3)]
    body = api.post("/api/posts/start-posting/", {"post_ids": [p.pk for p in posts]}, format="json").json()
    job = PostingJob.objects.get(job_id=body["job_id"])
    in_flight = wait_until(
        lambda: MarketplacePost.objects.filter(status="posting").first(), what="a post being posted"
    )
    job.refresh_from_db()

    os.kill(job.pid, signal.SIGKILL)
    wait_until(lambda: not process_alive(job.pid), what="the worker to die")
    settings.JOB_STALE_SECONDS = 0.001
    call_command("reap_stale_jobs")

    job.refresh_from_db()
    assert (job.status, job.error_message) == ("failed", "Worker stopped unexpectedly")
    in_flight.refresh_from_db()
    assert in_flight.status == "failed"
    assert "check Marketplace before retrying" in in_flight.error_message
    assert ErrorLog.objects.get(post=in_flight).error_type == "unknown"
    rest = MarketplacePost.objects.exclude(pk=in_flight.pk)
    assert set(rest.values_list("status", "claimed_by")) == {("pending", None)}


def test_reading_a_job_whose_worker_died_reports_it_failed(api, settings, operator):
    job = PostingJob.objects.create(owner=operator, status="running", pid=2**22 + 1)
    settings.JOB_STALE_SECONDS = 0.001

    body = api.get(f"/api/posts/job-status/{job.job_id}/").json()

    assert (body["status"], body["final"], body["error_message"]) == ("failed", True, "Worker stopped unexpectedly")


def test_a_live_job_is_not_reaped(api, settings, operator):
    job = PostingJob.objects.create(owner=operator, status="running", pid=os.getpid())
    settings.JOB_STALE_SECONDS = 3600

    assert api.get(f"/api/posts/job-status/{job.job_id}/").json()["status"] == "running"


def manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=django_settings.BASE_DIR, env={**os.environ, **env},
        capture_output=True, text=True, timeout=120,
    )


def test_the_command_exits_0_when_all_posted(worker_env, simulator, make_account, make_post):
    post = make_post(make_account())

    result = manage("post_to_marketplace", "--post-ids", str(post.pk), env=worker_env)

    assert result.returncode == 0, result.stderr
    assert "Job completed: 1 posted, 0 failed of 1" in result.stdout


def test_the_command_exits_1_when_some_failed(worker_env, simulator, make_account, make_post):
    account = make_account()
    make_post(account, "Good"), make_post(account, "No photo", photos=0)

    result = manage("post_to_marketplace", "--all-pending", "--account", str(account.pk), env=worker_env)

    assert result.returncode == 1, result.stderr
    assert "1 posted, 1 failed of 2" in result.stdout


def test_the_command_exits_2_when_the_job_failed(worker_env, make_account, make_post):
    post = make_post(make_account())

    result = manage("post_to_marketplace", "--post-ids", str(post.pk), env={**worker_env, "BROWSER_EXECUTABLE": "/nope"})

    assert result.returncode == 2
    assert "apt-get install -y chromium" in result.stderr


def test_the_command_refuses_when_there_is_nothing_to_post(worker_env):
    result = manage("post_to_marketplace", "--all-pending", env=worker_env)

    assert result.returncode != 0
    assert "No pending listings to post." in result.stderr


def test_a_listing_left_posting_by_a_dead_worker_can_be_changed_at_once(api, settings, operator):
    job = PostingJob.objects.create(owner=operator, status="running", pid=2**22 + 1)
    post = PostFactory(account=AccountFactory(owner=operator), status="posting", claimed_by=job)
    settings.JOB_STALE_SECONDS = 0.001

    response = api.patch(f"/api/posts/{post.pk}/", {"price": "99.00"}, format="json")

    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["status"] == "failed"  # as the reaper leaves it: check Marketplace, then retry
    job.refresh_from_db()
    assert job.status == "failed"


def test_deleting_listings_a_waiting_job_holds_takes_them_out_of_its_total(api, operator):
    account, other = AccountFactory(owner=operator), AccountFactory(owner=operator)
    posts = [PostFactory(account=account) for _ in range(3)] + [PostFactory(account=other)]
    job, _ = services.posting_job_create(owner=operator, post_ids=[p.pk for p in posts])
    unclaimed = PostFactory(account=account)

    assert api.delete(f"/api/posts/{posts[0].pk}/").status_code == HTTPStatus.NO_CONTENT
    assert api.delete(f"/api/posts/{unclaimed.pk}/").status_code == HTTPStatus.NO_CONTENT
    job.refresh_from_db()
    assert job.total_posts == 3

    assert api.delete(f"/api/accounts/{account.pk}/").status_code == HTTPStatus.NO_CONTENT
    job.refresh_from_db()
    assert job.total_posts == 1  # only the other account's listing is left for the job


def test_deleting_a_listing_a_finished_job_held_leaves_that_job_alone(api, operator):
    post = PostFactory(account=AccountFactory(owner=operator))
    job, _ = services.posting_job_create(owner=operator, post_ids=[post.pk])
    services.job_finish(job=job, status="cancelled")

    assert api.delete(f"/api/posts/{post.pk}/").status_code == HTTPStatus.NO_CONTENT
    job.refresh_from_db()
    assert job.total_posts == 1  # the record of what it was asked to do stays
