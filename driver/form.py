"""The page object of Marketplace's create-listing flow.

`ListingForm.post(listing, photos)` does what an operator does: open the form, fill each step with
whatever that step shows (photos, title, price, category, condition, description, location,
meetup options, "Hide from friends", the Boost switch), go on with the step footer's button, and
publish. One code path serves every variant of the form: what to do is decided from what the
page shows, never from a setting. Controls are located by role and accessible name from
`selectors`; every wait is on a condition with one timeout, and each wait after a click watches for
every outcome at once (`signals.OUTCOME`). Playwright's exceptions become `errors.PostingError`s here.

Exactly once: the first step (the item's details) is followed by at least one more, so its Next
cannot publish. Any later footer click can (the last step's button is "Next" for some accounts),
and Facebook shows nothing that tells a last step from another: from the first such click on,
`may_be_live` is set and no failure is retried.
"""
import logging
import re
from dataclasses import dataclass
from decimal import Decimal

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from driver import errors, signals
from driver.listing import Listing, Target

logger = logging.getLogger(__name__)

MAX_STEPS = 6
CHECK_MARKETPLACE = "The listing may be live: check Marketplace before retrying it"
#: What OPEN finds that ends the attempt (`ListingForm._raise_blocker`); "consent" and "chooser" only stand before the form
BLOCKERS = ("login", "blocked", "daily_limit", "http_error", "unreachable")

# Facebook writes "Used – good" with an en dash and in lower case in some builds: any dash matches
# any dash, case is ignored, and the whole name must match ("New" must not pick "Used - Like New").
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts",
    "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico",
    "NY": "New York", "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}


def normalise(text: str) -> str:
    """Lower case, one kind of dash, single spaces: how names are compared."""
    for dash in _DASHES[1:]:
        text = text.replace(dash, "-")
    text = text.replace("\u2018", "'").replace("\u2019", "'")
    return " ".join(text.split()).lower()


def exact_name(text: str) -> re.Pattern:
    pattern = "".join(f"[{_DASHES}]" if ch in _DASHES else re.escape(ch) for ch in text.strip())
    return re.compile(f"^\\s*{pattern}\\s*$", re.IGNORECASE)


def any_name(texts: list[str]) -> re.Pattern:
    """Any of these names exactly (dash- and case-insensitive)."""
    return re.compile("|".join(f"(?:{exact_name(t).pattern})" for t in texts), re.IGNORECASE)


def starts_with(text: str) -> re.Pattern:
    """A name beginning with `text` as whole words ("Category", "Category Furniture", not "Categoryx")."""
    return re.compile(f"^\\s*{re.escape(text.strip())}(?:\\W|$)", re.IGNORECASE)


def format_price(price: Decimal) -> str:
    text = f"{price:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _price_value(text: str) -> Decimal | None:
    cleaned = re.sub(r"[^\d.]", "", text or "")
    try:
        return Decimal(cleaned) if cleaned else None
    except ArithmeticError:
        return None


def place_parts(place: str) -> list[str]:
    return [normalise(part) for part in place.split(",") if part.strip()]


def place_matches(shown: str, wanted: str) -> bool:
    """Whether a place Facebook shows ("Austin, Texas") is the listing's ("Austin, TX")."""
    have, want = place_parts(shown), place_parts(wanted)
    if not have or not want or have[0] != want[0]:
        return False
    rest = have[1:]
    for part in want[1:]:
        names = {part, normalise(US_STATES.get(part.upper(), part))}
        if not any(r in names or normalise(US_STATES.get(r.upper(), r)) in names for r in rest):
            return False
    return True


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@dataclass
class Published:
    listing_url: str
    in_review: bool = False


@dataclass
class Previewed:
    """A dry run stopped before the first click that could publish, on this page."""

    page_url: str


@dataclass
class Footer:
    """The step footer's button, marked for its click, and the step as it was before it."""

    button: Locator
    kind: str  # "next" or "publish"
    mark: str
    disabled: bool
    signature: str
    alerts: list[str]


class ListingForm:
    def __init__(self, page: Page, target: Target, hints: dict | None = None):
        self.page = page
        # What this account's Marketplace has shown before (kept by its AccountBrowser): an order
        # to try things in, never a way to skip one.
        self.hints = hints if hints is not None else {}
        self.target = target
        self.s = target.selectors
        self.timeout_ms = target.timeout_ms
        #: a click that can publish has been made: the listing may be live, never post it again
        self.may_be_live = False
        self.form = page.get_by_role("form", name=re.compile(f"^\\s*{re.escape(self.s['form'])}\\s*$", re.IGNORECASE))
        self._done: set[str] = set()
        self._shown: dict = {}
        self._clicks = 0
        self._clicked_to_publish: list[str] = []
        #: the last navigation of the page that got no answer at all (a dropped connection): (url, why)
        self._unanswered: tuple[str, str] | None = None
        page.on("requestfailed", self._request_failed)

    # --- what an operator does -------------------------------------------------------------

    def post(self, listing: Listing, photos: list[str], *, dry_run: bool = False) -> Published | Previewed:
        """Open the form, fill every step and publish (or, in a dry run, stop before publishing).

        The exactly-once rule lives in this loop: once a click that can publish was made, a footer
        button is clicked again only on a step the form did not show at any such click (a heading
        or a set of controls of its own). The same step shown again (after a dismissed dialog,
        with a spinner, with its button disabled or enabled again) is waited through as the
        publish's outcome, never clicked: `_outcome` only reads a step whose signature is new,
        and this loop refuses any other.
        """
        self.open()
        for step in range(MAX_STEPS):
            self._fill_step(listing, photos, first=step == 0)
            footer = self._footer_button()
            can_publish = footer.kind == "publish" or step > 0
            if can_publish:
                self._ready_to_publish(listing)
                if dry_run:
                    return Previewed(page_url=self.page.url)
            outcome = self._click(footer, can_publish=can_publish, title=listing.title)
            if outcome["kind"] != "step":
                return self._published(outcome)
            if outcome["signature"] in self._publishing_steps():
                raise errors.PublishUnconfirmed(  # never reached while OUTCOME keeps the rule; never click on it
                    f"The form showed again a step whose button was already clicked to publish. {CHECK_MARKETPLACE}"
                )
        raise errors.LayoutChanged(f"The form was still asking for more after {MAX_STEPS} steps")

    def _request_failed(self, request) -> None:
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self._unanswered = (request.url, request.failure or "no answer")

    def _publishing_steps(self) -> list[str]:
        """The signatures of the steps on which a click that can publish was made."""
        return self._clicked_to_publish

    def open(self) -> None:
        url = self.target.base_url + self.s["create_path"]
        try:
            response = self.page.goto(url, wait_until="domcontentloaded")
        except PlaywrightTimeout as exc:
            raise errors.PageTimeout(f"The create-listing page did not load in time ({_short(exc)})") from exc
        except PlaywrightError as exc:
            raise errors.NetworkError(f"Could not open the create-listing page: {_short(exc)}") from exc
        if response is not None and response.status >= 500:
            self.raise_for_blockers()
            raise errors.NetworkError(f"Marketplace answered HTTP {response.status} for {url}")
        answered = None
        for _ in range(4):  # a cookie-consent dialog, the chooser: each answered once a page, then the form
            try:
                found = self._wait(signals.OPEN, [self.s])
            except PlaywrightTimeout as exc:
                self.raise_for_blockers()
                if self._unanswered:  # the chooser's card led to a page that never answered, the chooser kept
                    self._raise_blocker({"kind": "unreachable"})
                after = f" of the click on the chooser's \"{self.s['chooser_item']}\" card" if answered == "chooser" else ""
                raise errors.PageTimeout(
                    f"The create-listing form did not appear within {self.timeout_ms / 1000:g} s{after}"
                ) from exc
            if found["kind"] == "consent":
                self._press_in_dialog(self.s["cookie_decline"], failure=errors.LayoutChanged)
            elif found["kind"] == "chooser":
                name = re.compile(f"^\\s*{re.escape(self.s['chooser_item'])}", re.IGNORECASE)  # "Item for sale Create a..."
                card = self.page.get_by_role("link", name=name).or_(self.page.get_by_role("button", name=name)).first
                self._act("chooser_item", lambda: card.click(timeout=self.timeout_ms), f"\"{self.s['chooser_item']}\" card")
            else:
                break
            answered = found["kind"]
        if found["kind"] in ("consent", "chooser"):  # still there after four answers
            raise errors.LayoutChanged(f"The create-listing form did not appear: the page still shows the {found['kind']}")
        if found["kind"] != "form":
            self._raise_blocker(found)
        self._refuse_other_languages(found.get("lang", ""))

    # --- one step ------------------------------------------------------------------------------

    def _fill_step(self, listing: Listing, photos: list[str], *, first: bool) -> None:
        """Fill what this step of the form shows and has not been filled yet."""
        if first:
            self._photos(photos)
            self._title_and_price(listing.title, listing.price)
            self._category(listing.category)
            self._choose("condition", listing.condition)
        shown = self._step_controls()
        if self._details(listing, shown):
            shown = self._step_controls()  # "More details" opened
        if "location" not in self._done and shown.get("location") is not None:
            self._location(listing.location, current=shown["location"])
        if shown.get("meetup"):
            self._meetup(listing.delivery, shown["meetup"])
        self._switch("hide_from_friends", listing.hide_from_friends, shown.get("hide_from_friends"))

    def _step_controls(self) -> dict:
        self._shown = self._evaluate(signals.STEP_CONTROLS, [self.s]) or {}
        return self._shown

    def _ready_to_publish(self, listing: Listing) -> None:
        """Before any click that can publish: Boost off, and nothing asked for left undone."""
        self._switch("boost_switch", False, self._shown.get("boost_switch"))
        for key, value, what in (("description", listing.description, "a description"), ("tags", listing.tags, "product tags"),
                                 ("sku", listing.sku, "an SKU")):
            if value and key not in self._done:
                name = self.s["product_tags" if key == "tags" else key]
                raise errors.LayoutChanged(
                    f"The listing has {what}, but the form shows no '{name}' field before publishing: not publishing it without"
                )
        if listing.hide_from_friends and "hide_from_friends" not in self._done:
            raise errors.LayoutChanged(
                "The listing is to be hidden from friends, but the form shows no "
                f"'{self.s['hide_from_friends']}' switch before publishing: not publishing it visible to them"
            )

    def _footer_button(self) -> "Footer":
        """The step footer's Next or Publish (never the photo carousel's "Next" arrow), marked for
        its click, with what the click will be judged against: one round trip."""
        self._clicks += 1
        mark = str(self._clicks)
        try:
            state = self._wait(signals.FOOTER, [self.s, mark])
        except PlaywrightTimeout as exc:
            self.raise_for_blockers()
            raise errors.LayoutChanged("The form shows no Next or Publish button of its own (only the photos' arrows, or none)") from exc
        return Footer(button=self.form.locator(f'[data-poster-click="{mark}"]'), kind="publish" if state["publish"] else "next",
                      mark=mark, disabled=state["disabled"] == "true", signature=state["signature"], alerts=state["alerts"])

    def _click(self, footer: "Footer", *, can_publish: bool, title: str) -> dict:
        """Click Next or Publish and wait for what follows: the next step, or the publish's outcome."""
        if footer.disabled:
            self._wait_enabled(footer.mark)
        if can_publish:
            self.may_be_live = True
            self._clicked_to_publish.append(footer.signature)
        try:
            footer.button.click(timeout=self.timeout_ms)
        except PlaywrightError as exc:
            if can_publish:
                raise errors.PublishUnconfirmed(f"The click on the last step's button failed ({_short(exc)}). {CHECK_MARKETPLACE}") from exc
            raise errors.LayoutChanged(f"Next could not be clicked ({_short(exc)})") from exc
        return self._outcome(footer.mark, footer.signature, footer.alerts, title, can_publish=can_publish)

    def _outcome(self, clicked: str, before: str, alerts: list[str], title: str, *, can_publish: bool) -> dict:
        """One wait for every outcome of a click; dialogs that only hold the page are answered.

        After a click that can publish, a step counts only if its signature is none of the steps
        clicked to publish (`_publishing_steps`): the same step shown again is still the wait."""
        for _ in range(8):  # a leave-page dialog, a boost offer, a payment dialog: each answered once
            try:
                outcome = self._wait(signals.OUTCOME, [self.s, clicked, before, alerts, title, self._publishing_steps()])
            except PlaywrightTimeout as exc:
                self.raise_for_blockers()
                if can_publish:
                    raise errors.PublishUnconfirmed(
                        f"Marketplace did not confirm within {self.timeout_ms / 1000:g} s of the click that can "
                        f"publish. {CHECK_MARKETPLACE}"
                    ) from exc
                raise errors.LayoutChanged("Next was clicked but the form did not move to its next step") from exc
            kind = outcome["kind"]
            if kind in ("login", "blocked", "daily_limit"):
                self._raise_blocker(outcome)
            if kind == "policy":
                raise errors.PolicyRejected(f"Facebook refused the listing: {outcome['text']}")
            if kind == "alert":
                raise errors.LayoutChanged(
                    f"Marketplace refused to go on: \"{outcome['text']}\". Every field the poster knows was "
                    "filled: the form may ask for something new"
                )
            if kind == "unconfirmed":
                if can_publish:
                    raise errors.PublishUnconfirmed(
                        f"Marketplace answered \"{outcome['text']}\" after the click that can publish. {CHECK_MARKETPLACE}"
                    )
                raise errors.NetworkError(f"Marketplace answered \"{outcome['text']}\" to Next")
            if kind == "elsewhere":
                if can_publish:
                    raise errors.PublishUnconfirmed(
                        f"After the click that can publish the browser went to {outcome['url']}, which is not a "
                        f"page Marketplace confirms a listing with. {CHECK_MARKETPLACE}"
                    )
                raise errors.LayoutChanged(f"Next led away from the form, to {outcome['url']}")
            if kind == "leave":
                self._press_in_dialog(self.s["leave_page"])
            elif kind == "dismiss":
                logger.info("dismissing a dialog after a click on %s: %s", "the publishing button" if can_publish else "Next", outcome.get("text", ""))
                self._press_in_dialog(outcome["button"])
            else:
                return outcome  # step, published
        raise errors.PublishUnconfirmed(f"Dialogs kept coming after the click that can publish. {CHECK_MARKETPLACE}")

    def _published(self, outcome: dict) -> Published:
        """The listing's URL when Facebook revealed its id, else the selling page."""
        base = self.target.base_url
        if outcome.get("id"):
            url = f"{base}{self.s['item_path']}{outcome['id']}/"
        else:
            url = base + self.s["selling_path"]
        return Published(listing_url=url, in_review=bool(outcome.get("review")))

    # --- what the page says ----------------------------------------------------------------

    def raise_for_blockers(self) -> None:
        """Raise the failure the page shows, if any: login, checkpoint, CAPTCHA, block, daily limit."""
        url = self.page.url
        found = self._evaluate(signals.OPEN, [self.s])
        if found and found.get("kind") in BLOCKERS:
            self._raise_blocker(found)
        if any(marker in url for marker in self.s["login_paths"]):
            self._raise_blocker({"kind": "login", "url": url})

    def _raise_blocker(self, found: dict) -> None:
        after = f" after the click that can publish. {CHECK_MARKETPLACE}" if self.may_be_live else ""
        if found["kind"] in ("http_error", "unreachable"):
            if found["kind"] == "http_error":
                what = f"Marketplace answered HTTP {found['status']} for {found['url']}"
            else:  # Chromium's own error page: the URL that failed is the navigation's
                url, why = self._unanswered or ("a page of Marketplace", "no answer")
                what = f"Could not open {url}: {why}"
            raise (errors.PublishUnconfirmed if self.may_be_live else errors.NetworkError)(what + after)
        if found["kind"] == "login":
            url = found.get("url") or self.page.url
            if self._evaluate(signals.CAPTCHA, [self.s]):  # a checkpoint may ask for one on any URL
                raise errors.CaptchaRequired(
                    f"Facebook asks this account to solve a CAPTCHA ({url}){after}. Log in by hand, pass the "
                    "check, then upload a fresh session"
                )
            if found.get("text"):
                raise errors.SessionExpired(
                    f"Facebook asks this account to confirm its identity (\"{found['text']}\", {url}){after}. Log in by "
                    "hand, pass the check, then upload a fresh session"
                )
            raise errors.SessionExpired(f"Facebook asked this account to log in again ({url}){after}. Upload a fresh session")
        if found["kind"] == "daily_limit":
            raise errors.RateLimited(
                f"Facebook says this account reached a new account's daily listing limit (\"{found.get('text', '')}\"): "
                "it is capped for the day, no more listings from it until tomorrow"
            )
        raise errors.RateLimited(
            "Facebook has temporarily blocked posting for this account"
            f"{' right after the click that can publish (the listing is not published)' if self.may_be_live else ''}. "
            "Wait before posting with it again: posting into a block deepens it"
        )

    def _refuse_other_languages(self, lang: str) -> None:
        if lang and not lang.lower().startswith("en"):
            raise errors.UnsupportedLanguage(
                f"Facebook shows this account in '{lang}'. The poster reads the English interface: "
                "set the account's language to English (US) and post again"
            )

    def _evaluate(self, script: str, arg) -> dict | None:
        try:
            return self.page.evaluate(script, arg)
        except PlaywrightError:  # the page is navigating or gone: nothing to read now
            return None

    def _wait(self, script: str, arg, timeout_ms: float | None = None) -> dict:
        """Wait for `script` to answer, across navigations, within one timeout: one round trip
        per page (`signals.polled`)."""
        timeout_ms = self.timeout_ms if timeout_ms is None else timeout_ms
        for _ in range(20):
            try:
                answer = self.page.evaluate(signals.polled(script), [arg, timeout_ms])
            except PlaywrightError as exc:
                # The page navigated while being read (the context was destroyed): read the new one.
                if "context was destroyed" not in str(exc) and "navigat" not in str(exc).lower():
                    raise
                self.page.wait_for_load_state("domcontentloaded", timeout=self.timeout_ms)
                continue
            if isinstance(answer, dict) and answer.get("__timeout"):
                raise PlaywrightTimeout(f"Timeout {timeout_ms:g}ms exceeded waiting for the page")
            return answer
        raise PlaywrightTimeout("The page kept navigating")

    # --- controls ----------------------------------------------------------------------------

    def _act(self, key: str, action, what: str | None = None):
        """Do `action` on a control (Playwright waits for it); LayoutChanged if it never comes."""
        try:
            return action()
        except PlaywrightTimeout as exc:
            self._layout_changed(key, exc, what)

    def _layout_changed(self, key: str, exc: Exception, what: str | None = None):
        self.raise_for_blockers()
        raise errors.LayoutChanged(
            f"The {what or repr(self.s[key])} control is not on the create-listing form: Facebook "
            f"may have changed its markup. Set '{key}' in MARKETPLACE_SELECTORS_FILE to follow it"
        ) from exc

    def _wait_enabled(self, mark: str) -> None:
        try:
            found = self._wait(signals.ENABLED, [self.s, mark])
        except PlaywrightTimeout as exc:
            self.raise_for_blockers()
            raise errors.LayoutChanged(
                "Next stayed disabled after every field was filled: Marketplace did not accept one of them "
                "(photos, title, price, category, condition, location)"
            ) from exc
        if found["kind"] not in ("enabled", "gone"):
            self._raise_blocker(found)

    def _press_in_dialog(self, name: str, failure: type[errors.PostingError] = errors.PublishUnconfirmed) -> None:
        dialog = self.page.get_by_role("dialog").or_(self.page.get_by_role("alertdialog"))
        button = dialog.get_by_role("button", name=exact_name(name)).first
        try:
            handle = button.element_handle(timeout=self.timeout_ms)
            handle.click(timeout=self.timeout_ms)
        except PlaywrightError as exc:
            raise failure(f"The \"{name}\" button of a dialog could not be pressed ({_short(exc)}). {CHECK_MARKETPLACE if self.may_be_live else ''}".strip()) from exc
        try:  # pressed once: a dialog that lingers is waited out, never pressed again
            handle.wait_for_element_state("hidden", timeout=self.timeout_ms)
        except PlaywrightTimeout as exc:
            raise failure(
                f"The dialog stayed open after its \"{name}\" button was pressed. {CHECK_MARKETPLACE if self.may_be_live else ''}".strip()
            ) from exc
        except PlaywrightError:
            pass  # the page navigated away with it: gone

    def _textbox(self, key: str) -> Locator:
        return self.form.get_by_role("textbox", name=exact_name(self.s[key]))

    def _title_and_price(self, title: str, price: Decimal) -> None:
        """Replace whatever the fields hold (a stale draft's text) with the listing's, and read both back."""
        title_box, price_box = self._textbox("title").first, self._textbox("price").first
        self._act("title", lambda: title_box.fill(title, timeout=self.timeout_ms))
        self._act("price", lambda: price_box.fill(format_price(price), timeout=self.timeout_ms))
        shown_title, shown_price = self._evaluate(
            signals.FIELD_VALUES, [normalise(self.s["form"]), [normalise(self.s["title"]), normalise(self.s["price"])]]
        ) or (None, None)
        if shown_title is None or shown_price is None:  # named otherwise than by the selectors: ask Playwright
            shown_title, shown_price = title_box.input_value(), price_box.input_value()
        if shown_title.strip() != title.strip():
            raise errors.LayoutChanged(f"The {self.s['title']} field shows \"{shown_title}\" after \"{title}\" was entered")
        if _price_value(shown_price) != price:
            raise errors.LayoutChanged(f"The {self.s['price']} field shows \"{shown_price}\" after {format_price(price)} was entered")

    def _photos(self, photos: list[str]) -> None:
        """Exactly the listing's photos, in order: a stale draft's own photos are removed first."""
        form_label, remove_name = normalise(self.s["form"]), normalise(self.s["remove_photo"])
        state = self._evaluate(signals.PHOTO_STATE, [form_label, remove_name, self.s["photo_input"]]) or {"removes": 0, "input": False}
        remove = self.form.get_by_role("button", name=starts_with(self.s["remove_photo"]))
        for count in range(state["removes"], 0, -1):
            remove.first.click(timeout=self.timeout_ms)
            self._act("remove_photo", lambda: expect(remove).to_have_count(count - 1, timeout=self.timeout_ms))
        upload = self.form.locator(self.s["photo_input"]).first
        if not state["input"]:
            # Some builds create the file input only once "Add photos" is pressed: in the form, or
            # at the end of the page (then the newest one is the form's).
            add = self.form.get_by_role("button", name=starts_with(self.s["add_photos"]))
            self._act("add_photos", lambda: add.first.click(timeout=self.timeout_ms), "Add photos button")
            anywhere = self.page.locator(self.s["photo_input"])
            self._act("photo_input", lambda: upload.or_(anywhere).first.wait_for(state="attached", timeout=self.timeout_ms),
                      "photo upload input")
            if not upload.count():
                upload = anywhere.last
        self._act("photo_input", lambda: upload.set_input_files(photos, timeout=self.timeout_ms), "photo upload input")
        counted = f"(args) => ({signals.PHOTO_COUNT})(args) === {len(photos)}"
        try:
            self._wait(counted, [form_label, remove_name])
        except PlaywrightTimeout as exc:
            shown = self.page.evaluate(signals.PHOTO_COUNT, [form_label, remove_name])
            raise errors.LayoutChanged(f"The form shows {shown} photo(s) after {len(photos)} were added") from exc

    def _trigger(self, key: str) -> Locator:
        name = starts_with(self.s[key])
        return self.form.get_by_role("combobox", name=name).or_(self.form.get_by_role("button", name=name)).first

    def _category(self, category: str) -> None:
        """The category: kept when shown, else a suggested chip named as it, else the picker."""
        form_label, label, wanted = normalise(self.s["form"]), normalise(self.s["category"]), normalise(category)
        try:
            state = self._wait(signals.CATEGORY_STATE, [form_label, label, wanted, "category"])
        except PlaywrightTimeout as exc:
            self._layout_changed("category", exc)
        if state["shows"]:
            return
        if state["chip"]:  # a suggested category chip: no picker needed
            self.page.locator('[data-poster-pick="category"]').click(timeout=self.timeout_ms)
        else:
            self._pick_category(category)
        try:  # read afresh: setting the category may redraw the step (Condition appears only then)
            self._wait(signals.CATEGORY_SHOWS, [form_label, label, wanted])
        except PlaywrightTimeout as exc:
            raise errors.LayoutChanged(f"Category '{category}' was picked but the Category field does not show it") from exc

    def _pick_category(self, category: str) -> None:
        self.page.locator('[data-poster-trigger="category"]').click(timeout=self.timeout_ms)
        wanted, rows = normalise(category), [normalise(self.s["form"]), normalise(self.s["category"]), "category"]
        try:
            found = self._wait(signals.POPUP_ROWS, [wanted, "", *rows])
            offered = found.get("offered") or []
            if found.get("search"):
                self.page.locator('[data-poster-pick="category"]').fill(category, timeout=self.timeout_ms)
                found = self._wait(signals.POPUP_ROWS, [wanted, wanted, *rows])
        except PlaywrightTimeout as exc:
            raise errors.LayoutChanged("The Category picker did not open, or shows no category to choose") from exc
        if not found.get("row"):
            choices = offered or found.get("offered") or []
            raise errors.InvalidListing(
                f"Category '{category}' is not one Marketplace offers (it offered: {', '.join(choices) or 'nothing'})"
            )
        self.page.locator('[data-poster-pick="category"]').click(timeout=self.timeout_ms)

    def _choose(self, key: str, value: str) -> None:
        """Open a combobox's list and click the option named exactly `value` (any dash, any case)."""
        trigger = self._trigger(key)
        self._act(key, lambda: trigger.click(timeout=self.timeout_ms))
        try:
            found = self._wait(signals.POPUP_ROWS, [normalise(value), "", normalise(self.s["form"]), normalise(self.s[key]), key])
        except PlaywrightTimeout as exc:
            raise errors.LayoutChanged(f"The {self.s[key]} list did not open") from exc
        if not found.get("row"):
            offered = ", ".join(found.get("offered") or [])
            raise errors.InvalidListing(f"{self.s[key]} '{value}' is not one Marketplace offers ({offered})")
        self.page.locator(f'[data-poster-pick="{key}"]').click(timeout=self.timeout_ms)

    def _details(self, listing: Listing, shown: dict) -> bool:
        """Description, product tags and SKU, on the step that shows them: in the step itself or
        behind its "More details" expander. None of them is left to a stale draft. True when it
        opened "More details" (the step's controls are then read again)."""
        wanted = [key for key, value in (("description", listing.description), ("tags", listing.tags), ("sku", listing.sku))
                  if value and key not in self._done]
        opened = False
        if wanted and shown.get("more") in ("false", "none") and not all(shown.get(key) for key in wanted):
            shown, opened = self._expand_more_details(), True
        if shown.get("description") and "description" not in self._done:
            box = self._description_box()
            if listing.description:
                self._act("description", lambda: box.fill(listing.description, timeout=self.timeout_ms))
            elif shown["description_value"]:
                box.fill("", timeout=self.timeout_ms)  # a stale draft's description
            self._done.add("description")
        if shown.get("tags") and listing.tags and "tags" not in self._done:
            self._tags(listing.tags)
        if shown.get("sku") and listing.sku and "sku" not in self._done:
            box = self._textbox("sku").first
            self._act("sku", lambda: box.fill(listing.sku, timeout=self.timeout_ms))
            if box.input_value().strip() != listing.sku.strip():
                raise errors.LayoutChanged(f"The {self.s['sku']} field shows \"{box.input_value()}\" after \"{listing.sku}\" was entered")
            self._done.add("sku")
        return opened

    def _description_box(self) -> Locator:
        word = re.compile(f"(?:^|\\W){re.escape(self.s['description'])}(?:\\W|$)", re.IGNORECASE)
        return self.form.get_by_role("textbox", name=word).first

    def _expand_more_details(self) -> dict:
        """Open "More details". Some builds ignore a click just after they redraw the step: then
        Enter on the expander opens it (a click is not repeated, it would close it again)."""
        more = self.form.get_by_role("button", name=starts_with(self.s["more_details"])).first
        opened = f"(args) => {{ const d = ({signals.STEP_CONTROLS})(args); return (d.more === 'true' || d.description || d.tags || d.sku) && d; }}"
        more.click(timeout=self.timeout_ms)
        try:
            return self._wait(opened, [self.s], timeout_ms=min(self.timeout_ms, 1500))
        except PlaywrightTimeout:
            logger.info("'%s' ignored a click: pressing Enter on it", self.s["more_details"])
        more.press("Enter", timeout=self.timeout_ms)
        try:
            return self._wait(opened, [self.s])
        except PlaywrightTimeout as exc:
            raise errors.LayoutChanged(f"'{self.s['more_details']}' did not open, clicked or with Enter") from exc

    def _tags(self, tags: tuple[str, ...]) -> None:
        """Each tag typed and ended with Enter (Facebook turns it into a chip), then every chip checked."""
        box = self.form.get_by_role("textbox", name=starts_with(self.s["product_tags"])).first
        for tag in tags:
            self._act("product_tags", lambda: box.fill(tag, timeout=self.timeout_ms))
            box.press("Enter", timeout=self.timeout_ms)
        try:
            self._wait(signals.TAGS_SHOWN, [normalise(self.s["form"]), list(tags), normalise(self.s["product_tags"])])
        except PlaywrightTimeout as exc:
            raise errors.LayoutChanged(
                f"The {self.s['product_tags']} field did not turn every tag into a chip ({', '.join(tags)})"
            ) from exc
        self._done.add("tags")

    def _location_box(self) -> Locator:
        name = exact_name(self.s["location"])
        return self.form.get_by_role("combobox", name=name).or_(self.form.get_by_role("textbox", name=name))

    def _location(self, location: str, *, current: str) -> None:
        """Keep a prefilled place that is the listing's; else type the city alone and pick the
        suggestion that matches the rest ("Austin, TX" -> "Austin, Texas"): typing "City, ST"
        brings no suggestion at all on some builds. Typing only counts once a suggestion is clicked."""
        box = self._location_box().first
        if current.strip() and place_matches(current, location):
            self._done.add("location")
            return
        city = location.split(",")[0].strip()
        attempts = [city, location] if city != location.strip() else [location]
        if self.hints.get("location_typed") == "whole":
            attempts.reverse()  # this account's form suggested the right place only for the whole text
        for typed in attempts:
            self._act("location", lambda: box.fill(typed, timeout=self.timeout_ms))
            try:
                texts = self._wait(signals.SUGGESTIONS, [])
            except PlaywrightTimeout:
                continue
            choice = next((i for i, t in enumerate(texts) if place_matches(t, location)), None)
            if choice is None and typed == attempts[-1]:
                choice = next((i for i, t in enumerate(texts) if place_parts(t)[:1] == place_parts(location)[:1]), 0)
            if choice is not None:
                self.page.get_by_role("listbox").get_by_role("option").nth(choice).click(timeout=self.timeout_ms)
                self._done.add("location")
                self.hints["location_typed"] = "whole" if typed == location and typed != city else "city"
                return
        raise errors.InvalidListing(f"Marketplace suggested no place for the location '{location}'")

    def _meetup(self, delivery: tuple[str, ...], states: dict[str, str]) -> None:
        """The meetup options, where this step shows them (`states`: aria-checked of each option
        shown): exactly the listing's checked."""
        if "delivery" in self._done:
            return
        keys = {"Public meetup": "meetup_public", "Door pickup": "meetup_door_pickup", "Door drop-off": "meetup_door_dropoff"}
        # Check the wanted ones first: at least one option must stay checked at any time.
        order = [o for o in states if o in delivery] + [o for o in states if o not in delivery]
        for option in order:
            want = "true" if option in delivery else "false"
            if states[option] != want:
                box = self.form.get_by_role("checkbox", name=any_name(self.s[keys[option]])).first
                box.click(timeout=self.timeout_ms)
                try:
                    expect(box).to_have_attribute("aria-checked", want, timeout=self.timeout_ms)
                except AssertionError as exc:
                    raise errors.LayoutChanged(f"The meetup option '{option}' did not change when clicked") from exc
        missing = [o for o in delivery if o not in states]
        if missing:
            raise errors.InvalidListing(
                f"Marketplace does not offer the meetup option(s) {', '.join(missing)} for this account "
                f"(it offers {', '.join(states)})"
            )
        self._done.add("delivery")

    def _switch(self, key: str, on: bool, state: str | None) -> None:
        """Set a switch ("Hide from friends", "Boost listing after publish") where the step shows
        one (`state`: its aria-checked as the step was read, None when it shows none)."""
        if state is None:
            return
        want = "true" if on else "false"
        if state != want:
            switch = self.page.get_by_role("switch", name=starts_with(self.s[key])).first
            switch.click(timeout=self.timeout_ms)
            try:
                expect(switch).to_have_attribute("aria-checked", want, timeout=self.timeout_ms)
            except AssertionError as exc:
                raise errors.LayoutChanged(f"The '{self.s[key]}' switch did not turn {'on' if on else 'off'}") from exc
        self._done.add(key)
