"""The job status stream: Server-Sent Events fed by one shared watcher per server process.

A stream does not query the database itself. Each process runs one `JobWatcher` task that, every
SSE_POLL_SECONDS, reads every watched job in one query and hands each stream the job's latest
event, encoded once per change. So the number of queries per second depends on the number of
watched jobs, not of open streams.

`StatusStreamApp` serves `GET /api/posts/status-stream/<job_id>/` in plain ASGI, in front of
Django's handler: Django runs every request's middleware in a thread of that request's own, which
would live (with its database connection) as long as the stream, some 200 kB per stream. Here a
waiting stream holds no thread and no connection, only its two small tasks. It authenticates like
the API (bearer token, the access cookie, Django's session), adds the CORS headers of the
configured origins, and hands every other request (and the CORS preflight) to Django.
"""
import asyncio
import io
import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.db import DatabaseError, close_old_connections, connection
from django.utils.module_loading import import_string

from accounts.authentication import request_operator
from postings import selectors, services
from postings.models import PostingJob
from postings.serializers import JobSerializer

logger = logging.getLogger(__name__)

PATH = re.compile(r"^/api/posts/status-stream/(?P<job_id>[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})/$")
_EVENT_ID = re.compile(r"\d{1,20}")


def parse_last_event_id(raw: str | None) -> int | None:
    """The `Last-Event-ID` a reconnecting client sends: digits only, anything else is ignored."""
    if raw is not None and _EVENT_ID.fullmatch(raw.strip()):
        return int(raw.strip())
    return None


def job_state(job: PostingJob) -> dict:
    """What one event carries: the seed's job status, with `final` once the job has ended."""
    return JobSerializer(job).data


def job_version(job: PostingJob) -> int:
    """An event id that grows with every visible change of the job row (its updated_at, in µs)."""
    return int(job.updated_at.timestamp() * 1_000_000)


def encode_event(state: dict, version: int, *, retry: bool = False) -> bytes:
    head = f"retry: {settings.SSE_RETRY_MILLISECONDS}\n" if retry else ""
    return f"{head}id: {version}\ndata: {json.dumps(state, separators=(',', ':'))}\n\n".encode()


@dataclass(eq=False)
class Subscription:
    job_pk: int
    state: dict
    version: int
    event: bytes = b""
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, state: dict, version: int, event: bytes) -> None:
        if state != self.state:
            self.state, self.version, self.event = state, version, event
            self.changed.set()


class JobWatcher:
    """Polls the watched jobs in one query per tick and fans their changes out to subscriptions."""

    def __init__(self):
        self.subscriptions: dict[int, set[Subscription]] = {}
        self.versions: dict[int, int] = {}  # the last event id sent for each job: ids only grow
        self.task: asyncio.Task | None = None
        self.queries = 0  # read by tests and the benchmark
        # The watcher's one thread, and so its one database connection, closed when nothing is watched.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="job-watcher")

    def subscribe(self, job: PostingJob) -> Subscription:
        version = max(job_version(job), self.versions.get(job.pk, 0))
        subscription = Subscription(job.pk, job_state(job), version)
        self.subscriptions.setdefault(job.pk, set()).add(subscription)
        self.versions[job.pk] = version
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run(), name="job-watcher")
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        watchers = self.subscriptions.get(subscription.job_pk)
        if watchers is not None:
            watchers.discard(subscription)
            if not watchers:
                del self.subscriptions[subscription.job_pk]
                self.versions.pop(subscription.job_pk, None)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.subscriptions:
                await asyncio.sleep(settings.SSE_POLL_SECONDS)
                if not self.subscriptions:
                    break
                try:
                    jobs = await loop.run_in_executor(self.executor, self._read, list(self.subscriptions))
                except Exception:  # a failed tick must not end every stream: log it and poll again
                    logger.exception("reading the watched jobs failed")
                    continue
                for job in jobs:
                    self._publish(job)
        finally:
            self.executor.submit(connection.close)  # idle: hold no connection (run in the watcher's thread)

    def _publish(self, job: PostingJob) -> None:
        subscriptions = self.subscriptions.get(job.pk)
        if not subscriptions:
            return
        state = job_state(job)
        if all(subscription.state == state for subscription in subscriptions):
            return
        version = max(job_version(job), self.versions.get(job.pk, 0) + 1)
        self.versions[job.pk] = version
        event = encode_event(state, version)  # once per change, whatever the number of streams
        for subscription in list(subscriptions):
            subscription.offer(state, version, event)

    def _read(self, job_pks: list[int]) -> list[PostingJob]:
        self.queries += 1
        try:
            jobs = list(selectors.with_in_flight(PostingJob.objects.filter(pk__in=job_pks)))
            for job in jobs:
                if services.job_reap_if_stale(job=job):  # a dead worker's job must not read `running`
                    job.refresh_from_db()
        except DatabaseError:
            connection.close()  # it may be dead (the database restarted): the next tick connects anew
            raise
        return jobs


_watchers: dict[asyncio.AbstractEventLoop, JobWatcher] = {}


def watcher() -> JobWatcher:
    """This event loop's watcher (one per server process; tests may run several loops)."""
    loop = asyncio.get_running_loop()
    for old in [other for other in _watchers if other.is_closed()]:
        _watchers.pop(old).executor.shutdown(wait=False)
    return _watchers.setdefault(loop, JobWatcher())


async def job_events(job: PostingJob):
    """The event stream of one job: its state now, one event per change, a final event, the end."""
    shared = watcher()
    subscription = shared.subscribe(job)
    try:
        yield encode_event(subscription.state, subscription.version, retry=True)
        if subscription.state["final"]:
            return
        while True:
            try:
                async with asyncio.timeout(settings.SSE_HEARTBEAT_SECONDS):
                    await subscription.changed.wait()
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            subscription.changed.clear()
            yield subscription.event
            if subscription.state["final"]:
                return
    finally:
        shared.unsubscribe(subscription)  # also when the client went away and the stream was cancelled


# --- the ASGI application -------------------------------------------------------------------------

def _json(status: int, body: dict, headers: list | None = None) -> tuple[int, list, bytes]:
    return status, [(b"content-type", b"application/json"), *(headers or [])], json.dumps(body).encode()


def _authorize(request, job_id: str) -> tuple:
    """(operator, their job or None), or (None, None). Run as Django runs a request's database work:
    a connection that is too old or broke (the database restarted) is dropped before and after."""
    close_old_connections()
    try:
        user = request_operator(request)
        return user, (selectors.job_for_or_none(user=user, job_id=job_id) if user is not None else None)
    finally:
        close_old_connections()


class StatusStreamApp:
    """Serves the status stream in plain ASGI and everything else through `django_app`."""

    def __init__(self, django_app):
        self.django_app = django_app
        self.session_store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")

    async def __call__(self, scope, receive, send):
        match = PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope["method"] == "OPTIONS":  # the CORS preflight is Django's
            return await self.django_app(scope, receive, send)
        request = ASGIRequest(scope, io.BytesIO())
        cors = self._cors_headers(request)
        if scope["method"] not in ("GET", "HEAD"):
            return await self._answer(send, *_json(405, {"detail": f'Method "{scope["method"]}" not allowed.'},
                                                   [(b"allow", b"GET, HEAD"), *cors]))
        try:
            request.get_host()  # ALLOWED_HOSTS, as Django would check it
        except DisallowedHost:
            return await self._answer(send, *_json(400, {"detail": "Bad request."}))
        request.session = self.session_store(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
        user, job = await sync_to_async(_authorize, thread_sensitive=False)(request, match["job_id"])
        if user is None:
            return await self._answer(send, *_json(
                401, {"detail": "Authentication credentials were not provided."},
                [(b"www-authenticate", b'Bearer realm="api"'), *cors],
            ))
        if job is None:
            return await self._answer(send, *_json(404, {"detail": "Not found."}, cors))
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),  # and never compressed: nothing here does
            *cors,
        ]})
        if scope["method"] == "HEAD":
            return await send({"type": "http.response.body", "body": b""})
        await self._stream(job, receive, send)

    async def _stream(self, job: PostingJob, receive, send) -> None:
        events = job_events(job)

        async def pump():
            async for chunk in events:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})

        async def disconnected():
            while (await receive())["type"] != "http.disconnect":
                pass

        tasks = [asyncio.ensure_future(pump()), asyncio.ensure_future(disconnected())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await events.aclose()  # unsubscribes at once

    @staticmethod
    def _cors_headers(request) -> list[tuple[bytes, bytes]]:
        origin = request.headers.get("Origin")
        if not origin or origin not in settings.CORS_ALLOWED_ORIGINS:
            return [(b"vary", b"origin")]
        return [(b"access-control-allow-origin", origin.encode()),
                (b"access-control-allow-credentials", b"true"), (b"vary", b"origin")]

    @staticmethod
    async def _answer(send, status: int, headers: list, body: bytes) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
