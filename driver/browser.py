"""Chromium, and one browser context per account: its session in, its cookies out, its trace.

Plain data in and out (a storage state, a `Target`): the apps read and write the session files.
"""
import ctypes
import json
import logging
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, PlaywrightContextManager, sync_playwright
from playwright._impl._driver import compute_driver_executable  # the node and CLI Playwright itself runs
from playwright.sync_api import Error as PlaywrightError

from driver import errors
from driver.cookies import state_for_target, state_from_target
from driver.evidence import scrub_trace
from driver.executable import BrowserNotFound, find_chromium, launch_args
from driver.form import ListingForm
from driver.identity import BrowserProfile, default_user_agent
from driver.listing import Target
from driver.proxy import PROBE_TIMEOUT_SECONDS, ProxyUnreachable, probe

logger = logging.getLogger(__name__)

# An account without an identity of its own (the apps always give one): a plain desktop Chrome.
DEFAULT_PROFILE = BrowserProfile(user_agent=default_user_agent(), timezone="America/Chicago", viewport=(1280, 900))

# Chromium's net errors that mean the proxy, not the site, failed.
PROXY_NET_ERRORS = ("ERR_PROXY_", "ERR_TUNNEL_CONNECTION_FAILED", "ERR_SOCKS_", "ERR_NO_SUPPORTED_PROXIES",
                    "ERR_MANDATORY_PROXY_CONFIGURATION_FAILED", "ERR_HTTPS_PROXY_TUNNEL_RESPONSE")


def _destination(base_url: str) -> str:
    """host:port of Marketplace, as a proxy is asked to connect to it."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


def check_proxy(profile: BrowserProfile, target: Target) -> None:
    """Before any browser context goes through the account's proxy: raise ProxyFailed (naming
    the proxy, its password masked) when it refuses or does not answer."""
    if profile.proxy is None:
        return
    try:
        probe(profile.proxy, destination=_destination(target.base_url),
              timeout=min(PROBE_TIMEOUT_SECONDS, target.timeout_ms / 1000))
    except ProxyUnreachable as exc:
        raise errors.ProxyFailed(f"The proxy {profile.proxy} does not work: {exc}") from None


# Playwright's driver (a node process per Playwright, one per thread that posts) mostly relays
# messages between Python and Chromium: a young generation of 1 MB instead of V8's 16 MB keeps
# about 20 MB per node process off the host's memory at no measurable cost in time
# (bench/throughput.py). Chromium's own JavaScript (the pages) is left as it is.
NODE_OPTIONS = "--max-semi-space-size=1"


def _lean_node() -> None:
    current = os.environ.get("NODE_OPTIONS", "")
    if "--max-semi-space-size" not in current:  # an operator's own choice wins
        os.environ["NODE_OPTIONS"] = f"{current} {NODE_OPTIONS}".strip()


def start_playwright() -> PlaywrightContextManager:
    """`sync_playwright()`, its driver process started with NODE_OPTIONS above."""
    _lean_node()
    return sync_playwright()


def launch(playwright: Playwright, *, executable: str = "", headless: bool = True) -> Browser:
    """Start Chromium, or raise BrowserUnavailable saying what to install."""
    try:
        path = find_chromium(executable)
    except BrowserNotFound as exc:
        raise errors.BrowserUnavailable(str(exc)) from exc
    try:
        return playwright.chromium.launch(executable_path=str(path), args=launch_args(), headless=headless)
    except PlaywrightError as exc:
        raise errors.BrowserUnavailable(
            f"Chromium at {path} could not start ({str(exc).strip().splitlines()[0]}). "
            "Install a working one: `sudo apt-get install -y chromium`, or set BROWSER_EXECUTABLE"
        ) from exc


PR_SET_PDEATHSIG = 1
# Looked up here, not in the child: between fork and exec the child must do as little as it can.
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:
    """In the child, before exec: the kernel kills it when the thread that started it ends (with
    its process, even by SIGKILL), so that no browser outlives its worker. Its Chromium, on a pipe
    to it, then quits too. Linux only; elsewhere a no-op."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class SharedChromium:
    """One Chromium that several threads drive at once: Playwright's own browser server.

    Playwright objects belong to the thread that made them, so each thread runs a Playwright of
    its own and `connect`s to this server; every account still gets a browser context of its own.
    A second Chromium per thread would cost about 240 MB (PSS) more per account; a context in a
    shared one costs about 65 MB, plus Playwright's client (README, bench/throughput.py).
    """

    START_TIMEOUT_SECONDS = 60.0

    def __init__(self, *, executable: str = "", headless: bool = True):
        try:
            path = find_chromium(executable)
        except BrowserNotFound as exc:
            raise errors.BrowserUnavailable(str(exc)) from exc
        self._config = tempfile.NamedTemporaryFile("w", prefix="chromium-server-", suffix=".json")
        self._errors = tempfile.TemporaryFile(prefix="chromium-server-")  # a file: a full pipe would stall it
        json.dump({"executablePath": str(path), "args": launch_args(), "headless": headless,
                   "host": "127.0.0.1", "port": 0}, self._config)
        self._config.flush()
        _lean_node()
        self.process = subprocess.Popen(
            [*compute_driver_executable(), "launch-server", "--browser", "chromium", "--config", self._config.name],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._errors,
            preexec_fn=_die_with_parent,
        )
        self.ws_endpoint = self._read_endpoint(path)

    def _read_endpoint(self, path: Path) -> str:
        deadline = time.monotonic() + self.START_TIMEOUT_SECONDS
        line = b""
        while not line.endswith(b"\n") and time.monotonic() < deadline and self.process.poll() is None:
            if select.select([self.process.stdout], [], [], 0.5)[0]:
                line += self.process.stdout.read1(4096)
        endpoint = line.decode(errors="replace").strip()
        if endpoint.startswith("ws://"):
            return endpoint
        self._errors.seek(0)
        why = self._errors.read().decode(errors="replace").strip().splitlines()
        self.close()
        raise errors.BrowserUnavailable(
            f"Chromium at {path} could not start ({why[-1] if why else 'no answer from its browser server'}). "
            "Install a working one: `sudo apt-get install -y chromium`, or set BROWSER_EXECUTABLE"
        )

    def connect(self, playwright: Playwright) -> Browser:
        """This thread's handle on the shared Chromium."""
        try:
            return playwright.chromium.connect(self.ws_endpoint, timeout=self.START_TIMEOUT_SECONDS * 1000)
        except PlaywrightError as exc:
            raise errors.BrowserUnavailable(
                f"The shared Chromium does not answer ({str(exc).strip().splitlines()[0]})"
            ) from exc

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self._config.close()
        self._errors.close()


def _accept_before_unload(dialog) -> None:
    # Facebook guards an unfinished form with "Leave page?": the poster always leaves. Any other
    # native dialog is dismissed, as Playwright does by default.
    try:
        dialog.accept() if dialog.type == "beforeunload" else dialog.dismiss()
    except PlaywrightError:
        logger.debug("a native dialog went away before it was answered")


class AccountBrowser:
    """The browser context of one account, loaded from its storage state.

    With `trace` "on", Playwright's tracing records each post as a chunk (actions, DOM snapshots,
    network; "full" adds screenshots), kept only when asked, with every cookie value scrubbed out.
    """

    def __init__(
        self, browser: Browser, *, state: dict, target: Target, trace: str = "off", profile: BrowserProfile | None = None,
    ):
        self.state = state
        self.target = target
        self.profile = profile or DEFAULT_PROFILE
        check_proxy(self.profile, target)
        self.context: BrowserContext = browser.new_context(
            storage_state=state_for_target(state, target.base_url), **self.profile.context_options(),
        )
        self.context.set_default_timeout(target.timeout_ms)
        self.trace = trace != "off"
        self._tracing = False
        if self.trace:
            self.context.tracing.start(screenshots=trace == "full", snapshots=True)
        self._page: Page | None = None
        self.hints: dict = {}  # what this account's form has shown, for ListingForm

    def page(self) -> Page:
        """The account's tab: kept from one successful post to the next, fresh after a failure."""
        if self._page is None or self._page.is_closed():
            self._page = self.context.new_page()
            self._page.on("dialog", _accept_before_unload)
        return self._page

    def form(self) -> ListingForm:
        return ListingForm(self.page(), self.target, self.hints)

    def blame_proxy(self, failure: errors.PostingError) -> errors.PostingError:
        """A network error that Chromium says is its proxy's (`net::ERR_PROXY_...`) as ProxyFailed,
        naming the proxy (password masked); any other failure as it is."""
        proxy = self.profile.proxy
        if proxy is None or not isinstance(failure, errors.NetworkError) or isinstance(failure, errors.ProxyFailed):
            return failure
        if not any(code in str(failure) for code in PROXY_NET_ERRORS):
            return failure
        blamed = errors.ProxyFailed(f"The proxy {proxy} failed: {failure}")
        blamed.__cause__ = failure.__cause__
        return blamed

    def discard_page(self) -> None:
        """Close the tab (after a failure: Chromium's error page is no place to start again)."""
        if self._page is not None and not self._page.is_closed():
            try:
                self._page.close(run_before_unload=False)
            except PlaywrightError:
                logger.warning("closing a tab failed", exc_info=True)
        self._page = None

    def trace_begin(self, title: str) -> None:
        if self.trace:
            self.trace_end(keep=False)  # a chunk left open by a post that failed unexpectedly
            self.context.tracing.start_chunk(title=title)
            self._tracing = True

    def trace_end(self, *, keep: bool) -> bytes | None:
        """End the post's trace chunk: its zip (cookie values scrubbed) when `keep`, else nothing."""
        if not self._tracing:
            return None
        self._tracing = False
        try:
            if not keep:
                self.context.tracing.stop_chunk()
                return None
            with tempfile.TemporaryDirectory(prefix="trace-") as tmp:
                path = Path(tmp) / "trace.zip"
                self.context.tracing.stop_chunk(path=str(path))
                return scrub_trace(path.read_bytes(), self.secrets())
        except PlaywrightError:
            logger.warning("the trace of a post could not be written", exc_info=True)
            return None

    def secrets(self) -> list[str]:
        """Every cookie value the account's browser holds or was given: none may leave in evidence."""
        values = {cookie.get("value", "") for cookie in self.state.get("cookies", [])}
        if self.profile.proxy is not None and self.profile.proxy.password:
            values.add(self.profile.proxy.password)  # a trace records the context's options
        try:
            values |= {cookie.get("value", "") for cookie in self.context.cookies()}
        except PlaywrightError:
            pass
        return sorted((v for v in values if len(v) >= 4), key=len, reverse=True)

    def storage_state(self) -> dict:
        """The session as it is now, to save: the loaded one with the browser's current cookies."""
        return state_from_target(self.state, self.context.cookies(), self.target.base_url)

    def saved(self, state: dict) -> None:
        self.state = state

    def close(self) -> None:
        try:
            self.context.close()
        except PlaywrightError:
            logger.warning("closing a browser context failed", exc_info=True)


@dataclass(frozen=True)
class LoginCheck:
    """What opening Marketplace with a session showed: logged in (True/False, None when it could
    not tell: network, proxy), why, and whether Facebook showed a block (rate_limit) meanwhile."""

    logged_in: bool | None
    message: str
    blocked: bool = False


def check_logged_in(
    *, state: dict, target: Target, profile: BrowserProfile | None = None, executable: str = "", headless: bool = True,
) -> LoginCheck:
    """Open Marketplace's create page with this session: is it really logged in?"""
    with start_playwright() as pw:
        browser = launch(pw, executable=executable, headless=headless)
        try:
            account = AccountBrowser(browser, state=state, target=target, profile=profile)
            try:
                account.form().open()
            except errors.PostingError as exc:
                raise account.blame_proxy(exc) from exc.__cause__
        except (errors.SessionExpired, errors.CaptchaRequired) as exc:
            return LoginCheck(False, str(exc))
        except errors.RateLimited as exc:
            return LoginCheck(True, f"Logged in, but {exc}", blocked=True)
        except errors.UnsupportedLanguage as exc:
            return LoginCheck(True, f"Logged in, but {exc}")
        except errors.PostingError as exc:
            return LoginCheck(None, str(exc))
        finally:
            browser.close()
    return LoginCheck(True, "Marketplace's create-listing form opened: the session is logged in")
