"""Procrastinate's tasks (JOB_RUNNER=procrastinate), found by its Django app's autodiscovery.

`manage.py procrastinate worker` runs them on any machine that shares the database and the files;
`postings.runners` defers them and cancels them.
"""
import logging
import os
from pathlib import Path

from django.conf import settings
from procrastinate import JobContext
from procrastinate.contrib.django import app
from procrastinate.exceptions import JobAborted

from config.exceptions import Conflict
from postings import runners, services, worker
from postings.models import PostingJob

logger = logging.getLogger(__name__)

# Often enough that a dead worker's job is failed about 1.5 x JOB_STALE_SECONDS after its last beat.
REAP_EVERY_SECONDS = max(1, min(30, round(settings.JOB_STALE_SECONDS / 2)))


@app.task(name=runners.RUN_POSTING_JOB, pass_context=True, retry=False)
def run_posting_job(context: JobContext, *, job_id: str) -> str:
    """Run one PostingJob to its end; its final status is the task's result.

    Never retried, whatever happens: a post whose publishing click was made may be live, and only
    the operator can tell. Our cancel sets the job's flag itself; an abort from Procrastinate alone
    (a worker shut down past its `--shutdown-graceful-timeout`) is turned into a cancel the next
    time the job reports progress. A cancelled job's Procrastinate job ends `aborted`.
    """
    job = PostingJob.objects.get(job_id=job_id)
    with _JobLog(job, context) as log:
        def progress(job: PostingJob) -> None:
            log.progress(job)
            if context.should_abort() and not job.cancel_requested:
                try:
                    services.posting_job_cancel(job=job)
                except Conflict:
                    pass  # it has just ended

        job = worker.run_job(job_id=job_id, progress=progress)
        log.end(job)
    if job.status == PostingJob.Status.CANCELLED and context.should_abort():
        raise JobAborted(f"Job {job.job_id} cancelled")
    return job.status


@app.periodic(cron=f"* * * * * */{REAP_EVERY_SECONDS}")
@app.task(name="postings.reap_stale_jobs", queueing_lock="postings.reap_stale_jobs", priority=10, retry=False)
def reap_stale_jobs(timestamp: int) -> int:
    """Fail the jobs whose worker died even when nobody reads them (`manage.py reap_stale_jobs`),
    and release their Procrastinate jobs and locks; deferred at every worker's start too."""
    reaped = runners.jobs_reap_stale()
    for job in reaped:
        logger.warning("Job %s: worker stopped unexpectedly; failed", job.job_id)
    return len(reaped)


class _JobLog:
    """The job's log file on the shared LOG_DIR (its `log_file`): where it runs, its progress and its
    end, as `manage.py post_to_marketplace` writes them. The worker's own log is the worker's output."""

    def __init__(self, job: PostingJob, context: JobContext):
        self.path = Path(job.log_file) if job.log_file else services.job_log_path(job)
        self.header = (f"Job {job.job_id}: {job.total_posts} post(s), Procrastinate job {context.job.id} "
                       f"on {services.this_host()} (pid {os.getpid()})")

    def __enter__(self) -> "_JobLog":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(self.path, "a", buffering=1)
        self.write(self.header)
        return self

    def __exit__(self, *exc_info) -> None:
        self.file.close()

    def write(self, line: str) -> None:  # progress comes one line at a time (the job runner serialises it)
        self.file.write(line + "\n")

    def progress(self, job: PostingJob) -> None:
        self.write(worker.progress_line(job))

    def end(self, job: PostingJob) -> None:
        self.write(f"{worker.summary_line(job)}{'. ' + job.error_message if job.error_message else ''}")
