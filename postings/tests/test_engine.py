"""The posting engine, in-process, driving real Chromium against the marketplace simulator."""
import json

import pytest
from PIL import Image

from postings import services, worker
from postings.models import ErrorLog, MarketplacePost, PostingJob
from postings.tests.conftest import published_titles

pytestmark = pytest.mark.django_db(transaction=True)


def run(operator, posts, **kwargs) -> PostingJob:
    job, _ = services.posting_job_create(owner=operator, post_ids=[p.pk for p in posts])
    return worker.run_job(job_id=job.job_id, **kwargs)


def assert_evidence(log: ErrorLog) -> None:
    """A failure keeps a PNG that opens, the page's HTML beside it, a stack trace and the URL."""
    assert log.screenshot, "no screenshot was saved"
    with Image.open(log.screenshot.path) as image:
        assert image.format == "PNG"
        assert image.width > 0 and image.height > 0
    html = log.screenshot.path.rsplit(".", 1)[0] + ".html"
    with open(html) as handle:
        assert "<html" in handle.read().lower()
    assert log.stack_trace.startswith("Traceback")
    assert log.page_url.startswith("http")


def test_a_job_over_two_accounts_publishes_every_listing_once_with_its_photos(
    simulator, operator, make_account, make_post
):
    first, second = make_account("one@example.com"), make_account("two@example.com")
    posts = [
        make_post(first, "Oak table", photos=3),
        make_post(first, "Desk lamp", photos=1, condition="New", description=""),
        make_post(second, "Road bike", photos=2, category="Sporting Goods", condition="Used - Like New"),
        make_post(second, "Drill", photos=1, category="Tools", condition="Used - Fair"),
    ]
    session_before = first.session_path.stat().st_mtime_ns

    job = run(operator, posts)

    assert (job.status, job.completed_posts, job.failed_posts, job.progress_percentage) == ("completed", 4, 0, 100.0)
    listings = {listing["title"]: listing for listing in simulator.listings()}
    assert sorted(listings) == ["Desk lamp", "Drill", "Oak table", "Road bike"]
    assert len(simulator.listings()) == 4
    assert {title: listing["photos"] for title, listing in listings.items()} == {
        "Oak table": 3, "Desk lamp": 1, "Road bike": 2, "Drill": 1,
    }
    assert listings["Oak table"]["c_user"] == first.c_user
    assert listings["Road bike"]["c_user"] == second.c_user
    assert listings["Road bike"]["condition"] == "Used - Like New"
    assert listings["Oak table"]["location"].startswith("Austin, TX")
    assert listings["Oak table"]["price"] in ("120", "120.0", 120)
    for post in posts:
        post.refresh_from_db()
        assert post.status == "posted"
        assert post.posted_at is not None
        assert f"/marketplace/item/{listings[post.title]['id']}/" in post.listing_url
        assert post.claimed_by is None
    assert not ErrorLog.objects.exists()
    assert first.session_path.stat().st_mtime_ns > session_before  # saved back after success
    assert {c["name"] for c in json.loads(first.session_path.read_text())["cookies"]} >= {"c_user", "xs"}


def test_fields_that_render_late_are_waited_for(simulator, operator, make_account, make_post):
    simulator.fault("slow_fields", delay_ms=1500)
    post = make_post(make_account())

    job = run(operator, [post])

    post.refresh_from_db()
    assert (job.status, post.status) == ("completed", "posted")
    assert published_titles(simulator) == ["Oak table"]


FAULTS = [
    ("session_expired", {}, "session_expired", "log in again", 0),
    ("checkpoint_captcha", {}, "captcha", "CAPTCHA", 0),
    ("temporary_block", {}, "rate_limit", "temporarily blocked", 0),
    ("daily_limit", {}, "rate_limit", "capped for the day", 0),
    ("policy_rejection", {}, "policy_rejected", "Commerce Policies", 0),
    ("renamed_field", {}, "layout_changed", "MARKETPLACE_SELECTORS_FILE", 0),
    ("locale_es", {}, "layout_changed", "English", 0),
    ("server_error", {}, "network_error", "after 3 attempts", 0),
    ("drop_connection", {"at": "page"}, "network_error", "after 3 attempts", 0),
    ("publish_never_confirms", {}, "unknown", "check Marketplace before retrying", 1),
    ("drop_connection", {"at": "publish"}, "unknown", "check Marketplace before retrying", 1),
    # Shown only after the click that publishes: the listing is not published, the account stops.
    ("temporary_block", {"at": "publish"}, "rate_limit", "not published", 0),
    ("daily_limit", {"at": "publish"}, "rate_limit", "capped for the day", 0),
]


@pytest.mark.parametrize("layout", ["classic", "2026", "late2026"])
@pytest.mark.parametrize("fault, options, error_type, message, published", FAULTS)
def test_each_fault_is_recorded_with_its_type_and_evidence(
    simulator, operator, make_account, make_post, layout, fault, options, error_type, message, published
):
    simulator.fault(fault, **options)
    post = make_post(make_account(layout=layout))

    job = run(operator, [post])

    post.refresh_from_db()
    log = ErrorLog.objects.get()
    assert (job.status, job.failed_posts, post.status, post.retry_count) == ("completed", 1, "failed", 1)
    assert (log.error_type, log.post, log.job, log.owner) == (error_type, post, job, operator)
    assert message in log.error_message
    assert post.error_message == log.error_message
    assert_evidence(log)
    assert len(simulator.listings()) == published  # an unconfirmed publish is never tried again


def test_a_transient_network_fault_is_retried_to_success(simulator, operator, make_account, make_post):
    simulator.fault("drop_connection", at="page", times=1)
    post = make_post(make_account())

    job = run(operator, [post])

    post.refresh_from_db()
    assert (job.status, post.status, post.retry_count) == ("completed", "posted", 0)
    assert published_titles(simulator) == ["Oak table"]
    assert not ErrorLog.objects.exists()


def test_an_unconfirmed_publish_is_not_retried_even_when_the_fault_is_gone(simulator, operator, make_account, make_post):
    simulator.fault("publish_never_confirms", times=1)
    post = make_post(make_account())

    run(operator, [post])

    post.refresh_from_db()
    assert post.status == "failed"
    assert ErrorLog.objects.get().error_type == "unknown"
    assert published_titles(simulator) == ["Oak table"]  # once: the fault consumed, nothing published again


def test_a_session_failure_stops_that_account_and_the_other_keeps_posting(simulator, operator, make_account, make_post):
    blocked, healthy = make_account("blocked@example.com"), make_account("healthy@example.com")
    simulator.fault("session_expired", c_user=blocked.c_user)
    posts = [make_post(blocked, "Blocked 1"), make_post(blocked, "Blocked 2"),
             make_post(healthy, "Healthy 1"), make_post(healthy, "Healthy 2")]

    job = run(operator, posts)

    assert (job.status, job.completed_posts, job.failed_posts) == ("completed", 2, 2)
    assert published_titles(simulator) == ["Healthy 1", "Healthy 2"]
    logs = list(ErrorLog.objects.order_by("id"))
    assert [log.error_type for log in logs] == ["session_expired", "session_expired"]
    assert logs[0].screenshot and not logs[1].screenshot  # the skipped one opened no page
    assert logs[1].error_message.startswith("Skipped: account blocked@example.com stopped earlier")


def test_invalid_listings_fail_before_any_browser_starts(simulator, settings, operator, make_account, make_post):
    settings.BROWSER_EXECUTABLE = "/nonexistent/chromium"  # starting a browser would fail the job
    account = make_account()
    no_photo = make_post(account, "No photo", photos=0)
    no_location = make_post(account, "Nowhere", location="")

    job = run(operator, [no_photo, no_location])

    assert (job.status, job.failed_posts) == ("completed", 2)
    messages = dict(ErrorLog.objects.values_list("post__title", "error_message"))
    assert "no photo" in messages["No photo"]
    assert "no location" in messages["Nowhere"]
    assert set(ErrorLog.objects.values_list("error_type", flat=True)) == {"validation_error"}


@pytest.mark.parametrize("accounts", [1, 2], ids=["its-own-chromium", "the-shared-chromium"])
@pytest.mark.parametrize("executable", ["/nonexistent/chromium", "/bin/false"], ids=["missing", "broken"])
def test_a_browser_that_cannot_start_fails_the_job_saying_what_to_install(
    simulator, settings, operator, make_account, make_post, accounts, executable
):
    settings.BROWSER_EXECUTABLE = executable
    posts = [make_post(make_account(f"seller{n}@example.com")) for n in range(accounts)]

    job = run(operator, posts)

    assert job.status == "failed"
    assert "apt-get install -y chromium" in job.error_message
    assert executable in job.error_message
    untouched = MarketplacePost.objects.filter(pk__in=[p.pk for p in posts])
    assert set(untouched.values_list("status", "claimed_by")) == {("pending", None)}  # free for the next job
    log = ErrorLog.objects.get()
    assert (log.post, log.job, log.error_type) == (None, job, "unknown")


def test_a_selectors_file_follows_a_renamed_field(simulator, settings, tmp_path, operator, make_account, make_post):
    simulator.fault("renamed_field")
    overrides = tmp_path / "selectors.json"
    overrides.write_text(json.dumps({"title": "Listing title"}))
    settings.MARKETPLACE_SELECTORS_FILE = str(overrides)
    post = make_post(make_account())

    run(operator, [post])

    post.refresh_from_db()
    assert post.status == "posted"
    assert published_titles(simulator) == ["Oak table"]


def test_a_bad_selectors_file_fails_the_job_naming_the_key(simulator, settings, tmp_path, operator, make_account, make_post):
    overrides = tmp_path / "selectors.json"
    overrides.write_text(json.dumps({"tittle": "Listing title"}))
    settings.MARKETPLACE_SELECTORS_FILE = str(overrides)

    job = run(operator, [make_post(make_account())])

    assert job.status == "failed"
    assert "unknown key 'tittle'" in job.error_message


def test_cancel_stops_after_the_current_post_and_leaves_the_rest_pending(simulator, operator, make_account, make_post):
    account = make_account()
    posts = [make_post(account, f"Item {i}") for i in range(3)]

    def cancel_after_first_post(job):
        if job.completed_posts == 1:
            services.posting_job_cancel(job=job)

    job = run(operator, posts, progress=cancel_after_first_post)

    assert (job.status, job.completed_posts) == ("cancelled", 1)
    statuses = sorted(MarketplacePost.objects.values_list("status", "claimed_by"))
    assert statuses == [("pending", None), ("pending", None), ("posted", None)]
    assert published_titles(simulator) == ["Item 0"]


def test_a_job_waits_queued_while_another_running_job_uses_its_account(simulator, operator, make_account, make_post):
    account = make_account()
    first, _ = services.posting_job_create(owner=operator, post_ids=[make_post(account, "A").pk])
    second, _ = services.posting_job_create(owner=operator, post_ids=[make_post(account, "B").pk])
    assert services.job_begin(job=first, pid=1)

    assert services.job_begin(job=second, pid=1) is False
    second.refresh_from_db()
    assert second.status == "queued"
    assert f"Waiting for another job to finish with account {account.pk} (job {first.job_id})" == second.status_message

    services.job_finish(job=first, status=PostingJob.Status.COMPLETED)
    assert services.job_begin(job=second, pid=1) is True


def test_the_sequential_runner_paces_each_account_and_other_accounts_fill_the_pause(
    simulator, settings, skipping_clock, operator, make_account, make_post
):
    settings.POSTING_CONCURRENCY = 1  # one account at a time (parallel accounts: test_parallel.py)
    settings.POSTING_DELAY_SECONDS = (30.0, 30.0)
    first, second = make_account("one@example.com"), make_account("two@example.com")
    posts = [make_post(first, "A1"), make_post(first, "A2"), make_post(second, "B1")]

    job = run(operator, posts, clock=skipping_clock)

    assert job.completed_posts == 3
    assert [listing["title"] for listing in simulator.listings()] == ["A1", "B1", "A2"]
    pauses = [seconds for seconds in skipping_clock.pauses if seconds > 0]
    assert len(pauses) == 1  # only before A2: B1 went in between without waiting
    assert 0 < pauses[0] <= 30  # the delay, less the time B1 took (however slow the machine)


def test_a_title_marketplace_forbids_is_policy_rejected(simulator, operator, make_account, make_post):
    post = make_post(make_account(), "Replica designer watch")

    run(operator, [post])

    post.refresh_from_db()
    assert (post.status, ErrorLog.objects.get().error_type) == ("failed", "policy_rejected")
    assert simulator.listings() == []


def test_a_session_deleted_while_its_job_runs_is_not_brought_back(simulator, operator, make_account, make_post):
    account = make_account()
    posts = [make_post(account, "First"), make_post(account, "Second")]

    def delete_session_after_the_first_post(job):
        if job.completed_posts == 1:
            account.session_path.unlink(missing_ok=True)

    job = run(operator, posts, progress=delete_session_after_the_first_post)

    assert job.completed_posts == 2  # the job goes on with the session it loaded
    assert not account.session_path.exists()  # but the operator's deletion stands


def test_a_session_replaced_while_its_job_runs_is_not_overwritten(simulator, operator, make_account, make_post):
    account = make_account()
    replacement = json.dumps({"cookies": [], "origins": [], "note": "uploaded during the job"})
    posts = [make_post(account, "First"), make_post(account, "Second")]

    def replace_session_after_the_first_post(job):
        if job.completed_posts == 1 and "note" not in account.session_path.read_text():
            account.session_path.write_text(replacement)

    job = run(operator, posts, progress=replace_session_after_the_first_post)

    assert job.completed_posts == 2
    assert account.session_path.read_text() == replacement


def test_a_worker_failing_mid_post_leaves_that_post_failed_as_unknown_not_posting(
    simulator, monkeypatch, operator, make_account, make_post
):
    account = make_account()
    first, second = make_post(account, "Chair"), make_post(account, "Sofa")

    def crash(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "post_mark_posted", crash)  # fails after Publish, mid-post
    with pytest.raises(RuntimeError):
        run(operator, [first, second])

    job = PostingJob.objects.get()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (job.status, job.error_message) == ("failed", "The worker failed: the database went away")
    assert (first.status, first.claimed_by) == ("failed", None)  # never left "posting", which locks it
    assert "check Marketplace before retrying" in first.error_message
    assert ErrorLog.objects.get(post=first).error_type == "unknown"
    assert (second.status, second.claimed_by) == ("pending", None)


def test_a_listing_deleted_while_its_job_waits_is_left_out_and_the_job_reaches_100(
    simulator, operator, make_account, make_post
):
    account = make_account()
    keep, drop = make_post(account, "Chair"), make_post(account, "Sofa")
    job, _ = services.posting_job_create(owner=operator, post_ids=[keep.pk, drop.pk])
    services.post_delete(post=drop)

    job = worker.run_job(job_id=job.job_id)

    assert (job.status, job.total_posts, job.completed_posts, job.failed_posts) == ("completed", 1, 1, 0)
    assert job.progress_percentage == 100.0
    assert published_titles(simulator) == ["Chair"]
