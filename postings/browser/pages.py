"""Page objects for Marketplace's create-listing flow.

`ListingForm` does what an operator does: open the form, fill it, step through Next, publish.
Controls are located by role and accessible name from `selectors`, and every wait is on a condition
with one timeout. Playwright's exceptions are translated here into `errors.PostingError`s.
"""
import re
from decimal import Decimal
from urllib.parse import urljoin, urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from postings.browser import errors

MAX_NEXT_STEPS = 4

# Facebook writes "Used – Good" with an en dash in some builds: any dash matches any dash, and the
# whole name must match ("New" must not pick "Used - Like New").
_DASHES = "-\u2010\u2011\u2012\u2013\u2014"


def exact_name(text: str) -> re.Pattern:
    pattern = "".join(f"[{_DASHES}]" if ch in _DASHES else re.escape(ch) for ch in text.strip())
    return re.compile(f"^\\s*{pattern}\\s*$", re.IGNORECASE)


def format_price(price: Decimal) -> str:
    return f"{price:f}".rstrip("0").rstrip(".") if "." in f"{price:f}" else f"{price:f}"


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class ListingForm:
    def __init__(self, page: Page, *, selectors: dict, base_url: str, timeout_ms: float):
        self.page = page
        self.s = selectors
        self.base_url = base_url
        self.timeout_ms = timeout_ms
        self.publish_clicked = False
        self.form = page.get_by_role("form", name=re.compile(f"^{re.escape(selectors['form'])}$", re.IGNORECASE))

    # --- what an operator does -------------------------------------------------------------

    def open(self) -> None:
        url = self.base_url + self.s["create_path"]
        try:
            response = self.page.goto(url, wait_until="domcontentloaded")
        except PlaywrightTimeout as exc:
            raise errors.PageTimeout(f"The create-listing page did not load in time ({_short(exc)})") from exc
        except PlaywrightError as exc:
            raise errors.NetworkError(f"Could not open the create-listing page: {_short(exc)}") from exc
        self.raise_for_blockers()
        if response is not None and response.status >= 500:
            raise errors.NetworkError(f"Marketplace answered HTTP {response.status} for {url}")
        try:
            self.form.wait_for(state="visible", timeout=self.timeout_ms)
        except PlaywrightTimeout as exc:
            self.raise_for_blockers()
            raise errors.PageTimeout(
                f"The create-listing form did not appear within {self.timeout_ms / 1000:g} s"
            ) from exc
        self._refuse_other_languages()

    def fill(self, post, photo_paths: list[str]) -> None:
        photos = self.form.locator(self.s["photo_input"]).first
        self._act("photo_input", lambda: photos.set_input_files(photo_paths, timeout=self.timeout_ms), "photo upload input")
        title, price = self._textbox("title"), self._textbox("price")
        self._act("title", lambda: title.fill(post.title, timeout=self.timeout_ms))
        self._act("price", lambda: price.fill(format_price(post.price), timeout=self.timeout_ms))
        self._choose("category", post.category)
        self._choose("condition", post.condition)
        if post.description:
            self._fill_description(post.description)
        self._choose_location(post.location)

    def advance_to_publish(self) -> None:
        publish = self._button("publish")
        next_button = self._button("next")
        for _ in range(MAX_NEXT_STEPS):
            self._act("next", lambda: next_button.or_(publish).first.wait_for(state="visible", timeout=self.timeout_ms),
                      "Next or Publish button")
            if publish.first.is_visible():
                return
            self._wait_enabled(
                next_button,
                "Next stayed disabled after every field was filled: Marketplace did not accept one of "
                "them (photos, title, price, category, condition, location)",
            )
            # Next swaps the form's content in place: wait for the clicked button to go before
            # looking for the next one, or a second click lands on the old step.
            clicked = next_button.element_handle()
            clicked.click()
            try:
                clicked.wait_for_element_state("hidden", timeout=self.timeout_ms)
            except PlaywrightTimeout as exc:
                self.raise_for_blockers()
                raise errors.LayoutChanged("Next was clicked but the form did not move to its next step") from exc
        raise errors.LayoutChanged(f"No Publish button after {MAX_NEXT_STEPS} Next steps")

    def publish(self, title: str) -> str:
        """Click Publish and wait for Marketplace to confirm; returns the listing's URL.

        From the click on, any failure but an explicit policy refusal is PublishUnconfirmed: the
        listing may be live, and publishing again could post it twice.
        """
        button = self._wait_for("publish", self._button("publish"))
        self._wait_enabled(button, "Publish stayed disabled")
        button.click()
        self.publish_clicked = True
        try:
            outcome = self._publish_outcome()
            if outcome == "boost":
                self.page.get_by_role("button", name=exact_name(self.s["boost_dismiss"])).first.click()
                self.page.wait_for_url(lambda url: self.s["create_path"] not in url, timeout=self.timeout_ms)
            elif outcome.startswith("policy:"):
                raise errors.PolicyRejected(f"Facebook refused the listing: {outcome[7:]}")
            elif outcome.startswith("unconfirmed:"):
                raise errors.PublishUnconfirmed(
                    f"Marketplace answered \"{outcome[12:]}\" after Publish was clicked. The listing "
                    "may be live: check Marketplace before retrying it"
                )
            if self.s["create_path"] in self.page.url:
                raise errors.PublishUnconfirmed(
                    "Publish was clicked but the page stayed on the form. The listing may be live: "
                    "check Marketplace before retrying it"
                )
            return self._listing_url(title)
        except errors.PostingError:
            raise
        except PlaywrightError as exc:
            raise errors.PublishUnconfirmed(
                f"Publish was clicked but Marketplace never confirmed it ({_short(exc)}). The listing "
                "may be live: check Marketplace before retrying it"
            ) from exc

    # --- what the page says ----------------------------------------------------------------

    def raise_for_blockers(self) -> None:
        """Raise the failure the page shows, if any: login, checkpoint, CAPTCHA, temporary block."""
        url = self.page.url
        signals = self._signals()
        text = signals["text"]
        if any(marker in url for marker in self.s["login_paths"]) or signals["login_form"]:
            if "/checkpoint" in url and (signals["captcha_frame"] or any(t in text for t in self.s["captcha_texts"])):
                raise errors.CaptchaRequired(
                    f"Facebook asks this account to solve a CAPTCHA ({url}). Log in by hand, pass the "
                    "check, then upload a fresh session"
                )
            raise errors.SessionExpired(
                f"Facebook asked this account to log in again ({url}). Upload a fresh session"
            )
        if any(t in text for t in self.s["blocked_texts"]):
            raise errors.RateLimited(
                "Facebook has temporarily blocked posting for this account. Wait before posting with it again"
            )

    def _refuse_other_languages(self) -> None:
        lang = self._signals()["lang"]
        if lang and not lang.lower().startswith("en"):
            raise errors.UnsupportedLanguage(
                f"Facebook shows this account in '{lang}'. The poster reads the English interface: "
                "set the account's language to English (US) and post again"
            )

    # One round trip to the browser for everything the failure checks read.
    _SIGNALS_JS = """([loginForm, captchaFrame]) => {
        const shown = (css) => [...document.querySelectorAll(css)].some(e => e.offsetParent !== null);
        return {
            text: document.body ? document.body.innerText.toLowerCase() : "",
            lang: document.documentElement.lang || "",
            login_form: shown(loginForm),
            captcha_frame: document.querySelector(captchaFrame) !== null,
        };
    }"""

    def _signals(self) -> dict:
        try:
            return self.page.evaluate(self._SIGNALS_JS, [self.s["login_form"], self.s["captcha_frame"]])
        except PlaywrightError:  # the page is navigating or gone: nothing to read now
            return {"text": "", "lang": "", "login_form": False, "captcha_frame": False}

    # --- controls ----------------------------------------------------------------------------

    def _textbox(self, key: str) -> Locator:
        return self.form.get_by_role("textbox", name=exact_name(self.s[key]))

    def _button(self, key: str) -> Locator:
        return self.form.get_by_role("button", name=exact_name(self.s[key]))

    def _act(self, key: str, action, what: str | None = None):
        """Do `action` on a control (Playwright waits for it); LayoutChanged if it never comes."""
        try:
            return action()
        except PlaywrightTimeout as exc:
            self.raise_for_blockers()
            raise errors.LayoutChanged(
                f"The {what or repr(self.s[key])} control is not on the create-listing form: Facebook "
                f"may have changed its markup. Set '{key}' in MARKETPLACE_SELECTORS_FILE to follow it"
            ) from exc

    def _wait_for(self, key: str, locator: Locator) -> Locator:
        """The control, once visible; LayoutChanged if the form is there but the control never is."""
        self._act(key, lambda: locator.first.wait_for(state="visible", timeout=self.timeout_ms))
        return locator.first

    def _wait_enabled(self, button: Locator, message: str) -> None:
        try:
            expect(button).not_to_have_attribute("aria-disabled", "true", timeout=self.timeout_ms)
        except AssertionError as exc:
            raise errors.LayoutChanged(message) from exc

    def _choose(self, key: str, value: str) -> None:
        combobox = self.form.get_by_role("combobox", name=exact_name(self.s[key])).first
        self._act(key, lambda: combobox.click(timeout=self.timeout_ms))
        options = self.page.get_by_role("option")
        try:
            options.first.wait_for(state="visible", timeout=self.timeout_ms)
        except PlaywrightTimeout as exc:
            raise errors.LayoutChanged(f"The {self.s[key]} list did not open") from exc
        wanted = self.page.get_by_role("option", name=exact_name(value))
        if wanted.count() == 0:
            offered = ", ".join(t.strip() for t in options.all_inner_texts() if t.strip())
            raise errors.InvalidListing(f"{self.s[key]} '{value}' is not one Marketplace offers ({offered})")
        wanted.first.click()

    def _fill_description(self, description: str) -> None:
        textbox = self._textbox("description")
        if not textbox.first.is_visible():
            more = self.form.get_by_role("button", name=exact_name(self.s["more_details"]))
            if more.count():
                more.first.click()
        self._wait_for("description", textbox).fill(description)

    def _choose_location(self, location: str) -> None:
        box = self.form.get_by_role("combobox", name=exact_name(self.s["location"])).first
        self._act("location", lambda: box.fill(location, timeout=self.timeout_ms))
        # Typing alone does not count: a suggestion has to be clicked.
        suggestion = self.page.get_by_role("listbox").get_by_role("option").first
        try:
            suggestion.click(timeout=self.timeout_ms)
        except PlaywrightTimeout as exc:
            raise errors.InvalidListing(f"Marketplace suggested no place for the location '{location}'") from exc

    # --- after Publish -------------------------------------------------------------------------

    _OUTCOME_JS = """([createPath, boost, policy, unconfirmed]) => {
        if (!location.pathname.startsWith(createPath)) return "left";
        for (const box of document.querySelectorAll('[role=dialog], [role=alert]')) {
            const label = (box.getAttribute('aria-label') || '').toLowerCase();
            const text = (box.innerText || '').trim();
            const lower = text.toLowerCase();
            if (label.includes(boost) || lower.includes(boost)) return "boost";
            if (policy.some(t => lower.includes(t))) return "policy:" + text;
            if (unconfirmed.some(t => lower.includes(t))) return "unconfirmed:" + text;
        }
        return false;
    }"""

    def _publish_outcome(self) -> str:
        try:
            handle = self.page.wait_for_function(
                self._OUTCOME_JS,
                arg=[self.s["create_path"], "boost", self.s["policy_texts"], self.s["unconfirmed_texts"]],
                timeout=self.timeout_ms,
            )
            return handle.json_value()
        except PlaywrightTimeout as exc:
            raise errors.PublishUnconfirmed(
                f"Publish was clicked but Marketplace did not confirm within {self.timeout_ms / 1000:g} s. "
                "The listing may be live: check Marketplace before retrying it"
            ) from exc
        except PlaywrightError:
            # The page navigated away while being read: that is leaving the form.
            return "left"

    def _listing_url(self, title: str) -> str:
        url = self.page.url
        if "/marketplace/item/" in urlsplit(url).path:
            return url
        link = self.page.get_by_role("link", name=exact_name(title)).first
        try:
            link.wait_for(state="visible", timeout=self.timeout_ms)
            href = link.get_attribute("href")
        except PlaywrightError:
            return url  # published (we left the form) but not listed yet: the selling page will do
        return urljoin(url, href) if href else url
