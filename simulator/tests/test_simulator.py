"""The Marketplace simulator, driven the way the real driver drives Facebook.

The simulator runs as a real subprocess (`python -m simulator --port 0`); pages are driven with
real headless Chromium by role and accessible name only. No Django involved.
"""
from __future__ import annotations

import http.client
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
from datetime import datetime, timedelta, timezone
from hashlib import sha256
from http import HTTPStatus
from pathlib import Path
from struct import pack

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

from simulator.client import SimulatorClient
from simulator.server import run_in_thread
from simulator.state import VISIT_MEMORY, State

PROJECT_DIR = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("BROWSER_EXECUTABLE") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
CREATE = "/marketplace/create/item"
SELLING = "/marketplace/you/selling"
USED_GOOD = re.compile(r"^Used\s*[-\u2013\u2014]\s*Good$")  # dash-insensitive, as drivers must be
LISTING_FIELDS = {"id", "c_user", "title", "price", "category", "condition", "description",
                  "location", "delivery", "photos", "photo_bytes", "created_at", "photo_digests",
                  "hide_from_friends", "meetup", "boosted", "layout", "groups", "tags", "sku", "state"}


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

    def session(self, email: str = "seller@example.com", layout=None, options=None) -> dict:
        body = {"email": email}
        if layout is not None:
            body["layout"] = layout
        if options is not None:
            body["options"] = options
        status, body = self.call("POST", "/__sim__/sessions", body)
        assert status == HTTPStatus.OK, body
        return body

    def layout(self, c_user: str) -> dict:
        status, body = self.call("GET", f"/__sim__/layout?c_user={c_user}")
        assert status == HTTPStatus.OK, body
        return body

    def plant_draft(self, c_user: str, title: str, price: str, photos: int) -> None:
        status, body = self.call("POST", "/__sim__/drafts",
                                 {"c_user": c_user, "title": title, "price": price, "photos": photos})
        assert status == HTTPStatus.NO_CONTENT, body

    def timeline(self, c_user: str | None = None) -> list[dict]:
        path = "/__sim__/timeline" + (f"?c_user={c_user}" if c_user else "")
        return self.call("GET", path)[1]["events"]

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

    def make(email: str | None = "seller@example.com", layout=None, options=None):
        context = browser.new_context()
        context.set_default_timeout(5000)
        contexts.append(context)
        session = None
        if email is not None:
            session = sim.session(email, layout, options)
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
        "tags": [], "sku": "", "state": "active",
        "photo_digests": [sha256(p["buffer"]).hexdigest() for p in PHOTOS],
        "hide_from_friends": False, "meetup": [], "boosted": False, "layout": "classic", "groups": [],
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


# == the "2026" layout ===========================================================================
#
# Driven like a driver: by role and accessible name only. Absences that a debounce could hide
# (no chips, no suggestions) are asserted with Playwright's fake clock, never with sleeps.

POLICY = "Your listing wasn't published because it doesn't follow our Commerce Policies."
DAILY_LIMIT = ("You can't add a listing to Marketplace right now because you reached your daily "
               "limit as a new Facebook account")
DUPLICATE = "It looks like you created a duplicate listing."
CONDITIONS_2026 = ["New", "Used \u2013 like new", "Used \u2013 good", "Used \u2013 fair"]
BOOST_SWITCH = "Boost listing after publish"


def digests(photos) -> list[str]:
    return [sha256(p["buffer"]).hexdigest() for p in photos]


def wait_for(condition, timeout: float = 10):
    """Poll a server-side condition (a control-API read) until it holds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)  # spaces the polls; the wait is on the condition
    return value


def page_2026(new_page, email="seller@example.com", **options):
    return new_page(email, layout="2026", options=options)


def footer_button(form, name="Next"):
    """The step's own button: the last one of that name (the photo carousel has a "Next" too)."""
    return form.get_by_role("button", name=name, exact=True).last


def add_photos(page, form, files=PHOTOS, label="Add photos"):
    """Press "Add photos" and answer the file chooser it opens (the input is created on press)."""
    with page.expect_file_chooser() as chooser:
        form.get_by_role("button", name=label, exact=True).click()
    chooser.value.set_files(files)


def choose_condition(page, form, name="Used \u2013 good", label="Condition"):
    form.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("listbox").get_by_role("option", name=name, exact=True).click()


def quick_item(page, *, title="Oak dining table", price="120", chip="Furniture", add=True):
    """Step 1 of the default 2026 form, the quick way: photos, title, price, a chip, condition."""
    form = marketplace_form(page)
    if add:
        add_photos(page, form)
    form.get_by_role("textbox", name="Title", exact=True).fill(title)
    form.get_by_role("textbox", name="Price", exact=True).fill(price)
    form.get_by_role("button", name=chip, exact=True).click()
    expect(form.get_by_role("button", name="Category", exact=True)).to_contain_text(chip)
    choose_condition(page, form)
    return form


def to_final_step(page, *, boost_off=True, steps=3):
    """From a loaded default 2026 form to its last step (location prefilled), boost switched off."""
    form = quick_item(page)
    footer_button(form).click()
    expect(form.get_by_role("heading", name="Delivery method")).to_be_visible()
    if steps >= 3:
        footer_button(form).click()
        expect(form.get_by_role("heading", name="List in more places")).to_be_visible()
    if boost_off:
        form.get_by_role("switch", name=BOOST_SWITCH).click()
        expect(form.get_by_role("switch", name=BOOST_SWITCH)).to_have_attribute("aria-checked", "false")
    return form


def leave_page(page):
    dialog = page.get_by_role("dialog", name="Leave page?")
    expect(dialog).to_contain_text("Changes you made may not be saved.")
    dialog.get_by_role("button", name="Leave page", exact=True).click()


FIELDS_2026 = {"title": "Lamp", "price": "10", "category": "Household", "condition": "Used \u2013 good",
               "location": "Austin, Texas", "meetup": "Public meetup"}


def publish_2026_directly(sim, session, fields=None, photos=1):
    body, content_type = multipart(fields or FIELDS_2026,
                                   [("photos", f"{i}.png", png((i, 0, 0))) for i in range(photos)])
    return sim.call("POST", "/marketplace/create/item/publish", raw=body, headers={
        "Cookie": f"c_user={session['c_user']}; xs={session['xs']}", "Content-Type": content_type})


def get_as(sim, session, path):
    request = urllib.request.Request(sim.url(path), headers={
        "Cookie": f"c_user={session['c_user']}; xs={session['xs']}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


# -- control API ---------------------------------------------------------------------------------

def test_layout_api_validates_names_and_fills_every_default(sim):
    session = sim.session("ann@example.com")
    c_user = session["c_user"]
    assert sim.layout(c_user) == {"layout": "classic", "options": {}, "draft": None}
    status, body = sim.call("POST", "/__sim__/layout", {"c_user": c_user, "layout": "2027"})
    assert status == 400 and "2027" in body["error"] and "classic, 2026" in body["error"]
    status, body = sim.call("POST", "/__sim__/layout",
                            {"c_user": c_user, "layout": "2026", "options": {"colour": "red"}})
    assert status == 400 and "colour" in body["error"]
    status, body = sim.call("POST", "/__sim__/layout",
                            {"c_user": c_user, "layout": "2026", "options": {"steps": 7}})
    assert status == 400 and "steps" in body["error"]
    status, body = sim.call("POST", "/__sim__/layout",
                            {"c_user": c_user, "layout": "2026", "options": {"draft": 1}})
    assert status == 400 and "draft" in body["error"]
    status, body = sim.call("POST", "/__sim__/layout",
                            {"c_user": c_user, "layout": "classic", "options": {"steps": 2}})
    assert status == 400 and "steps" in body["error"]
    assert sim.call("POST", "/__sim__/sessions", {"email": "x@example.com", "layout": "nope"})[0] == 400
    assert sim.call("POST", "/__sim__/layout", {"layout": "2026"})[0] == 400  # no c_user

    assert sim.call("POST", "/__sim__/layout", {"c_user": c_user, "layout": "2026",
                                                "options": {"steps": 2}})[0] == HTTPStatus.NO_CONTENT
    assert sim.layout(c_user) == {"layout": "2026", "draft": None, "options": {
        "promote_dialog": "never", "linger_ms": 600, "linger_button": "disabled",
        "form_label": "marketplace", "add_photos_first": True, "draft": True,
        "category_trigger": "button", "category_chips": True, "description": "always",
        "location_step": 2, "location_role": "combobox", "prefill_location": "Round Rock, Texas",
        "city_state_suppresses": True, "meetup_spelling": "hyphen", "steps": 2,
        "boost_default_on": True, "final_button": "Next", "aria_disabled": False,
        "leave_dialog": True, "after_publish": "item", "review_link": True, "block_after_loads": 120,
        "chooser": False, "chooser_cards": "button", "cookie_consent": False,
        "carousel_arrows": "next", "condition_after_category": False, "more_details_redraw": False,
        "product_tags": False, "sku": False, "brand_availability": False,
    }}
    # Classic takes the after-publish options only, each checked.
    assert sim.call("POST", "/__sim__/layout", {"c_user": c_user, "layout": "classic",
                                                "options": {"linger_ms": 2000}})[0] == HTTPStatus.NO_CONTENT
    assert sim.layout(c_user)["options"] == {"promote_dialog": "even_ids", "linger_ms": 2000, "linger_button": "disabled"}
    for bad in ({"linger_ms": 10001}, {"linger_button": "maybe"}, {"promote_dialog": "sometimes"}):
        status, body = sim.call("POST", "/__sim__/layout", {"c_user": c_user, "layout": "classic", "options": bad})
        assert status == 400 and next(iter(bad)) in body["error"]
    sim.call("POST", "/__sim__/layout", {"c_user": c_user, "layout": "2026", "options": {"steps": 2}})
    # A new session for the same email keeps the layout; one that names a layout sets it.
    sim.session("ann@example.com")
    assert sim.layout(c_user)["layout"] == "2026"
    sim.session("ann@example.com", layout="2026", options={"final_button": "Publish"})
    assert sim.layout(c_user)["options"]["final_button"] == "Publish"
    assert sim.layout(c_user)["options"]["steps"] == 3  # options are replaced, not merged


def test_drafts_are_planted_listed_and_reset_clears_drafts_timeline_and_layouts(sim, page):
    c_user = page.session["c_user"]
    assert sim.call("POST", "/__sim__/drafts", {"c_user": c_user, "photos": 11})[0] == 400
    assert sim.call("POST", "/__sim__/drafts", {"c_user": c_user, "bogus": 1})[0] == 400
    sim.plant_draft(c_user, "Old lamp", "5", 2)
    draft = sim.layout(c_user)["draft"]
    assert draft["title"] == "Old lamp" and draft["price"] == "5" and draft["photos"] == 2
    assert len(set(draft["photo_digests"])) == 2  # two different colours
    assert sim.call("POST", "/__sim__/layout", {"c_user": c_user, "layout": "2026"})[0] == 204
    page.goto(sim.url(CREATE))
    expect(marketplace_form(page)).to_be_visible()
    assert len(sim.timeline()) == 1
    assert sim.call("POST", "/__sim__/reset")[0] == HTTPStatus.NO_CONTENT
    assert sim.layout(c_user) == {"layout": "classic", "options": {}, "draft": None}
    assert sim.timeline() == []


def test_new_fault_points_are_validated(sim):
    assert sim.call("POST", "/__sim__/faults", {"name": "daily_limit", "at": "lunch"})[0] == 400
    assert sim.call("POST", "/__sim__/faults", {"name": "policy_rejection", "at": "page"})[0] == 400
    block = sim.fault(name="temporary_block")
    limit = sim.fault(name="daily_limit", at="publish")
    duplicate = sim.fault(name="duplicate_listing")
    faults = {f["id"]: f for f in sim.faults()}
    assert faults[block]["at"] == "page" and faults[limit]["at"] == "publish"
    assert faults[duplicate]["at"] is None


def test_publish_endpoint_validates_a_2026_publish(sim):
    session = sim.session(layout="2026")
    for missing, error in [("category", "Choose a category."), ("condition", "Choose a condition."),
                           ("location", "Enter a location."),
                           ("meetup", "Choose at least one meetup option.")]:
        fields = {k: v for k, v in FIELDS_2026.items() if k != missing}
        assert publish_2026_directly(sim, session, fields) == (400, {"error": error})
    assert publish_2026_directly(sim, session, {**FIELDS_2026, "category": "Antiques & Collectibles"}) \
        == (400, {"error": "Choose a category."})
    assert publish_2026_directly(sim, session, photos=0) == (400, {"error": "Add at least one photo."})
    assert publish_2026_directly(sim, session, photos=11) == (400, {"error": "You can add up to 10 photos."})
    status, answer = publish_2026_directly(sim, session, photos=2)
    assert (status, answer) == (200, {"id": 1, "boosted": False, "boost_offer": False})
    [listing] = sim.listings()
    assert listing["condition"] == "Used - Good" and listing["layout"] == "2026"
    assert listing["meetup"] == ["Public meetup"] and listing["groups"] == []
    assert listing["photo_digests"] == [sha256(png((i, 0, 0))).hexdigest() for i in range(2)]


def test_block_after_loads_blocks_an_account_loading_the_form_too_often(sim):
    session = sim.session(layout="2026", options={"block_after_loads": 2})
    assert "role=\"form\"" in get_as(sim, session, CREATE)
    assert "role=\"form\"" in get_as(sim, session, CREATE)
    blocked = get_as(sim, session, CREATE)
    assert "You're Temporarily Blocked" in blocked and 'role="form"' not in blocked
    assert len(sim.timeline(session["c_user"])) == 2  # the blocked load served no form


# -- the default 2026 flow --------------------------------------------------------------------------

def test_2026_default_flow_records_exactly_what_was_sent(sim, new_page):
    page = page_2026(new_page)
    c_user = page.session["c_user"]
    sim.plant_draft(c_user, "Old lamp", "5", 2)
    draft_digests = sim.layout(c_user)["draft"]["photo_digests"]
    page.goto(sim.url(CREATE))
    form = marketplace_form(page)
    expect(form.get_by_role("heading", name="Item for sale", level=1)).to_be_visible()
    expect(form).to_have_attribute("aria-label", "marketplace")

    # The stale draft reopens: title, price, its two photos in the carousel.
    title = form.get_by_role("textbox", name="Title", exact=True)
    price = form.get_by_role("textbox", name="Price", exact=True)
    expect(title).to_have_value("Old lamp")
    expect(price).to_have_value("5")
    expect(form.get_by_role("button", name="Remove photo", exact=True)).to_have_count(2)
    expect(form.get_by_role("button", name="Previous", exact=True)).to_have_count(1)
    expect(form.get_by_role("button", name="Next", exact=True)).to_have_count(2)  # carousel + footer
    assert form.get_by_role("button", name="Next", exact=True).last.get_attribute("aria-disabled") is None

    # The file input exists only once "Add photos" is pressed; pressing it opens the chooser.
    expect(form.locator('input[type="file"]')).to_have_count(0)
    add_photos(page, form)
    expect(form.locator('input[type="file"][accept="image/*,image/heif,image/heic"][multiple]')).to_have_count(1)
    expect(form.get_by_text("Photos \u00b7 4 / 10")).to_be_visible()
    form.get_by_role("button", name="Remove photo", exact=True).first.click()  # the first draft photo
    expect(form.get_by_role("button", name="Remove photo", exact=True)).to_have_count(3)

    title.fill("Oak dining table")
    price.fill("120")
    # A suggested chip sets the category without the picker...
    form.get_by_role("button", name="Household", exact=True).click()
    category = form.get_by_role("button", name="Category", exact=True)
    expect(category).to_contain_text("Household")
    expect(page.get_by_role("dialog")).to_have_count(0)
    # ... and the picker: parents, their children with Back, search with a parent line.
    category.click()
    picker = page.get_by_role("dialog", name="Select a category")
    rows = picker.get_by_role("button")
    expect(rows).to_have_text(["Home & Garden", "Electronics", "Hobbies", "Clothing & Accessories",
                               "Family", "Miscellaneous"])
    expect(picker.get_by_role("option")).to_have_count(0)
    expect(picker.get_by_role("button", name="Antiques & Collectibles")).to_have_count(0)
    picker.get_by_role("button", name="Home & Garden", exact=True).click()
    expect(picker.get_by_role("button", name="Furniture", exact=True)).to_be_visible()
    picker.get_by_role("button", name="Back", exact=True).click()
    expect(picker.get_by_role("button", name="Hobbies", exact=True)).to_be_visible()
    picker.get_by_role("searchbox", name="Search").fill("furni")
    expect(rows).to_have_count(1)
    assert rows.first.evaluate("e => [e.tagName, e.innerText]") == ["DIV", "Furniture\nHome & Garden"]
    rows.first.click()
    expect(category).to_contain_text("Furniture")
    expect(picker).to_have_count(0)

    form.get_by_role("combobox", name="Condition", exact=True).click()
    expect(page.get_by_role("listbox").get_by_role("option")).to_have_text(CONDITIONS_2026)
    page.get_by_role("option", name="Used \u2013 good", exact=True).click()
    form.get_by_role("textbox", name="Description", exact=True).fill("Seats six.")

    footer_button(form).click()
    expect(form.get_by_role("heading", name="Delivery method")).to_be_visible()
    location = form.get_by_role("combobox", name="Location", exact=True)
    expect(location).to_have_value("Round Rock, Texas")  # the account's own city, prefilled
    location.fill("Austin")
    suggestions = form.locator('ul[role="listbox"] > li[role="option"]')
    expect(suggestions).to_have_text(["Austin, Texas", "Austin, Minnesota", "Austin, Arkansas",
                                      "Austin, Indiana"])
    form.get_by_role("option", name="Austin, Texas", exact=True).click()
    expect(location).to_have_value("Austin, Texas")
    expect(form.get_by_role("checkbox", name="Public meetup")).to_be_checked()
    expect(form.get_by_role("checkbox", name="Door pick-up")).not_to_be_checked()
    form.get_by_role("checkbox", name="Door drop-off").click()
    hide = form.get_by_role("switch", name="Hide from friends", exact=True)
    expect(hide).to_have_attribute("aria-checked", "false")
    hide.click()
    expect(hide).to_have_attribute("aria-checked", "true")

    footer_button(form).click()
    expect(form.get_by_role("heading", name="List in more places")).to_be_visible()
    expect(form.get_by_role("checkbox")).to_have_text(["Austin Buy & Sell", "Round Rock Marketplace",
                                                       "Texas Garage Sale"])
    form.get_by_role("checkbox", name="Round Rock Marketplace").click()
    boost = form.get_by_role("switch", name=BOOST_SWITCH, exact=True)
    expect(boost).to_have_attribute("aria-checked", "true")  # on by default: a paid ad
    boost.click()
    expect(boost).to_have_attribute("aria-checked", "false")
    final = form.get_by_role("button", name="Next", exact=True)
    expect(final).to_have_count(1)
    final.click()  # the last step's "Next" publishes
    expect(page.get_by_role("dialog", name="Leave page?")).to_be_visible()
    assert len(sim.listings()) == 1  # recorded before the page moves on
    leave_page(page)
    page.wait_for_url(sim.url("/marketplace/item/1/"))
    expect(page.get_by_role("heading", name="Oak dining table", level=1)).to_be_visible()

    [listing] = sim.listings()
    assert listing == {
        "id": 1, "c_user": c_user, "title": "Oak dining table", "price": "120",
        "category": "Furniture", "condition": "Used - Good", "description": "Seats six.",
        "location": "Austin, Texas", "delivery": "local_pickup",
        "meetup": ["Public meetup", "Door drop-off"], "hide_from_friends": True, "boosted": False,
        "groups": ["Round Rock Marketplace"], "photos": 3,
        "photo_bytes": listing["photo_bytes"], "photo_digests": draft_digests[1:] + digests(PHOTOS),
        "layout": "2026", "created_at": listing["created_at"], "tags": [], "sku": "", "state": "active",
    }
    assert sim.layout(c_user)["draft"] is None  # publishing cleared the draft
    [event] = sim.timeline(c_user)
    assert event["outcome"] == "published" and event["ended_at"] == listing["created_at"]


def test_2026_draft_is_saved_as_typed_and_reopens_where_typing_appends(sim, new_page):
    page = page_2026(new_page, add_photos_first=False)
    c_user = page.session["c_user"]
    page.goto(sim.url(CREATE))
    form = marketplace_form(page)
    form.locator('input[type="file"]').set_input_files(PHOTOS[:1])
    form.get_by_role("textbox", name="Title", exact=True).fill("Sofa")
    form.get_by_role("textbox", name="Price", exact=True).fill("40")
    draft = wait_for(lambda: (d := sim.layout(c_user)["draft"]) and d["price"] == "40" and d)
    assert draft == {"title": "Sofa", "price": "40", "photos": 1, "photo_digests": digests(PHOTOS[:1])}

    page.goto(sim.url(CREATE))  # the next load reopens the draft
    title = form.get_by_role("textbox", name="Title", exact=True)
    expect(title).to_have_value("Sofa")
    expect(form.get_by_role("button", name="Remove photo")).to_have_count(1)
    title.press_sequentially("Chair")
    assert title.input_value() != "Chair" and "Sofa" in title.input_value()  # typing appends
    title.fill("Chair")
    expect(title).to_have_value("Chair")
    first, second = sim.timeline(c_user)
    assert first["outcome"] == "abandoned" and first["ended_at"] == second["opened_at"]
    assert second["outcome"] is None and second["ended_at"] is None


def test_2026_carousel_next_opens_a_viewer_that_blocks_the_form(sim, new_page):
    page = page_2026(new_page, add_photos_first=False, draft=False)
    page.goto(sim.url(CREATE))
    form = marketplace_form(page)
    form.locator('input[type="file"]').set_input_files(PHOTOS)
    nexts = form.get_by_role("button", name="Next")
    expect(nexts).to_have_count(2)
    nexts.first.click()  # what a loose "Next" locator clicks: the carousel's arrow
    viewer = page.get_by_role("dialog", name="Photo viewer")
    expect(viewer).to_have_attribute("aria-modal", "true")
    title = form.get_by_role("textbox", name="Title", exact=True)
    box = title.bounding_box()
    covered = page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('[role=dialog]') !== null",
                            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
    assert covered
    form.get_by_role("button", name="Remove photo").first.click(force=True)  # lands on the viewer
    expect(form.get_by_role("button", name="Remove photo")).to_have_count(2)
    expect(form.get_by_role("heading", name="Item for sale")).to_be_visible()
    viewer.get_by_role("button", name="Close").click()
    expect(viewer).to_have_count(0)
    title.fill("Works again")
    expect(title).to_have_value("Works again")


def test_2026_incomplete_step_answers_with_an_alert_not_aria_disabled(sim, new_page):
    page = page_2026(new_page, draft=False)
    page.goto(sim.url(CREATE))
    form = marketplace_form(page)
    next_button = footer_button(form)
    assert next_button.get_attribute("aria-disabled") is None
    next_button.click()
    expect(form.get_by_role("alert")).to_have_text("Please complete the required fields")
    expect(form.get_by_role("heading", name="Item for sale")).to_be_visible()
    assert next_button.get_attribute("aria-disabled") is None


def test_2026_city_state_text_suppresses_every_suggestion(sim, new_page):
    page = page_2026(new_page, location_step=1, prefill_location="", draft=False)
    page.clock.install()
    page.goto(sim.url(CREATE))
    form = marketplace_form(page)
    location = form.get_by_role("combobox", name="Location", exact=True)
    expect(location).to_have_value("")
    location.press_sequentially("Austin, TX")
    page.clock.run_for(2000)
    expect(form.get_by_role("option")).to_have_count(0)
    location.fill("Atlantis")  # an unknown place: nothing either
    page.clock.run_for(2000)
    expect(form.get_by_role("option")).to_have_count(0)
    location.fill("Springfield")
    page.clock.run_for(600)
    expect(form.get_by_role("option")).to_have_count(5)


def test_2026_city_state_suggests_when_not_suppressed(sim, new_page):
    page = page_2026(new_page, location_step=1, prefill_location="", city_state_suppresses=False,
                     draft=False)
    page.goto(sim.url(CREATE))
    form = marketplace_form(page)
    form.get_by_role("combobox", name="Location", exact=True).fill("Austin, TX")
    expect(form.get_by_role("option").first).to_have_text("Austin, Texas")


def test_2026_typed_location_counts_only_once_a_suggestion_is_clicked(sim, new_page):
    page = page_2026(new_page, draft=False, steps=2, leave_dialog=False, prefill_location="")
    page.goto(sim.url(CREATE))
    form = quick_item(page)
    footer_button(form).click()
    location = form.get_by_role("combobox", name="Location", exact=True)
    location.fill("Seattle")
    expect(form.get_by_role("option", name="Seattle, Washington")).to_be_visible()
    footer_button(form).click()
    expect(form.get_by_role("alert")).to_have_text("Please complete the required fields")
    assert sim.listings() == []
    expect(form.get_by_role("option")).to_have_count(0)  # the click outside closed the list
    location.fill("Seattle")
    form.get_by_role("option", name="Seattle, Washington").click()
    form.get_by_role("switch", name=BOOST_SWITCH).click()
    footer_button(form).click()
    page.wait_for_url(sim.url("/marketplace/item/1/"))
    assert sim.listings()[0]["location"] == "Seattle, Washington"


def test_2026_beforeunload_guards_an_unfinished_form(sim, new_page):
    page = page_2026(new_page, draft=False)
    page.goto(sim.url(CREATE))
    marketplace_form(page).get_by_role("textbox", name="Title", exact=True).fill("Half done")
    seen = []
    page.on("dialog", lambda dialog: (seen.append(dialog.type), dialog.accept()))
    page.goto(sim.url("/marketplace/"))
    assert seen == ["beforeunload"]


def test_2026_class_names_and_ids_differ_between_two_loads(sim, new_page):
    page = page_2026(new_page, add_photos_first=False)

    def markup_tokens():
        page.goto(sim.url(CREATE))
        expect(marketplace_form(page).get_by_role("textbox", name="Title")).to_be_visible()
        return set(page.eval_on_selector_all(
            "[class], [id]", "els => els.flatMap(e => [...e.classList, e.id]).filter(Boolean)"))

    first, second = markup_tokens(), markup_tokens()
    assert len(first) > 20
    assert first.isdisjoint(second)


def test_2026_a_session_revoked_before_publish_sends_the_page_to_login(sim, new_page):
    page = page_2026(new_page, draft=False, steps=2)
    page.goto(sim.url(CREATE))
    form = to_final_step(page, steps=2)
    sim.call("POST", "/__sim__/sessions/revoke", {"xs": page.session["xs"]})
    footer_button(form).click()
    page.wait_for_url(re.compile(r"/login/\?next="))
    assert sim.listings() == []


def test_client_speaks_the_new_control_api(sim):
    client = SimulatorClient(sim.base_url)
    pair = client.mint_session("carol@example.com", layout="2026", options={"steps": 2})
    assert client.layout(pair["c_user"])["options"]["steps"] == 2
    client.set_layout(pair["c_user"], "2026", {"final_button": "Publish"})
    assert client.layout(pair["c_user"])["options"]["final_button"] == "Publish"
    client.plant_draft(pair["c_user"], "Old", "3", 1)
    assert client.layout(pair["c_user"])["draft"]["photos"] == 1
    assert client.timeline() == [] and client.timeline(pair["c_user"]) == []
    client.set_layout(pair["c_user"], "classic")
    assert client.layout(pair["c_user"])["layout"] == "classic"
    assert client.mint_session("carol@example.com")["c_user"] == pair["c_user"]
    assert client.listings(pair["c_user"]) == []


# -- each knob's alternative -----------------------------------------------------------------------

def test_2026_alternative_knobs_all_at_once(sim, new_page):
    page = page_2026(new_page, form_label="MARKETPLACE", add_photos_first=False, draft=False,
                     category_trigger="combobox", category_chips=False, description="more_details",
                     location_step=1, location_role="none", prefill_location="",
                     meetup_spelling="plain", steps=2, boost_default_on=False,
                     final_button="Publish", aria_disabled=True, leave_dialog=False,
                     after_publish="selling")
    c_user = page.session["c_user"]
    sim.plant_draft(c_user, "Ignored draft", "1", 1)
    page.clock.install()
    page.goto(sim.url(CREATE))
    form = page.get_by_role("form", name="MARKETPLACE", exact=True)
    title = form.get_by_role("textbox", name="Title", exact=True)
    expect(title).to_have_value("")  # draft off: the planted draft is not reopened
    expect(form.locator('input[type="file"][accept="image/*,image/heif,image/heic"][multiple]')).to_have_count(1)
    next_button = footer_button(form)
    expect(next_button).to_have_attribute("aria-disabled", "true")
    next_button.click(force=True)  # disabled: nothing, not even an alert
    expect(form.get_by_role("alert")).to_have_count(0)

    form.locator('input[type="file"]').set_input_files(PHOTOS[:1])
    title.fill("Oak dining table")
    page.clock.run_for(1000)
    expect(form.get_by_role("button", name="Furniture")).to_have_count(0)  # no chips
    form.get_by_role("textbox", name="Price", exact=True).fill("120")
    form.get_by_role("combobox", name="Category", exact=True).click()
    page.get_by_role("dialog", name="Select a category").get_by_role("button", name="Miscellaneous").click()
    expect(form.get_by_role("combobox", name="Category")).to_contain_text("Miscellaneous")
    choose_condition(page, form, "Used \u2013 fair")
    expect(form.get_by_role("textbox", name="Description")).to_have_count(0)
    more = form.get_by_role("button", name=re.compile(r"^More details"))
    expect(more).to_have_accessible_name("More details Attract more interest by including more details.")
    more.click()
    form.get_by_role("textbox", name="Description", exact=True).fill("Solid oak.")

    expect(form.get_by_role("combobox", name="Location")).to_have_count(0)
    location = form.get_by_role("textbox", name="Location", exact=True)  # no role: a textbox
    assert location.get_attribute("aria-label") == "Location"
    expect(next_button).to_have_attribute("aria-disabled", "true")
    location.fill("Portland")
    page.clock.run_for(600)
    form.get_by_role("option", name="Portland, Maine", exact=True).click()
    expect(next_button).to_have_attribute("aria-disabled", "false")
    next_button.click()

    expect(form.get_by_role("heading", name="Delivery method")).to_be_visible()
    expect(form.get_by_role("checkbox")).to_have_text(["Public meetup", "Door pickup", "Door drop-off"])
    public = form.get_by_role("checkbox", name="Public meetup")
    public.click()  # the last checked option: refused
    expect(public).to_be_checked()
    boost = form.get_by_role("switch", name=BOOST_SWITCH)
    expect(boost).to_have_attribute("aria-checked", "false")
    expect(form.get_by_role("button", name="Next")).to_have_count(0)
    publish = form.get_by_role("button", name="Publish", exact=True)
    expect(publish).to_have_attribute("aria-disabled", "false")
    publish.click()
    page.wait_for_url(sim.url(SELLING))  # no "Leave page?" dialog
    card = page.get_by_role("link", name="Oak dining table, $120, Portland, Maine, Active", exact=True)
    expect(card).to_have_attribute("href", "/marketplace/you/selling#")
    expect(page.get_by_role("link", name="Oak dining table", exact=True)).to_have_count(0)
    [listing] = sim.listings()
    assert (listing["category"], listing["condition"], listing["description"]) == \
        ("Miscellaneous", "Used - Fair", "Solid oak.")
    assert listing["meetup"] == ["Public meetup"] and listing["boosted"] is False
    assert listing["groups"] == [] and listing["location"] == "Portland, Maine"
    assert sim.layout(c_user)["draft"]["title"] == "Ignored draft"  # draft off: left alone


def test_2026_boost_left_on_asks_for_payment_and_four_steps_end_on_the_edit_page(sim, new_page):
    page = page_2026(new_page, steps=4, after_publish="edit", draft=False)
    page.goto(sim.url(CREATE))
    form = quick_item(page)
    footer_button(form).click()
    expect(form.get_by_role("heading", name="Delivery method")).to_be_visible()
    expect(form.get_by_role("switch", name=BOOST_SWITCH)).to_have_count(0)  # only on the last step
    footer_button(form).click()
    expect(form.get_by_role("heading", name="Offers")).to_be_visible()
    expect(form.get_by_role("switch", name="Accept offers")).to_have_attribute("aria-checked", "true")
    footer_button(form).click()
    expect(form.get_by_role("heading", name="List in more places")).to_be_visible()
    footer_button(form).click()  # Boost left on
    payment = page.get_by_role("dialog", name="Add payment method")
    expect(payment).to_be_visible()
    assert sim.listings()[0]["boosted"] is True
    payment.get_by_role("button", name="Close").click()
    leave_page(page)
    page.wait_for_url(re.compile(r"/marketplace/edit/\?listing_id=1$"))
    expect(page.get_by_role("heading", name="Edit listing")).to_be_visible()
    expect(page.get_by_role("textbox", name="Title")).to_have_value("Oak dining table")


def test_2026_stay_on_page_keeps_the_form_and_publishes_nothing_more(sim, new_page):
    page = page_2026(new_page, draft=False, steps=2)
    page.goto(sim.url(CREATE))
    form = to_final_step(page, steps=2)
    footer_button(form).click()
    dialog = page.get_by_role("dialog", name="Leave page?")
    dialog.get_by_role("button", name="Stay on page", exact=True).click()
    expect(dialog).to_have_count(0)
    expect(form.get_by_role("heading", name="Delivery method")).to_be_visible()
    assert len(sim.listings()) == 1 and page.url == sim.url(CREATE)
    footer_button(form).click()  # asks again, records nothing more
    leave_page(page)
    page.wait_for_url(sim.url("/marketplace/item/1/"))
    assert len(sim.listings()) == 1


@pytest.mark.parametrize("link", [True, False])
def test_2026_in_review_stays_on_the_page(sim, new_page, link):
    page = page_2026(new_page, after_publish="review", review_link=link, leave_dialog=False,
                     draft=False, steps=2)
    page.goto(sim.url(CREATE))
    footer_button(to_final_step(page, steps=2)).click()
    expect(page.get_by_role("heading", name="Your listing is in review")).to_be_visible()
    expect(page.get_by_role("form")).to_have_count(0)
    assert page.url == sim.url(CREATE) and len(sim.listings()) == 1
    view = page.get_by_role("link", name="View listing")
    if link:
        expect(view).to_have_attribute("href", "/marketplace/item/1/")
    else:
        expect(view).to_have_count(0)


def test_2026_selling_page_opens_the_create_chooser(sim, new_page):
    page = page_2026(new_page)
    page.goto(sim.url(SELLING))
    page.get_by_role("link", name="Create new listing").click()
    expect(page.get_by_role("heading", name="Create new listing")).to_be_visible()
    page.get_by_role("link", name="Item for sale").click()
    expect(marketplace_form(page)).to_be_visible()


# -- failure signals in 2026 -----------------------------------------------------------------------

def test_2026_temporary_block_on_page_load(sim, new_page):
    page = page_2026(new_page)
    sim.fault(name="temporary_block", at="page")
    page.goto(sim.url(CREATE))
    expect(page.get_by_role("heading", name="You're Temporarily Blocked")).to_be_visible()
    expect(page.get_by_text("You can't use this feature right now")).to_be_visible()
    expect(page.get_by_role("form")).to_have_count(0)


def test_2026_temporary_block_after_publish_records_nothing(sim, new_page):
    page = page_2026(new_page, draft=False, steps=2)
    sim.fault(name="temporary_block", at="publish")
    page.goto(sim.url(CREATE))
    footer_button(to_final_step(page, steps=2)).click()
    dialog = page.get_by_role("dialog", name="You're Temporarily Blocked")
    expect(dialog).to_contain_text("We limit how often you can post")
    dialog.get_by_role("button", name="OK", exact=True).click()
    expect(dialog).to_have_count(0)
    assert sim.listings() == [] and page.url == sim.url(CREATE)


def test_2026_daily_limit_on_page_load_refuses_the_final_button(sim, new_page):
    page = page_2026(new_page, draft=False, steps=2, leave_dialog=False)
    sim.fault(name="daily_limit", at="page")
    page.goto(sim.url(CREATE))
    form = marketplace_form(page)
    expect(form.get_by_text(DAILY_LIMIT)).to_be_visible()
    form = to_final_step(page, steps=2)
    expect(form.get_by_text(DAILY_LIMIT)).to_be_visible()
    publishes = []
    page.on("request", lambda r: r.url.endswith("/publish") and publishes.append(r.url))
    footer_button(form).click()  # refused by the page itself
    # One task later a publish would have been sent (the click's handler runs synchronously).
    page.evaluate("() => new Promise(resolve => setTimeout(resolve, 0))")
    assert publishes == []
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(form.get_by_role("heading", name="Delivery method")).to_be_visible()
    assert sim.listings() == [] and page.url == sim.url(CREATE)


def test_2026_daily_limit_on_page_load_disables_with_aria_disabled(sim, new_page):
    page = page_2026(new_page, draft=False, steps=2, aria_disabled=True)
    sim.fault(name="daily_limit")
    page.goto(sim.url(CREATE))
    form = to_final_step(page, steps=2)
    expect(footer_button(form)).to_have_attribute("aria-disabled", "true")
    expect(form.get_by_text(DAILY_LIMIT)).to_be_visible()


def test_2026_daily_limit_after_publish_records_nothing(sim, new_page):
    page = page_2026(new_page, draft=False, steps=2)
    sim.fault(name="daily_limit", at="publish")
    page.goto(sim.url(CREATE))
    footer_button(to_final_step(page, steps=2)).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(DAILY_LIMIT)
    assert sim.listings() == []
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_have_count(0)


def test_2026_duplicate_listing_lands_on_the_selling_page_unrecorded(sim, new_page):
    page = page_2026(new_page, draft=False, steps=2)
    assert publish_2026_directly(sim, page.session)[0] == HTTPStatus.OK
    sim.fault(name="duplicate_listing")
    page.goto(sim.url(CREATE))
    footer_button(to_final_step(page, steps=2)).click()
    page.wait_for_url(sim.url(SELLING))
    expect(page.get_by_text(DUPLICATE)).to_be_visible()
    assert [x["title"] for x in sim.listings()] == ["Lamp"]
    card = page.get_by_role("link", name="Lamp, $10, Austin, Texas, Active", exact=True)
    expect(card).to_be_visible()
    assert not re.search(r"\d", card.get_attribute("href"))


def test_2026_policy_rejection_alerts_and_records_nothing(sim, new_page):
    page = page_2026(new_page, draft=False, steps=2)
    sim.fault(name="policy_rejection")
    page.goto(sim.url(CREATE))
    form = to_final_step(page, steps=2)
    footer_button(form).click()
    expect(form.get_by_role("alert")).to_have_text(POLICY)
    assert sim.listings() == [] and page.url == sim.url(CREATE)


@pytest.mark.parametrize("fault", [{"name": "publish_never_confirms"},
                                   {"name": "drop_connection", "at": "publish"}])
def test_2026_unconfirmed_publish_records_and_stays_with_a_dialog(sim, new_page, fault):
    page = page_2026(new_page, draft=False, steps=2)
    sim.fault(**fault)
    page.goto(sim.url(CREATE))
    form = to_final_step(page, steps=2)
    footer_button(form).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Something went wrong")
    assert len(sim.listings()) == 1
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)
    expect(form.get_by_role("heading", name="Delivery method")).to_be_visible()
    assert page.url == sim.url(CREATE)


def test_2026_boost_offer_after_publish_not_now(sim, new_page):
    page = page_2026(new_page, draft=False, steps=2)
    sim.fault(name="boost_offer")
    page.goto(sim.url(CREATE))
    footer_button(to_final_step(page, steps=2)).click()
    page.get_by_role("dialog", name="Boost listing").get_by_role("button", name="Not now").click()
    leave_page(page)
    page.wait_for_url(sim.url("/marketplace/item/1/"))
    assert sim.listings()[0]["boosted"] is False


@pytest.mark.parametrize("fault, check", [
    ("session_expired", lambda page, sim: page.url == sim.url("/login/?next=/marketplace/create/item")),
    ("checkpoint_captcha", lambda page, sim: page.url.startswith(
        sim.url("/checkpoint/two_step_verification/?next="))),
    ("server_error", lambda page, sim: page.get_by_text("Sorry, something went wrong.").is_visible()),
])
def test_2026_page_faults(sim, new_page, fault, check):
    page = page_2026(new_page)
    sim.fault(name=fault)
    response = page.goto(sim.url(CREATE))
    assert check(page, sim)
    if fault == "checkpoint_captcha":
        expect(page.get_by_text("Please confirm you're a human")).to_be_visible()
        expect(page.get_by_title("captcha")).to_have_count(1)
    if fault == "server_error":
        assert response.status == HTTPStatus.INTERNAL_SERVER_ERROR


def test_2026_drop_connection_on_the_page(sim, new_page):
    page = page_2026(new_page)
    sim.fault(name="drop_connection")
    with pytest.raises(PlaywrightError, match="ERR_EMPTY_RESPONSE"):
        page.goto(sim.url(CREATE))


def test_2026_slow_fields_and_renamed_title(sim, new_page):
    page = page_2026(new_page, draft=False)
    sim.fault(name="slow_fields", delay_ms=600)
    sim.fault(name="renamed_field")
    page.goto(sim.url(CREATE))
    form = marketplace_form(page)
    expect(form).to_have_count(1)
    assert form.get_by_role("textbox").count() == 0
    expect(form.get_by_role("textbox", name="Listing title", exact=True)).to_be_visible()
    expect(form.get_by_role("textbox", name="Title", exact=True)).to_have_count(0)


def test_2026_locale_es_publishes_in_spanish(sim, new_page):
    page = page_2026(new_page, draft=False)
    sim.fault(name="locale_es")
    page.goto(sim.url(CREATE))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    form = marketplace_form(page)
    expect(form.get_by_role("heading", name="Artículo en venta")).to_be_visible()
    add_photos(page, form, label="Agregar fotos")
    form.get_by_role("textbox", name="Título", exact=True).fill("Mesa de roble")
    form.get_by_role("textbox", name="Precio", exact=True).fill("90")
    form.get_by_role("button", name="Muebles", exact=True).click()
    choose_condition(page, form, "Usado \u2013 buen estado", label="Estado")
    footer_button(form, "Siguiente").click()
    expect(form.get_by_role("heading", name="Método de entrega")).to_be_visible()
    expect(form.get_by_role("combobox", name="Ubicación")).to_have_value("Round Rock, Texas")
    expect(form.get_by_role("checkbox", name="Encuentro en un lugar público")).to_be_checked()
    footer_button(form, "Siguiente").click()
    expect(form.get_by_role("heading", name="Publicar en más lugares")).to_be_visible()
    form.get_by_role("switch", name="Promocionar la publicación después de publicarla").click()
    footer_button(form, "Siguiente").click()
    page.get_by_role("dialog", name="¿Salir de la página?").get_by_role(
        "button", name="Salir de la página").click()
    page.wait_for_url(sim.url("/marketplace/item/1/"))
    [listing] = sim.listings()
    assert (listing["category"], listing["condition"], listing["meetup"]) == \
        ("Muebles", "Usado - Buen estado", ["Encuentro en un lugar público"])


def test_timeline_records_every_create_page_load(sim, new_page):
    alice = page_2026(new_page, "alice@example.com", draft=False, steps=2)
    bob = new_page("bob@example.com")
    alice.goto(sim.url(CREATE))
    bob.goto(sim.url(CREATE))
    alice.goto(sim.url(CREATE))
    footer_button(to_final_step(alice, steps=2)).click()
    leave_page(alice)
    alice.wait_for_url(sim.url("/marketplace/item/1/"))
    events = sim.timeline()
    assert [(e["c_user"], e["outcome"]) for e in events] == [
        (alice.session["c_user"], "abandoned"), (bob.session["c_user"], None),
        (alice.session["c_user"], "published")]
    assert events[0]["ended_at"] == events[2]["opened_at"] and events[1]["ended_at"] is None
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", e["opened_at"]) for e in events)
    assert sim.timeline(bob.session["c_user"]) == [events[1]]


# -- the new faults in the classic layout ----------------------------------------------------------

def test_classic_temporary_block_after_publish_shows_a_dialog(sim, page):
    sim.fault(name="temporary_block", at="publish")
    page.goto(sim.url(CREATE))
    fill_and_publish(page)
    dialog = page.get_by_role("dialog", name="You're Temporarily Blocked")
    expect(dialog).to_contain_text("We limit how often you can post")
    dialog.get_by_role("button", name="OK").click()
    assert sim.listings() == []


def test_classic_daily_limit_on_page_keeps_publish_disabled_and_at_publish_refuses(sim, page):
    sim.fault(name="daily_limit", times=1)
    page.goto(sim.url(CREATE))
    form = marketplace_form(page)
    expect(form.get_by_text(DAILY_LIMIT)).to_be_visible()
    fill_item(page)
    to_review(page)
    expect(form.get_by_role("button", name="Publish")).to_be_disabled()
    expect(form.get_by_text(DAILY_LIMIT)).to_be_visible()

    sim.fault(name="daily_limit", at="publish")
    page.goto(sim.url(CREATE))
    fill_and_publish(page)
    expect(page.get_by_role("dialog")).to_contain_text(DAILY_LIMIT)
    assert sim.listings() == []


def test_classic_duplicate_listing_shows_on_the_selling_page(sim, page):
    sim.fault(name="duplicate_listing")
    page.goto(sim.url(CREATE))
    fill_and_publish(page)
    page.wait_for_url(sim.url(SELLING))
    expect(page.get_by_text(DUPLICATE)).to_be_visible()
    assert sim.listings() == []


# -- visits: the browser identity that reached "Facebook" ------------------------------------------

def raw_request(sim, method: str, path: str, headers: dict, body: bytes | None = None) -> int:
    """One request with exactly these headers (http.client adds Host and Accept-Encoding only),
    redirects not followed; its status."""
    connection = http.client.HTTPConnection(sim.base_url.removeprefix("http://"), timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_visits_record_every_page_request_with_its_identity_but_not_the_control_api(sim):
    session = sim.session("visitor@example.com")
    cookie = f"c_user={session['c_user']}; xs={session['xs']}"
    started = datetime.now(timezone.utc)
    assert raw_request(sim, "GET", "/marketplace/", {"User-Agent": "Agent/1.0",
                                                     "Accept-Language": "de-DE,de;q=0.9"}) == HTTPStatus.FOUND
    assert raw_request(sim, "GET", SELLING + "?ref=menu", {"Cookie": cookie}) == HTTPStatus.OK
    assert raw_request(sim, "POST", "/marketplace/create/item/publish", {"Cookie": cookie}) == HTTPStatus.BAD_REQUEST
    assert raw_request(sim, "GET", "/no/such/page", {"User-Agent": "Agent/2.0"}) == HTTPStatus.NOT_FOUND
    sim.listings()  # the control API: not a visit

    status, body = sim.call("GET", "/__sim__/visits")
    assert status == HTTPStatus.OK
    visits = body["visits"]
    stamps = [datetime.fromisoformat(v.pop("at")) for v in visits]
    assert visits == [
        {"c_user": None, "method": "GET", "path": "/marketplace/", "user_agent": "Agent/1.0",
         "accept_language": "de-DE,de;q=0.9"},
        {"c_user": session["c_user"], "method": "GET", "path": SELLING + "?ref=menu",
         "user_agent": "", "accept_language": ""},
        {"c_user": session["c_user"], "method": "POST", "path": "/marketplace/create/item/publish",
         "user_agent": "", "accept_language": ""},
        {"c_user": None, "method": "GET", "path": "/no/such/page", "user_agent": "Agent/2.0",
         "accept_language": ""},
    ]
    assert all(stamp.utcoffset() == timedelta(0) for stamp in stamps)
    assert started - timedelta(seconds=1) <= stamps[0] <= stamps[1] <= stamps[2] <= stamps[3]

    status, body = sim.call("GET", f"/__sim__/visits?c_user={session['c_user']}")
    assert [v["path"] for v in body["visits"]] == [SELLING + "?ref=menu", "/marketplace/create/item/publish"]
    client = SimulatorClient(sim.base_url)
    assert [v["method"] for v in client.visits(session["c_user"])] == ["GET", "POST"]
    assert len(client.visits()) == 4 and client.visits("100000000000000") == []

    assert sim.call("POST", "/__sim__/reset")[0] == HTTPStatus.NO_CONTENT
    assert client.visits() == []


def test_visits_keep_only_the_most_recent_ones():
    state = State()
    for number in range(VISIT_MEMORY + 1):
        state.record_visit(c_user=None, method="GET", path=f"/p{number}", user_agent="", accept_language="")
    visits = state.visits()
    assert len(visits) == VISIT_MEMORY == 5000
    assert (visits[0]["path"], visits[-1]["path"]) == ("/p1", f"/p{VISIT_MEMORY}")


def test_visits_show_the_user_agent_and_language_chromium_sent(sim, browser):
    session = sim.session("identity@example.com")
    context = browser.new_context(user_agent="IdentityTest/1.0 (X11; Linux x86_64)", locale="de-DE")
    context.set_default_timeout(20_000)
    try:
        context.add_cookies([
            {"name": "c_user", "value": session["c_user"], "url": sim.base_url},
            {"name": "xs", "value": session["xs"], "url": sim.base_url, "httpOnly": True},
        ])
        page = context.new_page()
        page.goto(sim.url("/marketplace/"))
        expect(page.get_by_role("link", name="Create new listing")).to_be_visible()
    finally:
        context.close()
    [visit] = [v for v in SimulatorClient(sim.base_url).visits(session["c_user"]) if v["path"] == "/marketplace/"]
    assert visit["user_agent"] == "IdentityTest/1.0 (X11; Linux x86_64)"
    assert visit["accept_language"].split(",")[0] == "de-DE"
