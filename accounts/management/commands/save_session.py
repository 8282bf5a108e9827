import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from playwright.sync_api import Error as PlaywrightError

from accounts import services
from accounts.models import FacebookAccount
from config.exceptions import BadRequest
from driver import errors
from config.browsing import marketplace_target
from driver.browser import check_proxy, launch, start_playwright
from driver.cookies import state_from_target


class Command(BaseCommand):
    help = (
        "Open a browser at Facebook's login page, wait until you have logged in (2FA included), and "
        "save the session for the account. With --headless (for the simulator and tests) the email "
        "and password are read from standard input and typed into the login form."
    )

    def add_arguments(self, parser):
        parser.add_argument("account_id", type=int)
        parser.add_argument("--headless", action="store_true", help="no window: read email and password from stdin")
        parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the login (default 600)")

    def handle(self, *args, account_id, headless=False, timeout=600, **options):
        account = FacebookAccount.objects.filter(pk=account_id).first()
        if account is None:
            raise CommandError(f"No account {account_id}")
        credentials = None
        if headless:
            self.stdout.write("Email: ", ending="")
            self.stdout.flush()
            email = sys.stdin.readline().strip()
            self.stdout.write("Password: ", ending="")
            self.stdout.flush()
            credentials = (email, sys.stdin.readline().rstrip("\n"))
        cookies = self._log_in(account, credentials, headless, timeout)
        state = state_from_target({"cookies": [], "origins": []}, cookies, settings.MARKETPLACE_BASE_URL)
        try:
            services.account_session_store(account=account, data=state)
        except BadRequest as exc:
            raise CommandError(f"Logged in, but the session is not usable: {exc.detail}") from None
        self.stdout.write(self.style.SUCCESS(f"Session saved for {account.email} ({account.session_path})"))

    def _log_in(self, account: FacebookAccount, credentials, headless: bool, timeout: float) -> list[dict]:
        """Log in in a browser with the account's own identity and proxy: the device Facebook
        sees at login is the one that posts afterwards."""
        target = marketplace_target()
        login_paths = target.selectors["login_paths"]
        profile = account.browser_profile()
        try:
            check_proxy(profile, target)
        except errors.ProxyFailed as exc:
            raise CommandError(str(exc)) from None
        with start_playwright() as playwright:
            try:
                browser = launch(playwright, executable=settings.BROWSER_EXECUTABLE, headless=headless)
            except errors.BrowserUnavailable as exc:
                raise CommandError(str(exc)) from None
            try:
                context = browser.new_context(**profile.context_options())
                page = context.new_page()
                page.goto(f"{settings.MARKETPLACE_BASE_URL}/login/")
                if credentials:
                    page.locator('input[name="email"]').fill(credentials[0])
                    page.locator('input[name="pass"]').fill(credentials[1])
                    page.locator('input[name="pass"]').press("Enter")
                else:
                    self.stdout.write(f"Log in in the browser window (2FA included). Waiting up to {timeout:g} s...")
                # Logged in: the browser left every login, checkpoint and 2FA page, holding the cookies.
                page.wait_for_url(lambda url: not any(p in url for p in login_paths), timeout=timeout * 1000)
                cookies = context.cookies()
            except PlaywrightError as exc:
                raise CommandError(f"No login within {timeout:g} s, or the browser failed: {exc}") from None
            finally:
                browser.close()
        if not {"c_user", "xs"} <= {cookie["name"] for cookie in cookies}:
            raise CommandError("The browser left the login page without Facebook's c_user and xs cookies")
        return cookies
