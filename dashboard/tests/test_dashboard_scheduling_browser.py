"""Scheduling a posting job from the listings page in headless Chromium, as an operator in Chicago.

The browser's time zone is America/Chicago and the server's UTC: the date and time the operator
picks are their own, and the job must start at that very moment (daylight saving included).
uvicorn serves config.asgi on this test's database (the logged-in `page` comes from conftest.py);
nothing is posted: the job waits for its time.
"""
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from accounts.models import FacebookAccount
from postings.models import MarketplacePost, PostingJob

pytestmark = pytest.mark.django_db(transaction=True)

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def context_options() -> dict:
    return {"timezone_id": "America/Chicago", "locale": "en-US"}


@pytest.fixture
def posts(operator):
    account = FacebookAccount.objects.create(owner=operator, email="seller@example.com")
    return [
        MarketplacePost.objects.create(account=account, title=title, price=5, category="Household")
        for title in ("Brass lamp", "Pine shelf", "Wool rug")
    ]


def wall_time(moment: datetime) -> str:
    """A moment as a datetime-local field holds it: the local date and time, no zone."""
    return moment.strftime("%Y-%m-%dT%H:%M")


def test_a_post_scheduled_at_a_chicago_time_starts_at_that_moment_in_utc_and_a_past_time_is_refused(page, posts):
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "America/Chicago"
    # Half past nine in the morning in Chicago, three days on: 14:30 or 15:30 UTC, as daylight saving has it.
    chosen = (datetime.now(CHICAGO) + timedelta(days=3)).replace(hour=9, minute=30, second=0, microsecond=0)
    expected = chosen.astimezone(dt_timezone.utc)
    page.goto(f"{page.base}/")
    page.get_by_label("Select Brass lamp").check()
    page.get_by_label("Select Pine shelf").check()
    start_at = page.get_by_label("Start at (your local time)")
    spread = page.get_by_label("Spread over (minutes)")
    expect(start_at).to_be_disabled()  # "Now" until the operator picks a time
    page.get_by_label("At a date and time").check()
    expect(start_at).to_be_enabled()

    # An hour ago, spread over 0 minutes: the API's 400, each error beside its field, and no job.
    start_at.fill(wall_time(datetime.now(CHICAGO) - timedelta(hours=1)))
    spread.fill("0")
    page.get_by_role("button", name="Post selected (2)").click()
    expect(page.locator('[data-error-for="start_at"]')).to_contain_text("Must be in the future")
    expect(page.locator('[data-error-for="spread_minutes"]')).to_contain_text("greater than or equal to 1")
    expect(page.locator("#post-options .field.invalid")).to_have_count(2)
    assert not PostingJob.objects.exists()

    start_at.fill(wall_time(chosen))
    spread.fill("90")
    page.get_by_role("button", name="Post selected (2)").click()
    message = page.locator("#listings-message")
    expect(message).to_contain_text("Scheduled for ")
    job = PostingJob.objects.get()
    assert (job.status, job.start_at, job.spread_minutes, job.dry_run) == ("queued", expected, 90, False)
    assert job.status_message == f"Scheduled: starts at {expected:%Y-%m-%d %H:%M} UTC"
    assert set(job.posts.values_list("title", flat=True)) == {"Brass lamp", "Pine shelf"}

    # Said in the operator's own time, with the way to the job; its listings cannot be taken again.
    shown = page.evaluate("(iso) => new Date(iso).toLocaleString()", expected.isoformat())
    assert shown.startswith(f"{chosen.month}/{chosen.day}/{chosen.year}, 9:30:00"), shown  # Chicago's wall time
    expect(message).to_have_text(f"Scheduled for {shown}: 2 listings, spread over 90 min. Open the job")
    expect(page.locator("#post-options .field.invalid")).to_have_count(0)
    expect(page.get_by_label("Select Brass lamp")).to_be_disabled()
    expect(page.get_by_label("Select Wool rug")).to_be_enabled()
    expect(page.locator("#post-selected")).to_have_text("Post selected")

    message.get_by_role("link", name="Open the job").click()
    expect(page).to_have_url(f"{page.base}/jobs/{job.job_id}/")
    expect(page.locator('[data-field="status"]')).to_have_text("queued")
    expect(page.locator('[data-field="scheduled"]')).to_have_text(f"Scheduled for {shown}, spread over 90 minutes")
    page.get_by_role("link", name="Jobs").click()
    expect(page.locator(f'#jobs-table tr[data-job-id="{job.job_id}"] .scheduled')).to_have_text(
        f"Scheduled for {shown}, spread over 90 min"
    )
