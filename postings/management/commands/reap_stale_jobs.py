from django.core.management.base import BaseCommand

from postings import services
from postings.models import PostingJob


class Command(BaseCommand):
    help = "Fail queued or running jobs whose worker is gone and silent for JOB_STALE_SECONDS (for cron)."

    def handle(self, *args, **options):
        reaped = [job for job in PostingJob.objects.filter(status__in=PostingJob.ACTIVE_STATUSES)
                  if services.job_reap_if_stale(job=job)]
        for job in reaped:
            self.stdout.write(self.style.WARNING(f"Job {job.job_id}: worker stopped unexpectedly; failed"))
        self.stdout.write(f"{len(reaped)} stale job(s) reaped")
