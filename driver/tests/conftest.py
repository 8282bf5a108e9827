"""Small pages written from facebook.md's facts, served in real headless Chromium through
Playwright's routing at a facebook.com-like address: no Django, no simulator."""
import pytest
from playwright.sync_api import sync_playwright

from driver.executable import find_chromium, launch_args
from driver.form import ListingForm
from driver.listing import Target
from driver.selectors import load_selectors

BASE = "https://marketplace.test"
CREATE = BASE + "/marketplace/create/item"
FORM = """<!doctype html><html lang="en"><body><div role="form" aria-label="Marketplace">{}</div>
<script>{}</script></body></html>"""


@pytest.fixture(scope="module")  # not the session's: other modules start Playwright's sync API of their own
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(find_chromium()), args=launch_args(), headless=True)
        yield browser
        browser.close()


def answer(html: str):
    return lambda route: route.fulfill(status=200, content_type="text/html", body=html)


@pytest.fixture
def serve(browser):
    """serve({path: html}) -> a ListingForm on a page whose requests to those paths (with their
    query) answer that HTML, opened at the create page (`go=False`: not opened yet)."""
    context = browser.new_context()
    page = context.new_page()

    def serve(pages: dict[str, str], *, go: bool = True, timeout_ms: float = 10_000):
        for path, html in pages.items():
            page.route(lambda url, at=BASE + path: url == at, answer(html))
        if go:
            page.goto(CREATE)
        return ListingForm(page, Target(base_url=BASE, timeout_ms=timeout_ms, selectors=load_selectors(None)))

    yield serve
    context.close()
