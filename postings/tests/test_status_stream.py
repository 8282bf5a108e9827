"""The job status stream over a real ASGI server (uvicorn, in this process so its state can be read)."""
import http.client
import json
import os
import shlex
import signal
import subprocess
import threading
import time
from http import HTTPStatus
from urllib.parse import urlsplit

import pytest
import uvicorn
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from config.asgi import application
from conftest import free_port, wait_for_health
from postings import streams
from postings.models import PostingJob
from postings.tests.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(transactional_db, settings):
    """uvicorn serving config.asgi from a thread of this process, with a fast watcher."""
    settings.SSE_POLL_SECONDS = 0.05
    settings.SSE_HEARTBEAT_SECONDS = 15
    instance = uvicorn.Server(uvicorn.Config(
        application, host="127.0.0.1", port=free_port(), log_level="warning", lifespan="off",
        timeout_graceful_shutdown=1,
    ))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    wait_until(lambda: instance.started, timeout=15, what="uvicorn to start")
    instance.url = f"http://127.0.0.1:{instance.config.port}"
    yield instance
    instance.should_exit = True
    thread.join(timeout=10)


class Stream:
    """A raw SSE client: every event with the monotonic time its last line arrived."""

    def __init__(self, url: str, headers: dict):
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        self.connection.request("GET", parts.path, headers=headers)
        self.response = self.connection.getresponse()

    def next(self) -> dict | None:
        """The next event or comment block, or None when the server closed the stream."""
        event = {"comments": []}
        while True:
            line = self.response.readline()
            if not line:
                return None
            line = line.decode().rstrip("\n")
            if not line:
                if len(event) > 1 or event["comments"]:
                    event["at"] = time.monotonic()
                    return event
                continue
            if line.startswith(":"):
                event["comments"].append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            event[name] = json.loads(value) if name == "data" else value

    def close(self):
        self.connection.close()


def token(user) -> str:
    return str(RefreshToken.for_user(user).access_token)


def open_stream(server, job, user, **headers) -> Stream:
    return Stream(f"{server.url}/api/posts/status-stream/{job.job_id}/",
                  {"Authorization": f"Bearer {token(user)}", **headers})


def subscriptions() -> int:
    return sum(len(subs) for watcher in streams._watchers.values() for subs in watcher.subscriptions.values())


@pytest.fixture
def job(operator):
    return PostingJob.objects.create(owner=operator, status="running", total_posts=4, started_at=timezone.now())


def advance(job, **fields):
    PostingJob.objects.filter(pk=job.pk).update(updated_at=timezone.now(), **fields)


def test_a_browser_eventsource_request_gets_an_uncompressed_event_stream(server, job, operator):
    stream = open_stream(server, job, operator, Accept="text/event-stream", **{"Accept-Encoding": "gzip, br"})

    headers = stream.response.headers
    assert stream.response.status == HTTPStatus.OK
    assert headers["Content-Type"].startswith("text/event-stream")
    assert headers["Cache-Control"] == "no-cache"
    assert headers["X-Accel-Buffering"] == "no"
    assert headers.get("Content-Encoding") is None
    first = stream.next()
    stream.close()
    assert first["retry"] == "3000"
    assert int(first["id"]) > 0
    assert first["data"] == {
        "id": job.pk, "job_id": str(job.job_id), "status": "running", "total_posts": 4, "completed_posts": 0,
        "failed_posts": 0, "current_post_id": None, "current_post_title": "", "current_posts": [],
        "started_at": first["data"]["started_at"], "completed_at": None, "progress_percentage": 0.0,
        "final": False, "error_message": "", "status_message": "", "cancel_requested": False,
        "created_at": first["data"]["created_at"], "dry_run": False, "previews_url": None,
        "start_at": None, "spread_minutes": None,
    }


def test_events_arrive_while_the_job_runs_one_per_change_with_increasing_ids(server, job, operator):
    stream = open_stream(server, job, operator)
    events = [stream.next()]
    delays = []
    for done in range(1, 4):
        changed_at = time.monotonic()
        advance(job, completed_posts=done, current_post_title=f"Item {done}")
        events.append(stream.next())
        delays.append(events[-1]["at"] - changed_at)
    advance(job, completed_posts=4, status="completed", completed_at=timezone.now())
    events.append(stream.next())
    end = stream.next()
    stream.close()

    assert [e["data"]["completed_posts"] for e in events] == [0, 1, 2, 3, 4]
    assert [e["data"]["progress_percentage"] for e in events] == [0.0, 25.0, 50.0, 75.0, 100.0]
    assert [e["data"]["final"] for e in events] == [False, False, False, False, True]
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # Each event came while the job was still running, soon after its change: not buffered to the end.
    assert max(delays) < 2.0
    assert end is None  # the server closed the stream after the final event


def test_an_ended_job_gets_its_final_event_at_once_and_the_stream_closes(server, job, operator):
    advance(job, status="failed", error_message="Worker stopped unexpectedly")

    stream = open_stream(server, job, operator)
    first, after = stream.next(), stream.next()

    assert (first["data"]["status"], first["data"]["final"]) == ("failed", True)
    assert after is None


@pytest.mark.parametrize("last_event_id", ["12345", "abc", "-1", "1" * 200, "1e9", "\t"])
def test_a_reconnecting_client_gets_the_current_state_whatever_its_last_event_id(server, job, operator, last_event_id):
    advance(job, completed_posts=2)

    stream = open_stream(server, job, operator, **{"Last-Event-ID": last_event_id})
    first = stream.next()
    stream.close()

    assert stream.response.status == HTTPStatus.OK
    assert first["data"]["completed_posts"] == 2


def test_silence_is_broken_by_a_comment_heartbeat(server, settings, job, operator):
    settings.SSE_HEARTBEAT_SECONDS = 0.3
    stream = open_stream(server, job, operator)
    stream.next()

    heartbeat = stream.next()
    stream.close()

    assert heartbeat["comments"] == ["keep-alive"]
    assert "data" not in heartbeat


def test_without_credentials_the_stream_is_401(server, job):
    stream = Stream(f"{server.url}/api/posts/status-stream/{job.job_id}/", {})

    assert stream.response.status == HTTPStatus.UNAUTHORIZED
    assert stream.response.headers["WWW-Authenticate"].startswith("Bearer")


def test_another_operators_job_and_an_unknown_job_are_404(server, job, other_operator):
    foreign = open_stream(server, job, other_operator)
    unknown = Stream(f"{server.url}/api/posts/status-stream/00000000-0000-0000-0000-000000000000/",
                     {"Authorization": f"Bearer {token(other_operator)}"})

    assert foreign.response.status == HTTPStatus.NOT_FOUND
    assert unknown.response.status == HTTPStatus.NOT_FOUND


def test_the_access_cookie_authenticates_the_stream_for_the_dashboard_origin(server, job, operator):
    stream = Stream(f"{server.url}/api/posts/status-stream/{job.job_id}/", {
        "Cookie": f"mp_access={token(operator)}", "Origin": "http://localhost:3000",
        "Accept": "text/event-stream",
    })

    assert stream.response.status == HTTPStatus.OK
    assert stream.response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert stream.response.headers["Access-Control-Allow-Credentials"] == "true"
    stream.close()


def test_a_disconnected_client_leaves_nothing_behind(server, job, operator):
    streams_open = [open_stream(server, job, operator) for _ in range(3)]
    for stream in streams_open:
        stream.next()
    assert subscriptions() == 3

    for stream in streams_open:
        stream.close()

    wait_until(lambda: subscriptions() == 0, timeout=10, what="the subscriptions to be dropped")
    wait_until(lambda: all(w.task is None or w.task.done() for w in streams._watchers.values()),
               timeout=10, what="the watcher to stop")


def test_one_watcher_reads_every_watched_job_in_one_query_per_tick(server, settings, operator):
    settings.SSE_POLL_SECONDS = 0.2
    jobs = [PostingJob.objects.create(owner=operator, status="running") for _ in range(2)]
    opened = [open_stream(server, job, operator) for job in jobs for _ in range(10)]
    for stream in opened:
        stream.next()
    (watcher,) = streams._watchers.values()
    before, started = watcher.queries, time.monotonic()

    for job in jobs:
        advance(job, completed_posts=1)
    for stream in opened:
        assert stream.next()["data"]["completed_posts"] == 1
    elapsed = time.monotonic() - started
    queries = watcher.queries - before
    for stream in opened:
        stream.close()

    # 20 streams over 2 jobs: one query per tick, however many streams.
    assert 1 <= queries <= elapsed / settings.SSE_POLL_SECONDS + 2


def test_a_job_whose_worker_died_reads_failed_in_the_stream(server, settings, operator):
    settings.JOB_STALE_SECONDS = 0.001
    job = PostingJob.objects.create(owner=operator, status="running", pid=2**22 + 1)

    stream = open_stream(server, job, operator)
    first = stream.next()

    assert (first["data"]["status"], first["data"]["final"]) == ("failed", True)


def test_make_run_s_server_stops_promptly_on_sigterm_with_a_stream_open(live_server_env, job, operator):
    """uvicorn waits forever for open streams at shutdown unless given --timeout-graceful-shutdown."""
    port = free_port()
    dry_run = subprocess.run(["make", "-n", "run", f"PORT={port}"], cwd=settings.BASE_DIR,
                             capture_output=True, text=True, check=True).stdout
    (command,) = [line for line in dry_run.splitlines() if "uvicorn" in line]
    server = subprocess.Popen(shlex.split(command), cwd=settings.BASE_DIR, env={**os.environ, **live_server_env},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_health(f"http://127.0.0.1:{port}", server)
        stream = Stream(f"http://127.0.0.1:{port}/api/posts/status-stream/{job.job_id}/",
                        {"Authorization": f"Bearer {token(operator)}"})
        assert stream.next()["data"]["final"] is False

        server.send_signal(signal.SIGTERM)
        returncode = server.wait(timeout=15)  # without the flag this waits for the stream forever
    finally:
        server.kill()
    assert returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has shut down


def test_open_streams_hold_no_thread_each(server, job, operator):
    before = threading.active_count()
    opened = [open_stream(server, job, operator) for _ in range(20)]
    for stream in opened:
        stream.next()

    during = threading.active_count()
    for stream in opened:
        stream.close()

    # Django would run each request's middleware in a thread of its own, alive as long as the stream.
    assert during - before < 5


def test_a_django_session_authenticates_the_stream(server, job, operator):
    from django.test import Client

    browser = Client()
    browser.force_login(operator)
    stream = Stream(f"{server.url}/api/posts/status-stream/{job.job_id}/",
                    {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"})

    assert stream.response.status == HTTPStatus.OK
    assert stream.next()["data"]["job_id"] == str(job.job_id)
    stream.close()


def test_writing_to_the_stream_is_405_and_the_cors_preflight_is_answered(server, job, operator):
    connection = http.client.HTTPConnection("127.0.0.1", server.config.port, timeout=10)
    connection.request("POST", f"/api/posts/status-stream/{job.job_id}/", body=b"{}",
                       headers={"Authorization": f"Bearer {token(operator)}"})
    answer = connection.getresponse()
    connection.close()
    connection = http.client.HTTPConnection("127.0.0.1", server.config.port, timeout=10)
    connection.request("OPTIONS", f"/api/posts/status-stream/{job.job_id}/", headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    })
    preflight = connection.getresponse()
    connection.close()

    assert answer.status == HTTPStatus.METHOD_NOT_ALLOWED
    assert preflight.status == HTTPStatus.OK
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
