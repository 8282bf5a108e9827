"""The job status stream: Server-Sent Events fed by one shared watcher per server process.

A stream does not query the database itself. Each process runs one `JobWatcher` task that, every
SSE_POLL_SECONDS, reads every watched job in one query and hands each stream the job's latest
state. So the number of queries per second depends on the number of watched jobs, not of open
streams, and no stream holds a thread or a database connection while it waits.
"""
import asyncio
import json
import logging
import re
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.conf import settings

from postings import services
from postings.models import PostingJob
from postings.serializers import JobSerializer

logger = logging.getLogger(__name__)

_EVENT_ID = re.compile(r"\d{1,20}")


def parse_last_event_id(raw: str | None) -> int | None:
    """The `Last-Event-ID` a reconnecting client sends: digits only, anything else is ignored."""
    if raw is not None and _EVENT_ID.fullmatch(raw.strip()):
        return int(raw.strip())
    return None


def job_state(job: PostingJob) -> dict:
    """What one event carries: the seed's job status, with `final` once the job has ended."""
    data = JobSerializer(job).data
    data["job_id"] = str(data["job_id"])
    return data


def job_version(job: PostingJob) -> int:
    """An event id that grows with every visible change of the job row (its updated_at, in µs)."""
    return int(job.updated_at.timestamp() * 1_000_000)


@dataclass(eq=False)
class Subscription:
    job_pk: int
    state: dict
    version: int
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, state: dict, version: int) -> None:
        if state != self.state:
            self.state, self.version = state, max(version, self.version + 1)
            self.changed.set()


class JobWatcher:
    """Polls the watched jobs in one query per tick and fans their changes out to subscriptions."""

    def __init__(self):
        self.subscriptions: dict[int, set[Subscription]] = {}
        self.task: asyncio.Task | None = None
        self.queries = 0  # read by tests and the benchmark

    def subscribe(self, job: PostingJob) -> Subscription:
        subscription = Subscription(job.pk, job_state(job), job_version(job))
        self.subscriptions.setdefault(job.pk, set()).add(subscription)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run(), name="job-watcher")
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        watchers = self.subscriptions.get(subscription.job_pk)
        if watchers is not None:
            watchers.discard(subscription)
            if not watchers:
                del self.subscriptions[subscription.job_pk]

    async def _run(self) -> None:
        while self.subscriptions:
            await asyncio.sleep(settings.SSE_POLL_SECONDS)
            if not self.subscriptions:
                break
            try:
                jobs = await sync_to_async(self._read, thread_sensitive=False)(list(self.subscriptions))
            except Exception:  # a failed tick must not end every stream: log it and poll again
                logger.exception("reading the watched jobs failed")
                continue
            for job in jobs:
                state, version = job_state(job), job_version(job)
                for subscription in list(self.subscriptions.get(job.pk, ())):
                    subscription.offer(state, version)

    def _read(self, job_pks: list[int]) -> list[PostingJob]:
        self.queries += 1
        jobs = list(PostingJob.objects.filter(pk__in=job_pks))
        for job in jobs:
            if services.job_reap_if_stale(job=job):  # a dead worker's job must not read `running`
                job.refresh_from_db()
        return jobs


_watchers: dict[asyncio.AbstractEventLoop, JobWatcher] = {}


def watcher() -> JobWatcher:
    """This event loop's watcher (one per server process; tests may run several loops)."""
    loop = asyncio.get_running_loop()
    for old in [other for other in _watchers if other.is_closed()]:
        del _watchers[old]
    return _watchers.setdefault(loop, JobWatcher())


def _event(state: dict, version: int, *, retry: bool = False) -> str:
    head = f"retry: {settings.SSE_RETRY_MILLISECONDS}\n" if retry else ""
    return f"{head}id: {version}\ndata: {json.dumps(state, separators=(',', ':'))}\n\n"


async def job_events(job: PostingJob):
    """The event stream of one job: its state now, one event per change, a final event, the end."""
    shared = watcher()
    subscription = shared.subscribe(job)
    try:
        yield _event(subscription.state, subscription.version, retry=True)
        if subscription.state["final"]:
            return
        while True:
            try:
                await asyncio.wait_for(subscription.changed.wait(), timeout=settings.SSE_HEARTBEAT_SECONDS)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            subscription.changed.clear()
            yield _event(subscription.state, subscription.version)
            if subscription.state["final"]:
                return
    finally:
        # Also on disconnect: Django cancels this generator under ASGI, and nothing is left behind.
        shared.unsubscribe(subscription)
