"""What follows a publish (the promote offer, the lingering form) in every layout, the `late2026`
layout's variants and the `checkpoint` fault's, driven in real headless Chromium by role and
accessible name, as test_simulator.py drives the rest.
"""
from __future__ import annotations

import json
import re
import time
from datetime import datetime
from http import HTTPStatus

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from simulator.client import SimulatorClient
# The fixtures (a simulator process and a browser for this module) and the driving helpers.
from simulator.tests.test_simulator import (  # noqa: F401  (fixtures are used by name)
    BOOST_SWITCH, CREATE, DAILY_LIMIT, DUPLICATE, PHOTOS, SELLING, add_photos, browser,
    choose_condition, fill_and_publish, fill_item, footer_button, get_as, marketplace_form, new_page,
    page, publish_2026_directly, publish_directly, sim, simulator_process, to_final_step, to_review,
    wait_for)

CHOOSER = "/marketplace/create/"
ITEM_CARD = "Item for sale Create a single listing for one item."
CONSENT = "Allow the use of cookies from Facebook on this browser?"
PROMOTE = "Promote your listing?"
MORE_DETAILS = re.compile(r"^More details")
ITEM_URL = re.compile(r"/marketplace/item/(\d+)/$")

# Marks an element, and on leaving the page notes whether it was still there and whether the
# "Publishing…" spinner was: a lingering form draws its last step again (a new footer button).
PROBE = """button => {
  button.setAttribute("data-probe", "");
  window.addEventListener("pagehide", () => sessionStorage.setItem("probe", JSON.stringify({
    clicked_button_still_there: document.querySelector("[data-probe]") !== null,
    spinner: document.querySelector('[role="progressbar"]') !== null,
  })));
}"""


def probe_result(page) -> dict:
    return json.loads(page.evaluate("sessionStorage.getItem('probe')"))


def late_page(new_page, sim, *, consent: str | None = "all", email="seller@example.com", **options):
    """A page of a late2026 account; `consent` pre-answers the cookie dialog (None: unanswered)."""
    page = new_page(email, layout="late2026", options=options)
    if consent is not None:
        page.context.add_cookies([{"name": "sim_cookie_consent", "value": consent, "url": sim.base_url}])
    return page


def open_form(page, sim):
    """Straight to /marketplace/create/item, which lands on the chooser; its card leads to the form."""
    page.goto(sim.url(CREATE))
    expect(page).to_have_url(sim.url(CHOOSER))
    page.get_by_role("button", name=ITEM_CARD, exact=True).click()
    form = marketplace_form(page)
    expect(form.get_by_role("heading", name="Item for sale", level=1)).to_be_visible()
    return form


def late_item(page, form, *, title="Oak dining table", price="120"):
    """Step 1 of the default late2026 form: photos, title, price, a chip (then Condition appears)."""
    add_photos(page, form)
    form.get_by_role("textbox", name="Title", exact=True).fill(title)
    form.get_by_role("textbox", name="Price", exact=True).fill(price)
    form.get_by_role("button", name="Furniture", exact=True).click()
    expect(form.get_by_role("combobox", name="Category", exact=True)).to_contain_text("Furniture")
    choose_condition(page, form)
    return form


def late_to_last_step(page, form, *, boost_off=True):
    """From a complete step 1 to "List in more places" (Next, Next), the Boost switch off."""
    footer_button(form).click()
    expect(form.get_by_role("heading", name="Delivery method")).to_be_visible()
    expect(form.get_by_role("button", name="Publish")).to_have_count(0)
    footer_button(form).click()
    expect(form.get_by_role("heading", name="List in more places")).to_be_visible()
    if boost_off:
        form.get_by_role("switch", name=BOOST_SWITCH).click()
        expect(form.get_by_role("switch", name=BOOST_SWITCH)).to_have_attribute("aria-checked", "false")
    publish = form.get_by_role("button", name="Publish", exact=True)
    expect(publish).to_have_attribute("aria-disabled", "false")
    return publish


def quick_late(new_page, sim, **options):
    """A late2026 form without the chooser and the consent dialog in the way, at its last step."""
    page = late_page(new_page, sim, chooser=False, draft=False, **options)
    page.goto(sim.url(CREATE))
    form = late_item(page, marketplace_form(page))
    return page, form, late_to_last_step(page, form)


# == 1. What follows a publish ======================================================================

@pytest.mark.parametrize("promote", ["before", "after", "never"])
def test_classic_promote_dialog(sim, new_page, promote):
    page = new_page(layout="classic", options={"promote_dialog": promote, "linger_ms": 0})
    if promote == "never":
        publish_directly(sim, page.session)  # id 1: the browser's is even, which even_ids would offer
    page.goto(sim.url(CREATE))
    fill_and_publish(page)
    dialog = page.get_by_role("dialog", name="Boost listing")
    if promote == "before":
        expect(dialog).to_be_visible()
        assert page.url == sim.url(CREATE) and len(sim.listings()) == 1  # recorded, still on the form
        dialog.get_by_role("button", name="Not now", exact=True).click()
        page.wait_for_url(sim.url(SELLING))
        expect(page.get_by_role("dialog")).to_have_count(0)
        return
    page.wait_for_url(sim.url(SELLING))
    if promote == "after":
        expect(dialog).to_be_visible()  # on the page the publish landed on
        expect(dialog).to_have_attribute("aria-modal", "true")
        dialog.get_by_role("button", name="Not now", exact=True).click()
        expect(dialog).to_have_count(0)
        page.reload()  # shown once
    expect(page.get_by_role("link", name="Oak dining table")).to_have_count(1)
    expect(page.get_by_role("dialog")).to_have_count(0)


@pytest.mark.parametrize("promote", ["before", "after"])
def test_2026_promote_dialog(sim, new_page, promote):
    page = new_page(layout="2026", options={"promote_dialog": promote, "linger_ms": 0, "steps": 2,
                                            "draft": False, "leave_dialog": False})
    page.goto(sim.url(CREATE))
    footer_button(to_final_step(page, steps=2)).click()
    dialog = page.get_by_role("dialog", name="Boost listing")
    if promote == "before":
        expect(dialog).to_be_visible()
        assert page.url == sim.url(CREATE) and len(sim.listings()) == 1
        dialog.get_by_role("button", name="Not now", exact=True).click()
        page.wait_for_url(sim.url("/marketplace/item/1/"))
    else:
        page.wait_for_url(sim.url("/marketplace/item/1/"))
        expect(dialog).to_be_visible()
        dialog.get_by_role("button", name="Not now", exact=True).click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert sim.listings()[0]["boosted"] is False


@pytest.mark.parametrize("promote", ["after", "never"])
def test_late2026_promote_dialog_after_and_never(sim, new_page, promote):
    page, form, publish = quick_late(new_page, sim, promote_dialog=promote, linger_ms=0)
    publish.click()
    page.wait_for_url(sim.url("/marketplace/item/1/"))
    dialog = page.get_by_role("dialog", name=PROMOTE)
    if promote == "never":
        expect(page.get_by_role("heading", name="Oak dining table", level=1)).to_be_visible()
        expect(page.get_by_role("dialog")).to_have_count(0)
        return
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name=PROMOTE, level=2)).to_be_visible()
    for name in ("Not Now", "Promote listing", "Close"):
        expect(dialog.get_by_role("button", name=name, exact=True)).to_have_count(1)
    dialog.get_by_role("button", name="Close", exact=True).click()
    expect(dialog).to_have_count(0)
    assert sim.listings()[0]["boosted"] is False


def test_late2026_promote_listing_on_the_landing_page_boosts(sim, new_page):
    page, form, publish = quick_late(new_page, sim, promote_dialog="after", linger_ms=0)
    publish.click()
    page.wait_for_url(sim.url("/marketplace/item/1/"))
    page.get_by_role("dialog", name=PROMOTE).get_by_role("button", name="Promote listing").click()
    payment = page.get_by_role("dialog", name="Add payment method")
    expect(payment).to_be_visible()
    assert wait_for(lambda: sim.listings()[0]["boosted"])
    payment.get_by_role("button", name="Close").click()
    expect(page.get_by_role("dialog")).to_have_count(0)


@pytest.mark.parametrize("linger_ms, button", [(0, "disabled"), (0, "enabled"),
                                               (2500, "disabled"), (2500, "enabled")])
def test_2026_linger(sim, new_page, linger_ms, button):
    page = new_page(layout="2026", options={"linger_ms": linger_ms, "linger_button": button,
                                            "steps": 2, "draft": False, "leave_dialog": False,
                                            "aria_disabled": (linger_ms, button) == (2500, "disabled")})
    page.goto(sim.url(CREATE))
    form = to_final_step(page, steps=2)
    final = footer_button(form)
    final.evaluate(PROBE)
    final.click()
    if linger_ms == 0:
        page.wait_for_url(sim.url("/marketplace/item/1/"))
        assert probe_result(page) == {"clicked_button_still_there": True, "spinner": False}
        assert len(sim.listings()) == 1
        return
    started = time.monotonic()
    # The last step drawn again: same heading, a new footer button.
    page.wait_for_function("document.querySelector('[data-probe]') === null")
    assert page.url == sim.url(CREATE)
    expect(form.get_by_role("heading", name="Delivery method")).to_be_visible()
    expect(form.get_by_role("checkbox", name="Public meetup")).to_be_checked()
    again = footer_button(form)
    spinner = form.get_by_role("progressbar", name="Publishing\u2026", exact=True)
    assert len(sim.listings()) == 1
    if button == "disabled":
        expect(again).to_have_attribute("aria-disabled", "true")
        expect(spinner).to_be_visible()
        expect(form.get_by_text("Publishing\u2026")).to_be_visible()
        form.get_by_role("checkbox", name="Door drop-off").click()  # a change does not enable it
        expect(again).to_have_attribute("aria-disabled", "true")
        again.click(force=True)  # disabled: nothing
        page.wait_for_url(sim.url("/marketplace/item/1/"), timeout=10000)
        assert time.monotonic() - started >= 2.3
        assert probe_result(page) == {"clicked_button_still_there": False, "spinner": True}
        assert len(sim.listings()) == 1
        return
    assert again.get_attribute("aria-disabled") in (None, "false")
    expect(spinner).to_have_count(0)
    again.click()  # enabled: a second copy, then the page moves on at once
    page.wait_for_url(sim.url("/marketplace/item/2/"), timeout=10000)
    first, second = sim.listings()
    same = {k for k in first if k not in ("id", "created_at")}
    assert {k: first[k] for k in same} == {k: second[k] for k in same}
    page.goto(sim.url(SELLING))
    expect(page.get_by_text(DUPLICATE)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Oak dining table, "))).to_have_count(2)


@pytest.mark.parametrize("button", ["disabled", "enabled"])
def test_classic_linger(sim, page, button):
    sim.call("POST", "/__sim__/layout", {"c_user": page.session["c_user"], "layout": "classic",
                                         "options": {"linger_ms": 2500, "linger_button": button}})
    page.goto(sim.url(CREATE))
    fill_item(page)
    publish = to_review(page).get_by_role("button", name="Publish", exact=True)
    publish.evaluate(PROBE)
    publish.click()
    page.wait_for_function("document.querySelector('[data-probe]') === null")
    form = marketplace_form(page)
    expect(form.get_by_role("heading", name="Review your listing")).to_be_visible()
    again = form.get_by_role("button", name="Publish", exact=True)
    if button == "disabled":
        expect(again).to_have_attribute("aria-disabled", "true")
        expect(form.get_by_role("progressbar", name="Publishing\u2026")).to_be_visible()
        again.click(force=True)
        page.wait_for_url(sim.url(SELLING), timeout=10000)
        assert len(sim.listings()) == 1
        expect(page.get_by_text(DUPLICATE)).to_have_count(0)
        return
    expect(again).to_have_attribute("aria-disabled", "false")
    expect(form.get_by_role("progressbar")).to_have_count(0)
    again.click()
    # Listing 2 is even: classic's Boost offer, then the selling page at once.
    page.get_by_role("dialog", name="Boost listing").get_by_role("button", name="Not now").click()
    page.wait_for_url(sim.url(SELLING))
    assert len(sim.listings()) == 2
    expect(page.get_by_text(DUPLICATE)).to_be_visible()


def test_late2026_a_click_after_the_dismissed_promote_dialog_publishes_twice(sim, new_page):
    page, form, publish = quick_late(new_page, sim, linger_ms=2500)
    publish.click()
    dialog = page.get_by_role("dialog", name=PROMOTE)
    expect(dialog).to_be_visible()  # after every publish: before the page moves on
    assert len(sim.listings()) == 1
    dialog.get_by_role("button", name="Not Now", exact=True).click()
    again = form.get_by_role("button", name="Publish", exact=True)
    expect(again).to_have_attribute("aria-disabled", "false")  # the step drawn again, enabled
    expect(form.get_by_role("heading", name="List in more places")).to_be_visible()
    again.click()
    expect(dialog).to_be_visible()  # the second copy gets its offer too
    assert len(sim.listings()) == 2
    dialog.get_by_role("button", name="Not Now", exact=True).click()
    page.wait_for_url(sim.url("/marketplace/item/2/"))  # no second linger
    page.goto(sim.url(SELLING))
    expect(page.get_by_text(DUPLICATE)).to_be_visible()


# == 2. The late2026 layout =========================================================================

def test_layout_api_knows_late2026_and_its_defaults(sim):
    c_user = sim.session("ann@example.com")["c_user"]
    assert sim.call("POST", "/__sim__/layout", {"c_user": c_user, "layout": "late2026"})[0] == 204
    assert sim.layout(c_user)["options"] == {
        "promote_dialog": "before", "linger_ms": 600, "linger_button": "enabled",
        "form_label": "marketplace", "add_photos_first": True, "draft": True,
        "category_trigger": "combobox", "category_chips": True, "description": "contenteditable",
        "location_step": 2, "location_role": "combobox", "prefill_location": "Round Rock, Texas",
        "city_state_suppresses": True, "meetup_spelling": "plain", "steps": 3,
        "boost_default_on": True, "final_button": "Publish", "aria_disabled": True,
        "leave_dialog": False, "after_publish": "item", "review_link": True, "block_after_loads": 120,
        "chooser": True, "chooser_cards": "button", "cookie_consent": True,
        "carousel_arrows": "view_next_image", "condition_after_category": True,
        "more_details_redraw": True, "product_tags": True, "sku": True, "brand_availability": True,
    }
    for layout, bad in [("2026", {"promote_dialog": "even_ids"}), ("late2026", {"chooser": "yes"}),
                        ("late2026", {"description": "rich"}), ("classic", {"chooser": True}),
                        ("late2026", {"carousel_arrows": "arrows"}), ("classic", {"linger_ms": -1})]:
        status, body = sim.call("POST", "/__sim__/layout", {"c_user": c_user, "layout": layout, "options": bad})
        name = next(iter(bad))
        assert status == 400 and name in body["error"], (layout, bad, body)
    status, body = sim.call("POST", "/__sim__/sessions", {"email": "x@example.com", "layout": "late2026",
                                                          "options": {"linger_button": "sometimes"}})
    assert status == 400 and "linger_button" in body["error"] and "sometimes" in body["error"]
    status, body = sim.call("POST", "/__sim__/layout", {"c_user": c_user, "layout": "2027"})
    assert status == 400 and "classic, 2026, late2026" in body["error"]


def test_late2026_default_flow(sim, new_page):
    """Every default at once: consent, chooser, tags, SKU, the contenteditable description behind
    More details (a click right after the redraw is lost: Enter), three steps, Publish only on
    the last, the promote offer, the linger, the item page."""
    page = late_page(new_page, sim, consent=None)
    c_user = page.session["c_user"]
    page.goto(sim.url(CREATE))
    expect(page).to_have_url(sim.url(CHOOSER))
    consent = page.get_by_role("dialog", name=CONSENT)
    expect(consent).to_be_visible()
    consent.get_by_role("button", name="Allow all cookies").click()
    expect(consent).to_have_count(0)
    page.get_by_role("button", name=ITEM_CARD, exact=True).click()
    form = marketplace_form(page)
    expect(form.get_by_role("heading", name="Item for sale", level=1)).to_be_visible()
    expect(page.get_by_role("dialog", name=CONSENT)).to_have_count(0)  # answered: not again

    expect(form.get_by_role("combobox", name="Condition")).to_have_count(0)
    late_item(page, form)
    expect(form.get_by_role("button", name="View next image", exact=True)).to_have_count(1)
    expect(form.get_by_role("button", name="Next", exact=True)).to_have_count(1)  # the footer's only
    more = form.get_by_role("button", name=MORE_DETAILS)
    expect(more).to_have_accessible_name("More details Attract more interest by including more details.")
    expect(more).to_have_attribute("aria-expanded", "false")
    more.press("Enter")
    expect(more).to_have_attribute("aria-expanded", "true")
    form.get_by_role("textbox", name="Description (recommended)", exact=True).fill("Solid oak, seats six.")
    tags = form.get_by_role("textbox", name="Product tags", exact=True)
    tags.press_sequentially("oak,dining table,")
    tags.fill("leftover")  # not a tag: never turned into a chip
    form.get_by_role("textbox", name="SKU", exact=True).fill("OAK-6")
    expect(form.get_by_role("textbox", name="Brand", exact=True)).to_have_value("")
    expect(form.get_by_role("combobox", name="Availability")).to_contain_text("List as Single Item")

    final = late_to_last_step(page, form)
    final.click()
    page.get_by_role("dialog", name=PROMOTE).get_by_role("button", name="Not Now").click()
    page.wait_for_url(sim.url("/marketplace/item/1/"))
    [listing] = sim.listings()
    assert (listing["layout"], listing["tags"], listing["sku"], listing["description"], listing["state"]) \
        == ("late2026", ["oak", "dining table"], "OAK-6", "Solid oak, seats six.", "active")
    assert listing["meetup"] == ["Public meetup"] and listing["condition"] == "Used - Good"
    assert listing["location"] == "Round Rock, Texas" and listing["boosted"] is False
    [answer] = SimulatorClient(sim.base_url).consents(c_user)
    assert answer["answer"] == "all" and answer["c_user"] == c_user


def test_late2026_chooser_cards_and_the_way_in(sim, new_page):
    page = late_page(new_page, sim)
    page.goto(sim.url(CREATE))
    expect(page).to_have_url(sim.url(CHOOSER))
    cards = page.get_by_role("button")
    expect(cards).to_have_count(3)
    expect(page.get_by_role("button", name=ITEM_CARD, exact=True)).to_have_count(1)
    expect(page.get_by_role("button", name=re.compile(r"^Vehicle for sale "))).to_have_count(1)
    expect(page.get_by_role("button", name=re.compile(r"^Home for sale or rent "))).to_have_count(1)
    assert page.get_by_role("button", name=ITEM_CARD).inner_text().split("\n")[0] == "Item for sale"
    page.get_by_role("button", name=ITEM_CARD).click()
    expect(marketplace_form(page)).to_be_visible()
    form_url = page.url
    assert form_url.startswith(sim.url(CREATE + "?"))
    # A card's way in is used once: the same URL again, or straight to the form, is the chooser.
    page.goto(form_url)
    expect(page).to_have_url(sim.url(CHOOSER))
    expect(page.get_by_role("form")).to_have_count(0)
    page.goto(sim.url(CREATE))
    expect(page).to_have_url(sim.url(CHOOSER))
    # The chooser as links.
    sim.call("POST", "/__sim__/layout", {"c_user": page.session["c_user"], "layout": "late2026",
                                         "options": {"chooser_cards": "link"}})
    page.goto(sim.url(CREATE))
    expect(page.get_by_role("link")).to_have_count(3)
    page.get_by_role("link", name=ITEM_CARD, exact=True).click()
    expect(marketplace_form(page)).to_be_visible()
    # Off: straight in.
    sim.call("POST", "/__sim__/layout", {"c_user": page.session["c_user"], "layout": "late2026",
                                         "options": {"chooser": False}})
    page.goto(sim.url(CREATE))
    expect(marketplace_form(page)).to_be_visible()
    assert page.url == sim.url(CREATE)


def test_cookie_consent_covers_every_page_until_answered(sim, new_page):
    page = late_page(new_page, sim, consent=None)
    session = page.session
    listing_id = publish_2026_directly(sim, session)[1]["id"]
    consent = page.get_by_role("dialog", name=CONSENT)
    for path in (CHOOSER, SELLING, f"/marketplace/item/{listing_id}/",
                 f"/marketplace/edit/?listing_id={listing_id}"):
        page.goto(sim.url(path))
        expect(consent).to_be_visible()
        expect(consent).to_have_attribute("aria-modal", "true")
    # It takes every click meant for the page.
    with pytest.raises(PlaywrightTimeout):
        page.get_by_role("link", name="Your listings").click(timeout=1000)
    accept = page.locator('button[data-cookiebanner="accept_button"][title="Allow all cookies"]')
    expect(accept).to_have_text("Allow all cookies")
    decline = consent.get_by_role("button", name="Decline optional cookies", exact=True)
    assert decline.evaluate("b => b.tagName") == "BUTTON"
    decline.click()
    expect(consent).to_have_count(0)
    page.get_by_role("link", name="Your listings").click()
    page.wait_for_url(sim.url(SELLING))
    expect(page.get_by_role("dialog", name=CONSENT)).to_have_count(0)
    [cookie] = [c for c in page.context.cookies() if c["name"] == "sim_cookie_consent"]
    assert cookie["value"] == "declined" and cookie["path"] == "/"
    assert cookie["expires"] > time.time() + 360 * 24 * 3600
    client = SimulatorClient(sim.base_url)
    assert [a["answer"] for a in client.consents(session["c_user"])] == ["declined"]
    assert client.consents("nobody") == []
    # A browser that never answered: the form is covered too.
    other = late_page(new_page, sim, consent=None, email="other@example.com", chooser=False)
    other.goto(sim.url(CREATE))
    expect(other.get_by_role("dialog", name=CONSENT)).to_be_visible()
    expect(marketplace_form(other).get_by_role("button", name="Add photos")).to_be_attached()
    with pytest.raises(PlaywrightTimeout):
        marketplace_form(other).get_by_role("button", name="Add photos").click(timeout=1000)
    with pytest.raises(PlaywrightTimeout):  # the page under it is inert: no typing either
        marketplace_form(other).get_by_role("textbox", name="Title").fill("Lamp", timeout=1000)
    # Without the option, none.
    assert CONSENT not in get_as(sim, sim.session("classic@example.com"), SELLING)


def test_late2026_step1_redraw_lost_click_tags_and_arrows(sim, new_page):
    page = late_page(new_page, sim, chooser=False, draft=False)
    page.clock.install(time=datetime(2026, 12, 1, 12, 0, 0))
    page.goto(sim.url(CREATE))
    page.clock.pause_at(datetime(2026, 12, 1, 13, 0, 0))  # time stands still from here
    form = marketplace_form(page)
    add_photos(page, form)
    # The carousel: "View previous image" / "View next image", right before the footer.
    expect(form.get_by_role("button", name="View previous image", exact=True)).to_have_count(1)
    view_next = form.get_by_role("button", name="View next image", exact=True)
    assert view_next.evaluate(
        "b => b.parentElement.nextElementSibling.querySelector('[role=button][aria-label=Next]') !== null")
    title = form.get_by_role("textbox", name="Title", exact=True)
    title.fill("Oak dining table")
    page.clock.run_for(500)
    form.get_by_role("textbox", name="Price", exact=True).fill("120")
    expect(form.get_by_role("combobox", name="Condition")).to_have_count(0)
    old_title = title.element_handle()
    form.get_by_role("combobox", name="Category", exact=True).click()
    picker = page.get_by_role("dialog", name="Select a category")
    picker.get_by_role("button", name="Home & Garden", exact=True).click()
    picker.get_by_role("button", name="Furniture", exact=True).click()
    # Condition appears; step 1 is drawn anew (fresh nodes, same values).
    expect(form.get_by_role("combobox", name="Condition", exact=True)).to_be_visible()
    assert old_title.evaluate("n => n.isConnected") is False
    expect(title).to_have_value("Oak dining table")
    expect(form.get_by_role("button", name="Furniture", exact=True)).to_have_count(1)  # the chips stay
    choose_condition(page, form)
    more = form.get_by_role("button", name=MORE_DETAILS)
    more.click()  # within 1 s of the redraw: lost
    expect(more).to_have_attribute("aria-expanded", "false")
    expect(form.get_by_role("textbox", name="Product tags")).to_be_hidden()
    more.press("Enter")
    expect(more).to_have_attribute("aria-expanded", "true")
    more.press(" ")
    expect(more).to_have_attribute("aria-expanded", "false")
    page.clock.run_for(1100)
    more.click()  # long after: a click works
    expect(more).to_have_attribute("aria-expanded", "true")

    description = form.get_by_role("textbox", name="Description (recommended)", exact=True)
    assert description.evaluate("e => [e.tagName, e.isContentEditable, e.getAttribute('aria-multiline')]") \
        == ["DIV", True, "true"]
    expect(form.get_by_role("textbox", name="Description", exact=True)).to_have_count(0)
    expect(form.locator("textarea[aria-label]")).to_have_count(0)
    description.fill("Solid oak.")

    tags = form.get_by_role("textbox", name="Product tags", exact=True)
    assert tags.evaluate("e => [e.tagName, e.hasAttribute('aria-label'), e.closest('label') !== null]") \
        == ["TEXTAREA", False, True]
    tags.press_sequentially(" Oak , dining")
    tags.press("Enter")
    expect(tags).to_have_value("")
    tags.press_sequentially("OAK,,wood,")  # a duplicate (any case) and an empty one: ignored
    remove = form.get_by_role("button", name=re.compile(r"^Remove (?!photo$)"))  # the tags' chips
    expect(remove).to_have_count(3)
    expect(form.get_by_role("button", name="Remove dining", exact=True)).to_have_count(1)
    chip = form.get_by_role("button", name="Remove wood", exact=True).locator("xpath=..")
    assert chip.evaluate("s => [s.tagName, s.firstElementChild.textContent]") == ["SPAN", "wood"]
    form.get_by_role("button", name="Remove wood", exact=True).click()
    tags.fill(",".join(f"t{i}" for i in range(30)) + ",")  # at most 20
    expect(remove).to_have_count(20)
    form.get_by_role("button", name="Remove t17", exact=True).click()
    tags.fill("unfinished")
    form.get_by_role("textbox", name="SKU", exact=True).fill("  SKU-1 ")
    form.get_by_role("combobox", name="Availability", exact=True).click()
    page.get_by_role("listbox", name="Availability").get_by_role("option", name="List as In Stock").click()
    expect(form.get_by_role("combobox", name="Availability")).to_contain_text("List as In Stock")

    final = late_to_last_step(page, form)
    final.click()
    page.get_by_role("dialog", name=PROMOTE).get_by_role("button", name="Close").click()
    page.clock.run_for(700)  # the linger
    page.wait_for_url(sim.url("/marketplace/item/1/"))
    [listing] = sim.listings()
    # Oak, dining, then t0..t17 filled the 20; t17 removed; "unfinished" never became one.
    assert listing["tags"] == ["Oak", "dining"] + [f"t{i}" for i in range(17)]
    assert listing["sku"] == "SKU-1" and listing["description"] == "Solid oak."
    expect(page.get_by_text("SKU-1")).to_be_visible()


def test_late2026_chips_only_after_the_title_is_typed(sim, new_page):
    page = late_page(new_page, sim, chooser=False)
    sim.plant_draft(page.session["c_user"], "Oak dining table", "120", 1)
    page.clock.install()
    page.goto(sim.url(CREATE))
    form = marketplace_form(page)
    title = form.get_by_role("textbox", name="Title", exact=True)
    expect(title).to_have_value("Oak dining table")  # the draft's title...
    page.clock.run_for(1500)
    expect(form.get_by_role("button", name="Furniture")).to_have_count(0)  # ...brings no chips
    title.press("End")
    title.press_sequentially("s")
    page.clock.run_for(500)
    expect(form.get_by_role("button", name="Furniture", exact=True)).to_be_visible()


def test_late2026_daily_limit_only_on_the_last_step(sim, new_page):
    page = late_page(new_page, sim, chooser=False, draft=False)
    sim.fault(name="daily_limit")
    page.goto(sim.url(CREATE))
    form = late_item(page, marketplace_form(page))
    expect(form.get_by_text(DAILY_LIMIT)).to_have_count(0)
    footer_button(form).click()
    expect(form.get_by_role("heading", name="Delivery method")).to_be_visible()
    expect(form.get_by_text(DAILY_LIMIT)).to_have_count(0)
    footer_button(form).click()
    expect(form.get_by_role("heading", name="List in more places")).to_be_visible()
    text = form.get_by_text(DAILY_LIMIT)
    expect(text).to_be_visible()
    publish = form.get_by_role("button", name="Publish", exact=True)
    expect(publish).to_have_attribute("aria-disabled", "true")
    assert text.evaluate("(t) => !!(t.compareDocumentPosition(t.parentElement.querySelector("
                         "'[role=button][aria-label=Publish]')) & Node.DOCUMENT_POSITION_FOLLOWING)")
    form.get_by_role("switch", name=BOOST_SWITCH).click()
    form.get_by_role("checkbox", name="Texas Garage Sale").click()
    expect(publish).to_have_attribute("aria-disabled", "true")  # never enables
    publish.click(force=True)
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert sim.listings() == [] and page.url == sim.url(CREATE)


@pytest.mark.parametrize("layout", ["2026", "late2026"])
def test_item_review_lands_on_an_item_page_in_review(sim, new_page, layout):
    if layout == "2026":
        page = new_page(layout="2026", options={"after_publish": "item_review", "steps": 2, "draft": False,
                                                "leave_dialog": False, "linger_ms": 0})
        page.goto(sim.url(CREATE))
        footer_button(to_final_step(page, steps=2)).click()
    else:
        page, form, publish = quick_late(new_page, sim, after_publish="item_review", promote_dialog="never",
                                         linger_ms=0)
        publish.click()
    page.wait_for_url(sim.url("/marketplace/item/1/"))
    expect(page.get_by_text("Your listing is in review")).to_be_visible()
    expect(page.get_by_text("It's pending review and isn't visible to buyers yet.")).to_be_visible()
    [listing] = sim.listings()
    assert listing["state"] == "in_review" and listing["layout"] == layout
    page.goto(sim.url(SELLING))
    expect(page.get_by_role("link", name=re.compile(r"^Oak dining table, \$120, .*, In review$"))).to_have_count(1)


def test_2026_promote_after_an_in_place_review_shows_on_the_review(sim, new_page):
    page = new_page(layout="2026", options={"after_publish": "review", "promote_dialog": "after",
                                            "steps": 2, "draft": False, "leave_dialog": False})
    page.goto(sim.url(CREATE))
    footer_button(to_final_step(page, steps=2)).click()
    expect(page.get_by_role("heading", name="Your listing is in review")).to_be_visible()
    dialog = page.get_by_role("dialog", name="Boost listing")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Not now").click()
    expect(dialog).to_have_count(0)
    page.get_by_role("link", name="View listing").click()
    page.wait_for_url(sim.url("/marketplace/item/1/"))
    expect(page.get_by_role("dialog")).to_have_count(0)  # once only


# == 3. The checkpoint fault ========================================================================

CHECKPOINT_URLS = {
    "checkpoint": "/checkpoint/?next=/marketplace/create/item",
    "two_step_verification": "/two_step_verification/?next=/marketplace/create/item",
    "two_factor": "/two_factor/?next=/marketplace/create/item",
    "2fac": "/2fac/?next=/marketplace/create/item",
    "recover": "/recover/initiate/",
    "login_identify": "/login/identify/?ctx=recover",
}


def test_checkpoint_fault_variants_redirect_to_pages_without_a_captcha(sim, new_page):
    for layout in ("classic", "2026", "late2026"):
        page = new_page(f"{layout}@example.com", layout=layout,
                        options={"chooser": False, "cookie_consent": False} if layout == "late2026" else None)
        for variant, path in CHECKPOINT_URLS.items():
            sim.fault(name="checkpoint", variant=variant, times=1)
            page.goto(sim.url(CREATE))
            assert page.url == sim.url(path), (layout, variant)
            expect(page.get_by_role("heading", name="Confirm your identity", level=1)).to_be_visible()
            expect(page.locator("iframe")).to_have_count(0)
            assert "captcha" not in page.content().lower()
        page.goto(sim.url(CREATE))
        expect(marketplace_form(page)).to_be_visible()  # each fired once
    # The pages are served to anyone, logged out included.
    anonymous = new_page(None)
    for path in CHECKPOINT_URLS.values():
        assert anonymous.goto(sim.url(path)).status == HTTPStatus.OK
        assert anonymous.url == sim.url(path)
    # The captcha checkpoint is unchanged.
    page = new_page("classic@example.com")
    sim.fault(name="checkpoint_captcha", times=1)
    page.goto(sim.url(CREATE))
    assert page.url.startswith(sim.url("/checkpoint/?next="))
    expect(page.get_by_title("captcha")).to_have_count(1)


def test_checkpoint_identity_text_replaces_the_form(sim, new_page):
    page = late_page(new_page, sim, chooser=False)
    sim.fault(name="checkpoint", variant="identity_text")
    page.goto(sim.url(CREATE))
    assert page.url == sim.url(CREATE)
    expect(page.get_by_role("heading", name="Verify your identity")).to_be_visible()
    expect(page.get_by_text("To continue, confirm your identity. You may need to upload an ID.")).to_be_visible()
    expect(page.get_by_role("form")).to_have_count(0)
    assert sim.timeline() == []  # no form served
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/checkpoint/\?next="))
    expect(page.get_by_role("heading", name="Confirm your identity")).to_be_visible()


def test_checkpoint_fault_fields_are_validated(sim):
    status, body = sim.call("POST", "/__sim__/faults", {"name": "checkpoint", "variant": "moon"})
    assert status == 400 and "variant" in body["error"] and "identity_text" in body["error"]
    status, body = sim.call("POST", "/__sim__/faults", {"name": "server_error", "variant": "checkpoint"})
    assert status == 400 and "variant" in body["error"]
    plain = sim.fault(name="checkpoint")
    named = sim.fault(name="checkpoint", variant="2fac", times=2)
    other = sim.fault(name="server_error")
    faults = {f["id"]: f for f in sim.faults()}
    assert faults[plain]["variant"] == "checkpoint" and faults[named]["variant"] == "2fac"
    assert "variant" not in faults[other]
    SimulatorClient(sim.base_url).fault("checkpoint", variant="recover")
    assert sim.faults()[-1]["variant"] == "recover"
