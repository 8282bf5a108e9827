"""Who runs posting jobs (JOB_RUNNER), and what differs between the two runners.

- `subprocess` (the default): one `manage.py post_to_marketplace --job-id` process per job, on the
  machine that serves the API (`services.posting_job_launch`).
- `procrastinate`: a task on Procrastinate's queue in PostgreSQL (`postings/tasks.py`), run by
  `manage.py procrastinate worker` on any machine that shares the database and the files.

Either way the worker is `postings.worker.run_job`, and the project's own account lock
(`services.job_begin`), heartbeat and reaper decide; Procrastinate queues, dispatches and keeps one
account's jobs apart. Every call to Procrastinate here goes through Django's own connection, so it
is part of the caller's transaction.
"""
import logging

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.dispatch import receiver
from procrastinate import exceptions as procrastinate_errors
from procrastinate import manager, sql
from procrastinate import tasks as procrastinate_tasks
from procrastinate.contrib.django.django_connector import DjangoConnector

from postings import services
from postings.models import MarketplacePost, PostingJob

logger = logging.getLogger(__name__)

RUN_POSTING_JOB = "postings.run_posting_job"  # the task's name in Procrastinate's queue (postings/tasks.py)
# Procrastinate's own verdict on its workers (its Worker's `stalled_worker_timeout`): one whose
# heartbeat is older than this is gone.
STALLED_WORKER_SECONDS = 30


def _queue() -> manager.JobManager:
    """Procrastinate's jobs, through Django's connection (in the caller's transaction)."""
    return manager.JobManager(DjangoConnector())


def account_lock(*, job: PostingJob) -> str | None:
    """Procrastinate's lock for the job: `account:<id>` when all its posts are of one account, so
    that the account's next job waits in the queue rather than in a worker; None for several
    accounts (a job has one lock string), where the project's account lock decides alone."""
    accounts = set(MarketplacePost.objects.filter(claimed_by=job).values_list("account_id", flat=True))
    return f"account:{accounts.pop()}" if len(accounts) == 1 else None


def posting_job_start(
    *, owner, post_ids: list[int] | None = None, dry_run: bool = False, start_at=None, spread_minutes: int | None = None,
) -> tuple[PostingJob, int]:
    """Create a job for the posts (`services.posting_job_create`) and start it with JOB_RUNNER, now
    or at `start_at`; returns (job, number of posts asked for). A worker that cannot be started
    fails the job.

    procrastinate: the task is deferred in the transaction that creates the job, so that the two
    exist together or not at all, scheduled by Procrastinate for `start_at`. subprocess: the worker
    reads its job from the database, so it is started once the creation has committed (call this
    outside a transaction); a scheduled one is started by the server's timekeeper
    (`launch_due_jobs`) when its time comes.
    """
    options = {"owner": owner, "post_ids": post_ids, "dry_run": dry_run, "start_at": start_at, "spread_minutes": spread_minutes}
    if settings.JOB_RUNNER == "procrastinate":
        with transaction.atomic():
            job, total_selected = services.posting_job_create(**options)
            return _defer(job), total_selected
    job, total_selected = services.posting_job_create(**options)
    if start_at is None and services.job_claim_launch(job=job):
        job = services.posting_job_launch(job=job)
    return job, total_selected


def launch_due_jobs(*, now=None) -> list[PostingJob]:
    """Start every scheduled job whose time has come (subprocess runner; Procrastinate schedules
    its own). Safe to call from several processes at once: each job is claimed by one."""
    if settings.JOB_RUNNER == "procrastinate":
        return []
    launched = []
    for job in services.jobs_due(now=now):
        if services.job_claim_launch(job=job, now=now):
            logger.info("job %s: its scheduled time %s has come, starting it", job.job_id, job.start_at)
            launched.append(services.posting_job_launch(job=job))
    return launched


def _defer(job: PostingJob) -> PostingJob:
    runner_job_id = procrastinate_tasks.configure_task(
        name=RUN_POSTING_JOB, job_manager=_queue(), lock=account_lock(job=job),
        task_kwargs={"job_id": str(job.job_id)}, schedule_at=job.start_at,
    ).defer()
    log_file = services.job_log_path(job)  # written by the task, on the shared LOG_DIR
    PostingJob.objects.filter(pk=job.pk).update(runner_job_id=runner_job_id, log_file=str(log_file))
    job.refresh_from_db()
    return job


def posting_job_cancel(*, job: PostingJob) -> PostingJob:
    """Ask the job to stop after its current post (`services.posting_job_cancel`); 409 when it has ended.

    With Procrastinate, a job still waiting in its queue is cancelled there and ends `cancelled` at
    once, its posts pending again; a job a worker has taken is aborted in Procrastinate too, and its
    worker stops after the current post.
    """
    with transaction.atomic():
        job = services.posting_job_cancel(job=job)
        if job.runner_job_id is None and job.status == PostingJob.Status.QUEUED and job.launched_at is None and job.start_at:
            services.job_finish(job=job, status=PostingJob.Status.CANCELLED)  # scheduled, never started
        elif job.runner_job_id is not None:
            queue = _queue()
            if queue.cancel_job_by_id(job.runner_job_id):  # was `todo`: no worker can take it any more
                services.job_finish(job=job, status=PostingJob.Status.CANCELLED)
            else:
                queue.cancel_job_by_id(job.runner_job_id, abort=True)
    return job


def _release(*, runner_job_id: int) -> bool:
    """Finish a Procrastinate job that a dead worker left behind as `failed`, which frees its lock;
    never retried (a retry could publish a post twice). False when it had already ended."""
    try:
        with transaction.atomic():  # a savepoint: an ended job leaves the caller's transaction usable
            DjangoConnector().execute_query(
                query=sql.queries["finish_job"], job_id=runner_job_id, status="failed", delete_job=False
            )
    except procrastinate_errors.ConnectorException as exc:
        # "not found or not in todo or doing"; or no Procrastinate schema at all (JOB_RUNNER was
        # switched back to subprocess): either way nothing holds a lock.
        if not isinstance(exc.__cause__, (psycopg.errors.RaiseException, psycopg.errors.UndefinedFunction)):
            raise
        return False
    logger.warning("Procrastinate job %s of a dead worker finished as failed; its lock is free", runner_job_id)
    return True


@receiver(services.job_reaped)
def release_reaped_job(sender, job: PostingJob, **kwargs) -> None:
    """The reaper failed a job whose worker died: its Procrastinate job fails with it, in the same
    transaction, so that the account's next job can run."""
    if job.runner_job_id is not None:
        _release(runner_job_id=job.runner_job_id)


def jobs_reap_stale() -> list[PostingJob]:
    """Fail every active job whose worker died (`services.job_reap_if_stale`), and with
    Procrastinate release what dead workers left in its queue; returns the jobs failed."""
    reaped = [
        job for job in PostingJob.objects.filter(status__in=PostingJob.ACTIVE_STATUSES)
        if services.job_reap_if_stale(job=job)
    ]
    if settings.JOB_RUNNER == "procrastinate" and connection.vendor == "postgresql":
        reaped += _reap_abandoned_in_queue()
    return reaped


def _reap_abandoned_in_queue() -> list[PostingJob]:
    """Procrastinate jobs left `doing` by a worker that stopped beating (Procrastinate's own
    heartbeat) whose PostingJob has no worker of ours to reap: it never began (the worker died
    between taking it and starting it), or it ended and the worker died before telling
    Procrastinate. Either way the job would hold its lock, and the account, for ever."""
    reaped = []
    stalled = DjangoConnector().execute_query_all(
        query=sql.queries["select_stalled_jobs_by_heartbeat"], queue=None, task_name=RUN_POSTING_JOB,
        seconds_since_heartbeat=STALLED_WORKER_SECONDS,
    )
    for row in stalled:
        with transaction.atomic():
            # Locked: a worker that is alive after all and begins the job now waits for this decision.
            job = PostingJob.objects.select_for_update().filter(runner_job_id=row["id"]).first()
            if job is not None and job.status in PostingJob.ACTIVE_STATUSES:
                if job.pid is not None:
                    continue  # begun: its heartbeat and `services.job_reap_if_stale` decide
                services.job_finish(job=job, status=PostingJob.Status.FAILED, error_message="Worker stopped unexpectedly")
                reaped.append(job)
            _release(runner_job_id=row["id"])
    return reaped
