import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.exceptions import ValidationError

from postings import services, worker
from postings.models import MarketplacePost, PostingJob

EXIT_ALL_POSTED, EXIT_SOME_FAILED, EXIT_JOB_FAILED = 0, 1, 2


class Command(BaseCommand):
    help = (
        "Post listings to Facebook Marketplace. --job-id runs a job created by the API; "
        "--post-ids or --all-pending create one (--dry-run: fill each form to its last step, publish nothing). "
        "Exit code: 0 all posted, 1 some failed, 2 the job failed."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--job-id", help="run this queued job")
        which.add_argument("--post-ids", nargs="+", type=int, metavar="ID", help="post these listings")
        which.add_argument("--all-pending", action="store_true", help="post every pending listing")
        parser.add_argument("--account", type=int, help="with --all-pending: only this account's listings")
        parser.add_argument("--operator", help="with --all-pending: only this operator's listings (username)")
        parser.add_argument(
            "--dry-run", action="store_true",
            help="with --post-ids or --all-pending: fill each form to its last step and capture it, publish "
            "nothing, leave the listings pending (with --job-id the job's own setting decides)",
        )

    def handle(self, *args, job_id=None, post_ids=None, all_pending=False, account=None, operator=None,
               dry_run=False, **options):
        if job_id:
            job = PostingJob.objects.filter(job_id=job_id).first()
        else:
            job = self._create_job(post_ids, account, operator, dry_run)
        if job is None:
            raise CommandError(f"No job {job_id}")
        self.interactive = sys.stdout.isatty()
        if dry_run and not job.dry_run:
            self.stderr.write(self.style.WARNING(f"--dry-run is ignored: job {job.job_id} was created as a real run."))
        self.stdout.write(f"Job {job.job_id}: {job.total_posts} post(s)"
                          f"{' - a dry run: nothing will be published' if job.dry_run else ''}")
        job = worker.run_job(job_id=job.job_id, progress=self._progress)
        if self.interactive:
            self.stdout.write("")
        summary = worker.summary_line(job)
        if job.status == PostingJob.Status.FAILED:
            self.stderr.write(self.style.ERROR(f"{summary}. {job.error_message}"))
            sys.exit(EXIT_JOB_FAILED)
        if job.failed_posts or job.completed_posts < job.total_posts:
            self.stdout.write(self.style.WARNING(summary))
            sys.exit(EXIT_SOME_FAILED)
        self.stdout.write(self.style.SUCCESS(summary))
        sys.exit(EXIT_ALL_POSTED)

    def _create_job(self, post_ids, account, operator, dry_run: bool) -> PostingJob:
        posts = MarketplacePost.objects.all()
        if post_ids:
            posts = posts.filter(pk__in=post_ids)
        else:
            posts = posts.filter(status=MarketplacePost.Status.PENDING)
            if account:
                posts = posts.filter(account_id=account)
            if operator:
                posts = posts.filter(account__owner__username=operator)
        owners = set(posts.values_list("account__owner", flat=True))
        if not owners:
            raise CommandError("No such listings." if post_ids else "No pending listings to post.")
        if len(owners) > 1:
            raise CommandError("These listings belong to several operators: add --operator USERNAME or --account ID.")
        owner = get_user_model().objects.get(pk=owners.pop())
        ids = post_ids or list(posts.values_list("pk", flat=True))
        try:
            job, _ = services.posting_job_create(owner=owner, post_ids=ids, dry_run=dry_run)
        except services.NothingToPost as exc:
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError(str(exc.detail)) from None
        return job

    def _progress(self, job: PostingJob) -> None:
        done = job.completed_posts + job.failed_posts
        if self.interactive:
            width = 30
            filled = int(width * done / job.total_posts) if job.total_posts else 0
            line = (
                f"\r[{'#' * filled}{'.' * (width - filled)}] {job.progress_percentage:5.1f}% "
                f"{job.completed_posts} posted, {job.failed_posts} failed"
                f"{' - ' + job.current_post_title[:40] if job.current_post_title else ''}"
                f"{' - ' + job.status_message[:60] if job.status_message else ''}"
            )
            self.stdout.write(line.ljust(110), ending="")
            self.stdout.flush()
        else:
            self.stdout.write(worker.progress_line(job))
