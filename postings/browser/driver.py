"""One Chromium per job, one browser context per account, sessions read and saved back."""
import logging
from pathlib import Path

from django.conf import settings
from playwright.sync_api import Browser, BrowserContext, Page, Playwright
from playwright.sync_api import Error as PlaywrightError

from accounts import session_files
from accounts.models import FacebookAccount
from postings.browser import errors
from postings.browser.executable import BrowserNotFound, find_chromium, launch_args
from postings.browser.session import state_for_target, state_from_target

logger = logging.getLogger(__name__)


def launch(playwright: Playwright, *, headless: bool | None = None) -> Browser:
    """Start Chromium (BROWSER_HEADLESS unless told), or raise BrowserUnavailable saying what to install."""
    try:
        executable = find_chromium(settings.BROWSER_EXECUTABLE)
    except BrowserNotFound as exc:
        raise errors.BrowserUnavailable(str(exc)) from exc
    try:
        return playwright.chromium.launch(
            executable_path=str(executable), args=launch_args(),
            headless=settings.BROWSER_HEADLESS if headless is None else headless,
        )
    except PlaywrightError as exc:
        raise errors.BrowserUnavailable(
            f"Chromium at {executable} could not start ({str(exc).strip().splitlines()[0]}). "
            "Install a working one: `sudo apt-get install -y chromium`, or set BROWSER_EXECUTABLE"
        ) from exc


def _file_identity(path: Path) -> tuple[int, int, int] | None:
    """What tells one version of a file from another: inode, size, modification time."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


class AccountContext:
    """The browser context of one account: its session loaded, and saved back after a success."""

    def __init__(self, browser: Browser, account: FacebookAccount):
        self.account = account
        path: Path = account.session_path
        try:
            self.written = _file_identity(path)
            self.state = session_files.read_state(path)
        except FileNotFoundError:
            raise errors.SessionExpired(
                f"Account {account.email} has no session file. Upload its session first"
            ) from None
        except (OSError, session_files.SessionFormatError) as exc:
            raise errors.SessionExpired(
                f"The session file of account {account.email} is unusable ({exc}). Upload it again"
            ) from None
        self.context: BrowserContext = browser.new_context(
            storage_state=state_for_target(self.state, settings.MARKETPLACE_BASE_URL),
            locale="en-US",
            viewport={"width": 1280, "height": 900},
        )
        self.context.set_default_timeout(settings.BROWSER_TIMEOUT_SECONDS * 1000)
        self._page: Page | None = None

    def page(self) -> Page:
        """The account's tab: kept from one successful post to the next, fresh after a failure."""
        if self._page is None or self._page.is_closed():
            self._page = self.context.new_page()
        return self._page

    def discard_page(self) -> None:
        """Close the tab (after a failure: Chromium's error page is no place to start again)."""
        if self._page is not None and not self._page.is_closed():
            self._page.close()
        self._page = None

    def save_session(self) -> None:
        """Write back what the browser holds now, so that the session stays fresh.

        Only over the file this context was loaded from: a session the operator deleted or replaced
        while the job ran is theirs, and is neither brought back nor overwritten with older cookies.
        """
        path = self.account.session_path
        if _file_identity(path) != self.written:
            logger.info("the session of account %s changed during the job; not saving over it", self.account.pk)
            return
        state = state_from_target(self.state, self.context.cookies(), settings.MARKETPLACE_BASE_URL)
        session_files.write_atomic(path, state)
        self.state, self.written = state, _file_identity(path)

    def close(self) -> None:
        try:
            self.context.close()
        except PlaywrightError:
            logger.warning("closing the browser context of account %s failed", self.account.pk, exc_info=True)


def check_logged_in(account: FacebookAccount) -> tuple[bool | None, str]:
    """Open Marketplace's create page with the account's session: is it really logged in?

    (True, ...) logged in; (False, why) not; (None, why) when Marketplace could not tell (network).
    """
    from playwright.sync_api import sync_playwright

    from postings.browser.pages import ListingForm
    from postings.browser.selectors import load_selectors

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            context = AccountContext(browser, account)
            form = ListingForm(
                context.page(), selectors=load_selectors(settings.MARKETPLACE_SELECTORS_FILE),
                base_url=settings.MARKETPLACE_BASE_URL, timeout_ms=settings.BROWSER_TIMEOUT_SECONDS * 1000,
            )
            form.open()
        except (errors.SessionExpired, errors.CaptchaRequired) as exc:
            return False, str(exc)
        except errors.RateLimited as exc:
            return True, f"Logged in, but {exc}"
        except errors.UnsupportedLanguage as exc:
            return True, f"Logged in, but {exc}"
        except errors.PostingError as exc:
            return None, str(exc)
        finally:
            browser.close()
    return True, "Marketplace's create-listing form opened: the session is logged in"
