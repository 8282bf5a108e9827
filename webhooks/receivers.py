"""Where events become deliveries, and when deliveries are sent.

The events come from the apps below, each once its transaction has committed, in whatever process
caused it (a posting worker, a request, the timekeeper): a receiver here only queues rows (one
query for the operator's webhooks, then the body's and one insert when one wants it), and never
sends. Sending is the timekeeper's (every tick, in a thread of its own) and, with
JOB_RUNNER=procrastinate, also a periodic task's (webhooks/tasks.py).
"""
import functools
import logging
import threading
import time

from django.db import connection
from django.dispatch import receiver

from accounts.services import account_needs_attention, accounts_health_watch
from config.timekeeper import tick
from postings import selectors as posting_selectors
from postings.models import ErrorLog, PostingJob
from postings.serializers import ErrorLogSerializer, JobSerializer
from postings.services import job_finished, post_failed
from webhooks import selectors, services
from webhooks.models import Event

logger = logging.getLogger(__name__)


def _never_raises(what: str):
    """A notification that cannot be queued is logged; the worker or request that caused it goes on."""
    def decorate(function):
        @functools.wraps(function)
        def wrapper(sender, **kwargs):
            try:
                function(sender, **kwargs)
            except Exception:
                logger.exception("webhooks: %s failed (%s)", what, ", ".join(f"{k}={v}" for k, v in kwargs.items()
                                                                            if k.endswith("_id")))
        return wrapper
    return decorate


@receiver(job_finished, dispatch_uid="webhooks.job_finished")
@_never_raises("queueing job.finished")
def queue_job_finished(sender, job_id: int, **kwargs):
    job = posting_selectors.with_in_flight(PostingJob.objects.filter(pk=job_id)).first()
    if job is not None:
        services.event_queue(owner_id=job.owner_id, event=Event.JOB_FINISHED, data=lambda: JobSerializer(job).data)


@receiver(post_failed, dispatch_uid="webhooks.post_failed")
@_never_raises("queueing post.failed")
def queue_post_failed(sender, log_id: int, **kwargs):
    log = ErrorLog.objects.select_related("post", "job").filter(pk=log_id).first()
    if log is None:
        return
    services.event_queue(owner_id=log.owner_id, event=Event.POST_FAILED, data=lambda: ErrorLogSerializer(log).data)
    if log.post is not None:  # a session_expired or captcha failure, or a block, makes the account worse
        accounts_health_watch(account_ids=[log.post.account_id])


@receiver(account_needs_attention, dispatch_uid="webhooks.account_needs_attention")
@_never_raises("queueing account.needs_attention")
def queue_account_needs_attention(sender, account_id: int, owner_id: int, entry: dict, **kwargs):
    services.event_queue(owner_id=owner_id, event=Event.ACCOUNT_NEEDS_ATTENTION, data=entry)


HEALTH_WATCH_SECONDS = 60.0  # time alone changes health slowly: a minute late is soon enough
_last_watch = {"at": float("-inf")}


@receiver(tick, dispatch_uid="webhooks.watch_accounts")
def watch_accounts_health(sender, **kwargs):
    """Health changes with time alone (a session ages, a cookie expires, a pause ends): look once a
    minute (it reads every account's session file; events look at once, above and in accounts)."""
    if time.monotonic() - _last_watch["at"] < HEALTH_WATCH_SECONDS:
        return
    _last_watch["at"] = time.monotonic()
    accounts_health_watch()


class _Sender:
    """One thread at a time sending what is due, started by a tick that finds work: a receiver that
    takes WEBHOOK_TIMEOUT_SECONDS to not answer holds up neither the timekeeper nor its next tick."""

    def __init__(self):
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        if not selectors.deliveries_due().exists():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name="webhook-sender", daemon=True)
            self._thread.start()

    @staticmethod
    def _run() -> None:
        try:
            while services.deliver_due():
                pass  # until nothing is due: each round sends up to 50 and moves them out of `due`
        except Exception:
            logger.exception("webhooks: sending deliveries failed; the next tick tries again")
        finally:
            connection.close()  # this thread's own connection


_sender = _Sender()


@receiver(tick, dispatch_uid="webhooks.send_due")
def send_due_deliveries(sender, **kwargs):
    _sender.kick()
