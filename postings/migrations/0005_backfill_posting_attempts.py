from datetime import timedelta

from django.db import migrations
from django.utils import timezone


def count_the_last_days_posts(apps, schema_editor):
    """The budgets count PostingAttempt rows, new with them: the listings published in the last
    day before the upgrade count too (failed tries of that day were not recorded and do not)."""
    MarketplacePost = apps.get_model("postings", "MarketplacePost")
    PostingAttempt = apps.get_model("accounts", "PostingAttempt")
    since = timezone.now() - timedelta(hours=24)
    PostingAttempt.objects.bulk_create(
        PostingAttempt(account_id=account_id, at=posted_at)
        for account_id, posted_at in MarketplacePost.objects.filter(posted_at__gt=since).values_list("account_id", "posted_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("postings", "0004_job_worker_host_runner_job"),
        ("accounts", "0004_posting_attempts"),
    ]

    operations = [migrations.RunPython(count_the_last_days_posts, migrations.RunPython.noop)]
