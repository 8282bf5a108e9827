"""Writes for the postings app."""
import logging
import os
import socket
import subprocess
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, F
from django.dispatch import Signal
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from accounts import budgets
from accounts.models import FacebookAccount
from config.exceptions import Conflict
from driver.evidence import PageEvidence
from postings.models import ErrorLog, MarketplacePost, PostImage, PostingJob, PostingPreview

logger = logging.getLogger(__name__)


def _lock_unless_posting(post: MarketplacePost) -> MarketplacePost:
    """Lock the post's row for this transaction; refuse with 409 while a job is posting it.

    The worker moves a post to `posting` with a conditional UPDATE, which waits on this lock (and
    on SQLite on the IMMEDIATE transaction), so the check and the change cannot interleave.
    """
    locked = MarketplacePost.objects.select_for_update().get(pk=post.pk)
    if locked.status == MarketplacePost.Status.POSTING and locked.claimed_by_id:
        if job_reap_if_stale(job=locked.claimed_by):  # its worker died: the post is failed, free to change
            locked.refresh_from_db()
    if locked.status == MarketplacePost.Status.POSTING:
        raise Conflict("This listing is being posted right now; change it once its job has finished with it.")
    return locked


def post_create(*, account: FacebookAccount, **fields) -> MarketplacePost:
    """A new pending listing for one of the operator's accounts."""
    return MarketplacePost.objects.create(account=account, **fields)


@transaction.atomic
def post_update(*, post: MarketplacePost, **fields) -> MarketplacePost:
    """Change a listing's content; 409 while it is being posted."""
    post = _lock_unless_posting(post)
    for name, value in fields.items():
        setattr(post, name, value)
    post.save(update_fields=[*fields, "updated_at"])
    return post


def posts_leave_their_jobs(posts) -> None:
    """Posts about to be deleted leave the active jobs that hold them: each job counts them out of
    its total, so that its progress still reaches 100 %. Call with the posts' rows locked."""
    held = posts.filter(claimed_by__status__in=PostingJob.ACTIVE_STATUSES).values("claimed_by")
    for row in held.annotate(count=Count("pk")).order_by():
        PostingJob.objects.filter(pk=row["claimed_by"]).update(
            total_posts=F("total_posts") - row["count"], updated_at=timezone.now()
        )


@transaction.atomic
def post_delete(*, post: MarketplacePost) -> None:
    """Delete a listing with its photos and error logs (files go once committed); 409 while posting."""
    locked = _lock_unless_posting(post)
    posts_leave_their_jobs(MarketplacePost.objects.filter(pk=locked.pk))
    locked.delete()


def post_image_add(*, post: MarketplacePost, upload) -> PostImage:
    """Append a checked photo to a listing: at most MAX_IMAGES_PER_POST; 409 while posting."""
    image = None
    try:
        with transaction.atomic():
            post = _lock_unless_posting(post)
            positions = list(post.images.values_list("position", flat=True))
            if len(positions) >= settings.MAX_IMAGES_PER_POST:
                raise ValidationError(
                    {"image": [f"A listing has at most {settings.MAX_IMAGES_PER_POST} photos."]}
                )
            image = PostImage(post=post, position=max(positions, default=0) + 1)
            image.image.save(upload.name, upload, save=False)
            image.save()
            return image
    except BaseException:
        if image is not None and image.image.name:
            image.image.storage.delete(image.image.name)  # the row was rolled back: drop its file
        raise


@transaction.atomic
def post_image_delete(*, image: PostImage) -> None:
    """Remove one photo (its file goes once committed); 409 while the listing is being posted."""
    _lock_unless_posting(image.post)
    image.delete()


# --- posting jobs ---------------------------------------------------------------------------------

class NothingToPost(Exception):
    """No post could be taken into a job; the message says why."""


def _check_own_posts(*, owner, post_ids: list[int]) -> None:
    found = set(MarketplacePost.objects.filter(account__owner=owner, pk__in=post_ids).values_list("pk", flat=True))
    unknown = sorted(set(post_ids) - found)
    if unknown:
        raise ValidationError({"post_ids": [f"No such posts of yours: {', '.join(map(str, unknown))}."]})


def scheduled_message(start_at) -> str:
    return f"Scheduled: starts at {budgets.when(start_at)}"


@transaction.atomic
def posting_job_create(
    *, owner, post_ids: list[int] | None = None, dry_run: bool = False, start_at=None, spread_minutes: int | None = None,
) -> tuple[PostingJob, int]:
    """Create a job and claim its posts in one transaction; returns (job, number of posts asked for).

    Without `post_ids`, all the operator's pending posts. A post is taken when it is pending and
    no queued or running job holds it: one conditional UPDATE on the post rows themselves, so two
    concurrent calls never take the same post (each row is updated by one of them only). A
    `dry_run` job fills each form to its last step and records a preview; it publishes nothing. A
    job with `start_at` stays `queued` until then, saying so; `spread_minutes` spreads its posts
    evenly over that window (the worker does).
    """
    if post_ids is None:
        candidates = list(
            MarketplacePost.objects.filter(account__owner=owner, status=MarketplacePost.Status.PENDING)
            .values_list("pk", flat=True)
        )
        total_selected = len(candidates)
    else:
        _check_own_posts(owner=owner, post_ids=post_ids)
        candidates, total_selected = sorted(set(post_ids)), len(set(post_ids))
    job = PostingJob.objects.create(
        owner=owner, dry_run=dry_run, start_at=start_at, spread_minutes=spread_minutes,
        status_message=scheduled_message(start_at) if start_at else "",
    )
    taken = MarketplacePost.objects.filter(
        pk__in=candidates, status=MarketplacePost.Status.PENDING, claimed_by__isnull=True
    ).update(claimed_by=job)
    if not taken:
        raise NothingToPost(
            "No pending posts to take: the selected posts are already posted, failed, or held by "
            "another job" if total_selected else "You have no pending posts."
        )
    job.posts.set(MarketplacePost.objects.filter(claimed_by=job))
    job.total_posts = taken
    job.save(update_fields=["total_posts", "updated_at"])
    return job, total_selected


@transaction.atomic
def post_retry(*, post: MarketplacePost) -> MarketplacePost:
    """A failed post back to pending, so that a new job can take it; 409 unless it failed."""
    reset = MarketplacePost.objects.filter(pk=post.pk, status=MarketplacePost.Status.FAILED).update(
        status=MarketplacePost.Status.PENDING, updated_at=timezone.now()
    )
    if not reset:
        raise Conflict(f"Only a failed post can be retried; this one is {post.status}.")
    post.refresh_from_db()
    return post


def posting_job_cancel(*, job: PostingJob) -> PostingJob:
    """Ask the job to stop after its current post; 409 when it has already ended."""
    asked = PostingJob.objects.filter(pk=job.pk, status__in=PostingJob.ACTIVE_STATUSES).update(
        cancel_requested=True, updated_at=timezone.now()
    )
    job.refresh_from_db()
    if not asked:
        raise Conflict(f"The job has already ended ({job.status}).")
    return job


def job_release_claims(*, job: PostingJob) -> int:
    """Let go of the posts the job has not finished with: they stay (or are again) pending."""
    return MarketplacePost.objects.filter(claimed_by=job).update(claimed_by=None)


def _job_end_claims(*, job: PostingJob, why: str) -> None:
    """Let go of an ended job's posts. One it was posting fails as `unknown`: it may have been
    published, so it must not go back to pending, nor stay `posting` (locked) for ever. A dry
    run never clicks anything that can publish, so its in-flight post simply goes back to pending."""
    if job.dry_run:
        MarketplacePost.objects.filter(claimed_by=job, status=MarketplacePost.Status.POSTING).update(
            status=MarketplacePost.Status.PENDING, claimed_by=None, updated_at=timezone.now()
        )
    for post in MarketplacePost.objects.filter(claimed_by=job, status=MarketplacePost.Status.POSTING):
        post_mark_failed(
            job=job, post=post, error_type=ErrorLog.ErrorType.UNKNOWN,
            message=f"Interrupted while being posted: {why}. It may have been published: check Marketplace "
            "before retrying it",
        )
    job_release_claims(job=job)


# Events for the apps above (notifications), each sent once its transaction has committed:
# `job_finished` (job) when a job ends, however it ends (finished, cancelled, failed, reaped);
# `post_failed` (log) when a listing's failure is recorded (not a job-level failure: that is the
# job's end). Receivers must not block: they run in a worker or a request.
job_finished = Signal()
post_failed = Signal()


def _send_on_commit(signal: Signal, **kwargs) -> None:
    transaction.on_commit(lambda: signal.send(sender=PostingJob, **kwargs), robust=True)


def job_finish(*, job: PostingJob, status: str, error_message: str = "", status_message: str = "") -> bool:
    """End a job that is still active; False when it had already ended (e.g. reaped)."""
    with transaction.atomic():
        ended = PostingJob.objects.filter(pk=job.pk, status__in=PostingJob.ACTIVE_STATUSES).update(
            status=status, error_message=error_message, status_message=status_message[:255], completed_at=timezone.now(),
            current_post=None, current_post_title="", updated_at=timezone.now(),
        )
        _job_end_claims(job=job, why="the worker failed")
        if ended:
            _send_on_commit(job_finished, job_id=job.pk)
    job.refresh_from_db()
    return bool(ended)


def post_begin(*, job: PostingJob, post_id: int, attempt_at=None) -> MarketplacePost | None:
    """Move a claimed pending post to `posting` and show it as the job's current post; with
    `attempt_at`, count it in its account's posting budgets (it is about to be tried) at that time.

    None when the post is no longer this job's to post (deleted, or edited out of pending).
    """
    now = timezone.now()
    with transaction.atomic():
        taken = MarketplacePost.objects.filter(
            pk=post_id, claimed_by=job, status=MarketplacePost.Status.PENDING
        ).update(status=MarketplacePost.Status.POSTING, updated_at=now)
        if not taken:
            if MarketplacePost.objects.filter(pk=post_id, claimed_by=job).update(claimed_by=None):
                PostingJob.objects.filter(pk=job.pk).update(total_posts=F("total_posts") - 1, updated_at=now)
            return None
        post = MarketplacePost.objects.select_related("account").get(pk=post_id)
        PostingJob.objects.filter(pk=job.pk).update(
            current_post=post, current_post_title=post.title, heartbeat_at=now, updated_at=now
        )
        if attempt_at is not None:
            budgets.attempt_record(account_id=post.account_id, at=attempt_at)
    return post


def post_leave_pending(*, job: PostingJob, post_id: int, why: str) -> bool:
    """Let go of a post the job will not try now (its account is paused or past its budget): it
    stays pending for a later job, `why` in its error_message, counted out of the job's total."""
    now = timezone.now()
    with transaction.atomic():
        left = MarketplacePost.objects.filter(
            pk=post_id, claimed_by=job, status=MarketplacePost.Status.PENDING
        ).update(claimed_by=None, error_message=why, updated_at=now)
        if left:
            PostingJob.objects.filter(pk=job.pk).update(total_posts=F("total_posts") - 1, updated_at=now)
    return bool(left)


def post_mark_posted(*, job: PostingJob, post: MarketplacePost, listing_url: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        MarketplacePost.objects.filter(pk=post.pk).update(
            status=MarketplacePost.Status.POSTED, listing_url=listing_url[:500], posted_at=now,
            error_message="", claimed_by=None, updated_at=now,
        )
        PostingJob.objects.filter(pk=job.pk).update(
            completed_posts=F("completed_posts") + 1, heartbeat_at=now, updated_at=now
        )


@dataclass
class Evidence(PageEvidence):
    """What the page looked like when a post failed, or where a dry run stopped (the driver's
    `PageEvidence`: URL, screenshot, HTML, accessibility snapshot), and the post's trace."""

    trace_zip: bytes | None = None  # a Playwright trace of the post


def _store_best_effort(field_file, name: str, data: bytes, what: str) -> None:
    """Write `data` into `field_file` (not saving its row); an OSError (disk full, a directory
    that is a file) is logged and leaves the field empty, with no partial file behind."""
    try:
        field_file.save(name, ContentFile(data), save=False)
    except OSError:
        logger.exception("the %s could not be written; recording without it", what)
        if field_file.name:
            field_file.storage.delete(field_file.name)
        setattr(field_file.instance, field_file.field.attname, None)


@contextmanager
def _files_dropped_on_error(files: list[tuple]):
    """Files written for a row, as (storage, name), deleted if the row then fails to be saved."""
    try:
        yield
    except BaseException:
        for storage, name in files:
            storage.delete(name)
        raise


def _written(*field_files) -> list[tuple]:
    return [(field_file.storage, field_file.name) for field_file in field_files if field_file and field_file.name]


def _evidence_stem(job: PostingJob | None, post: MarketplacePost | None) -> str:
    return f"job{job.pk if job else 0}_post{post.pk if post else 0}_{uuid.uuid4().hex}"


def post_mark_failed(
    *, job: PostingJob | None, post: MarketplacePost | None, error_type: str, message: str,
    stack_trace: str = "", evidence: Evidence | None = None, owner=None,
) -> ErrorLog:
    """Record a failure: the post `failed` (retry_count + 1), the job's count, an ErrorLog with
    the screenshot and the page's HTML beside it, the accessibility snapshot and the trace.

    Evidence is best effort: a file that cannot be written is logged and left out. In a dry run
    the post goes back to pending as it was (nothing was published, so nothing failed on
    Marketplace); the log and the job's count still say what went wrong.
    """
    evidence = evidence or Evidence()
    now = timezone.now()
    log = ErrorLog(
        owner=owner or (job.owner if job else post.account.owner), post=post, job=job,
        error_type=error_type, error_message=message, stack_trace=stack_trace, page_url=evidence.page_url[:2000],
        page_snapshot=evidence.aria_snapshot or "",
    )
    stem = _evidence_stem(job, post)
    html_file = []
    if evidence.screenshot_png:
        try:
            log.screenshot.save(f"{stem}.png", ContentFile(evidence.screenshot_png), save=False)
            if evidence.html is not None:
                storage = log.screenshot.storage
                html_name = storage.save(f"error_screenshots/{stem}.html", ContentFile(evidence.html.encode()))
                html_file = [(storage, html_name)]
        except OSError:
            logger.exception("the screenshot of a failure could not be written; logging the failure without it")
            if log.screenshot.name:
                log.screenshot.storage.delete(log.screenshot.name)  # no orphan PNG beside a failed HTML write
            log.screenshot = None
    if evidence.trace_zip:
        _store_best_effort(log.trace, f"{stem}.zip", evidence.trace_zip, "trace of a failure")
    with _files_dropped_on_error(_written(log.screenshot, log.trace) + html_file), transaction.atomic():
        log.save()
        if post is not None and job is not None and job.dry_run:
            MarketplacePost.objects.filter(pk=post.pk).update(
                status=MarketplacePost.Status.PENDING, claimed_by=None, updated_at=now
            )
        elif post is not None:
            MarketplacePost.objects.filter(pk=post.pk).update(
                status=MarketplacePost.Status.FAILED, error_message=message, retry_count=F("retry_count") + 1,
                claimed_by=None, updated_at=now,
            )
        if job is not None and post is not None:
            PostingJob.objects.filter(pk=job.pk).update(failed_posts=F("failed_posts") + 1, heartbeat_at=now, updated_at=now)
        if post is not None:
            _send_on_commit(post_failed, log_id=log.pk)
    return log


def post_preview_record(*, job: PostingJob, post: MarketplacePost, evidence: Evidence) -> PostingPreview:
    """A dry run reached the last step with `post`: keep what the page showed (screenshot best
    effort), put the post back to pending as it was, and count it done in the job."""
    now = timezone.now()
    preview = PostingPreview(
        job=job, post=post, page_url=evidence.page_url[:2000], page_snapshot=evidence.aria_snapshot or "",
    )
    if evidence.screenshot_png:
        _store_best_effort(preview.screenshot, f"{_evidence_stem(job, post)}.png", evidence.screenshot_png,
                           "screenshot of a dry run")
    with _files_dropped_on_error(_written(preview.screenshot)), transaction.atomic():
        preview.save()
        MarketplacePost.objects.filter(pk=post.pk).update(
            status=MarketplacePost.Status.PENDING, claimed_by=None, updated_at=now
        )
        PostingJob.objects.filter(pk=job.pk).update(
            completed_posts=F("completed_posts") + 1, heartbeat_at=now, updated_at=now
        )
    return preview


def job_heartbeat(*, job: PostingJob, status_message: str | None = None) -> None:
    fields = {"heartbeat_at": timezone.now()}
    if status_message is not None:
        fields["status_message"] = status_message[:255]
    PostingJob.objects.filter(pk=job.pk).update(**fields)


def _blocking_jobs(job: PostingJob) -> dict[int, PostingJob]:
    """Other running jobs that still hold posts of this job's accounts: {account_id: job}."""
    accounts = MarketplacePost.objects.filter(claimed_by=job).values_list("account_id", flat=True)
    holding = (
        MarketplacePost.objects.filter(account_id__in=accounts, claimed_by__status=PostingJob.Status.RUNNING)
        .exclude(claimed_by=job)
        .select_related("claimed_by", "account")
    )
    return {post.account_id: post.claimed_by for post in holding}


def job_begin(*, job: PostingJob, pid: int) -> bool:
    """Make the job `running` if none of its accounts is in use by another running job.

    Never two browsers on one account: while another job holds one of its accounts, the job stays
    `queued` and says what it waits for (False). The check and the change are one transaction that
    locks the job's accounts, so two workers cannot both start on one account.
    """
    now = timezone.now()
    with transaction.atomic():
        accounts = MarketplacePost.objects.filter(claimed_by=job).values_list("account_id", flat=True)
        list(FacebookAccount.objects.select_for_update().filter(pk__in=accounts).order_by("pk"))
        blocking = _blocking_jobs(job)
        for other in {b.pk: b for b in blocking.values()}.values():
            job_reap_if_stale(job=other)
        blocking = _blocking_jobs(job)
        if blocking:
            waits = ", ".join(f"account {account} (job {other.job_id})" for account, other in sorted(blocking.items()))
            message = f"Waiting for another job to finish with {waits}"[:255]
            changed = PostingJob.objects.filter(pk=job.pk).exclude(status_message=message).update(
                pid=pid, heartbeat_at=now, status_message=message, updated_at=now
            )
            if not changed:
                PostingJob.objects.filter(pk=job.pk).update(pid=pid, heartbeat_at=now)
            return False
        started = PostingJob.objects.filter(pk=job.pk, status=PostingJob.Status.QUEUED).update(
            status=PostingJob.Status.RUNNING, pid=pid, worker_host=this_host(), heartbeat_at=now,
            started_at=now, status_message="", updated_at=now,
        )
    job.refresh_from_db()
    return bool(started)


def this_host() -> str:
    """This machine's name as a job's `worker_host` holds it."""
    return socket.gethostname()[:255]


def _worker_alive(pid: int | None, host: str = "") -> bool:
    """Whether a posting worker runs as `pid` on this host (a zombie or another program: no).

    A worker on another machine (`host`) cannot be seen from here: its heartbeat alone decides.
    """
    if not pid or (host and host != this_host()):
        return False
    proc = Path(f"/proc/{pid}")
    if proc.is_dir():
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = (proc / "cmdline").read_bytes()
        except (OSError, IndexError):
            return False
        worker = b"post_to_marketplace" in cmdline or b"procrastinate" in cmdline
        return state != "Z" and (worker or pid == os.getpid())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# Sent with `job` inside the transaction that reaped it, so that its runner (postings.runners)
# lets go of what it still holds for the dead worker (Procrastinate's job and lock) in the same commit.
job_reaped = Signal()


def job_reap_if_stale(*, job: PostingJob, now=None) -> bool:
    """Fail an active job whose worker is gone and silent for JOB_STALE_SECONDS.

    Its in-flight post fails as `unknown` (it may have been published: check before retrying); its
    untouched posts are let go and stay pending. Cheap when the job is healthy: no query. A job
    still waiting in its runner's queue (deferred, never taken by a worker) is not stale: no
    worker has it, so none can have died with it.
    """
    if job.status not in PostingJob.ACTIVE_STATUSES:
        return False
    if job.status == PostingJob.Status.QUEUED and job.pid is None and job.runner_job_id is not None:
        return False
    if job.status == PostingJob.Status.QUEUED and job.pid is None and job.start_at and job.launched_at is None:
        return False  # scheduled, waiting for its time: no worker has it yet
    now = now or timezone.now()
    last = job.heartbeat_at or job.created_at
    if (now - last).total_seconds() < settings.JOB_STALE_SECONDS or _worker_alive(job.pid, job.worker_host):
        return False
    message = "Worker stopped unexpectedly"
    with transaction.atomic():
        reaped = PostingJob.objects.filter(
            pk=job.pk, status__in=PostingJob.ACTIVE_STATUSES, heartbeat_at=job.heartbeat_at
        ).update(
            status=PostingJob.Status.FAILED, error_message=message, status_message="", completed_at=now,
            current_post=None, current_post_title="", updated_at=now,
        )
        if not reaped:
            return False
        _job_end_claims(job=job, why="the worker stopped")
        job_reaped.send(sender=PostingJob, job=job)
        _send_on_commit(job_finished, job_id=job.pk)
    job.refresh_from_db()
    return True


# Workers started by this process; polled so that finished ones do not linger as zombies.
_children: list[subprocess.Popen] = []


def job_log_path(job: PostingJob) -> Path:
    """Where the job's log goes, whichever runner runs it: LOG_DIR/job_<uuid>.log."""
    return Path(settings.LOG_DIR) / f"job_{job.job_id}.log"


def job_claim_launch(*, job: PostingJob, now=None) -> bool:
    """Take the job to start it now, once: False when another process took it, or it ended."""
    now = now or timezone.now()
    return bool(PostingJob.objects.filter(
        pk=job.pk, status=PostingJob.Status.QUEUED, launched_at__isnull=True, cancel_requested=False,
    ).update(launched_at=now, heartbeat_at=now, status_message="", updated_at=now))


def jobs_due(*, now=None):
    """Scheduled jobs whose time has come and that no runner has been given yet, oldest first."""
    now = now or timezone.now()
    return PostingJob.objects.filter(
        status=PostingJob.Status.QUEUED, start_at__lte=now, launched_at__isnull=True, cancel_requested=False,
    ).order_by("start_at", "pk")


def posting_job_launch(*, job: PostingJob) -> PostingJob:
    """Start `manage.py post_to_marketplace --job-id` detached, its output in LOG_DIR."""
    _children[:] = [child for child in _children if child.poll() is None]
    log_file = job_log_path(job)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(log_file, "ab") as output:
            child = subprocess.Popen(
                [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "post_to_marketplace",
                 "--job-id", str(job.job_id)],
                cwd=settings.BASE_DIR, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: a server restart does not kill it
            )
    except OSError as exc:
        job_finish(job=job, status=PostingJob.Status.FAILED, error_message=f"The posting worker could not start: {exc}")
        return job
    _children.append(child)
    PostingJob.objects.filter(pk=job.pk, pid__isnull=True).update(pid=child.pid, log_file=str(log_file))
    job.refresh_from_db()
    return job
