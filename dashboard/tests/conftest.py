"""The dashboard's tests use the simulator fixtures of the postings app, and a logged-in browser page."""
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from playwright.sync_api import expect, sync_playwright

from driver.executable import find_chromium, launch_args
from postings.tests.conftest import *  # noqa: F401,F403
from postings.worker import orm_beside_playwright

PASSWORD = "correct-horse-9"
TIMEOUT_MS = 15_000
FAR_FUTURE = 4102444800  # 2100-01-01


def valid_session() -> dict:
    """A Playwright storage state the health check takes as a valid session."""
    return {"cookies": [
        {"name": name, "value": f"{name}-value", "domain": ".facebook.com", "path": "/", "expires": FAR_FUTURE,
         "httpOnly": name == "xs", "secure": True, "sameSite": "None"}
        for name in ("c_user", "xs")
    ], "origins": []}


@pytest.fixture
def context_options() -> dict:
    """More options of the page's browser context (Playwright's new_context); a test module
    overrides this fixture to see the dashboard as elsewhere, e.g. with a `timezone_id`."""
    return {}


@pytest.fixture
def page(live_server_url, operator, context_options):
    """Headless Chromium logged in as `operator` on uvicorn (config.asgi) serving this test's database.

    `page.base` is the server's URL; the test fails if any page threw a JavaScript error.
    """
    # The server checks passwords with the project's hashers, not the tests' fast one.
    operator.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    operator.save(update_fields=["password"])
    with orm_beside_playwright(), sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(find_chromium()), args=launch_args())
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True, **context_options)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(error))
        page.goto(f"{live_server_url}/login/")
        page.get_by_label("Username").fill(operator.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(f"{live_server_url}/")
        page.base = live_server_url
        yield page
        assert page.errors == [], page.errors  # no JavaScript error on any page
        chromium.close()
