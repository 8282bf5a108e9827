"""The late-2026 variants of facebook.md ("Late 2026"), each on a small page written from its facts."""
from decimal import Decimal

import pytest

from driver import errors
from driver.listing import Listing
from driver.tests.conftest import BASE, FORM

TITLE_ONLY = '<label><span id="t">Title</span><input aria-labelledby="t"></label>'
CHOOSER = """<!doctype html><html lang="en"><body><h1>Create new listing</h1>
<div role="button" tabindex="0" onclick="location.assign('/marketplace/create/item/?ref=chooser')">
  <span>Item for sale</span><span>Create a single listing for one item.</span></div>
<div role="button" tabindex="0" onclick="location.assign('/marketplace/create/vehicle')">
  <span>Vehicle for sale</span><span>Sell a car, truck or other type of vehicle.</span></div>
{}</body></html>"""
CONSENT = """<div style="position:fixed;inset:0;z-index:10;background:rgba(0,0,0,.5)">
<div role="dialog" aria-modal="true" aria-labelledby="ch"><h2 id="ch">Allow the use of cookies from Facebook on this browser?</h2>
<button onclick="document.cookie='consent=declined;path=/'; this.closest('[role=dialog]').parentElement.remove()">Decline optional cookies</button>
<button data-cookiebanner="accept_button" title="Allow all cookies"
  onclick="document.cookie='consent=all;path=/'; this.closest('[role=dialog]').parentElement.remove()">Allow all cookies</button>
</div></div>"""
LISTING = Listing(title="Oak table", price=Decimal("120"), category="Furniture", condition="Used - Good",
                  location="Austin, TX", description="Solid oak, seats six.", tags=("oak", "dining table"), sku="OAK-120")


def consent_answer(form) -> str:
    return next((c["value"] for c in form.page.context.cookies() if c["name"] == "consent"), "")


def test_the_chooser_is_answered_with_item_for_sale_and_the_form_opens(serve):
    form = serve({"/marketplace/create/item": CHOOSER.format(""),
                  "/marketplace/create/item/?ref=chooser": FORM.format(TITLE_ONLY, "")}, go=False)

    form.open()

    assert form.page.url == BASE + "/marketplace/create/item/?ref=chooser"


def test_the_chooser_card_is_clicked_once_while_its_page_is_slow_to_come(serve):
    slow = CHOOSER.format("").replace(
        "onclick=\"location.assign('/marketplace/create/item/?ref=chooser')\"",
        "onclick=\"sessionStorage.clicks = (+sessionStorage.clicks || 0) + 1; "
        "setTimeout(() => location.assign('/marketplace/create/item/?ref=chooser'), 1500)\"",
    )
    form = serve({"/marketplace/create/item": slow, "/marketplace/create/item/?ref=chooser": FORM.format(TITLE_ONLY, "")}, go=False)

    form.open()

    assert form.page.url.endswith("?ref=chooser")
    assert form.page.evaluate("sessionStorage.clicks") == "1"  # the chooser still up was waited through, not clicked


def test_a_chooser_that_comes_again_as_a_new_page_is_answered_again(serve):
    # The card's first answer is the chooser again (a refused entry); the next card opens the form.
    form = serve({"/marketplace/create/item": CHOOSER.format(""), "/marketplace/create/item/?ref=chooser": FORM.format(TITLE_ONLY, "")},
                 go=False)
    form.page.route(BASE + "/marketplace/create/item/?ref=chooser",
                    lambda route: route.fulfill(status=200, content_type="text/html", body=CHOOSER.format("")), times=1)

    form.open()

    assert form.page.url.endswith("?ref=chooser") and form.page.get_by_role("form").count() == 1


@pytest.mark.parametrize("answer, message", [
    (lambda route: route.fulfill(status=500, content_type="text/html", body="<h1>Sorry, something went wrong.</h1>"),
     "Marketplace answered HTTP 500 for " + BASE + "/marketplace/create/item/?ref=chooser"),
    (lambda route: route.abort("connectionreset"), "Could not open " + BASE + "/marketplace/create/item/?ref=chooser"),
], ids=["http 500", "connection reset"])
def test_a_chooser_card_whose_page_fails_is_a_network_error(serve, answer, message):
    form = serve({"/marketplace/create/item": CHOOSER.format("")}, go=False, timeout_ms=3000)
    form.page.route(BASE + "/marketplace/create/item/?ref=chooser", answer)

    with pytest.raises(errors.NetworkError) as failure:
        form.open()

    assert str(failure.value).startswith(message)


def test_a_cookie_consent_over_the_chooser_is_declined_then_the_form_opens(serve):
    form = serve({"/marketplace/create/item": CHOOSER.format(CONSENT),
                  "/marketplace/create/item/?ref=chooser": FORM.format(TITLE_ONLY, "")}, go=False)

    form.open()

    assert consent_answer(form) == "declined"
    assert form.page.url.endswith("?ref=chooser")


def test_a_cookie_consent_over_the_form_is_declined_before_anything_is_typed(serve):
    form = serve({"/marketplace/create/item": FORM.format(TITLE_ONLY, "").replace("</body>", CONSENT + "</body>")}, go=False)

    form.open()
    form._textbox("title").first.fill("Oak table", timeout=2000)  # the overlay is gone: nothing takes the click

    assert consent_answer(form) == "declined"


# "More details" holds a contenteditable Description, Product tags (a chip per comma or Enter) and
# SKU; it ignores a click that comes just after the step was redrawn, and opens with Enter.
DETAILS = """
<div role="button" tabindex="0" aria-expanded="false" id="more">More details <span>Attract more interest by including more details.</span></div>
<div id="details" hidden>
  <div role="textbox" contenteditable="true" aria-multiline="true" aria-label="Description (recommended)"></div>
  <label><span id="tl">Product tags</span><textarea aria-labelledby="tl" id="tags"></textarea></label><div id="chips"></div>
  <label><span id="sl">SKU</span><input aria-labelledby="sl"></label>
</div>"""
DETAILS_JS = """
const more = document.getElementById('more'), details = document.getElementById('details');
let redrawnAt = Date.now();
const toggle = () => { const open = more.getAttribute('aria-expanded') !== 'true';
  more.setAttribute('aria-expanded', String(open)); details.hidden = !open; };
more.addEventListener('click', () => { if (Date.now() - redrawnAt < 60000) { redrawnAt = 0; return; } toggle(); });
more.addEventListener('keydown', (e) => { if (e.key === 'Enter') toggle(); });
const tags = document.getElementById('tags'), chips = document.getElementById('chips');
const chip = () => { const text = tags.value.replace(',', '').trim(); tags.value = '';
  if (text) chips.insertAdjacentHTML('beforeend', `<span>${text}<div role="button" aria-label="Remove ${text}">x</div></span>`); };
tags.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); chip(); } });
tags.addEventListener('input', () => { if (tags.value.includes(',')) chip(); });
"""


def test_description_tags_and_sku_behind_a_more_details_that_ignores_a_click_are_filled(serve):
    form = serve({"/marketplace/create/item": FORM.format(TITLE_ONLY + DETAILS, DETAILS_JS)})

    form._fill_step(LISTING, [], first=False)

    page = form.page
    assert page.locator('[contenteditable]').inner_text() == "Solid oak, seats six."
    assert page.locator("#chips > span").evaluate_all("spans => spans.map(s => s.firstChild.textContent)") == ["oak", "dining table"]
    assert page.locator("#tags").input_value() == ""
    assert page.get_by_role("textbox", name="SKU").input_value() == "OAK-120"
    form._ready_to_publish(LISTING)  # nothing asked for is left undone


@pytest.mark.parametrize("field, listing", [
    ("Product tags", Listing(title="T", price=Decimal(1), category="C", condition="New", location="L", tags=("oak",))),
    ("SKU", Listing(title="T", price=Decimal(1), category="C", condition="New", location="L", sku="OAK-1")),
])
def test_a_listing_with_tags_or_an_sku_on_a_form_without_that_field_is_refused_before_publishing(serve, field, listing):
    form = serve({"/marketplace/create/item": FORM.format(
        TITLE_ONLY + '<div role="button" aria-expanded="false" onclick="this.setAttribute(\'aria-expanded\', \'true\')">'
        'More details</div><div role="button">Publish</div>', "")})

    form._fill_step(listing, [], first=False)
    with pytest.raises(errors.LayoutChanged, match=f"shows no '{field}' field before publishing"):
        form._ready_to_publish(listing)

    assert not form.may_be_live


def redirect_to(path: str) -> str:
    return f"<script>location.replace({path!r})</script>"


CHECKPOINT = "<h1>Confirm your identity</h1><p>Help us confirm it's you.</p><div role=button>Continue</div>"


@pytest.mark.parametrize("path", [
    "/checkpoint/1501092823525282/", "/two_step_verification/authentication/", "/two_factor/", "/2fac/",
    "/login/identify/?ctx=recover", "/recover/initiate/",
])
def test_every_checkpoint_url_is_a_session_expired(serve, path):
    form = serve({path: CHECKPOINT, "/marketplace/create/item": redirect_to(path)}, go=False)

    with pytest.raises(errors.SessionExpired, match="log in|confirm its identity"):
        form.open()


def test_a_checkpoint_told_by_its_text_alone_is_a_session_expired(serve):
    form = serve({"/marketplace/create/item": "<h1>Verify your identity</h1><p>To continue, confirm your identity. "
                  "You may need to upload an ID.</p><div role=button>Continue</div>"}, go=False)

    with pytest.raises(errors.SessionExpired, match="confirm its identity"):
        form.open()


def test_a_captcha_on_a_two_step_verification_url_is_a_captcha(serve):
    path = "/two_step_verification/authentication/"
    form = serve({path: "<h1>Security check</h1><iframe title='captcha challenge' src='about:blank'></iframe>",
                  "/marketplace/create/item": redirect_to(path)}, go=False)

    with pytest.raises(errors.CaptchaRequired):
        form.open()


@pytest.mark.parametrize("text", ["Your listing is in review", "It's pending review and isn't visible to buyers yet."])
def test_an_item_page_that_says_in_review_is_published_in_review(serve, text):
    form = serve({
        "/marketplace/create/item": FORM.format('<div role="button">Publish</div>',
                                                "document.querySelector('[role=button]').onclick = () => location.assign('/marketplace/item/55/');"),
        "/marketplace/item/55/": f"<h1>Oak table</h1><p>{text}</p>",
    })
    footer = form._footer_button()

    published = form._published(form._click(footer, can_publish=True, title="Oak table"))

    assert (published.listing_url, published.in_review) == (BASE + "/marketplace/item/55/", True)


def test_the_daily_cap_on_the_last_step_is_a_rate_limit_before_any_click_that_can_publish(serve):
    form = serve({"/marketplace/create/item": FORM.format(
        "<h2>List in more places</h2><div role=checkbox aria-checked=false>Austin Buy &amp; Sell</div>"
        "<div>You can't add a listing to Marketplace right now because you reached your daily limit as a new Facebook account.</div>"
        '<div role="button" aria-disabled="true">Publish</div>', "")}, timeout_ms=5000)
    footer = form._footer_button()

    with pytest.raises(errors.RateLimited, match="daily listing limit"):
        form._click(footer, can_publish=True, title="Oak table")

    assert not form.may_be_live  # nothing was clicked: the listing is certainly not live
