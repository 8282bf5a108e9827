"""Procrastinate's task for webhooks (JOB_RUNNER=procrastinate), found by its Django app's
autodiscovery of `tasks` modules: deliveries go out from the workers too, even with no web server
up. The server's timekeeper sends them as well; each delivery is claimed by one sender only."""
from django.conf import settings
from procrastinate.contrib.django import app

from webhooks import services

DELIVER_EVERY_SECONDS = max(1, min(30, round(settings.TIMEKEEPER_SECONDS)))


@app.periodic(cron=f"* * * * * */{DELIVER_EVERY_SECONDS}")
@app.task(name="webhooks.deliver_due", queueing_lock="webhooks.deliver_due", priority=5, retry=False)
def deliver_webhooks(timestamp: int) -> int:
    """Send every delivery that is due (retries included: a delivery's own attempts, not the task's)."""
    attempted = 0
    while round_ := services.deliver_due():
        attempted += len(round_)
    return attempted
