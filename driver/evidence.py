"""What a page looked like when something went wrong (or where a dry run stopped).

`capture` takes the full-page screenshot, the HTML and Playwright's accessibility snapshot (the
YAML of roles and names the driver locates by: what explains a layout change). `scrub_trace`
rewrites a Playwright trace so that no cookie value is left in it.
"""
import io
import json
import logging
import re
import zipfile
from dataclasses import dataclass

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

logger = logging.getLogger(__name__)

REDACTED = "<redacted>"
_SECRET_HEADERS = {"cookie", "set-cookie", "authorization", "proxy-authorization"}
_BINARY_SUFFIXES = (".jpeg", ".jpg", ".png", ".webp", ".gif", ".woff", ".woff2", ".ttf")


@dataclass
class PageEvidence:
    page_url: str = ""
    screenshot_png: bytes | None = None
    html: str | None = None
    aria_snapshot: str | None = None


def capture(page: Page, *, intended_url: str, secrets: list[str] = ()) -> PageEvidence:
    """Best effort: whatever of the page can be read (a page gone or crashed gives the URL only)."""
    # After a failed navigation the page is blank or Chromium's error page: record where it was going.
    failed = page.url in ("", "about:blank") or page.url.startswith("chrome-error:")
    evidence = PageEvidence(page_url=intended_url if failed else page.url)
    try:
        evidence.screenshot_png = page.screenshot(full_page=True, timeout=10_000)
        evidence.html = _scrub_text(page.content(), secrets)
        evidence.aria_snapshot = _scrub_text(page.locator("body").aria_snapshot(timeout=10_000), secrets)
    except PlaywrightError:
        logger.warning("could not capture the whole page", exc_info=True)
    return evidence


def _scrub_text(text: str, secrets) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def _scrub_entry(entry):
    """A HAR-like request or response: secret headers and every cookie value blanked."""
    if isinstance(entry, dict):
        for key, value in entry.items():
            if key == "headers" and isinstance(value, list):
                for header in value:
                    if isinstance(header, dict) and str(header.get("name", "")).lower() in _SECRET_HEADERS:
                        header["value"] = REDACTED
            elif key == "cookies" and isinstance(value, list):
                for cookie in value:
                    if isinstance(cookie, dict) and "value" in cookie:
                        cookie["value"] = REDACTED
            else:
                _scrub_entry(value)
    elif isinstance(entry, list):
        for item in entry:
            _scrub_entry(item)
    return entry


def scrub_trace(data: bytes, secrets: list[str]) -> bytes:
    """The trace zip with Cookie/Set-Cookie headers, cookie lists and every known secret value
    replaced by "<redacted>" in every text entry (the action log, the network log, resources)."""
    secrets = [s for s in secrets if s]
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if not info.filename.lower().endswith(_BINARY_SUFFIXES):
                try:
                    text = content.decode("utf-8")
                except UnicodeDecodeError:
                    text = None
                if text is not None:
                    if info.filename.endswith((".trace", ".network")):
                        text = "\n".join(_scrub_line(line) for line in text.split("\n"))
                    content = _scrub_text(text, secrets).encode("utf-8")
            target.writestr(info, content)
    return out.getvalue()


def _scrub_line(line: str) -> str:
    if not line.strip():
        return line
    try:
        return json.dumps(_scrub_entry(json.loads(line)))
    except ValueError:
        return re.sub(r"(?i)(\"(?:set-)?cookie\"\s*,\s*\"value\"\s*:\s*\")[^\"]*", r"\1" + REDACTED, line)
