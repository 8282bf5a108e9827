"""The engine on the late-2026 form (facebook.md, "Late 2026"), end to end: the real engine
(`run_job`), real Chromium, the simulator's `late2026` layout with every late-2026 variant on.

The chooser before the form, the cookie consent over the page, the photo arrow "View next image",
category pills only once a title is typed, Condition only once Category is set, a contenteditable
Description and product tags and an SKU behind a "More details" that ignores a click right after a
redraw, three steps with Publish on the last, "Promote your listing?" after every publish, and the
form drawn again with an enabled Publish after it (a second click there publishes a second copy).
"""
import pytest

from postings import services, worker
from postings.models import ErrorLog, MarketplacePost, PostingJob
from postings.tests.conftest import published_titles

pytestmark = pytest.mark.django_db(transaction=True)

TAGGED = {"tags": ["oak", "dining table", "solid wood"], "sku": "OAK-120"}


def run(operator, posts, **kwargs) -> PostingJob:
    job, _ = services.posting_job_create(owner=operator, post_ids=[p.pk for p in posts], **kwargs)
    return worker.run_job(job_id=job.job_id)


@pytest.fixture
def late2026(simulator, settings, make_account):
    """An account served the late-2026 form, the engine given a busy machine's timeout."""
    settings.BROWSER_TIMEOUT_SECONDS = 15.0
    return lambda email="seller@example.com", **options: make_account(email, layout="late2026", options=options or None)


def test_a_listing_with_tags_and_an_sku_is_published_once_with_every_field_as_given(simulator, operator, late2026, make_post):
    account = late2026(linger_ms=2000)  # after "Not Now", the last step drawn again for 2 s, Publish enabled
    post = make_post(account, "Oak dining table", photos=3, delivery=["Public meetup", "Door pickup"],
                     description="Solid oak, seats six.", **TAGGED)

    job = run(operator, [post])

    post.refresh_from_db()
    assert (job.status, post.status, job.completed_posts) == ("completed", "posted", 1), post.error_message
    [listing] = simulator.listings()  # once: the step drawn again was never clicked
    assert (listing["title"], listing["price"], listing["category"], listing["condition"]) == (
        "Oak dining table", "120", "Furniture", "Used - Good")
    assert (listing["description"], listing["tags"], listing["sku"]) == ("Solid oak, seats six.", TAGGED["tags"], "OAK-120")
    assert (listing["photos"], listing["location"], listing["meetup"]) == (3, "Austin, Texas", ["Public meetup", "Door pickup"])
    assert (listing["boosted"], listing["state"], listing["layout"]) == (False, "active", "late2026")
    assert post.listing_url == f"{simulator.base_url}/marketplace/item/{listing['id']}/"
    assert [c["answer"] for c in simulator.consents(account.c_user)] == ["declined"]
    assert not ErrorLog.objects.exists()


def test_three_listings_in_one_job_are_each_published_once_and_the_consent_answered_once(
    simulator, operator, late2026, make_post
):
    account = late2026()
    posts = [make_post(account, f"Listing {n}", **TAGGED) for n in range(1, 4)]

    job = run(operator, posts)

    assert (job.status, job.completed_posts, job.failed_posts) == ("completed", 3, 0)
    assert published_titles(simulator) == ["Listing 1", "Listing 2", "Listing 3"]
    assert len(simulator.consents(account.c_user)) == 1  # the browser kept its answer: never asked again


def test_the_daily_cap_on_the_last_step_is_a_rate_limit_that_pauses_the_account_with_nothing_published(
    simulator, operator, late2026, make_post
):
    capped = late2026("new@example.com")
    simulator.fault("daily_limit", c_user=capped.c_user)
    first, second = make_post(capped, "C1", **TAGGED), make_post(capped, "C2")

    job = run(operator, [first, second])

    first.refresh_from_db(), second.refresh_from_db(), capped.refresh_from_db()
    log = ErrorLog.objects.get()
    assert (log.post, log.error_type, first.status) == (first, "rate_limit", "failed")
    assert "daily limit" in log.error_message and "check Marketplace" not in log.error_message  # nothing clicked to publish
    assert capped.paused_until is not None and "daily limit" in capped.pause_reason.lower()
    assert second.status == "pending" and "is paused until" in second.error_message
    assert (job.completed_posts, job.failed_posts) == (0, 1)
    assert simulator.listings() == []


@pytest.mark.parametrize("variant", ["checkpoint", "two_step_verification", "two_factor", "2fac", "recover",
                                     "login_identify", "identity_text"])
def test_every_checkpoint_is_a_session_expired_that_stops_the_account(simulator, operator, late2026, make_post, variant):
    account = late2026()
    simulator.fault("checkpoint", c_user=account.c_user, variant=variant)
    posts = [make_post(account, "First"), make_post(account, "Second")]

    job = run(operator, posts)

    logs = list(ErrorLog.objects.order_by("id"))
    assert [log.error_type for log in logs] == ["session_expired", "session_expired"]
    assert "check Marketplace" not in logs[0].error_message  # stopped before any form: nothing may be live
    assert logs[0].screenshot
    assert logs[1].error_message.startswith("Skipped: account seller@example.com stopped earlier")  # never opened
    assert (job.completed_posts, job.failed_posts) == (0, 2)
    assert simulator.listings() == [] and simulator.timeline(account.c_user) == []  # no form was ever served


def test_a_listing_that_lands_in_review_is_posted(simulator, operator, late2026, make_post):
    post = make_post(late2026(after_publish="item_review"), **TAGGED)

    job = run(operator, [post])

    post.refresh_from_db()
    [listing] = simulator.listings()
    assert (job.completed_posts, post.status, listing["state"]) == (1, "posted", "in_review")
    assert post.listing_url == f"{simulator.base_url}/marketplace/item/{listing['id']}/"
    assert not ErrorLog.objects.exists()


def test_a_dry_run_fills_the_late_2026_form_and_publishes_nothing(simulator, operator, late2026, make_post):
    account = late2026()
    posts = [make_post(account, "Oak table", photos=2, **TAGGED), make_post(account, "Desk lamp")]

    job = run(operator, posts, dry_run=True)

    assert (job.status, job.completed_posts, job.failed_posts) == ("completed", 2, 0)
    assert simulator.listings() == []
    for post in posts:
        post.refresh_from_db()
        assert (post.status, post.listing_url) == ("pending", "")
    previews = list(job.previews.order_by("id"))
    assert [p.post for p in previews] == posts
    # It stopped on the first step after the first (its Next may publish), everything before filled.
    assert all("Delivery method" in preview.page_snapshot for preview in previews)
