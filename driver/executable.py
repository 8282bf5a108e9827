"""Which Chromium to launch, and with which flags.

Order: BROWSER_EXECUTABLE when set; Playwright's own download; a system Chromium. Run as a module
(`python -m driver.executable`) it prints the path, or says what to install and exits 1;
the Makefile uses that. It reads the environment, not Django settings, so it runs before set-up.
"""
import os
import shutil
import sys
from pathlib import Path

SYSTEM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = (
    "No Chromium found. Install one: `sudo apt-get install -y chromium` (Debian/Ubuntu), "
    "or `python -m playwright install chromium`, or set BROWSER_EXECUTABLE to a Chromium binary."
)

# Without the background-networking flags Chromium keeps calling Google's hosts; without
# --no-sandbox it cannot start as root.
BASE_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


class BrowserNotFound(RuntimeError):
    pass


def _playwright_chromium() -> Path | None:
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            path = Path(playwright.chromium.executable_path)
    except Exception:  # Playwright's driver missing or broken: fall back to a system Chromium.
        return None
    return path if path.is_file() else None


def find_chromium(configured: str | None = None) -> Path:
    """The Chromium binary to use. Raises BrowserNotFound saying what to install."""
    configured = configured if configured is not None else os.environ.get("BROWSER_EXECUTABLE", "")
    if configured:
        path = Path(configured)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise BrowserNotFound(f"BROWSER_EXECUTABLE={configured} is not an executable file. {INSTALL_HINT}")
    found = _playwright_chromium()
    if found:
        return found
    for name in SYSTEM_NAMES:
        if system := shutil.which(name):
            return Path(system)
    raise BrowserNotFound(INSTALL_HINT)


def launch_args() -> list[str]:
    return BASE_ARGS + (["--no-sandbox"] if os.geteuid() == 0 else [])


if __name__ == "__main__":
    try:
        print(find_chromium())
    except BrowserNotFound as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
