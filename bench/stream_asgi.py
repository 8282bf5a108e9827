"""The project's ASGI application plus what the status-stream benchmark needs; bench-only code.

Serve it with `python -m uvicorn bench.stream_asgi:application` (bench/stream.py does). It leaves
the production code alone and adds:

GET /bench/queries                  {"queries": N}: SQL statements this process has executed so far,
                                    counted by wrapping CursorWrapper.execute/executemany at import.
GET /bench/rss                      {"rss_kb": N}: this process's VmRSS from /proc/self/status.
GET /bench/reads                    {"reads": {title: t}}: when the shared JobWatcher first read each
                                    value of current_post_title (time.time(), JobWatcher._read wrapped
                                    at import), so the client can split a latency into the wait for
                                    the watcher's tick and the fan-out after it.
GET /bench/naive-stream/<job_id>/   The naive Server-Sent Events view the shared JobWatcher replaces:
                                    every stream polls its own job with
                                    `await sync_to_async(load_job)()` (thread-sensitive, the default)
                                    every SSE_POLL_SECONDS and sends an event when the job changed.
                                    Same authentication and the same event bytes as the real view.
GET /bench/profile/start            cProfile the event loop's thread from now on.
GET /bench/profile/stop             Stop it; answers the top functions by cumulative and own time.

The measurement endpoints are answered in plain ASGI, before Django: they run no SQL and no thread.
The naive view is a Django async view served by a Django ASGIHandler with the project's settings and
middleware (only its URLconf differs); every other request goes to `config.asgi.application`.
"""
import asyncio
import cProfile
import io
import json
import os
import pstats
import threading
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from config.asgi import application as project_application  # noqa: E402  (sets Django up)

from asgiref.sync import sync_to_async  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.db.backends import utils as db_utils  # noqa: E402
from django.http import JsonResponse, StreamingHttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

from accounts.authentication import authenticate_operator  # noqa: E402
from postings import selectors  # noqa: E402
from postings.models import PostingJob  # noqa: E402
from postings.streams import JobWatcher, job_state, job_version  # noqa: E402


# --- counting SQL statements -------------------------------------------------------------------------

class _QueryCounter:
    def __init__(self):
        self.count = 0
        self._lock = threading.Lock()  # statements run in many threads

    def add(self, n: int = 1) -> None:
        with self._lock:
            self.count += n


queries = _QueryCounter()
_execute, _executemany = db_utils.CursorWrapper.execute, db_utils.CursorWrapper.executemany


def _counted_execute(self, sql, params=None):
    queries.add()
    return _execute(self, sql, params)


def _counted_executemany(self, sql, param_list):
    queries.add()
    return _executemany(self, sql, param_list)


# CursorDebugWrapper (DEBUG=true) calls super().execute(), so each statement is counted once.
db_utils.CursorWrapper.execute = _counted_execute
db_utils.CursorWrapper.executemany = _counted_executemany


# --- when the watcher first saw each change ----------------------------------------------------------------

first_read: dict[str, float] = {}  # current_post_title -> time.time() of the first read that returned it
_watcher_read = JobWatcher._read


def _timed_read(self, job_pks):
    jobs = _watcher_read(self, job_pks)
    now = time.time()
    for job in jobs:
        first_read.setdefault(job.current_post_title, now)
    return jobs


JobWatcher._read = _timed_read


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# --- the naive view ------------------------------------------------------------------------------------

def _event(state: dict, version: int, *, retry: bool = False) -> str:
    """The same bytes as postings.streams sends."""
    head = f"retry: {settings.SSE_RETRY_MILLISECONDS}\n" if retry else ""
    return f"{head}id: {version}\ndata: {json.dumps(state, separators=(',', ':'))}\n\n"


async def naive_events(job_pk: int):
    """Poll-per-stream, as it is commonly written: one query per stream per SSE_POLL_SECONDS."""

    def load_job() -> PostingJob:
        return PostingJob.objects.get(pk=job_pk)

    last, first = None, True
    while True:
        job = await sync_to_async(load_job)()
        state = job_state(job)
        if state != last:
            last = state
            yield _event(state, job_version(job), retry=first)
            first = False
            if state["final"]:
                return
        await asyncio.sleep(settings.SSE_POLL_SECONDS)


async def naive_job_status_stream(request, job_id):
    user = await authenticate_operator(request)
    if user is None:
        return JsonResponse({"detail": "Authentication credentials were not provided."}, status=401)
    job = await sync_to_async(selectors.job_for_or_none)(user=user, job_id=job_id)
    if job is None:
        return JsonResponse({"detail": "Not found."}, status=404)
    response = StreamingHttpResponse(naive_events(job.pk), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


urlpatterns = [path("bench/naive-stream/<uuid:job_id>/", naive_job_status_stream)]


class _NaiveHandler(ASGIHandler):
    """The project's handler (settings, middleware, one ThreadSensitiveContext per request), this URLconf."""

    def create_request(self, scope, body_file):
        request, error_response = super().create_request(scope, body_file)
        if request is not None:
            request.urlconf = __name__
        return request, error_response


naive_application = _NaiveHandler()


# --- profiling -----------------------------------------------------------------------------------------

_profiler: cProfile.Profile | None = None


def _profile_start() -> dict:
    global _profiler
    _profiler = cProfile.Profile()
    _profiler.enable()  # the calling thread only: the event loop's
    return {"profiling": True}


def _profile_stop() -> dict:
    global _profiler
    if _profiler is None:
        return {"profiling": False}
    _profiler.disable()
    report = {}
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(_profiler, stream=out).strip_dirs().sort_stats(key).print_stats(40)
        report[key] = out.getvalue()
    _profiler = None
    return report


# --- the ASGI entry point ------------------------------------------------------------------------------

_BENCH_JSON = {
    "/bench/queries": lambda: {"queries": queries.count},
    "/bench/rss": lambda: {"rss_kb": rss_kb()},
    "/bench/reads": lambda: {"reads": dict(first_read)},
    "/bench/profile/start": _profile_start,
    "/bench/profile/stop": _profile_stop,
}


async def _json_response(send, body: dict) -> None:
    raw = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]})
    await send({"type": "http.response.body", "body": raw})


async def application(scope, receive, send):
    if scope["type"] == "http":
        handler = _BENCH_JSON.get(scope["path"])
        if handler is not None:
            await _json_response(send, handler())
            return
        if scope["path"].startswith("/bench/naive-stream/"):
            await naive_application(scope, receive, send)
            return
    await project_application(scope, receive, send)
