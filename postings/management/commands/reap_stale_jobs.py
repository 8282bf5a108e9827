from django.core.management.base import BaseCommand

from postings import runners


class Command(BaseCommand):
    help = "Fail queued or running jobs whose worker is gone and silent for JOB_STALE_SECONDS (for cron)."

    def handle(self, *args, **options):
        reaped = runners.jobs_reap_stale()
        for job in reaped:
            self.stdout.write(self.style.WARNING(f"Job {job.job_id}: worker stopped unexpectedly; failed"))
        self.stdout.write(f"{len(reaped)} stale job(s) reaped")
