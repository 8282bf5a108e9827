"""The driver's reading of a page, on small pages written from facebook.md's facts (not the simulator).

Each page is served through Playwright's routing at a facebook.com-like path, in real headless
Chromium; no Django, no simulator.
"""
import pytest

from driver import errors
from driver.tests.conftest import BASE, FORM


def test_the_footer_next_is_found_beside_a_photo_carousel_next(serve):
    form = serve({"/marketplace/create/item": FORM.format(
        '<label><span id="t">Title</span><input aria-labelledby="t"></label>'
        '<div><div role="button">Previous</div><img alt="Photo 1" src="data:,"><div role="button">Next</div></div>'
        '<div><div role="button" id="footer">Next</div></div>', "")})

    footer = form._footer_button()

    assert (footer.button.get_attribute("id"), footer.kind) == ("footer", "next")


def test_a_refused_next_is_reported_with_the_alert_text_not_retried(serve):
    form = serve({"/marketplace/create/item": FORM.format(
        '<label><span id="t">Title</span><input aria-labelledby="t"></label><div role="button">Next</div>',
        """document.querySelector('[role=button]').addEventListener('click', () => {
             const alert = document.createElement('div'); alert.setAttribute('role', 'alert');
             alert.textContent = 'Please complete the required fields'; document.querySelector('[role=form]').append(alert);
           });""")})
    footer = form._footer_button()

    with pytest.raises(errors.LayoutChanged, match="Please complete the required fields") as refused:
        form._click(footer, can_publish=False, title="Oak table")

    assert not refused.value.retryable and not form.may_be_live


def test_a_step_that_keeps_its_footer_button_element_is_still_seen_to_move_on(serve):
    # React may keep the footer's node and swap only what is above it.
    form = serve({"/marketplace/create/item": FORM.format(
        '<div id="step"><h1>Item for sale</h1><label><span id="t">Title</span><input aria-labelledby="t"></label></div>'
        '<div role="button">Next</div>',
        """document.querySelector('[role=button]').addEventListener('click', () => {
             document.getElementById('step').innerHTML = '<h2>Delivery method</h2><input aria-label="Location">';
           });""")})
    footer = form._footer_button()

    assert form._click(footer, can_publish=False, title="Oak table")["kind"] == "step"


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
    footer = form._footer_button()

    outcome = form._click(footer, can_publish=True, title="Oak table")

    assert footer.kind == "publish" and outcome["kind"] == "published"
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
    footer = form._footer_button()

    with pytest.raises(error, match=text):
        form._click(footer, can_publish=True, title="Oak table")
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
    footer = form._footer_button()

    outcome = form._click(footer, can_publish=True, title="Oak table")

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


# The last step as Facebook's single-page app may draw it again after the publishing click: after a
# promote dialog is dismissed (or with none), for a moment, with its button disabled under a
# "Publishing..." spinner, or enabled as before the click, before the page moves on.
LAST_STEP = """
const step = document.getElementById('step');
const draw = (state) => {
  step.innerHTML = '<h2>List in more places</h2><div role="checkbox" aria-checked="false">Austin Buy &amp; Sell</div>'
    + (state === 'disabled' ? '<div role="progressbar" aria-label="Publishing\u2026">Publishing\u2026</div>' : '')
    + '<div role="button"' + (state === 'disabled' ? ' aria-disabled="true"' : '') + '>Publish</div>';
  const button = step.querySelector('[role=button]');
  button.onclick = () => {
    if (button.getAttribute('aria-disabled') === 'true') return;
    fetch('/publish', {method: 'POST'});
    afterPublish();
  };
};
const linger = () => { draw(LINGER_STATE); if (LINGER_MS >= 0) setTimeout(() => location.assign('/marketplace/item/77/'), LINGER_MS); };
const afterPublish = () => {
  if (DIALOG !== 'before') return linger();
  const d = document.createElement('div'); d.setAttribute('role', 'dialog'); d.setAttribute('aria-modal', 'true');
  d.innerHTML = '<h2>Promote your listing?</h2><div role="button">Not Now</div><div role="button">Promote listing</div>';
  document.body.append(d);
  d.querySelector('[role=button]').onclick = () => { d.remove(); linger(); };
};
draw('enabled');
"""
PROMOTE_AFTER = ('<div role="dialog" aria-modal="true"><h2>Promote your listing?</h2><div role="button">Not Now</div></div>')


def last_step(serve, *, dialog: str, linger_state: str, linger_ms: int):
    """The last step's page, and the list of publish requests its button sent."""
    script = (LAST_STEP.replace("LINGER_STATE", repr(linger_state)).replace("LINGER_MS", str(linger_ms))
              .replace("DIALOG", repr(dialog)))
    form = serve({
        "/marketplace/create/item": FORM.format('<div id="step"></div>', script),
        "/marketplace/item/77/": "<h1>Oak table</h1>" + (PROMOTE_AFTER if dialog == "after" else ""),
    })
    publishes = []
    form.page.route(BASE + "/publish", lambda route: (publishes.append(route.request.method), route.fulfill(status=200, body="{}")))
    return form, publishes


@pytest.mark.parametrize("dialog", ["before", "after", "never"])
@pytest.mark.parametrize("linger_state", ["disabled", "enabled"])
@pytest.mark.parametrize("linger_ms", [0, 1500, 3000])
def test_the_last_step_shown_again_after_publishing_is_waited_through_never_clicked(serve, dialog, linger_state, linger_ms):
    form, publishes = last_step(serve, dialog=dialog, linger_state=linger_state, linger_ms=linger_ms)
    footer = form._footer_button()

    outcome = form._click(footer, can_publish=True, title="Oak table")

    assert footer.kind == "publish" and outcome["kind"] == "published"
    assert form._published(outcome).listing_url == BASE + "/marketplace/item/77/"
    assert publishes == ["POST"]  # one click published; the step drawn again was never clicked


def test_the_same_step_that_never_moves_on_is_unconfirmed_and_never_clicked_again(serve):
    form, publishes = last_step(serve, dialog="before", linger_state="enabled", linger_ms=-1)
    form.timeout_ms = 3000
    footer = form._footer_button()

    with pytest.raises(errors.PublishUnconfirmed, match="check Marketplace"):
        form._click(footer, can_publish=True, title="Oak table")

    assert publishes == ["POST"] and form.may_be_live


def test_a_driver_without_the_rule_would_publish_twice_here(serve, monkeypatch):
    # The check of the test above: the same page, the rule switched off, and the step drawn again
    # with its button enabled is taken for a new step and clicked: a second copy.
    form, publishes = last_step(serve, dialog="before", linger_state="enabled", linger_ms=1500)
    monkeypatch.setattr(form, "_publishing_steps", lambda: [])
    footer = form._footer_button()

    outcome = form._click(footer, can_publish=True, title="Oak table")
    assert outcome["kind"] == "step"
    form._click(form._footer_button(), can_publish=True, title="Oak table")

    assert publishes == ["POST", "POST"]


def test_a_new_step_after_a_click_that_can_publish_is_still_followed(serve):
    # "Next" on Delivery method can publish (for some accounts it does); here it leads to one more
    # step, which has a heading and controls of its own: that one is filled and clicked.
    form = serve({"/marketplace/create/item": FORM.format(
        '<div id="step"><h2>Delivery method</h2><div role="checkbox" aria-checked="true">Public meetup</div></div>'
        '<div role="button">Next</div>',
        """document.querySelector('[role=button]').addEventListener('click', () => {
             document.getElementById('step').innerHTML = '<h2>List in more places</h2>'
               + '<div role="checkbox" aria-checked="false">Austin Buy &amp; Sell</div>';
           });""")})
    footer = form._footer_button()

    assert form._click(footer, can_publish=True, title="Oak table")["kind"] == "step"
