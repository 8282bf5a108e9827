"""Reads for the postings app. Every queryset starts from the operator: nothing else is visible."""
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import FacebookAccount
from postings import services
from postings.models import ErrorLog, MarketplacePost, PostImage, PostingJob, PostingPreview


def posts_for(
    *, user, status: str | None = None, account: FacebookAccount | None = None
) -> QuerySet[MarketplacePost]:
    """The operator's listings with their photos, newest first, optionally filtered."""
    if not user.is_authenticated:  # schema generation runs views without an operator
        return MarketplacePost.objects.none()
    posts = MarketplacePost.objects.filter(account__owner=user).prefetch_related("images")
    if status:
        posts = posts.filter(status=status)
    if account is not None:
        posts = posts.filter(account=account)
    return posts


def post_image_for(*, user, post_id: int, image_id: int) -> PostImage:
    """One photo of one of the operator's listings, or 404."""
    # `post__pk`, not `post_id`: a foreign key's own lookup passes an id past 2**63 to SQLite, which
    # overflows (a 500), where the primary key's lookup matches nothing.
    return get_object_or_404(
        PostImage.objects.select_related("post"), pk=image_id, post__pk=post_id, post__account__owner=user
    )


def _in_flight_queryset() -> QuerySet[MarketplacePost]:
    return MarketplacePost.objects.filter(status=MarketplacePost.Status.POSTING).order_by("updated_at", "pk")


def in_flight_posts(job: PostingJob) -> list[MarketplacePost]:
    """The posts the job is publishing right now (one per account posting), oldest start first."""
    return list(_in_flight_queryset().filter(claimed_by=job))


def with_in_flight(jobs: QuerySet[PostingJob]) -> QuerySet[PostingJob]:
    """The jobs with their in-flight posts read in one more query (as `job.in_flight`)."""
    return jobs.prefetch_related(Prefetch("claimed_posts", queryset=_in_flight_queryset(), to_attr="in_flight"))


def jobs_for(*, user) -> QuerySet[PostingJob]:
    """The operator's jobs, newest first."""
    return with_in_flight(PostingJob.objects.filter(owner=user))


def job_for(*, user, job_id) -> PostingJob:
    """One of the operator's jobs, or 404. A job whose worker died is failed on the way."""
    job = get_object_or_404(with_in_flight(PostingJob.objects.all()), job_id=job_id, owner=user)
    services.job_reap_if_stale(job=job)
    return job


def job_for_or_none(*, user, job_id) -> PostingJob | None:
    try:
        return job_for(user=user, job_id=job_id)
    except Http404:
        return None


def reap_stale(jobs) -> list[PostingJob]:
    """The jobs, each checked for a dead worker first (no query for healthy ones)."""
    jobs = list(jobs)
    for job in jobs:
        services.job_reap_if_stale(job=job)
    return jobs


def error_logs_for(
    *, user, post_id: int | None = None, error_type: str | None = None, job_id=None, account_id: int | None = None
) -> QuerySet[ErrorLog]:
    """The operator's error logs, newest first, optionally filtered."""
    logs = ErrorLog.objects.filter(owner=user).select_related("post", "job")
    if post_id is not None:
        logs = logs.filter(post_id=post_id)
    if error_type:
        logs = logs.filter(error_type=error_type)
    if job_id is not None:
        logs = logs.filter(job__job_id=job_id)
    if account_id is not None:
        logs = logs.filter(post__account_id=account_id)
    return logs.order_by("-created_at", "-id")


def error_log_for(*, user, pk: int) -> ErrorLog:
    return get_object_or_404(ErrorLog, pk=pk, owner=user)


def previews_for(*, job: PostingJob) -> QuerySet[PostingPreview]:
    """A dry-run job's previews, in the order they were taken, with their posts' titles."""
    return PostingPreview.objects.filter(job=job).select_related("post").order_by("created_at", "id")


def preview_for(*, user, pk: int) -> PostingPreview:
    """One preview of one of the operator's jobs, or 404."""
    return get_object_or_404(PostingPreview, pk=pk, job__owner=user)
