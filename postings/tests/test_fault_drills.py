"""Fault drills: what an operator will meet, through the real server, real workers and real Chromium.

Each drill breaks one thing underneath a running job and checks the promise: no 500, no listing
posted twice, no job left running, and a failure that says what happened. The other drills live
beside the code they exercise: a worker killed mid-job (test_jobs_api), a session file deleted or
replaced while its job runs (test_engine), a screenshot write failing on a full disk (test_error_logs).
"""
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from conftest import UvicornServer
from postings import services
from postings.models import ErrorLog, MarketplacePost, PostingJob
from postings.tests.conftest import all_jobs_ended, published_titles, wait_until
from postings.tests import test_status_stream as status_stream
from postings.tests.test_status_stream import Stream

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(worker_env):
    server = UvicornServer(worker_env).start()
    yield server
    server.stop()


def call(server, user, method: str, path: str, body=None) -> tuple[int, dict]:
    """An API call as a client makes it; a 4xx or 5xx answer fails the test with its body."""
    request = urllib.request.Request(
        f"{server.url}{path}", method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {status_stream.token(user)}",
                 "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        pytest.fail(f"{method} {path}: {error.code} {error.read().decode()}")


def start_posting(server, user, posts) -> PostingJob:
    status, body = call(server, user, "POST", "/api/posts/start-posting/", {"post_ids": [p.pk for p in posts]})
    assert status == 202, body
    return PostingJob.objects.get(job_id=body["job_id"])


def open_stream(server, user, job, last_event_id: str | None = None) -> Stream:
    headers = {} if last_event_id is None else {"Last-Event-ID": last_event_id}
    return status_stream.open_stream(server, job, user, **headers)


def backends(application_name: str, action: str = "", *, busy: bool = False) -> int:
    """How many PostgreSQL connections the process named `application_name` (PGAPPNAME) holds, busy
    ones only if asked; with `action="pg_terminate_backend"`, terminates them and says how many."""
    only_busy = " AND state <> 'idle'" if busy else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count({action}(pid)) FROM pg_stat_activity "
                       f"WHERE application_name = %s{only_busy}", [application_name])
        return cursor.fetchone()[0]


def next_event(stream: Stream) -> dict | None:
    """The next data event, or None when the connection ended (closed, or cut by a dying server)."""
    while True:
        try:
            event = stream.next()
        except (ConnectionError, OSError):
            return None
        if event is None or "data" in event:
            return event


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["restarted", "crashed"])
def test_a_stream_resumes_across_a_server_restart_and_still_sees_the_final_event(
    server, simulator, operator, make_account, make_post, how
):
    simulator.fault("slow_fields", delay_ms=800)  # each post takes a while: the restart falls mid-job
    account = make_account()
    posts = [make_post(account, f"Item {i}") for i in range(4)]
    job = start_posting(server, operator, posts)
    stream = open_stream(server, operator, job)
    before = [next_event(stream)]
    while before[-1]["data"]["completed_posts"] < 1:
        before.append(next_event(stream))

    server.stop(how)  # the worker runs in its own session: it goes on posting while the server is down
    while (event := next_event(stream)) is not None:  # what was sent before the connection dropped
        before.append(event)
    stream.close()
    server.start()
    last_id = before[-1]["id"]
    stream = open_stream(server, operator, job, last_event_id=last_id)
    after = [next_event(stream)]
    while not after[-1]["data"]["final"]:
        after.append(next_event(stream))
    assert next_event(stream) is None  # the server closes the stream after the final event
    stream.close()

    assert not before[-1]["data"]["final"]
    assert after[-1]["data"] | {"started_at": None, "completed_at": None, "created_at": None} == {
        **after[-1]["data"], "status": "completed", "total_posts": 4, "completed_posts": 4, "failed_posts": 0,
        "progress_percentage": 100.0, "final": True, "started_at": None, "completed_at": None, "created_at": None,
    }
    ids = [int(event["id"]) for event in before + after]
    assert ids == sorted(ids) and int(after[0]["id"]) >= int(last_id)  # resumed, never back in time
    assert published_titles(simulator) == ["Item 0", "Item 1", "Item 2", "Item 3"]  # each once


@pytest.mark.parametrize("chromium", ["missing", "crashing"])
def test_a_chromium_that_is_missing_or_cannot_start_fails_the_job_saying_what_to_install(
    server, simulator, tmp_path, monkeypatch, operator, make_account, make_post, chromium
):
    executable = tmp_path / "chromium"
    if chromium == "crashing":  # what a Chromium missing a shared library does
        executable.write_text("#!/bin/sh\necho 'chromium: error while loading shared libraries: libnss3.so' >&2\nexit 127\n")
        executable.chmod(0o755)
    monkeypatch.setenv("BROWSER_EXECUTABLE", str(executable))  # the worker the server starts inherits it
    server.stop()
    server.start()
    post = make_post(make_account())

    job = start_posting(server, operator, [post])
    wait_until(all_jobs_ended, what="the job to end")

    _, status = call(server, operator, "GET", f"/api/posts/job-status/{job.job_id}/")
    assert (status["status"], status["final"], status["completed_posts"]) == ("failed", True, 0)
    assert "apt-get install -y chromium" in status["error_message"]
    if chromium == "crashing":
        assert f"Chromium at {executable} could not start" in status["error_message"]
    post.refresh_from_db()
    assert (post.status, post.claimed_by) == ("pending", None)  # free for the next job, once Chromium is fixed
    assert ErrorLog.objects.get(job=job).error_message == status["error_message"]
    assert simulator.listings() == []


def test_a_screenshot_that_cannot_be_written_still_logs_the_failure_without_it(
    server, simulator, settings, operator, make_account, make_post
):
    Path(settings.MEDIA_ROOT).mkdir(parents=True, exist_ok=True)
    Path(settings.MEDIA_ROOT, "error_screenshots").write_text("a file where the directory should be")
    simulator.fault("checkpoint_captcha")
    post = make_post(make_account())

    job = start_posting(server, operator, [post])
    wait_until(all_jobs_ended, what="the job to end")

    job.refresh_from_db()
    post.refresh_from_db()
    assert (job.status, job.failed_posts, post.status) == ("completed", 1, "failed")
    _, body = call(server, operator, "GET", f"/api/posts/error-logs/?post_id={post.pk}")
    [log] = body["error_logs"]
    assert (log["error_type"], log["screenshot"], log["page_html"]) == ("captcha", None, None)
    assert "captcha" in log["error_message"].lower()
    worker_log = Path(settings.LOG_DIR, f"job_{job.job_id}.log").read_text()
    assert "could not be written" in worker_log


def test_marketplace_answering_500s_fails_the_posts_then_a_retry_posts_each_once(
    server, simulator, operator, make_account, make_post
):
    simulator.fault("server_error")  # every page, until cleared
    posts = [make_post(make_account("a@example.com"), "Chair"), make_post(make_account("b@example.com"), "Sofa")]

    job = start_posting(server, operator, posts)
    wait_until(all_jobs_ended, what="the job to end")

    job.refresh_from_db()
    assert (job.status, job.completed_posts, job.failed_posts) == ("completed", 0, 2)
    assert set(ErrorLog.objects.filter(job=job).values_list("error_type", flat=True)) == {"network_error"}
    assert simulator.listings() == []

    simulator.clear_faults()  # Marketplace is back
    for post in posts:  # each retry starts a job of its own
        assert call(server, operator, "POST", f"/api/posts/{post.pk}/retry/")[0] == 202
    wait_until(all_jobs_ended, what="the retry jobs to end")

    assert set(MarketplacePost.objects.values_list("status", flat=True)) == {"posted"}
    assert published_titles(simulator) == ["Chair", "Sofa"]


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
                    reason="SQLite has no server connection to lose")
def test_streams_live_through_the_database_dropping_every_connection(live_server_env, operator):
    server = UvicornServer({**live_server_env, "PGAPPNAME": "drilled-server"}).start()  # libpq names its connections
    try:
        _streams_live_through_a_connection_drop(server, operator)
    finally:
        server.stop()


def _streams_live_through_a_connection_drop(server, operator):
    job = PostingJob.objects.create(owner=operator, status="running", total_posts=2, heartbeat_at=timezone.now())
    stream = open_stream(server, operator, job)
    assert next_event(stream)["data"]["completed_posts"] == 0

    wait_until(lambda: backends("drilled-server"), what="the stream watcher to connect")
    # What a PostgreSQL restart or failover does to the server's connections:
    assert backends("drilled-server", "pg_terminate_backend") >= 1
    PostingJob.objects.filter(pk=job.pk).update(completed_posts=1, heartbeat_at=timezone.now(), updated_at=timezone.now())

    assert next_event(stream)["data"]["completed_posts"] == 1  # the watcher reconnected
    second = open_stream(server, operator, job)
    assert second.response.status == 200
    assert next_event(second)["data"]["completed_posts"] == 1
    assert call(server, operator, "GET", f"/api/posts/job-status/{job.job_id}/")[1]["completed_posts"] == 1
    PostingJob.objects.filter(pk=job.pk).update(status="completed", completed_posts=2, updated_at=timezone.now())
    assert next_event(stream)["data"]["final"] and next_event(second)["data"]["final"]
    stream.close()
    second.close()


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
                    reason="SQLite has no server connection to lose")
def test_a_worker_that_loses_its_database_connections_reconnects_and_finishes_the_job(
    worker_env, simulator, tmp_path, operator, make_account, make_post
):
    account = make_account()
    posts = [make_post(account, f"Item {i}") for i in range(3)]
    job, _ = services.posting_job_create(owner=operator, post_ids=[p.pk for p in posts])
    output = tmp_path / "worker.log"
    with output.open("w") as log:  # paced, so that it spends its time between posts away from the database
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "post_to_marketplace", "--job-id", str(job.job_id)],
            cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, **worker_env, "PGAPPNAME": "drilled-worker", "POSTING_DELAY_SECONDS": "1.5"},
        )

    wait_until(lambda: PostingJob.objects.get(pk=job.pk).completed_posts >= 1, what="the first post")
    wait_until(lambda: not backends("drilled-worker", busy=True), what="the worker to be between queries")
    assert backends("drilled-worker", "pg_terminate_backend") >= 1  # a PostgreSQL restart, as the worker sees it
    assert worker.wait(timeout=120) == 0, output.read_text()

    job.refresh_from_db()
    assert (job.status, job.completed_posts, job.failed_posts) == ("completed", 3, 0), output.read_text()
    assert published_titles(simulator) == ["Item 0", "Item 1", "Item 2"]
    assert not ErrorLog.objects.exists()
    assert "the database connection was lost: reconnecting" in output.read_text()
