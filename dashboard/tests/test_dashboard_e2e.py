"""The dashboard end to end: headless Chromium, driven by Playwright, against `make demo`'s set-up.

Each test runs `manage.py demo_setup` (as `make demo` does) on this test's database against the
simulator, serves config.asgi with uvicorn on the same environment, and works through the
dashboard as an operator would. A full-page screenshot of each page lands in artifacts/.
"""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect, sync_playwright

from conftest import POST_PUBLISHED_MS, WORKER_STARTS_MS, UvicornServer, image_bytes
from dashboard import services as demo
from driver.executable import find_chromium, launch_args
from postings.models import MarketplacePost, PostingJob
from postings.tests.conftest import all_jobs_ended, wait_until
from postings.worker import orm_beside_playwright
from simulator.client import facebook_cookies

pytestmark = pytest.mark.django_db(transaction=True)

ARTIFACTS = Path(__file__).parent / "artifacts"
TIMEOUT_MS = 30_000  # how long a click or a page may take; what waits for a job says so itself

# Records every value the job page's progress bar takes, to show that it moved while we watched.
WATCH_PROGRESS = """document.addEventListener("DOMContentLoaded", () => {
  const bar = document.getElementById("job-progress");
  if (!bar) return;
  window.progressSeen = [Number(bar.getAttribute("aria-valuenow"))];
  new MutationObserver(() => window.progressSeen.push(Number(bar.getAttribute("aria-valuenow"))))
    .observe(bar, {attributes: true, attributeFilter: ["aria-valuenow"]});
});"""


def run_demo_setup(env: dict) -> str:
    """`manage.py demo_setup` as `make demo` runs it, on this test's database and directories."""
    result = subprocess.run(
        [sys.executable, "manage.py", "demo_setup"], cwd=settings.BASE_DIR, env={**os.environ, **env},
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def demo_env(worker_env):
    """The environment of `make demo` (DEMO_ENV), pointed at this test's database and simulator."""
    env = {
        **worker_env,
        "SSE_POLL_SECONDS": "0.1",
        "SSE_RETRY_MILLISECONDS": "1000",
        "DJANGO_ALLOW_ASYNC_UNSAFE": "",  # what the browser fixture allows this process, not the server
    }
    output = run_demo_setup(env)
    assert f"{demo.DEMO_USERNAME}" in output and demo.DEMO_PASSWORD in output
    yield env
    wait_until(all_jobs_ended, what="every posting worker to finish")  # none may write after the test


@pytest.fixture
def browser():
    # The test reads the database between browser steps, in the thread of Playwright's loop.
    with orm_beside_playwright(), sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(find_chromium()), args=launch_args())
        yield chromium
        chromium.close()


@pytest.fixture
def start_server(demo_env):
    servers = []

    def start(**overrides) -> UvicornServer:
        server = UvicornServer({**demo_env, **overrides})
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def open_dashboard(browser) -> tuple[Page, list]:
    """A laptop-sized page, and the list of the JavaScript errors it will have thrown."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.add_init_script(WATCH_PROGRESS)
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    return page, errors


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page: Page, server: UvicornServer, *, shot: str | None = None) -> None:
    page.goto(server.url + "/")
    expect(page).to_have_url(server.url + "/login/?next=/")
    if shot:
        shoot(page, shot)
    page.get_by_label("Username").fill(demo.DEMO_USERNAME)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(server.url + "/")


def listing_row(page: Page, title: str):
    return page.locator("#listings-table tbody tr").filter(has=page.get_by_role("link", name=title, exact=True))


def account_row(page: Page, email: str):
    return page.locator("#accounts-table tbody tr").filter(has_text=email)


def cookie_export(pair: dict) -> list[dict]:
    """What Cookie-Editor exports from a logged-in facebook.com tab."""
    return [
        {"domain": ".facebook.com", "expirationDate": 4102444800, "hostOnly": False, "httpOnly": name == "xs",
         "name": name, "path": "/", "sameSite": "no_restriction", "secure": True, "session": False,
         "storeId": "0", "value": pair[name]}
        for name in ("c_user", "xs")
    ]


def natural_width(locator) -> int:
    locator.scroll_into_view_if_needed()
    expect(locator).to_have_js_property("complete", True)
    return locator.evaluate("image => image.naturalWidth")


def expect_job_page(page: Page, server: UvicornServer, job) -> None:
    """The browser went to the page of the job the click started (`job()` reads it once it exists)."""
    page.wait_for_url(f"{server.url}/jobs/*/")
    assert page.url == f"{server.url}/jobs/{job().job_id}/"


def wait_for_posts_done(page: Page, count: int, *, timeout: float) -> None:
    """Until the job page counts `count` posts done (posted or failed), however it got there."""
    page.wait_for_function(
        """count => ["completed_posts", "failed_posts"]
          .map((name) => Number(document.querySelector(`#job [data-field="${name}"]`).textContent))
          .reduce((sum, n) => sum + n, 0) >= count""",
        arg=count, timeout=timeout, polling=250,
    )


def expect_job_ended(page: Page, *, status: str, posted: int, failed: int, total: int) -> None:
    """The job page shows the job ended so. Waited for post by post: the worker may take its start
    and a post's publishing for the first, a post's publishing for each next; one that stalls
    longer fails the test, however many posts the job has."""
    card = page.locator("#job")
    for done in range(1, total + 1):
        wait_for_posts_done(page, done, timeout=POST_PUBLISHED_MS + (WORKER_STARTS_MS if done == 1 else 0))
    expect(card.locator('[data-field="status"]')).to_have_text(status)
    expect(card.locator('[data-field="connection"]')).to_have_text("ended")
    expect(card.locator('[data-field="completed_posts"]')).to_have_text(str(posted))
    expect(card.locator('[data-field="failed_posts"]')).to_have_text(str(failed))
    expect(card.locator('[data-field="total_posts"]')).to_have_text(str(total))
    expect(page.get_by_role("button", name="Cancel")).to_be_hidden()


def test_an_operator_runs_the_demo_from_login_to_a_retried_failure(browser, start_server, simulator, tmp_path):
    server = start_server()
    page, js_errors = open_dashboard(browser)

    # Log in: the listings of the demo, all pending, with their photos.
    log_in(page, server, shot="01-login")
    expect(page.locator("#listings-table tbody tr")).to_have_count(len(demo.DEMO_LISTINGS))
    assert natural_width(listing_row(page, "Oak dining table").locator("img.thumb")) == 800
    shoot(page, "02-listings")

    # Accounts: add one, upload a cookie export for it, check the revoked one live.
    page.get_by_role("link", name="Accounts").click()
    widget = page.locator("#health-widget")
    expect(widget.locator('[data-count="healthy"]')).to_have_text("2")
    page.get_by_label("Facebook email").fill("third@example.com")
    page.get_by_role("button", name="Add account").click()
    third = account_row(page, "third@example.com")
    expect(third.locator('[data-field="health"]')).to_have_text("error")
    expect(third).to_contain_text("No session has been uploaded for this account")
    cookies = tmp_path / "facebook-cookies.json"
    cookies.write_text(json.dumps(cookie_export(simulator.mint_session("third@example.com"))))
    third.locator("input.session-file").set_input_files(cookies)
    expect(third.locator('[data-field="message"]')).to_have_text("Session is valid")
    expect(third.locator('[data-field="health"]')).to_have_text("healthy")
    expect(widget.locator('[data-count="healthy"]')).to_have_text("3")

    expired = account_row(page, demo.EXPIRED_EMAIL)
    expired.get_by_role("button", name="Check now").click()
    # A live check starts a real Chromium on the server, as a worker does.
    expect(expired.locator('[data-field="message"]')).to_contain_text("Session may be expired", timeout=WORKER_STARTS_MS)
    expect(expired.locator('[data-field="health"]')).to_have_text("warning")
    expect(widget.locator('[data-count="warning"]')).to_have_text("1")
    shoot(page, "03-accounts")

    # A new listing with a photo; the API's field errors show next to their fields first.
    page.get_by_role("link", name="Listings").click()
    page.get_by_role("link", name="New listing").click()
    photo = tmp_path / "kayak.png"
    photo.write_bytes(image_bytes(size=(640, 480), color=(20, 120, 160)))
    page.get_by_label("Title").fill("Kayak with paddle")
    page.get_by_label("Price ($)").fill("-5")
    page.get_by_label("Category").fill("Sporting Goods")
    page.get_by_label("Condition").select_option("Used - Good")
    page.get_by_label("Location").fill("Austin, TX")
    page.get_by_label("Description").fill("Two seats, barely used.")
    page.locator('input[name="photos"]').set_input_files(photo)
    page.get_by_role("button", name="Save listing").click()
    expect(page.locator('[data-error-for="price"]')).to_contain_text("greater than or equal to 0")
    shoot(page, "04-listing-form")
    page.get_by_label("Price ($)").fill("250")
    page.get_by_role("button", name="Save listing").click()
    expect(page).to_have_url(server.url + "/")
    expect(page.locator("#flash")).to_have_text('Saved "Kayak with paddle".')
    assert natural_width(listing_row(page, "Kayak with paddle").locator("img.thumb")) == 640
    assert MarketplacePost.objects.filter(title="Kayak with paddle").count() == 1

    # Post all nine and watch the bar reach 100 % with the demo's counts: 5 posted, 4 failed.
    page.locator("#select-all").check()
    expect(page.locator("#post-selected")).to_have_text("Post selected (9)")
    page.locator("#post-selected").click()
    expect_job_page(page, server, PostingJob.objects.get)
    expect(page.locator('[data-field="connection"]')).to_have_text("live")
    expect_job_ended(page, status="completed", posted=5, failed=4, total=9)
    expect(page.locator("#job-progress")).to_have_attribute("aria-valuenow", "100")
    expect(page.locator('[data-field="percent"]')).to_have_text("100 %")
    seen = page.evaluate("window.progressSeen")
    assert seen == sorted(seen) and seen[-1] == 100 and any(0 < value < 100 for value in seen), seen
    expect(page.locator("#job-posts .badge.status-posted")).to_have_count(5)
    shoot(page, "05-job-completed")

    # The errors of this job: four, each typed; the policy refusal's screenshot opens full size.
    page.get_by_role("link", name="Errors of this job").click()
    expect(page.locator("article.error-log")).to_have_count(4)
    types = sorted(page.locator("article.error-log").evaluate_all("logs => logs.map(l => l.dataset.errorType)"))
    assert types == ["policy_rejected", "session_expired", "validation_error", "validation_error"]
    shoot(page, "06-errors")
    page.get_by_label("Type").select_option("policy_rejected")  # the filters submit themselves
    expect(page).to_have_url(f"{server.url}/errors/?listing=&type=policy_rejected&job={PostingJob.objects.get().job_id}")
    refusal = page.locator("article.error-log")
    expect(refusal).to_have_count(1)
    expect(refusal).to_contain_text("Replica designer watch")
    assert natural_width(refusal.locator("a.screenshot img")) > 0
    refusal.get_by_text("Stack trace").click()
    expect(refusal.locator("details.trace pre")).to_contain_text("Traceback")
    page_text = page.request.get(server.url + refusal.get_by_role("link", name="Captured page text").get_attribute("href"))
    assert page_text.ok and page_text.headers["content-type"].startswith("text/plain")
    refusal.locator("a.screenshot").click()
    expect(page.locator("#lightbox")).to_be_visible()
    assert natural_width(page.locator("#lightbox-image")) > 0
    shoot(page, "07-error-screenshot")
    page.get_by_role("button", name="Close").click()

    # Retry the session_expired one after uploading a fresh session (a storage state this time).
    page.get_by_role("link", name="Accounts").click()
    state = tmp_path / "storage-state.json"
    state.write_text(json.dumps({"cookies": facebook_cookies(simulator.mint_session(demo.EXPIRED_EMAIL)), "origins": []}))
    expired = account_row(page, demo.EXPIRED_EMAIL)
    expired.locator("input.session-file").set_input_files(state)
    expect(expired.locator('[data-field="message"]')).to_have_text("Session is valid")
    page.get_by_role("link", name="Listings").click()
    chairs = listing_row(page, "Patio chairs, set of 4")
    expect(chairs.locator(".badge")).to_have_text("failed")
    chairs.get_by_role("button", name="Retry").click()
    expect_job_page(page, server, PostingJob.objects.order_by("-pk").first)
    expect_job_ended(page, status="completed", posted=1, failed=0, total=1)
    shoot(page, "08-job-retry")

    # Retry the one without a photo after adding one through Edit.
    page.get_by_role("link", name="Back to listings").click()
    expect(listing_row(page, "Patio chairs, set of 4").locator(".badge")).to_have_text("posted")
    listing_row(page, "Vintage camera").get_by_role("link", name="Edit").click()
    page.locator('input[name="photos"]').set_input_files(photo)
    shoot(page, "09-listing-edit")
    page.get_by_role("button", name="Save listing").click()
    expect(page).to_have_url(server.url + "/")
    listing_row(page, "Vintage camera").get_by_role("button", name="Retry").click()
    expect_job_page(page, server, PostingJob.objects.order_by("-pk").first)
    expect_job_ended(page, status="completed", posted=1, failed=0, total=1)

    page.get_by_role("link", name="Jobs").click()
    expect(page.locator("#jobs-table tbody tr")).to_have_count(3)
    shoot(page, "10-jobs")
    page.get_by_role("link", name="Listings").click()
    expect(page.locator(".badge.status-posted")).to_have_count(7)
    shoot(page, "11-listings-after")
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "12-listings-phone")

    assert set(MarketplacePost.objects.filter(title__in=["Patio chairs, set of 4", "Vintage camera"])
               .values_list("status", flat=True)) == {"posted"}
    assert sorted(listing["title"] for listing in simulator.listings()) == sorted(
        [spec.title for spec in demo.DEMO_LISTINGS if spec.outcome == "posted"]
        + ["Kayak with paddle", "Patio chairs, set of 4", "Vintage camera"]
    )
    assert js_errors == []


def test_a_job_page_reconnects_after_a_dropped_connection_and_a_cancelled_job_leaves_the_rest_pending(
    browser, start_server, simulator
):
    # Ten seconds between two posts of one account: time to drop the connection, restart the server
    # and cancel before the last post, even on a busy machine (a cancel cuts the pause short).
    server = start_server(POSTING_DELAY_SECONDS="10")
    page, js_errors = open_dashboard(browser)
    log_in(page, server)
    page.get_by_role("link", name="Pending").click()
    good = [spec.title for spec in demo.DEMO_LISTINGS if spec.outcome == "posted"]
    for title in good:
        listing_row(page, title).locator("input.select-post").check()
    page.get_by_role("button", name="Post selected (4)").click()
    expect_job_page(page, server, PostingJob.objects.get)
    card = page.locator("#job")
    # The worker starts, then publishes the first post in a real browser: sized for a busy machine.
    expect(card.locator('[data-field="completed_posts"]')).to_have_text("1", timeout=WORKER_STARTS_MS + POST_PUBLISHED_MS)

    # The server goes away: the page says so, and picks the stream up again when it is back.
    server.stop(signal.SIGKILL)  # a dropped connection
    expect(card.locator('[data-field="connection"]')).to_have_text("reconnecting…")
    shoot(page, "13-job-reconnecting")
    server.start()
    expect(card.locator('[data-field="connection"]')).to_have_text("live")

    page.get_by_role("button", name="Cancel").click()
    # The worker stops once the post it is publishing is done.
    expect(card.locator('[data-field="status"]')).to_have_text("cancelled", timeout=POST_PUBLISHED_MS)
    expect(card.locator('[data-field="connection"]')).to_have_text("ended")
    expect(card.locator('[data-field="message"]')).to_contain_text("stay pending")
    expect(page.locator("#job-posts .badge.status-pending").first).to_be_visible()
    shoot(page, "14-job-cancelled")

    job = PostingJob.objects.get()
    statuses = list(MarketplacePost.objects.filter(title__in=good).values_list("status", flat=True))
    assert job.status == PostingJob.Status.CANCELLED
    assert 1 <= statuses.count("posted") == job.completed_posts < 4
    assert statuses.count("pending") == 4 - job.completed_posts  # untouched, ready for another job
    assert card.locator('[data-field="completed_posts"]').text_content() == str(job.completed_posts)
    assert js_errors == []
