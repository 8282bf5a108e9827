"""The dashboard's listing options (delivery, hide from friends, tags, SKU), dry-run previews and
failure evidence in headless Chromium.

uvicorn serves config.asgi on this test's database; the rows a page shows are made through the
services (no posting worker runs), and the operator works through the pages as in a browser (the
logged-in `page` comes from conftest.py).
"""
import pytest
from playwright.sync_api import Page, expect

from accounts.models import FacebookAccount
from conftest import image_bytes
from postings import services
from postings.models import MarketplacePost, PostingJob

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def account(operator):
    return FacebookAccount.objects.create(owner=operator, email="seller@example.com", name="Main seller")


def delivery_box(page: Page, option: str):
    return page.locator(f'input[name="delivery"][value="{option}"]')


def test_a_listing_saves_its_delivery_options_refusing_none_and_its_edit_page_keeps_them(page, account):
    page.goto(f"{page.base}/listings/new/")
    expect(delivery_box(page, "Public meetup")).to_be_checked()
    page.locator('input[name="title"]').fill("Oak dining table")
    page.locator('input[name="price"]').fill("120")
    page.locator('input[name="category"]').fill("Furniture")
    page.locator('input[name="location"]').fill("Austin, TX")

    delivery_box(page, "Public meetup").uncheck()
    page.get_by_role("button", name="Save listing").click()
    error = page.locator('[data-error-for="delivery"]')
    expect(error).to_have_text(
        "Choose at least one delivery option: Public meetup, Door pickup, Door drop-off."
    )
    expect(page.locator("fieldset.field.invalid")).to_have_count(1)  # beside the field, marked
    assert not MarketplacePost.objects.exists()

    delivery_box(page, "Door pickup").check()
    delivery_box(page, "Door drop-off").check()
    page.get_by_label("Hide from friends").check()
    page.get_by_role("button", name="Save listing").click()
    expect(page).to_have_url(f"{page.base}/")
    post = MarketplacePost.objects.get()
    assert (post.delivery, post.hide_from_friends) == (["Door pickup", "Door drop-off"], True)

    page.goto(f"{page.base}/listings/{post.pk}/edit/")
    expect(delivery_box(page, "Public meetup")).not_to_be_checked()
    expect(delivery_box(page, "Door pickup")).to_be_checked()
    expect(delivery_box(page, "Door drop-off")).to_be_checked()
    expect(page.get_by_label("Hide from friends")).to_be_checked()
    page.locator('input[name="title"]').fill("Oak dining table, seats six")
    page.get_by_role("button", name="Save listing").click()
    expect(page).to_have_url(f"{page.base}/")
    post.refresh_from_db()
    assert (post.title, post.delivery, post.hide_from_friends) == (
        "Oak dining table, seats six", ["Door pickup", "Door drop-off"], True,
    )


def test_a_listing_saves_its_comma_separated_tags_and_sku_refusing_a_repeat_and_its_edit_page_keeps_them(
    page, account,
):
    page.goto(f"{page.base}/listings/new/")
    page.locator('input[name="title"]').fill("Oak dining table")
    page.locator('input[name="price"]').fill("120")
    page.locator('input[name="category"]').fill("Furniture")
    page.locator('input[name="location"]').fill("Austin, TX")
    page.get_by_label("Tags").fill("oak, solid wood, Oak")
    page.get_by_label("SKU").fill("  TBL-0007 ")

    page.get_by_role("button", name="Save listing").click()
    expect(page.locator('[data-error-for="tags"]')).to_have_text('Tag 3 ("Oak") repeats tag 1 ("oak"), ignoring case.')
    expect(page.locator('label.field.invalid input[name="tags"]')).to_be_focused()  # beside the field, marked
    assert not MarketplacePost.objects.exists()

    page.get_by_label("Tags").fill(" oak ,solid wood,, dining table, ")
    page.get_by_role("button", name="Save listing").click()
    expect(page).to_have_url(f"{page.base}/")
    post = MarketplacePost.objects.get()
    assert (post.tags, post.sku) == (["oak", "solid wood", "dining table"], "TBL-0007")

    page.goto(f"{page.base}/listings/{post.pk}/edit/")
    expect(page.get_by_label("Tags")).to_have_value("oak, solid wood, dining table")
    expect(page.get_by_label("SKU")).to_have_value("TBL-0007")
    page.get_by_label("Tags").fill("")
    page.get_by_role("button", name="Save listing").click()
    expect(page).to_have_url(f"{page.base}/")
    post.refresh_from_db()
    assert (post.tags, post.sku) == ([], "TBL-0007")


def test_a_dry_runs_page_shows_its_badge_and_each_last_step_full_size_on_a_click(page, operator, account):
    post = MarketplacePost.objects.create(account=account, title="Brass lamp", price=25, category="Household")
    job, _ = services.posting_job_create(owner=operator, post_ids=[post.pk], dry_run=True)
    preview = services.post_preview_record(
        job=job, post=services.post_begin(job=job, post_id=post.pk),
        evidence=services.Evidence(page_url="http://sim/create", screenshot_png=image_bytes(size=(640, 480)),
                                   aria_snapshot='- button "Publish" [disabled]'),
    )
    services.job_finish(job=job, status=PostingJob.Status.COMPLETED)

    page.goto(f"{page.base}/jobs/{job.job_id}/")

    expect(page.locator("#dry-run-badge")).to_have_text("Dry run")
    expect(page.locator('[data-field="message"]')).to_contain_text("Dry run done: 1 previewed, 0 failed")
    thumbnail = page.locator("a.screenshot.preview img")
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate("image => image.decode().then(() => image.naturalWidth)") == 640
    thumbnail.click()
    expect(page.locator("#lightbox")).to_be_visible()
    full_size = page.locator("#lightbox-image").get_attribute("src")
    assert full_size.endswith(f"/api/posts/previews/{preview.pk}/screenshot/")
    page.get_by_role("button", name="Close").click()

    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Accessibility snapshot").click()
    snapshot = opened.value
    snapshot.wait_for_load_state()
    assert snapshot.locator("body").inner_text().strip() == '- button "Publish" [disabled]'


def test_a_failures_trace_downloads_as_trace_id_zip_from_the_errors_page(page, operator, account):
    post = MarketplacePost.objects.create(account=account, title="Pine shelf", price=5, category="Household")
    trace = b"PK\x05\x06" + bytes(18)  # an empty zip
    log = services.post_mark_failed(
        job=None, post=post, error_type="layout_changed", message="No 'Title' field",
        evidence=services.Evidence(page_url="http://sim/create", aria_snapshot="- heading", trace_zip=trace),
    )

    page.goto(f"{page.base}/errors/")
    expect(page.locator("code.command")).to_have_text(f".venv/bin/python -m playwright show-trace trace_{log.pk}.zip")
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Trace (zip)").click()

    download = downloading.value
    assert download.suggested_filename == f"trace_{log.pk}.zip"
    with open(download.path(), "rb") as handle:
        assert handle.read() == trace
