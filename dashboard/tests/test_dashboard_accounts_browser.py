"""The accounts page in headless Chromium: lifting a pause, editing an account's proxy, budgets and
identity through the API, with the API's refusals shown beside their fields.

uvicorn serves config.asgi on this test's database (the logged-in `page` comes from conftest.py);
the accounts are made directly, and every change is checked in the database as well as on the page.
"""
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import session_files
from accounts.models import FacebookAccount
from dashboard.tests.conftest import valid_session

pytestmark = pytest.mark.django_db(transaction=True)



def account_row(page: Page, email: str):
    return page.locator("#accounts-table tbody tr[data-account-id]").filter(has_text=email)


def test_resume_lifts_a_pause_and_the_row_shows_the_account_ready_again(page, operator):
    account = FacebookAccount.objects.create(
        owner=operator, email="blocked@example.com", paused_until=timezone.now() + timedelta(hours=6),
        pause_reason="rate_limit: You're temporarily blocked from selling",
    )
    session_files.write_atomic(account.session_path, valid_session())

    page.goto(f"{page.base}/accounts/")
    row = account_row(page, "blocked@example.com")
    pause = row.locator('[data-field="pause"]')
    expect(pause).to_be_visible()
    expect(pause).to_contain_text("Paused until")
    expect(row.locator('[data-field="pause_reason"]')).to_have_text("rate_limit: You're temporarily blocked from selling")
    expect(row.locator('[data-field="health"]')).to_have_text("warning")
    expect(row.locator('[data-field="reasons"] li')).to_have_count(0)  # the pause is said beside its button only
    expect(page.locator('[data-count="warning"]')).to_have_text("1")

    row.get_by_role("button", name="Resume").click()

    expect(row.locator('[data-field="message"]')).to_have_text("Resumed: the next job posts with this account again.")
    expect(pause).to_be_hidden()
    expect(row.locator('[data-field="health"]')).to_have_text("healthy")
    expect(page.locator('[data-count="healthy"]')).to_have_text("1")
    expect(page.locator('[data-count="warning"]')).to_have_text("0")
    account.refresh_from_db()
    assert (account.paused_until, account.pause_reason) == (None, "")

    page.reload()
    expect(account_row(page, "blocked@example.com").locator('[data-field="pause"]')).to_be_hidden()


def test_editing_an_accounts_proxy_budgets_and_identity_patches_it_and_shows_the_apis_errors(page, operator):
    account = FacebookAccount.objects.create(
        owner=operator, email="proxied@example.com", proxy="http://bob:old-secret@proxy.example:3128",
        timezone="America/Denver", viewport={"width": 1366, "height": 641},
    )

    page.goto(f"{page.base}/accounts/")
    row = account_row(page, "proxied@example.com")
    expect(row.locator('[data-field="proxy"]')).to_have_text("http://bob:***@proxy.example:3128")
    expect(row.locator('[data-field="posts_today"]')).to_have_text("0 today (no limit)")
    form = page.locator(f"#account-edit-{account.pk} form")
    expect(form).to_be_hidden()
    row.get_by_role("button", name="Edit").click()
    expect(form).to_be_visible()
    expect(form.get_by_label("Proxy")).to_be_focused()
    expect(form.get_by_label("Proxy")).to_have_value("http://bob:***@proxy.example:3128")

    # Refused by the API: each error beside its field, nothing saved.
    form.get_by_label("Proxy").fill("ftp://x:1")
    form.get_by_label("Daily limit").fill("0")
    form.get_by_role("button", name="Save").click()
    expect(form.locator('[data-error-for="proxy"]')).to_have_text(
        "Unsupported scheme 'ftp': use http://, https:// or socks5://"
    )
    expect(form.locator('[data-error-for="daily_post_limit"]')).to_contain_text("greater than or equal to 1")
    expect(form.locator(".field.invalid")).to_have_count(2)
    expect(form).to_be_visible()
    account.refresh_from_db()
    assert (account.proxy, account.daily_post_limit) == ("http://bob:old-secret@proxy.example:3128", None)

    # Accepted: the row shows the new values, the proxy masked.
    form.get_by_label("Proxy").fill("http://carol:new-secret@proxy2.example:8080")
    form.get_by_label("Daily limit").fill("12")
    form.get_by_label("Hourly limit").fill("3")
    form.get_by_label("Time zone").fill("America/Chicago")
    form.get_by_label("Window width").fill("1440")
    form.get_by_label("Window height").fill("789")
    form.get_by_role("button", name="Save").click()
    expect(form).to_be_hidden()
    expect(row.locator('[data-field="message"]')).to_have_text("Saved.")
    expect(row.locator('[data-field="proxy"]')).to_have_text("http://carol:***@proxy2.example:8080")
    expect(row.locator('[data-field="posts_today"]')).to_have_text("0 / 12 today")
    expect(row.locator('[data-field="posts_hour"]')).to_have_text("0 / 3 this hour")
    expect(row.locator('[data-field="timezone"]')).to_have_text("America/Chicago")
    expect(row.locator('[data-field="viewport"]')).to_have_text("1440 × 789")
    account.refresh_from_db()
    assert (account.proxy, account.daily_post_limit, account.hourly_post_limit, account.timezone, account.viewport) == (
        "http://carol:new-secret@proxy2.example:8080", 12, 3, "America/Chicago", {"width": 1440, "height": 789},
    )
    assert "new-secret" not in page.content()

    # Edited again, the masked proxy left as shown: the stored password stays; an empty limit is the default.
    row.get_by_role("button", name="Edit").click()
    expect(form.get_by_label("Proxy")).to_have_value("http://carol:***@proxy2.example:8080")
    expect(form.locator(".field.invalid")).to_have_count(0)
    form.get_by_label("Hourly limit").fill("")
    form.get_by_role("button", name="Save").click()
    expect(row.locator('[data-field="posts_hour"]')).to_have_text("0 this hour (no limit)")
    expect(form).to_be_hidden()
    account.refresh_from_db()
    assert (account.proxy, account.hourly_post_limit) == ("http://carol:new-secret@proxy2.example:8080", None)
