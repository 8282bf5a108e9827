"""The driver's reading of a page, on small pages written from facebook.md's facts (not the simulator).

Each page is served through Playwright's routing at a facebook.com-like path, in real headless
Chromium; no Django, no simulator.
"""
import pytest
from playwright.sync_api import sync_playwright

from driver import errors
from driver.executable import find_chromium, launch_args
from driver.form import ListingForm
from driver.listing import Target
from driver.selectors import load_selectors

BASE = "https://marketplace.test"
CREATE = BASE + "/marketplace/create/item"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(find_chromium()), args=launch_args(), headless=True)
        yield browser
        browser.close()


def answer(html: str):
    return lambda route: route.fulfill(status=200, content_type="text/html", body=html)


@pytest.fixture
def serve(browser):
    """serve({path: html}) -> a page whose requests to those paths answer that HTML."""
    context = browser.new_context()
    page = context.new_page()

    def serve(pages: dict[str, str]):
        for path, html in pages.items():
            page.route(lambda url, at=BASE + path: url == at, answer(html))
        page.goto(CREATE)
        return ListingForm(page, Target(base_url=BASE, timeout_ms=10_000, selectors=load_selectors(None)))

    yield serve
    context.close()


FORM = """<!doctype html><html lang="en"><body><div role="form" aria-label="Marketplace">{}</div>
<script>{}</script></body></html>"""


def test_the_footer_next_is_found_beside_a_photo_carousel_next(serve):
    form = serve({"/marketplace/create/item": FORM.format(
        '<label><span id="t">Title</span><input aria-labelledby="t"></label>'
        '<div><div role="button">Previous</div><img alt="Photo 1" src="data:,"><div role="button">Next</div></div>'
        '<div><div role="button" id="footer">Next</div></div>', "")})

    button, kind = form._footer_button()

    assert (button.get_attribute("id"), kind) == ("footer", "next")


def test_a_refused_next_is_reported_with_the_alert_text_not_retried(serve):
    form = serve({"/marketplace/create/item": FORM.format(
        '<label><span id="t">Title</span><input aria-labelledby="t"></label><div role="button">Next</div>',
        """document.querySelector('[role=button]').addEventListener('click', () => {
             const alert = document.createElement('div'); alert.setAttribute('role', 'alert');
             alert.textContent = 'Please complete the required fields'; document.querySelector('[role=form]').append(alert);
           });""")})
    button, _ = form._footer_button()

    with pytest.raises(errors.LayoutChanged, match="Please complete the required fields") as refused:
        form._click(button, can_publish=False, title="Oak table")

    assert not refused.value.retryable and not form.may_be_live


def test_a_step_that_keeps_its_footer_button_element_is_still_seen_to_move_on(serve):
    # React may keep the footer's node and swap only what is above it.
    form = serve({"/marketplace/create/item": FORM.format(
        '<div id="step"><h1>Item for sale</h1><label><span id="t">Title</span><input aria-labelledby="t"></label></div>'
        '<div role="button">Next</div>',
        """document.querySelector('[role=button]').addEventListener('click', () => {
             document.getElementById('step').innerHTML = '<h2>Delivery method</h2><input aria-label="Location">';
           });""")})
    button, _ = form._footer_button()

    assert form._click(button, can_publish=False, title="Oak table") == {"kind": "step"}


@pytest.mark.parametrize("after, url", [
    ("location.assign('/marketplace/item/123456/')", BASE + "/marketplace/item/123456/"),
    ("location.assign('/marketplace/edit/?listing_id=987')", BASE + "/marketplace/item/987/"),
    ("location.assign('/marketplace/you/selling')", BASE + "/marketplace/you/selling"),
    ("document.body.innerHTML = '<h1>Your listing is in review</h1>'", BASE + "/marketplace/you/selling"),
])
def test_each_success_page_is_recognised_at_once_with_the_item_url_when_facebook_reveals_it(serve, after, url):
    cards = '<a href="/marketplace/you/selling#">Oak table, $120, Austin, Texas, Active</a>'
    form = serve({
        "/marketplace/create/item": FORM.format('<div role="button">Publish</div>',
                                                f"document.querySelector('[role=button]').onclick = () => {{ {after}; }};"),
        "/marketplace/item/123456/": "<h1>Oak table</h1>",
        "/marketplace/edit/?listing_id=987": "<h1>Edit listing</h1>",
        "/marketplace/you/selling": f"<h1>Your listings</h1>{cards}",
    })
    button, kind = form._footer_button()

    outcome = form._click(button, can_publish=True, title="Oak table")

    assert kind == "publish" and outcome["kind"] == "published"
    assert form._published(outcome).listing_url == url


@pytest.mark.parametrize("dialog, error, text", [
    ("<h2>You\u2019re Temporarily Blocked</h2><p>We limit how often you can post.</p>", errors.RateLimited, "blocked"),
    ("<p>You can't add a listing to Marketplace right now because you reached your daily limit as a new "
     "Facebook account</p>", errors.RateLimited, "capped for the day"),
    ("<p>Something went wrong. Please try again.</p><div role=button>Close</div>", errors.PublishUnconfirmed, "check Marketplace"),
])
def test_a_dialog_after_the_publishing_click_is_read_in_the_same_wait(serve, dialog, error, text):
    form = serve({"/marketplace/create/item": FORM.format(
        '<div role="button">Next</div>',
        f"""document.querySelector('[role=button]').onclick = () => {{
              const d = document.createElement('div'); d.setAttribute('role', 'dialog'); d.innerHTML = {dialog!r};
              document.body.append(d); }};""")})
    button, _ = form._footer_button()

    with pytest.raises(error, match=text):
        form._click(button, can_publish=True, title="Oak table")
    assert form.may_be_live


def test_leave_page_is_answered_and_the_outcome_read_after_it(serve):
    form = serve({
        "/marketplace/create/item": FORM.format('<div role="button">Publish</div>', """
            document.querySelector('[role=button]').onclick = () => {
              const d = document.createElement('div'); d.setAttribute('role', 'dialog');
              d.innerHTML = '<h2>Leave page?</h2><p>Changes you made may not be saved.</p>'
                + '<div role=button>Stay on page</div><div role=button id=leave>Leave page</div>';
              document.body.append(d);
              document.getElementById('leave').onclick = () => location.assign('/marketplace/item/42/');
            };"""),
        "/marketplace/item/42/": "<h1>Oak table</h1>",
    })
    button, _ = form._footer_button()

    outcome = form._click(button, can_publish=True, title="Oak table")

    assert form._published(outcome).listing_url == BASE + "/marketplace/item/42/"


def test_photos_replace_a_drafts_and_go_into_an_input_created_by_add_photos_outside_the_form(serve, tmp_path):
    from PIL import Image

    paths = []
    for index in range(2):
        paths.append(tmp_path / f"p{index}.png")
        Image.new("RGB", (8, 8), (index * 90, 20, 20)).save(paths[-1])
    form = serve({"/marketplace/create/item": FORM.format(
        '<div id="thumbs"><span><img alt="Draft photo" src="data:,"><div role="button">Remove photo</div></span></div>'
        '<div role="button" id="add">Add photos</div>',
        """const thumbs = document.getElementById('thumbs');
           thumbs.addEventListener('click', (e) => { if (e.target.textContent === 'Remove photo') e.target.parentElement.remove(); });
           document.getElementById('add').onclick = () => {
             const input = document.createElement('input');
             input.type = 'file'; input.multiple = true; input.accept = 'image/*,image/heif,image/heic'; input.hidden = true;
             input.onchange = () => { for (const f of input.files) thumbs.insertAdjacentHTML('beforeend',
               `<span><img alt="${f.name}" src="data:,"><div role="button">Remove photo</div></span>`); };
             document.body.append(input);
           };""")})

    form._photos([str(p) for p in paths])

    assert form.page.locator("#thumbs img").evaluate_all("imgs => imgs.map(i => i.alt)") == ["p0.png", "p1.png"]
