"""The browser driver's settings, read once from Django's: where Marketplace is and how long to wait."""
from django.conf import settings

from driver.listing import Target
from driver.selectors import load_selectors


def marketplace_target() -> Target:
    """Marketplace's base URL, the one timeout and the names to look for (raises SelectorsFileError)."""
    return Target(
        base_url=settings.MARKETPLACE_BASE_URL,
        timeout_ms=settings.BROWSER_TIMEOUT_SECONDS * 1000,
        selectors=load_selectors(settings.MARKETPLACE_SELECTORS_FILE),
    )
