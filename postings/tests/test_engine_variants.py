"""The engine on every variant of Marketplace's form that facebook.md describes.

The simulator's "2026" layout serves, by default, the hardest variant of each item at once (the
file input created by "Add photos", a photo carousel with its own "Next", a stale draft, Category
as a button opening a searchable picker of grouped `role=button` rows, Location on the second step,
prefilled, and silent for "City, ST", no `aria-disabled`, a Boost switch that is on, a last step
whose "Next" publishes, a "Leave page?" dialog, the item page at the end); each test here switches
one item to another variant. The driver has no setting for any of them: it reads the page.
"""
import hashlib
import json
import zipfile

import pytest
from PIL import Image

from postings import services, worker
from postings.models import ErrorLog, MarketplacePost, PostingJob
from postings.tests.conftest import published_titles

pytestmark = pytest.mark.django_db(transaction=True)


def run(operator, posts, **kwargs) -> PostingJob:
    job, _ = services.posting_job_create(owner=operator, post_ids=[p.pk for p in posts], **kwargs)
    return worker.run_job(job_id=job.job_id)


def digests(post: MarketplacePost) -> list[str]:
    """The sha256 of each of the listing's photos, in the listing's order."""
    return [hashlib.sha256(image.image.read()).hexdigest() for image in post.images.order_by("position")]


def published_once(simulator, post: MarketplacePost) -> dict:
    listings = simulator.listings()
    assert [listing["title"] for listing in listings] == [post.title], "published none, or more than once"
    return listings[0]


@pytest.mark.parametrize("options, url_of", [
    ({}, "item"),
    ({"after_publish": "selling"}, "selling"),
    ({"after_publish": "edit"}, "item"),
    ({"after_publish": "review"}, "item"),
    ({"after_publish": "review", "review_link": False}, "selling"),
    ({"category_trigger": "combobox", "category_chips": False}, "item"),
    ({"description": "more_details"}, "item"),
    ({"location_step": 1, "location_role": "none", "prefill_location": ""}, "item"),
    ({"city_state_suppresses": False}, "item"),
    ({"meetup_spelling": "plain", "steps": 2}, "item"),
    ({"steps": 4, "boost_default_on": False}, "item"),
    ({"final_button": "Publish", "leave_dialog": False}, "item"),
    ({"aria_disabled": True, "add_photos_first": False, "draft": False}, "item"),
    ({"form_label": "Marketplace"}, "item"),
])
def test_every_variant_of_the_form_publishes_the_listing_once_as_given(
    simulator, operator, make_account, make_post, options, url_of
):
    account = make_account(layout="2026", options=options)
    post = make_post(account, "Oak dining table", photos=3, location="Austin, TX", delivery=["Public meetup", "Door pickup"])

    job = run(operator, [post])

    post.refresh_from_db()
    assert (job.status, post.status, job.completed_posts) == ("completed", "posted", 1), post.error_message
    listing = published_once(simulator, post)
    assert listing["photo_digests"] == digests(post)  # the listing's photos, in order, nothing else
    assert (listing["price"], listing["category"], listing["condition"]) == ("120", "Furniture", "Used - Good")
    assert listing["location"] == "Austin, Texas"  # the city typed alone, the suggestion in Texas picked
    assert listing["description"] == "Solid oak."
    assert listing["meetup"] == ["Public meetup", "Door pick-up" if options.get("meetup_spelling") != "plain" else "Door pickup"]
    assert (listing["boosted"], listing["hide_from_friends"]) == (False, False)
    expected = f"/marketplace/item/{listing['id']}/" if url_of == "item" else "/marketplace/you/selling"
    assert post.listing_url == simulator.base_url + expected
    assert not ErrorLog.objects.exists()


def test_a_stale_draft_is_replaced_by_exactly_the_listing_title_price_and_photos(simulator, operator, make_account, make_post):
    account = make_account(layout="2026")
    simulator.plant_draft(account.c_user, title="Old bike", price="5", photos=2)
    post = make_post(account, "Oak table", photos=2)

    run(operator, [post])

    listing = published_once(simulator, post)
    assert (listing["title"], listing["price"]) == ("Oak table", "120")
    assert listing["photo_digests"] == digests(post)
    assert simulator.layout(account.c_user)["draft"] is None  # the publish cleared it


def test_a_prefilled_location_that_is_the_listing_place_is_kept(simulator, operator, make_account, make_post):
    post = make_post(make_account(layout="2026"), location="Round Rock, TX")

    run(operator, [post])

    assert published_once(simulator, post)["location"] == "Round Rock, Texas"


def test_hide_from_friends_and_meetup_options_are_applied_on_the_delivery_step(simulator, operator, make_account, make_post):
    post = make_post(make_account(layout="2026"), delivery=["Door drop-off"], hide_from_friends=True)

    run(operator, [post])

    listing = published_once(simulator, post)
    assert (listing["meetup"], listing["hide_from_friends"]) == (["Door drop-off"], True)


def test_hiding_from_friends_on_a_form_without_the_switch_is_refused_before_publishing(
    simulator, operator, make_account, make_post
):
    post = make_post(make_account(layout="classic"), hide_from_friends=True)

    run(operator, [post])

    post.refresh_from_db()
    log = ErrorLog.objects.get()
    assert (post.status, log.error_type) == ("failed", "layout_changed")
    assert "Hide from friends" in log.error_message
    assert simulator.listings() == []


@pytest.mark.parametrize("layout", ["classic", "2026"])
def test_a_category_marketplace_does_not_offer_is_a_validation_error_listing_what_was_offered(
    simulator, operator, make_account, make_post, layout
):
    post = make_post(make_account(layout=layout), category="Antiques & Collectibles")

    run(operator, [post])

    log = ErrorLog.objects.get()
    assert log.error_type == "validation_error"
    assert "Category 'Antiques & Collectibles' is not one Marketplace offers" in log.error_message
    assert ("Home & Garden" if layout == "2026" else "Furniture") in log.error_message
    assert simulator.listings() == []


def test_a_category_under_a_parent_is_found_through_the_picker_search(simulator, operator, make_account, make_post):
    post = make_post(make_account(layout="2026", options={"category_chips": False}), "Gaming laptop", category="Computers")

    run(operator, [post])

    assert published_once(simulator, post)["category"] == "Computers"


@pytest.mark.parametrize("fault", ["publish_never_confirms", "drop_connection"])
def test_a_publishing_next_that_is_not_confirmed_is_never_retried(simulator, operator, make_account, make_post, fault):
    simulator.fault(fault, times=1, **({"at": "publish"} if fault == "drop_connection" else {}))
    post = make_post(make_account(layout="2026", options={"final_button": "Next"}))

    run(operator, [post])

    post.refresh_from_db()
    log = ErrorLog.objects.get()
    assert (post.status, log.error_type) == ("failed", "unknown")
    assert "check Marketplace before retrying" in log.error_message
    published_once(simulator, post)  # recorded once; the fault is gone, nothing published again


def test_a_block_shown_after_the_publishing_click_stops_the_account(simulator, operator, make_account, make_post):
    blocked, other = make_account("blocked@example.com", layout="2026"), make_account("other@example.com", layout="2026")
    simulator.fault("temporary_block", at="publish", c_user=blocked.c_user)
    posts = [make_post(blocked, "First"), make_post(blocked, "Second"), make_post(other, "Third")]

    job = run(operator, posts)

    assert (job.completed_posts, job.failed_posts) == (1, 1)
    assert published_titles(simulator) == ["Third"]
    log = ErrorLog.objects.get()
    assert log.error_type == "rate_limit" and "not published" in log.error_message
    second = MarketplacePost.objects.get(title="Second")  # the account is paused: left for a later job
    assert (second.status, second.claimed_by) == ("pending", None)
    assert second.error_message.startswith("Not posted: account blocked@example.com is paused until")
    assert len(simulator.timeline(blocked.c_user)) == 1  # the second listing opened no page


def test_a_duplicate_listing_notice_after_publishing_is_a_policy_rejection(simulator, operator, make_account, make_post):
    simulator.fault("duplicate_listing")
    post = make_post(make_account(layout="2026"))

    run(operator, [post])

    log = ErrorLog.objects.get()
    assert log.error_type == "policy_rejected"
    assert "duplicate listing" in log.error_message


def test_slow_fields_are_waited_for_on_the_2026_form(simulator, operator, make_account, make_post):
    simulator.fault("slow_fields", delay_ms=1500)
    post = make_post(make_account(layout="2026"))

    run(operator, [post])

    published_once(simulator, post)


@pytest.mark.parametrize("layout", ["classic", "2026"])
def test_a_dry_run_fills_every_form_to_its_publishing_step_and_publishes_nothing(
    simulator, operator, make_account, make_post, layout
):
    account = make_account(layout=layout)
    posts = [make_post(account, "Oak table", photos=2), make_post(account, "Desk lamp")]

    job = run(operator, posts, dry_run=True)

    assert (job.status, job.dry_run, job.completed_posts, job.failed_posts) == ("completed", True, 2, 0)
    assert simulator.listings() == []
    for post in posts:
        post.refresh_from_db()
        assert (post.status, post.claimed_by, post.retry_count, post.listing_url) == ("pending", None, 0, "")
    previews = list(job.previews.order_by("id"))
    assert [p.post for p in previews] == posts
    for preview in previews:
        with Image.open(preview.screenshot.path) as image:
            assert image.format == "PNG"
        assert "/marketplace/create/item" in preview.page_url
        assert 'button "Next"' in preview.page_snapshot or 'button "Publish"' in preview.page_snapshot
    if layout == "2026":  # it stopped on the first step whose footer can publish, filled
        assert "Delivery method" in previews[0].page_snapshot
        assert 'switch "Boost listing after publish"' not in previews[0].page_snapshot


def test_a_real_run_after_a_dry_run_publishes_exactly_the_listing_over_the_draft_it_left(
    simulator, operator, make_account, make_post
):
    account = make_account(layout="2026")
    post = make_post(account, "Oak table", photos=2)
    run(operator, [post], dry_run=True)
    assert simulator.layout(account.c_user)["draft"]["title"] == "Oak table"  # Facebook kept a draft

    job = run(operator, [post])

    assert job.completed_posts == 1
    listing = published_once(simulator, post)
    assert listing["photo_digests"] == digests(post)  # the draft's copies of the photos removed


def test_a_failed_post_keeps_a_trace_and_an_accessibility_snapshot_without_any_cookie_value(
    simulator, operator, make_account, make_post
):
    simulator.fault("policy_rejection")
    account = make_account(layout="2026")
    cookies = {c["name"]: c["value"] for c in json.loads(account.session_path.read_text())["cookies"]}
    post = make_post(account)

    run(operator, [post])

    log = ErrorLog.objects.get()
    archive = zipfile.ZipFile(log.trace.path)
    names = archive.namelist()
    assert any(name.endswith(".trace") for name in names) and any(name.endswith(".network") for name in names)
    actions = "".join(archive.read(n).decode(errors="replace") for n in names if n.endswith(".trace"))
    assert "Oak table" in actions  # the post's own actions are in it (typing the title)
    everything = b"".join(archive.read(name) for name in names)
    for value in (cookies["xs"], cookies["c_user"]):
        assert value.encode() not in everything
    assert "Commerce Policies" in log.page_snapshot and "- form" in log.page_snapshot
    assert cookies["xs"] not in log.page_snapshot


def test_a_published_post_keeps_no_trace(simulator, operator, make_account, make_post, isolated_files):
    post = make_post(make_account(layout="2026"))

    run(operator, [post])

    published_once(simulator, post)
    assert not list((isolated_files / "media").glob("error_traces/*"))


def test_tracing_can_be_switched_off(simulator, settings, operator, make_account, make_post):
    settings.BROWSER_TRACE = "off"
    simulator.fault("policy_rejection")

    run(operator, [make_post(make_account(layout="2026"))])

    log = ErrorLog.objects.get()
    assert (log.error_type, bool(log.trace), bool(log.page_snapshot)) == ("policy_rejected", False, True)


@pytest.mark.parametrize("trace, screenshots", [("on", False), ("full", True)])
def test_a_full_trace_adds_screenshots_to_the_dom_snapshots(simulator, settings, operator, make_account, make_post, trace, screenshots):
    settings.BROWSER_TRACE = trace
    simulator.fault("policy_rejection")

    run(operator, [make_post(make_account(layout="2026"))])

    names = zipfile.ZipFile(ErrorLog.objects.get().trace.path).namelist()
    actions = "".join(zipfile.ZipFile(ErrorLog.objects.get().trace.path).read(n).decode(errors="replace")
                      for n in names if n.endswith(".trace"))
    assert '"frame-snapshot"' in actions  # DOM snapshots either way: show-trace renders every step
    assert any(name.endswith(".jpeg") for name in names) is screenshots
