"""The Marketplace simulator, driven the way the real driver drives Facebook.

The simulator runs as a real subprocess (`python -m simulator --port 0`); pages are driven with
real headless Chromium by role and accessible name only. No Django involved.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zlib
from http import HTTPStatus
from pathlib import Path
from struct import pack

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

from simulator.server import run_in_thread

PROJECT_DIR = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("BROWSER_EXECUTABLE") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
CREATE = "/marketplace/create/item"
SELLING = "/marketplace/you/selling"
USED_GOOD = re.compile(r"^Used\s*[-\u2013\u2014]\s*Good$")  # dash-insensitive, as drivers must be
LISTING_FIELDS = {"id", "c_user", "title", "price", "category", "condition", "description",
                  "location", "delivery", "photos", "photo_bytes", "created_at"}


def png(color: tuple[int, int, int], size: int = 8) -> bytes:
    """A small solid-colour PNG, built with the standard library."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return pack(">I", len(data)) + kind + data + pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(color) * size for _ in range(size))
    header = pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


PHOTOS = [
    {"name": "front.png", "mimeType": "image/png", "buffer": png((200, 30, 30), 16)},
    {"name": "back.png", "mimeType": "image/png", "buffer": png((30, 30, 200), 24)},
]


class Simulator:
    """The control API of a running simulator."""

    def __init__(self, base_url: str):
        self.base_url = base_url

    def url(self, path: str) -> str:
        return self.base_url + path

    def call(self, method: str, path: str, body=None, headers=None, raw: bytes | None = None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.url(path), data=data, method=method,
                                         headers=headers or {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        return status, (json.loads(payload) if payload else None)

    def session(self, email: str = "seller@example.com") -> dict:
        status, body = self.call("POST", "/__sim__/sessions", {"email": email})
        assert status == HTTPStatus.OK
        return body

    def fault(self, **spec) -> int:
        status, body = self.call("POST", "/__sim__/faults", spec)
        assert status == HTTPStatus.CREATED, body
        return body["id"]

    def faults(self) -> list[dict]:
        return self.call("GET", "/__sim__/faults")[1]["faults"]

    def listings(self) -> list[dict]:
        return self.call("GET", "/__sim__/listings")[1]["listings"]


@pytest.fixture(scope="module")
def simulator_process():
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", "--quiet"],
        cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = process.stdout.readline().strip()
    match = re.fullmatch(r"simulator listening on (http://127\.0\.0\.1:\d+)", line)
    assert match, f"unexpected first line {line!r}"
    yield process, match.group(1)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)


@pytest.fixture
def sim(simulator_process) -> Simulator:
    simulator = Simulator(simulator_process[1])
    assert simulator.call("POST", "/__sim__/reset")[0] == HTTPStatus.NO_CONTENT
    return simulator


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, sim):
    """new_page(email=...) -> a page whose context holds a minted session; None for anonymous."""
    contexts = []

    def make(email: str | None = "seller@example.com"):
        context = browser.new_context()
        context.set_default_timeout(5000)
        contexts.append(context)
        session = None
        if email is not None:
            session = sim.session(email)
            context.add_cookies([
                {"name": "c_user", "value": session["c_user"], "url": sim.base_url},
                {"name": "xs", "value": session["xs"], "url": sim.base_url, "httpOnly": True},
            ])
        page = context.new_page()
        page.session = session  # the account's {"c_user", "xs"}, for assertions
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


# -- driving helpers, by role and accessible name only ---------------------------------------------

def marketplace_form(page):
    return page.get_by_role("form", name="Marketplace")


def fill_item(page, *, title="Oak dining table", price="120", labels=None, category="Furniture",
              condition=USED_GOOD, description="Seats six.", location="Austin, TX"):
    """Step 1 of the form, every field set; returns the form."""
    labels = labels or {"title": "Title", "price": "Price", "category": "Category",
                        "condition": "Condition", "more": "More details",
                        "description": "Description", "location": "Location"}
    form = marketplace_form(page)
    form.locator('input[type="file"]').set_input_files(PHOTOS)
    form.get_by_role("textbox", name=labels["title"], exact=True).fill(title)
    form.get_by_role("textbox", name=labels["price"], exact=True).fill(price)
    form.get_by_role("combobox", name=labels["category"], exact=True).click()
    page.get_by_role("dialog").get_by_role("option", name=category, exact=True).click()
    form.get_by_role("combobox", name=labels["condition"], exact=True).click()
    page.get_by_role("listbox").get_by_role("option", name=condition, exact=True).click()
    form.get_by_role("button", name=labels["more"]).click()
    form.get_by_role("textbox", name=labels["description"], exact=True).fill(description)
    form.get_by_role("combobox", name=labels["location"], exact=True).fill(location)
    form.get_by_role("listbox").get_by_role("option").first.click()
    return form


def to_review(page, *, next_name="Next", heading="Review your listing"):
    """Next, Next: waits for each step's content before clicking again (it swaps in place)."""
    form = marketplace_form(page)
    form.get_by_role("button", name=next_name, exact=True).click()
    expect(form.get_by_role("checkbox")).to_have_count(2)
    form.get_by_role("button", name=next_name, exact=True).click()
    expect(form.get_by_role("heading", name=heading)).to_be_visible()
    return form


def fill_and_publish(page, **fields):
    """On a loaded create page: step 1, Next, Next, Publish."""
    form = fill_item(page, **fields)
    to_review(page).get_by_role("button", name="Publish", exact=True).click()
    return form


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    for name, filename, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: image/png\r\n\r\n'.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


# -- the process and the control API ------------------------------------------------------------

def test_process_prints_its_address_and_stops_cleanly_on_sigterm():
    process = subprocess.Popen([sys.executable, "-m", "simulator", "--port", "0", "--quiet"],
                               cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline().strip()
        base_url = re.fullmatch(r"simulator listening on (http://127\.0\.0\.1:\d+)", line).group(1)
        assert Simulator(base_url).call("GET", "/__sim__/health") == (HTTPStatus.OK, {"ok": True})
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_run_in_thread_serves_until_shut_down():
    base_url, shutdown = run_in_thread(port=0)
    try:
        assert Simulator(base_url).call("GET", "/__sim__/health") == (HTTPStatus.OK, {"ok": True})
    finally:
        shutdown()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(base_url + "/__sim__/health", timeout=2)


def test_sessions_keep_one_user_id_per_email_and_a_new_secret_each_time(sim):
    first, second = sim.session("ann@example.com"), sim.session("ann@example.com")
    other = sim.session("bob@example.com")
    assert first["c_user"] == second["c_user"] != other["c_user"]
    assert first["c_user"].isdigit()
    assert first["xs"] != second["xs"]


def test_fault_definitions_are_validated_listed_and_cleared(sim):
    assert sim.call("POST", "/__sim__/faults", {"name": "meteor_strike"})[0] == HTTPStatus.BAD_REQUEST
    assert sim.call("POST", "/__sim__/faults", {"name": "drop_connection", "at": "moon"})[0] == 400
    fault_id = sim.fault(name="drop_connection", at="publish", times=2, c_user="42")
    assert sim.faults() == [{"id": fault_id, "name": "drop_connection", "times": 2, "c_user": "42",
                             "delay_ms": None, "at": "publish"}]
    assert sim.call("DELETE", "/__sim__/faults")[0] == HTTPStatus.NO_CONTENT
    assert sim.faults() == []


def publish_directly(sim, session, title="Lamp"):
    """POST a listing as the page does, without a browser."""
    body, content_type = multipart({"title": title, "price": "10"}, [("photos", "a.png", png((0, 0, 0)))])
    status, answer = sim.call("POST", "/marketplace/create/item/publish", raw=body, headers={
        "Cookie": f"c_user={session['c_user']}; xs={session['xs']}", "Content-Type": content_type})
    assert status == HTTPStatus.OK, answer
    return answer["id"]


def test_publish_endpoint_validates_and_counts_photo_bytes_exactly(sim):
    session = sim.session()
    cookie = {"Cookie": f"c_user={session['c_user']}; xs={session['xs']}"}
    fields = {"title": "Lamp", "price": "$1,200.50", "category": "Household",
              "condition": "Used \u2013 Like New", "description": "", "location": "Austin, TX",
              "delivery": "shipping"}
    photo = PHOTOS[0]["buffer"] + b"\r\n--tricky\r\n" + bytes(range(256))

    body, content_type = multipart(fields, [])
    status, answer = sim.call("POST", "/marketplace/create/item/publish", raw=body,
                              headers={**cookie, "Content-Type": content_type})
    assert (status, answer) == (HTTPStatus.BAD_REQUEST, {"error": "Add at least one photo."})
    body, content_type = multipart({**fields, "price": "-3"}, [("photos", "a.png", photo)])
    status, answer = sim.call("POST", "/marketplace/create/item/publish", raw=body,
                              headers={**cookie, "Content-Type": content_type})
    assert (status, answer) == (HTTPStatus.BAD_REQUEST, {"error": "Enter a valid price."})
    status, answer = sim.call("POST", "/marketplace/create/item/publish", raw=body,
                              headers={"Content-Type": content_type})
    assert status == HTTPStatus.UNAUTHORIZED

    body, content_type = multipart(fields, [("photos", "a.png", photo), ("photos", "b.png", b"")])
    status, answer = sim.call("POST", "/marketplace/create/item/publish", raw=body,
                              headers={**cookie, "Content-Type": content_type})
    assert (status, answer) == (HTTPStatus.OK, {"id": 1, "boost_offer": False})
    [listing] = sim.listings()
    assert set(listing) == LISTING_FIELDS
    assert listing["photos"] == 2 and listing["photo_bytes"] == len(photo)
    assert listing["condition"] == "Used - Like New" and listing["price"] == "$1,200.50"
    # Even ids get the Boost offer.
    status, answer = sim.call("POST", "/marketplace/create/item/publish", raw=body,
                              headers={**cookie, "Content-Type": content_type})
    assert answer == {"id": 2, "boost_offer": True}


def test_reset_forgets_listings_and_faults_but_not_sessions(sim, page):
    publish_directly(sim, page.session)
    sim.fault(name="temporary_block")
    assert sim.call("POST", "/__sim__/reset")[0] == HTTPStatus.NO_CONTENT
    assert sim.listings() == [] and sim.faults() == []
    assert publish_directly(sim, page.session) == 1  # numbering starts again
    page.goto(sim.url(CREATE))
    expect(marketplace_form(page)).to_be_visible()


# -- sessions in the browser --------------------------------------------------------------------

def test_anonymous_visit_to_the_create_page_lands_on_login(sim, new_page):
    page = new_page(email=None)
    page.goto(sim.url(CREATE))
    assert page.url == sim.url("/login/?next=/marketplace/create/item")
    expect(page).to_have_title("Log in to Facebook")
    expect(page.locator('input[name="email"]')).to_be_visible()
    expect(page.locator('input[name="pass"]')).to_have_attribute("type", "password")


def test_logging_in_through_the_form_returns_to_the_page_asked_for(sim, new_page):
    page = new_page(email=None)
    page.goto(sim.url(CREATE))
    page.locator('input[name="email"]').fill("ann@example.com")
    page.locator('input[name="pass"]').fill("hunter2")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("The password that you've entered is incorrect.")).to_be_visible()

    page.locator('input[name="pass"]').fill("password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(sim.url(CREATE))
    expect(marketplace_form(page)).to_be_visible()
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["c_user"]["value"] == sim.session("ann@example.com")["c_user"]
    assert cookies["xs"]["httpOnly"] and not cookies["c_user"]["httpOnly"]
    assert cookies["xs"]["sameSite"] == "Lax" and not cookies["xs"]["secure"]


def test_a_revoked_session_is_logged_out(sim, page):
    page.goto(sim.url("/"))
    expect(page.get_by_role("heading", name="Facebook")).to_be_visible()
    xs = next(c["value"] for c in page.context.cookies() if c["name"] == "xs")
    assert sim.call("POST", "/__sim__/sessions/revoke", {"xs": xs})[0] == HTTPStatus.NO_CONTENT
    page.goto(sim.url(CREATE))
    assert page.url.startswith(sim.url("/login/"))


def test_home_and_marketplace_lead_to_the_create_page(sim, page):
    page.goto(sim.url("/"))
    expect(page.get_by_role("heading", name="Facebook", level=1)).to_be_visible()
    page.get_by_role("link", name="Marketplace").click()
    expect(page.get_by_role("heading", name="Marketplace", level=1)).to_be_visible()
    page.get_by_role("link", name="Create new listing").click()
    expect(marketplace_form(page)).to_be_visible()


def test_selling_page_lists_only_the_account_own_listings_newest_first(sim, new_page):
    alice, bob = new_page("alice@example.com"), new_page("bob@example.com")
    publish_directly(sim, alice.session, "Chair")
    publish_directly(sim, bob.session, "Bike")
    publish_directly(sim, alice.session, "Desk")
    alice.goto(sim.url(SELLING))
    expect(alice.get_by_role("heading", name="Your listings")).to_be_visible()
    links = alice.get_by_role("main").get_by_role("link", name=re.compile("^(Chair|Bike|Desk)$"))
    expect(links).to_have_text(["Desk", "Chair"])
    expect(links.first).to_have_attribute("href", "/marketplace/item/3/")


# -- the create-listing page ---------------------------------------------------------------------

def test_full_create_flow_records_one_listing_and_lands_on_selling(sim, page):
    page.goto(sim.url(CREATE))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_title("Marketplace | Facebook")
    form = marketplace_form(page)
    expect(form.get_by_role("heading", name="Item for sale", level=1)).to_be_visible()
    next_button = form.get_by_role("button", name="Next", exact=True)
    expect(next_button).to_be_disabled()

    form.locator('input[type="file"]').set_input_files(PHOTOS)
    expect(form.get_by_text("Photos \u00b7 2 / 10")).to_be_visible()
    form.get_by_role("textbox", name="Title", exact=True).fill("Oak dining table")
    form.get_by_role("textbox", name="Price", exact=True).fill("120")

    category = form.get_by_role("combobox", name="Category", exact=True)
    category.click()
    expect(category).to_have_attribute("aria-expanded", "true")
    page.get_by_role("dialog", name="Select a category").get_by_role("option", name="Furniture").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(category).to_contain_text("Furniture")

    form.get_by_role("combobox", name="Condition", exact=True).click()
    options = page.get_by_role("listbox").get_by_role("option")
    expect(options).to_have_text(["New", "Used \u2013 Like New", "Used \u2013 Good", "Used \u2013 Fair"])
    page.get_by_role("option", name=USED_GOOD).click()

    more = form.get_by_role("button", name="More details")
    expect(form.get_by_role("textbox", name="Description")).to_have_count(0)
    more.click()
    expect(more).to_have_attribute("aria-expanded", "true")
    form.get_by_role("textbox", name="Description", exact=True).fill("Seats six.")

    expect(next_button).to_be_disabled()  # no location yet
    next_button.click(force=True)  # a click on the disabled Next does nothing
    expect(form.get_by_role("heading", name="Item for sale")).to_be_visible()

    location = form.get_by_role("combobox", name="Location", exact=True)
    location.press_sequentially("Austin, TX")
    suggestions = form.get_by_role("listbox").get_by_role("option")
    expect(suggestions).to_have_text(["Austin, TX", "Austin, TX, United States",
                                      "Austin, TX Metropolitan Area"])
    expect(next_button).to_be_disabled()  # typing alone does not set the location
    suggestions.first.click()
    expect(location).to_have_value("Austin, TX")
    expect(next_button).to_be_enabled()

    next_button.click()
    expect(form.get_by_role("heading", name="Delivery method")).to_be_visible()
    expect(form.get_by_role("checkbox", name="Local pickup")).to_be_checked()
    expect(form.get_by_role("checkbox", name="Shipping")).not_to_be_checked()
    form.get_by_role("button", name="Next", exact=True).click()
    expect(form.get_by_role("heading", name="Review your listing")).to_be_visible()
    form.get_by_role("button", name="Publish", exact=True).click()

    boost = page.get_by_role("dialog", name="Boost listing")
    expect(boost.or_(page.get_by_role("heading", name="Your listings"))).to_be_visible()
    if boost.is_visible():
        boost.get_by_role("button", name="Not now").click()
    page.wait_for_url(sim.url(SELLING))
    expect(page.get_by_role("link", name="Oak dining table")).to_be_visible()

    [listing] = sim.listings()
    assert listing == {
        "id": 1, "c_user": page.session["c_user"], "title": "Oak dining table", "price": "120",
        "category": "Furniture", "condition": "Used - Good", "description": "Seats six.",
        "location": "Austin, TX", "delivery": "local_pickup", "photos": 2,
        "photo_bytes": sum(len(p["buffer"]) for p in PHOTOS), "created_at": listing["created_at"],
    }
    page.get_by_role("link", name="Oak dining table").click()
    expect(page.get_by_role("heading", name="Oak dining table", level=1)).to_be_visible()


def test_class_names_and_ids_differ_between_two_loads(sim, page):
    def markup_tokens():
        page.goto(sim.url(CREATE))
        return set(page.eval_on_selector_all(
            "[class], [id]", "els => els.flatMap(e => [...e.classList, e.id]).filter(Boolean)"))

    first, second = markup_tokens(), markup_tokens()
    assert len(first) > 20
    assert first.isdisjoint(second)


def test_condition_options_match_exactly(sim, page):
    page.goto(sim.url(CREATE))
    marketplace_form(page).get_by_role("combobox", name="Condition").click()
    expect(page.get_by_role("option", name="New", exact=True)).to_have_count(1)
    expect(page.get_by_role("option", name="New")).to_have_count(2)  # "Used – Like New" too


def test_boost_offer_not_now_goes_to_the_selling_page(sim, page):
    sim.fault(name="boost_offer")
    page.goto(sim.url(CREATE))
    fill_and_publish(page)
    page.get_by_role("dialog", name="Boost listing").get_by_role("button", name="Not now").click()
    page.wait_for_url(sim.url(SELLING))
    assert len(sim.listings()) == 1


def test_a_session_revoked_before_publish_sends_the_page_to_login(sim, page):
    page.goto(sim.url(CREATE))
    fill_item(page)
    to_review(page)
    xs = next(c["value"] for c in page.context.cookies() if c["name"] == "xs")
    sim.call("POST", "/__sim__/sessions/revoke", {"xs": xs})
    marketplace_form(page).get_by_role("button", name="Publish").click()
    page.wait_for_url(re.compile(r"/login/\?next="))
    assert sim.listings() == []


# -- faults ---------------------------------------------------------------------------------------

def test_session_expired_redirects_a_valid_session_to_login(sim, page):
    sim.fault(name="session_expired")
    page.goto(sim.url(CREATE))
    assert page.url == sim.url("/login/?next=/marketplace/create/item")
    expect(page.locator('input[name="pass"]')).to_be_visible()


def test_checkpoint_captcha_shows_a_security_check(sim, page):
    sim.fault(name="checkpoint_captcha")
    page.goto(sim.url(CREATE))
    assert page.url.startswith(sim.url("/checkpoint/?next="))
    expect(page.get_by_role("heading", name="Security check")).to_be_visible()
    expect(page.get_by_text("Please confirm you're a human by completing the captcha below.")).to_be_visible()
    expect(page.get_by_title("captcha")).to_have_attribute("src", "about:blank")


def test_temporary_block_shows_the_block_and_no_form(sim, page):
    sim.fault(name="temporary_block")
    response = page.goto(sim.url(CREATE))
    assert response.status == HTTPStatus.OK
    expect(page.get_by_role("heading", name="You're Temporarily Blocked")).to_be_visible()
    expect(page.get_by_text("We limit how often you can post.")).to_be_visible()
    expect(page.get_by_role("form")).to_have_count(0)


def test_server_error_answers_500(sim, page):
    sim.fault(name="server_error")
    response = page.goto(sim.url(CREATE))
    assert response.status == HTTPStatus.INTERNAL_SERVER_ERROR
    expect(page.get_by_text("Sorry, something went wrong.")).to_be_visible()


def test_policy_rejection_records_nothing_and_stays_on_the_form(sim, page):
    sim.fault(name="policy_rejection")
    page.goto(sim.url(CREATE))
    form = fill_and_publish(page)
    expect(form.get_by_role("alert")).to_have_text(
        "Your listing wasn't published because it doesn't follow our Commerce Policies.")
    expect(form.get_by_role("button", name="Publish")).to_be_enabled()
    assert page.url == sim.url(CREATE)
    assert sim.listings() == []


def test_publish_never_confirms_records_the_listing_but_stays(sim, page):
    sim.fault(name="publish_never_confirms")
    page.goto(sim.url(CREATE))
    fill_and_publish(page)
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Something went wrong. Please try again.")
    assert len(sim.listings()) == 1
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)
    expect(marketplace_form(page).get_by_role("button", name="Publish")).to_be_visible()
    assert page.url == sim.url(CREATE)


def test_drop_connection_on_the_page_fails_the_navigation(sim, page):
    sim.fault(name="drop_connection")
    with pytest.raises(PlaywrightError, match="ERR_EMPTY_RESPONSE"):
        page.goto(sim.url(CREATE))


def test_drop_connection_at_publish_records_the_listing_without_confirming(sim, page):
    sim.fault(name="drop_connection", at="publish")
    page.goto(sim.url(CREATE))
    fill_and_publish(page)
    expect(page.get_by_role("dialog")).to_contain_text("Something went wrong. Please try again.")
    assert len(sim.listings()) == 1
    assert page.url == sim.url(CREATE)


def test_renamed_field_hides_the_title_textbox_by_its_old_name(sim, page):
    sim.fault(name="renamed_field")
    page.goto(sim.url(CREATE))
    form = marketplace_form(page)
    expect(form.get_by_role("textbox", name="Price", exact=True)).to_have_count(1)
    expect(form.get_by_role("textbox", name="Title", exact=True)).to_have_count(0)
    expect(form.get_by_role("textbox", name="Listing title", exact=True)).to_have_count(1)


def test_slow_fields_appear_after_the_delay(sim, page):
    sim.fault(name="slow_fields", delay_ms=800)
    started = time.monotonic()
    page.goto(sim.url(CREATE))
    form = marketplace_form(page)
    expect(form).to_have_count(1)
    assert form.get_by_role("textbox", name="Title", exact=True).count() == 0
    expect(form.get_by_role("textbox", name="Title", exact=True)).to_be_visible()
    assert time.monotonic() - started >= 0.7
    fill_item(page)  # the late fields work like the others
    expect(form.get_by_role("button", name="Next")).to_be_enabled()


def test_locale_es_translates_the_form_which_still_publishes(sim, page):
    sim.fault(name="locale_es")
    page.goto(sim.url(CREATE))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    form = marketplace_form(page)
    expect(form.get_by_role("textbox", name="Title")).to_have_count(0)
    fill_item(page, labels={"title": "Título", "price": "Precio", "category": "Categoría",
                            "condition": "Estado", "more": "Más detalles",
                            "description": "Descripción", "location": "Ubicación"},
              category="Muebles", condition="Nuevo")
    to_review(page, next_name="Siguiente", heading="Revisa tu publicación")
    form.get_by_role("button", name="Publicar", exact=True).click()
    page.wait_for_url(sim.url(SELLING))
    assert sim.listings()[0]["condition"] == "Nuevo"


def test_a_fault_with_times_is_consumed(sim, page):
    sim.fault(name="session_expired", times=1)
    page.goto(sim.url(CREATE))
    assert "/login/" in page.url
    assert sim.faults() == []
    page.goto(sim.url(CREATE))
    expect(marketplace_form(page)).to_be_visible()


def test_a_fault_scoped_to_one_account_spares_the_others(sim, new_page):
    alice, bob = new_page("alice@example.com"), new_page("bob@example.com")
    sim.fault(name="temporary_block", c_user=alice.session["c_user"])
    bob.goto(sim.url(CREATE))
    expect(marketplace_form(bob)).to_be_visible()
    alice.goto(sim.url(CREATE))
    expect(alice.get_by_role("heading", name="You're Temporarily Blocked")).to_be_visible()
    assert len(sim.faults()) == 1
