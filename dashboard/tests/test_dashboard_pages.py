"""The dashboard's pages through Django's test client: login, ownership, what each page shows."""
import os
import re
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts import session_files
from accounts.models import FacebookAccount, PostingAttempt
from conftest import image_bytes
from dashboard import services as demo
from dashboard.tests.conftest import valid_session
from postings import services
from postings.models import ErrorLog, MarketplacePost, PostingJob, PostingPreview

pytestmark = pytest.mark.django_db

PAGES = ["/", "/listings/", "/listings/new/", "/accounts/", "/jobs/", "/errors/"]


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owned(operator):
    """An account of `operator` with a listing that failed once in a job, with its error log."""
    account = FacebookAccount.objects.create(owner=operator, email="seller@example.com", name="Main seller")
    post = MarketplacePost.objects.create(
        account=account, title="Oak dining table", price=120, category="Furniture", location="Austin, TX",
    )
    services.post_image_add(post=post, upload=SimpleUploadedFile("p.png", image_bytes(), "image/png"))
    job, _ = services.posting_job_create(owner=operator, post_ids=[post.pk])
    log = services.post_mark_failed(
        job=job, post=post, error_type=ErrorLog.ErrorType.POLICY_REJECTED, message="Facebook refused the listing",
        stack_trace="Traceback (most recent call last): ...",
        evidence=services.Evidence(page_url="http://sim/x", screenshot_png=image_bytes(), html="<p>refused</p>",
                                   aria_snapshot='- heading "Refused"', trace_zip=b"PK\x05\x06" + bytes(18)),
    )
    services.job_finish(job=job, status=PostingJob.Status.COMPLETED)
    return {"account": account, "post": post, "job": job, "log": log}


@pytest.fixture
def foreign(other_operator):
    """The same, for another operator."""
    account = FacebookAccount.objects.create(owner=other_operator, email="rival@example.com")
    post = MarketplacePost.objects.create(account=account, title="Rival's secret sofa", price=10, category="Furniture")
    job, _ = services.posting_job_create(owner=other_operator, post_ids=[post.pk])
    services.post_mark_failed(job=job, post=post, error_type=ErrorLog.ErrorType.CAPTCHA, message="Rival's captcha")
    return {"account": account, "post": post, "job": job}


@pytest.mark.parametrize("path", [*PAGES, "/listings/1/edit/", "/jobs/7a6b0a52-6f0e-4a55-9f8e-0d8b8f2b8a11/"])
def test_every_page_sends_a_visitor_who_is_not_logged_in_to_the_login_page(client, path):
    response = client.get(path)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/login/?next={path}"


def test_the_login_page_logs_an_operator_in_and_the_logout_form_logs_out(client, operator):
    assert client.get("/login/").status_code == HTTPStatus.OK

    response = client.post("/login/", {"username": "alice", "password": "correct-horse-9", "next": "/jobs/"})
    assert (response.status_code, response["Location"]) == (HTTPStatus.FOUND, "/jobs/")
    assert client.get("/jobs/").status_code == HTTPStatus.OK

    assert client.get("/logout/").status_code == HTTPStatus.METHOD_NOT_ALLOWED  # a link cannot log out
    response = client.post("/logout/")
    assert (response.status_code, response["Location"]) == (HTTPStatus.FOUND, "/login/")
    assert client.get("/jobs/").status_code == HTTPStatus.FOUND


def test_a_wrong_password_is_refused_on_the_login_page(client, operator):
    response = client.post("/login/", {"username": "alice", "password": "wrong"})

    assert response.status_code == HTTPStatus.OK
    assert b"Please enter a correct username and password" in response.content


@pytest.mark.parametrize("path", PAGES)
def test_each_page_renders_for_its_owner_and_sets_the_csrf_cookie_for_the_api_calls(operator, owned, path):
    response = page_client(operator).get(path)

    assert response.status_code == HTTPStatus.OK
    assert "csrftoken" in response.cookies
    assert b"/static/dashboard/app.js" in response.content


@pytest.mark.parametrize("path", PAGES)
def test_no_page_shows_another_operators_objects(operator, owned, foreign, path):
    content = page_client(operator).get(path).content.decode()

    assert "Rival" not in content and "rival@example.com" not in content
    assert str(foreign["job"].job_id) not in content


def test_the_listings_page_shows_status_badge_photo_last_error_and_retry(operator, owned):
    post, image = owned["post"], owned["post"].images.get()

    content = page_client(operator).get("/").content.decode()

    assert '<span class="badge status-failed">failed</span>' in content
    assert f'src="/api/posts/{post.pk}/images/{image.pk}/"' in content
    assert "Facebook refused the listing" in content
    assert f'class="button small retry" data-post-id="{post.pk}"' in content


def test_the_job_page_shows_the_jobs_state_and_its_stream(operator, owned):
    job = owned["job"]

    response = page_client(operator).get(f"/jobs/{job.job_id}/")

    content = response.content.decode()
    assert f'data-stream-url="/api/posts/status-stream/{job.job_id}/"' in content
    assert response.context["state"]["final"] is True
    assert '<span class="badge job-completed" data-field="status">completed</span>' in content
    assert f'href="/errors/?job={job.job_id}"' in content


def test_the_job_page_shows_every_listing_being_posted_at_once(operator):
    posts = []
    for email, title in (("one@example.com", "Oak table"), ("two@example.com", "Road bike")):
        account = FacebookAccount.objects.create(owner=operator, email=email)
        posts.append(MarketplacePost.objects.create(account=account, title=title, price=1, category="Furniture"))
    job, _ = services.posting_job_create(owner=operator, post_ids=[p.pk for p in posts])
    assert services.job_begin(job=job, pid=1)
    for post in posts:
        services.post_begin(job=job, post_id=post.pk)

    content = page_client(operator).get(f"/jobs/{job.job_id}/").content.decode()

    assert 'Posting now: <strong data-field="current_posts">Oak table, Road bike</strong>' in content


def test_another_operators_job_page_is_not_found(operator, foreign):
    response = page_client(operator).get(f"/jobs/{foreign['job'].job_id}/")

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_another_operators_listing_cannot_be_opened_for_editing(operator, foreign):
    response = page_client(operator).get(f"/listings/{foreign['post'].pk}/edit/")

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_the_edit_page_fills_the_form_with_the_listing(operator, owned):
    post = owned["post"]

    content = page_client(operator).get(f"/listings/{post.pk}/edit/").content.decode()

    assert f'data-post-id="{post.pk}"' in content
    assert 'value="Oak dining table"' in content
    assert '<option value="Used - Good"' in content and 'value="New" selected' in content


def test_the_errors_page_shows_the_screenshot_the_folded_trace_and_the_page_text(operator, owned):
    log = owned["log"]

    content = page_client(operator).get("/errors/").content.decode()

    assert f'<img src="/api/posts/error-logs/{log.pk}/screenshot/"' in content
    assert "<details class=\"trace\"><summary>Stack trace</summary><pre>Traceback" in content
    assert f'href="/api/posts/error-logs/{log.pk}/page/"' in content
    assert '<span class="badge type-policy_rejected">policy_rejected</span>' in content


def test_the_errors_page_links_the_snapshot_and_the_trace_and_says_how_to_open_it(operator, owned):
    log = owned["log"]

    content = page_client(operator).get("/errors/").content.decode()

    assert f'<a class="small" href="/api/posts/error-logs/{log.pk}/snapshot/" target="_blank" rel="noopener">' \
        "Accessibility snapshot</a>" in content
    assert f'<a class="small" href="/api/posts/error-logs/{log.pk}/trace/" download="trace_{log.pk}.zip">' \
        "Trace (zip)</a>" in content
    assert f'<code class="command">.venv/bin/python -m playwright show-trace trace_{log.pk}.zip</code>' in content


def test_the_errors_page_offers_no_snapshot_or_trace_a_failure_does_not_have(operator, owned):
    MarketplacePost.objects.filter(pk=owned["post"].pk).update(status="pending")
    bare = services.post_mark_failed(job=None, post=owned["post"], error_type="timeout", message="Too slow")

    response = page_client(operator).get(f"/errors/?type=timeout")

    content = response.content.decode()
    assert [row["log"] for row in response.context["rows"]] == [bare]
    assert "Accessibility snapshot" not in content and "Trace (zip)" not in content
    assert "show-trace" not in content


def test_the_errors_page_filters_by_listing_type_and_job(operator, owned):
    client, post, job = page_client(operator), owned["post"], owned["job"]
    other = MarketplacePost.objects.create(account=owned["account"], title="Lamp", price=5, category="Household")
    services.post_mark_failed(job=None, post=other, error_type=ErrorLog.ErrorType.TIMEOUT, message="Too slow")

    def shown(query):
        return [row["log"].error_message for row in client.get(f"/errors/{query}").context["rows"]]

    assert shown("") == ["Too slow", "Facebook refused the listing"]
    assert shown(f"?listing={post.pk}") == ["Facebook refused the listing"]
    assert shown("?type=timeout") == ["Too slow"]
    assert shown(f"?job={job.job_id}") == ["Facebook refused the listing"]
    assert shown("?type=captcha") == []
    assert shown("?type=nonsense") == ["Too slow", "Facebook refused the listing"]  # ignored, and said so


def test_demo_setup_against_the_simulator_is_idempotent(simulator):
    first = demo.demo_setup(base_url=simulator.base_url, timeout=5)
    second = demo.demo_setup(base_url=simulator.base_url, timeout=5)

    assert first.operator.pk == second.operator.pk and first.operator.check_password(demo.DEMO_PASSWORD)
    assert sorted(FacebookAccount.objects.values_list("email", flat=True)) == [demo.EXPIRED_EMAIL, demo.SELLER_EMAIL]
    titles = sorted(MarketplacePost.objects.values_list("title", flat=True))
    assert titles == sorted(spec.title for spec in demo.DEMO_LISTINGS)
    assert set(MarketplacePost.objects.values_list("status", flat=True)) == {"pending"}
    assert MarketplacePost.objects.filter(images__isnull=True).get().title == "Vintage camera"
    assert all(account.session_path.is_file() for account in second.accounts.values())


def test_demo_setup_refuses_to_run_against_facebook():
    with pytest.raises(demo.DemoSetupError, match="only runs against the local simulator"):
        demo.demo_setup(base_url="https://www.facebook.com")


# Listing options


def delivery_boxes(content: str) -> list[tuple[str, bool]]:
    return [(value, bool(checked)) for value, checked in re.findall(
        r'<input type="checkbox" name="delivery" value="([^"]+)"( checked)?>', content
    )]


def test_a_new_listing_offers_the_delivery_options_with_public_meetup_ticked(operator, owned):
    content = page_client(operator).get("/listings/new/").content.decode()

    assert delivery_boxes(content) == [("Public meetup", True), ("Door pickup", False), ("Door drop-off", False)]
    assert '<input type="checkbox" name="hide_from_friends">' in content
    assert '<span class="field-error" data-error-for="delivery"></span>' in content
    assert '<span class="field-error" data-error-for="hide_from_friends"></span>' in content


def test_editing_a_listing_shows_its_delivery_options_and_hide_from_friends_as_saved(operator, owned):
    post = owned["post"]
    MarketplacePost.objects.filter(pk=post.pk).update(delivery=["Door pickup", "Door drop-off"], hide_from_friends=True)

    content = page_client(operator).get(f"/listings/{post.pk}/edit/").content.decode()

    assert delivery_boxes(content) == [("Public meetup", False), ("Door pickup", True), ("Door drop-off", True)]
    assert '<input type="checkbox" name="hide_from_friends" checked>' in content


def test_the_listing_form_script_sends_the_delivery_options_and_the_flag():
    script = (Path(__file__).parents[1] / "static" / "dashboard" / "app.js").read_text()

    assert 'body.delivery = fields.getAll("delivery")' in script
    assert 'body.hide_from_friends = fields.has("hide_from_friends")' in script


def test_a_new_listing_offers_empty_tags_and_sku_with_their_limits(operator, owned):
    content = page_client(operator).get("/listings/new/").content.decode()

    assert '<input type="text" name="tags" placeholder="oak, desk, solid wood" value="">' in content
    assert "Separated by commas: at most 20, each up to 50 characters." in content
    assert '<input type="text" name="sku" maxlength="50" value="">' in content
    assert '<span class="field-error" data-error-for="tags"></span>' in content
    assert '<span class="field-error" data-error-for="sku"></span>' in content


def test_editing_a_listing_shows_its_tags_separated_by_commas_and_its_sku(operator, owned):
    post = owned["post"]
    MarketplacePost.objects.filter(pk=post.pk).update(tags=["oak", "seats <six>"], sku="TBL-\"7\"")

    content = page_client(operator).get(f"/listings/{post.pk}/edit/").content.decode()

    assert 'name="tags" placeholder="oak, desk, solid wood" value="oak, seats &lt;six&gt;">' in content
    assert '<input type="text" name="sku" maxlength="50" value="TBL-&quot;7&quot;">' in content


def test_the_listing_form_script_sends_the_tags_as_a_list_and_the_sku():
    script = (Path(__file__).parents[1] / "static" / "dashboard" / "app.js").read_text()

    assert '"description", "location", "sku"]) {' in script
    assert 'body.tags = (fields.get("tags") || "").toString().split(",").map((tag) => tag.trim())' in script


# Dry runs


@pytest.fixture
def dry_run(operator, owned):
    """A dry run over three listings: one previewed with a screenshot and a snapshot, one previewed
    without either, one not reached yet."""
    account = owned["account"]
    posts = [
        MarketplacePost.objects.create(account=account, title=title, price=5, category="Household")
        for title in ("Brass lamp", "Pine shelf", "Wool rug")
    ]
    job, _ = services.posting_job_create(owner=operator, post_ids=[p.pk for p in posts], dry_run=True)
    full = services.post_preview_record(
        job=job, post=services.post_begin(job=job, post_id=posts[0].pk),
        evidence=services.Evidence(
            page_url="http://sim/create", screenshot_png=image_bytes(), aria_snapshot="- button",
        ),
    )
    bare = services.post_preview_record(
        job=job, post=services.post_begin(job=job, post_id=posts[1].pk), evidence=services.Evidence(),
    )
    return {"job": job, "posts": posts, "full": full, "bare": bare}


def test_a_dry_runs_page_has_the_badge_and_each_previewed_listings_last_step(operator, dry_run):
    job, full = dry_run["job"], dry_run["full"]

    response = page_client(operator).get(f"/jobs/{job.job_id}/")

    content = response.content.decode()
    assert response.context["state"]["dry_run"] is True
    assert '<span class="badge dry-run" id="dry-run-badge"' in content and ">Dry run</span>" in content
    assert '<span class="muted">previewed</span>' in content
    assert "<th>Last step</th>" in content
    thumbnail = (
        f'<a class="screenshot preview" href="/api/posts/previews/{full.pk}/screenshot/" target="_blank" '
        f'rel="noopener" title="Open the full-size screenshot">\n'
        f'                <img src="/api/posts/previews/{full.pk}/screenshot/"'
    )
    assert thumbnail in content
    assert f'<a class="small" href="/api/posts/previews/{full.pk}/snapshot/" target="_blank" rel="noopener">' \
        "Accessibility snapshot</a>" in content
    assert content.count("/snapshot/") == 1  # the preview without a snapshot links none
    assert "No screenshot could be taken." in content
    assert "Not reached yet." in content
    assert '<dialog class="lightbox" id="lightbox"' in content


def test_a_real_jobs_page_has_no_dry_run_badge_and_no_last_step_column(operator, owned):
    content = page_client(operator).get(f"/jobs/{owned['job'].job_id}/").content.decode()

    assert "Dry run" not in content and "Last step" not in content
    assert '<span class="muted">posted</span>' in content


def test_another_operators_previews_are_not_shown_on_a_job_page_of_ones_own(operator, owned, dry_run, other_operator):
    rival = MarketplacePost.objects.create(
        account=FacebookAccount.objects.create(owner=other_operator, email="rival@example.com"),
        title="Rival's lamp", price=1, category="Household",
    )
    PostingPreview.objects.create(job=dry_run["job"], post=rival)  # cannot happen through the services

    content = page_client(operator).get(f"/jobs/{dry_run['job'].job_id}/").content.decode()

    assert "Rival" not in content


def test_the_jobs_list_marks_a_dry_run(operator, owned, dry_run):
    content = page_client(operator).get("/jobs/").content.decode()

    rows = re.findall(r'<tr data-job-id="([^"]+)">(.*?)</tr>', content, re.S)
    marked = {job_id: '<span class="badge dry-run">Dry run</span>' in row for job_id, row in rows}
    assert marked == {str(dry_run["job"].job_id): True, str(owned["job"].job_id): False}


def test_the_listings_page_offers_a_dry_run_of_the_selection(operator, owned):
    content = page_client(operator).get("/").content.decode()
    script = (Path(__file__).parents[1] / "static" / "dashboard" / "app.js").read_text()

    assert '<button type="button" class="button" id="dry-run-selected" disabled' in content
    assert "{ post_ids: ids, dry_run: dryRun, ...fields }" in script


# Accounts: proxy, identity, posting budgets, pauses

PROXY_PASSWORD = "s3cret-Pa55word"
LINUX_CHROME = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/156.0.0.0 Safari/537.36")


def account_row(content: str, account) -> str:
    """The account's row of the accounts table, and its edit row after it."""
    match = re.search(rf'<tr id="account-{account.pk}" data-account-id="{account.pk}">.*?<tr class="edit-row".*?</tr>', content, re.S)
    assert match, f"no row for account {account.pk}"
    return match.group(0)


def attempts(account, *minutes_ago):
    PostingAttempt.objects.bulk_create(
        PostingAttempt(account=account, at=timezone.now() - timedelta(minutes=m)) for m in minutes_ago
    )


@pytest.fixture
def proxied(operator):
    return FacebookAccount.objects.create(
        owner=operator, email="proxied@example.com", proxy=f"http://bob:{PROXY_PASSWORD}@proxy.example:3128",
        user_agent=LINUX_CHROME, timezone="America/Denver", viewport={"width": 1366, "height": 641},
    )


def test_the_accounts_page_shows_the_proxy_masked_and_never_its_password(operator, proxied):
    bare = FacebookAccount.objects.create(owner=operator, email="direct@example.com")

    response = page_client(operator).get("/accounts/")

    content = response.content.decode()
    assert PROXY_PASSWORD not in content
    assert PROXY_PASSWORD not in repr(response.context["health"])  # not even handed to the template
    row = account_row(content, proxied)
    assert '<div class="proxy" data-field="proxy"><code class="break">http://bob:***@proxy.example:3128</code></div>' in row
    assert 'name="proxy" value="http://bob:***@proxy.example:3128"' in row  # the edit form: sent back, kept
    assert "none: the host's own address" in account_row(content, bare)
    assert 'name="proxy" value=""' in account_row(content, bare)


def test_the_accounts_page_shows_each_accounts_identity_with_the_full_user_agent_in_a_title(operator, proxied):
    row = account_row(page_client(operator).get("/accounts/").content.decode(), proxied)

    assert '<span data-field="timezone">America/Denver</span>' in row
    assert '<span data-field="viewport">1366 × 641</span>' in row
    assert f'data-field="user_agent" title="{LINUX_CHROME}">Chrome 156 on Linux</div>' in row
    assert 'name="viewport_width" inputmode="numeric" value="1366"' in row
    assert f'name="user_agent" value="{LINUX_CHROME}"' in row


def test_the_accounts_page_shows_posts_against_the_budgets_in_force(operator, proxied, settings):
    settings.ACCOUNT_HOURLY_POST_LIMIT = 6
    FacebookAccount.objects.filter(pk=proxied.pk).update(daily_post_limit=20)
    attempts(proxied, 5, 90, 600, 60 * 25)  # the last is more than a day old: it counts for nothing

    row = account_row(page_client(operator).get("/accounts/").content.decode(), proxied)

    assert '<div class="budget" data-field="posts_today">3 / 20 today</div>' in row
    assert '<div class="budget muted small" data-field="posts_hour">1 / 6 this hour</div>' in row
    # The edit form shows the account's own budgets: its daily one, and the default for the hourly.
    assert 'name="daily_post_limit" inputmode="numeric" value="20"' in row
    assert 'name="hourly_post_limit" inputmode="numeric" value=""\n                   placeholder="default: 6"' in row
    assert re.search(r'<p class="hold small" data-field="hold_reason" hidden></p>', row)


def test_an_account_without_budgets_shows_no_limit(operator, proxied):
    attempts(proxied, 5)

    row = account_row(page_client(operator).get("/accounts/").content.decode(), proxied)

    assert "1 today (no limit)" in row and "1 this hour (no limit)" in row
    assert 'placeholder="default: no limit"' in row


def test_an_account_at_its_hourly_budget_says_when_it_can_post_again(operator, proxied):
    FacebookAccount.objects.filter(pk=proxied.pk).update(hourly_post_limit=2)
    attempts(proxied, 10, 20)

    row = account_row(page_client(operator).get("/accounts/").content.decode(), proxied)

    hold = re.search(r'<p class="hold small" data-field="hold_reason">(.*?)</p>', row).group(1)
    assert hold.startswith("At its hourly budget (2 of 2 listings in 60 min): it can post again at ")
    assert '<div class="pause" data-field="pause" hidden>' in row


def test_a_paused_account_shows_until_when_and_why_with_a_resume_button(operator, proxied):
    until = timezone.now() + timedelta(hours=5)
    FacebookAccount.objects.filter(pk=proxied.pk).update(
        paused_until=until, pause_reason="rate_limit: You're temporarily blocked from selling",
    )

    response = page_client(operator).get("/accounts/")

    row = account_row(response.content.decode(), proxied)
    assert '<div class="pause" data-field="pause">' in row
    assert f'Paused until <time data-field="paused_until" datetime="{until.isoformat()}">' \
        f'{until:%Y-%m-%d %H:%M} UTC</time>' in row
    assert "rate_limit: You&#x27;re temporarily blocked from selling" in row
    assert f'<button type="button" class="button small resume" data-account-id="{proxied.pk}">Resume</button>' in row
    # Said once, beside its button: not again among the session's reasons, nor as a hold.
    shown = response.context["health"]["accounts"][0]
    assert shown["health_status"] == "error"  # no session: error stays error
    assert shown["session_reasons"] == ["No session has been uploaded for this account"]
    assert shown["hold_reason"].startswith("Paused until ") and shown["hold_reason"] in shown["reasons"]
    assert '<p class="hold small" data-field="hold_reason" hidden></p>' in row


def test_an_account_that_is_not_paused_has_its_resume_button_hidden(operator, proxied):
    FacebookAccount.objects.filter(pk=proxied.pk).update(paused_until=timezone.now() - timedelta(minutes=1))

    row = account_row(page_client(operator).get("/accounts/").content.decode(), proxied)

    assert '<div class="pause" data-field="pause" hidden>' in row
    assert "Paused until <time data-field=\"paused_until\"></time>" in row


def test_the_accounts_script_resumes_and_patches_through_the_api():
    script = (Path(__file__).parents[1] / "static" / "dashboard" / "app.js").read_text()

    assert 'api("POST", `/api/accounts/${button.dataset.accountId}/resume/`)' in script
    assert 'api("PATCH", `/api/accounts/${editForm.dataset.accountId}/`, body)' in script
    assert "showFieldErrors(editForm, data)" in script


# The day at a glance: the accounts' health and the last job on the listings page


def glance(content: str, section: str) -> str:
    """The listings page's health widget ("health-widget") or last job ("last-job")."""
    match = re.search(rf'<section [^>]*id="{section}".*?</section>', content, re.S)
    assert match, f"no {section} on the page"
    return match.group(0)


def test_the_listings_page_counts_the_accounts_by_health_and_links_those_that_need_attention(operator):
    healthy = FacebookAccount.objects.create(owner=operator, email="ready@example.com")
    paused = FacebookAccount.objects.create(
        owner=operator, email="paused@example.com", paused_until=timezone.now() + timedelta(hours=3),
        pause_reason="rate_limit: blocked",
    )
    for account in (healthy, paused):
        session_files.write_atomic(account.session_path, valid_session())
    no_session = FacebookAccount.objects.create(owner=operator, email="new@example.com")
    client = page_client(operator)

    widget = glance(client.get("/").content.decode(), "health-widget")

    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', widget))
    assert counts == {"healthy": "1", "warning": "1", "error": "1", "total_accounts": "3"}
    assert '<span class="badge health-warning" data-overall>warning</span>' in widget  # 1 of 3 can post
    links = re.findall(r'<a href="(/accounts/#account-\d+)">([^<]+)</a>', widget)
    assert links == [  # errors first
        (f"/accounts/#account-{no_session.pk}", "new@example.com"),
        (f"/accounts/#account-{paused.pk}", "paused@example.com"),
    ]
    assert "No session has been uploaded for this account" in widget
    accounts_page = client.get("/accounts/").content.decode()
    for account in (healthy, paused, no_session):  # each link's anchor is there
        assert f'<tr id="account-{account.pk}" data-account-id="{account.pk}">' in accounts_page


def test_the_listings_page_says_when_every_account_is_ready_and_when_there_is_none(operator, other_operator):
    ready = FacebookAccount.objects.create(owner=operator, email="ready@example.com")
    session_files.write_atomic(ready.session_path, valid_session())

    assert "Every account is ready to post." in glance(page_client(operator).get("/").content.decode(), "health-widget")
    none = glance(page_client(other_operator).get("/").content.decode(), "health-widget")
    assert 'No accounts yet: <a href="/accounts/">add one</a>.' in none


def test_the_listings_page_names_five_accounts_that_need_attention_and_counts_the_rest(operator):
    for n in range(7):
        FacebookAccount.objects.create(owner=operator, email=f"seller{n}@example.com")

    widget = glance(page_client(operator).get("/").content.decode(), "health-widget")

    assert len(re.findall(r'href="/accounts/#account-\d+"', widget)) == 5
    assert '<a class="small" href="/accounts/">and 2 more on the Accounts page</a>' in widget


def test_the_listings_page_shows_the_last_jobs_state_with_a_link_to_its_page(operator, owned):
    older = owned["job"]
    post = MarketplacePost.objects.create(account=owned["account"], title="Lamp", price=5, category="Household")
    job, _ = services.posting_job_create(owner=operator, post_ids=[post.pk], dry_run=True)
    services.job_finish(job=job, status=PostingJob.Status.COMPLETED)
    job.refresh_from_db()

    last = glance(page_client(operator).get("/").content.decode(), "last-job")

    assert '<span class="badge job-completed" data-field="status">completed</span>' in last
    assert '<span class="badge dry-run">Dry run</span>' in last
    assert f'<a class="small" href="/jobs/{job.job_id}/">Open the job</a>' in last
    assert str(older.job_id) not in last  # the newest job only
    assert re.sub(r"\s+", " ", re.search(r'data-field="progress">(.*?)</p>', last, re.S).group(1)) == \
        "0 of 1 done: 0 previewed, 0 failed"
    assert f'Ended <time datetime="{job.completed_at.isoformat()}">{job.completed_at:%Y-%m-%d %H:%M} UTC</time>' in last


def test_the_listings_page_says_no_jobs_yet_before_the_first(operator):
    FacebookAccount.objects.create(owner=operator, email="seller@example.com")

    assert '<p class="muted">No jobs yet.</p>' in glance(page_client(operator).get("/").content.decode(), "last-job")


def test_a_last_job_whose_worker_died_shows_as_failed_on_the_listings_page(operator, settings):
    PostingJob.objects.create(owner=operator, status="running", pid=2**22 + 1)  # no such process
    settings.JOB_STALE_SECONDS = 0.001

    last = glance(page_client(operator).get("/").content.decode(), "last-job")

    assert '<span class="badge job-failed" data-field="status">failed</span>' in last


# Scheduling: start_at and spread_minutes from the listings page


@pytest.fixture
def scheduled_job(operator, owned):
    """A job of two listings scheduled in two days, spread over 90 minutes."""
    posts = [
        MarketplacePost.objects.create(account=owned["account"], title=title, price=5, category="Household")
        for title in ("Brass lamp", "Pine shelf")
    ]
    start_at = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    job, _ = services.posting_job_create(
        owner=operator, post_ids=[p.pk for p in posts], start_at=start_at, spread_minutes=90,
    )
    return job


def test_the_listings_page_offers_to_post_now_or_at_a_local_date_and_time_spread_over_minutes(operator, owned):
    content = page_client(operator).get("/").content.decode()
    script = (Path(__file__).parents[1] / "static" / "dashboard" / "app.js").read_text()

    assert '<input type="radio" name="when" value="now" checked> Now' in content
    assert '<input type="radio" name="when" value="at"> At a date and time' in content
    assert '<input type="datetime-local" name="start_at" aria-label="Start at (your local time)" disabled>' in content
    assert '<input type="text" name="spread_minutes" inputmode="numeric"' in content
    for field in ("start_at", "spread_minutes"):  # where the API's 400 goes
        assert f'<span class="field-error" data-error-for="{field}"></span>' in content
    assert "fields.start_at = moment.toISOString();" in script  # the local moment, sent in UTC


def test_a_listing_held_by_a_scheduled_job_cannot_be_selected_again(operator, scheduled_job):
    content = page_client(operator).get("/").content.decode()

    for post in scheduled_job.posts.all():
        assert re.search(rf'value="{post.pk}" aria-label="Select {post.title}"\s+disabled title="Held by a queued', content)


def test_the_jobs_list_shows_when_a_scheduled_job_starts_and_over_how_long(operator, owned, scheduled_job):
    content = page_client(operator).get("/jobs/").content.decode()

    rows = dict(re.findall(r'<tr data-job-id="([^"]+)">(.*?)</tr>', content, re.S))
    start_at = scheduled_job.start_at
    assert (f'Scheduled for <time datetime="{start_at.isoformat()}">{start_at:%Y-%m-%d %H:%M} UTC</time>, '
            "spread over 90 min") in rows[str(scheduled_job.job_id)]
    assert "Scheduled for" not in rows[str(owned["job"].job_id)]


def test_the_job_page_shows_when_a_scheduled_job_starts_until_it_runs(operator, owned, scheduled_job):
    client, start_at = page_client(operator), scheduled_job.start_at
    line = (f'<p class="scheduled" data-field="scheduled">Scheduled for\n      <strong><time datetime="{start_at.isoformat()}">'
            f'{start_at:%Y-%m-%d %H:%M} UTC</time></strong>, spread over 90 minutes</p>')

    response = client.get(f"/jobs/{scheduled_job.job_id}/")

    assert line in response.content.decode()
    assert (response.context["state"]["start_at"], response.context["state"]["spread_minutes"]) == (
        start_at.isoformat().replace("+00:00", "Z"), 90,
    )
    assert 'data-field="scheduled"' not in client.get(f"/jobs/{owned['job'].job_id}/").content.decode()
    assert services.job_claim_launch(job=scheduled_job) and services.job_begin(job=scheduled_job, pid=os.getpid())
    assert '<p class="scheduled" data-field="scheduled" hidden>' in client.get(f"/jobs/{scheduled_job.job_id}/").content.decode()
