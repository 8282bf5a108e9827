"""An account's browser identity: what Facebook sees of the device (user agent, language, time
zone, window size), fixed when the account is created and the same in every browser context of it.

Accounts seen from a device that changes every run get linked and checkpointed together
(facebook.md, Sessions), so none of this is chosen per run. Plain data: the apps store it.
"""
import random
import sys
from dataclasses import dataclass
from zoneinfo import available_timezones

from driver.proxy import Proxy

# The driver reads Facebook's English labels: every account browses in US English.
LOCALE = "en-US"

# Chrome's reduced user agents (platform and minor versions frozen since Chrome 110), for the
# Chromium this project runs (Debian's 156 when this was written). The default is the one of the
# platform the browser really runs on: JavaScript (`navigator.platform`) and Chromium's client
# hints still tell the real platform, and a Windows agent on a Linux browser is a mismatch no
# person's browser shows. The others are there for an operator who runs the poster on that platform.
CHROME_VERSION = "156.0.0.0"
USER_AGENTS = {
    "linux": f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{CHROME_VERSION} Safari/537.36",
    "darwin": f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{CHROME_VERSION} Safari/537.36",
    "win32": f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{CHROME_VERSION} Safari/537.36",
}

# US time zones (the accounts post to US Marketplace); an operator sets the proxy's own.
TIMEZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles")

# The most common desktop window sizes, as a page sees them (`innerWidth` x `innerHeight`).
VIEWPORTS = ((1920, 969), (1536, 730), (1440, 789), (1366, 641), (1280, 665))
MIN_VIEWPORT, MAX_VIEWPORT = (800, 600), (3840, 2160)


def default_user_agent() -> str:
    return USER_AGENTS.get(sys.platform, USER_AGENTS["linux"])


def random_timezone() -> str:
    return random.choice(TIMEZONES)


def random_viewport() -> dict:
    width, height = random.choice(VIEWPORTS)
    return {"width": width, "height": height}


class IdentityError(ValueError):
    """A value an identity cannot have; the message says what would do."""


def check_user_agent(value: str) -> str:
    value = value.strip()
    if not value.startswith("Mozilla/5.0 (") or len(value) > 500 or not value.isprintable():
        raise IdentityError("A browser's user agent, such as \"Mozilla/5.0 (X11; Linux x86_64) ...\" (at most 500 characters)")
    return value


def check_timezone(value: str) -> str:
    if value not in available_timezones():
        raise IdentityError(f"{value!r} is not an IANA time zone, such as \"America/Chicago\"")
    return value


def check_viewport(value) -> dict:
    if not isinstance(value, dict) or set(value) != {"width", "height"}:
        raise IdentityError('A window size {"width": 1366, "height": 641}')
    size = (value["width"], value["height"])
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in size) or not all(
        low <= n <= high for low, n, high in zip(MIN_VIEWPORT, size, MAX_VIEWPORT)
    ):
        raise IdentityError(
            f"Width {MIN_VIEWPORT[0]}-{MAX_VIEWPORT[0]} and height {MIN_VIEWPORT[1]}-{MAX_VIEWPORT[1]}, whole pixels"
        )
    return {"width": size[0], "height": size[1]}


@dataclass(frozen=True)
class BrowserProfile:
    """Everything an account's browser context is made with besides its session."""

    user_agent: str
    timezone: str
    viewport: tuple[int, int]
    proxy: Proxy | None = None
    locale: str = LOCALE

    def context_options(self) -> dict:
        """Keyword arguments of Playwright's `new_context`."""
        options = {
            "user_agent": self.user_agent, "locale": self.locale, "timezone_id": self.timezone,
            "viewport": {"width": self.viewport[0], "height": self.viewport[1]},
        }
        if self.proxy is not None:
            options["proxy"] = self.proxy.playwright_settings()
        return options
