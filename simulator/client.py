"""A client of the simulator's control API (`/__sim__/`), for the tests, the benchmarks and the demo.

It is the one place outside the server that knows the control API, and that turns a session the
simulator issued into the facebook.com cookies an operator would upload.
"""
import json
import time
import urllib.request
from urllib.parse import quote

FAR_FUTURE = 4102444800  # 2100-01-01: a simulator session ends when it is revoked, not before


class SimulatorClient:
    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")

    def call(self, method: str, path: str, body=None, timeout: float = 10):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def wait_until_up(self, *, timeout: float) -> None:
        """Poll GET /__sim__/health until it answers; TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.call("GET", "/__sim__/health", timeout=2)
                return
            except (OSError, ValueError) as exc:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"The Marketplace simulator at {self.base_url} did not answer within {timeout:g} s ({exc})"
                    ) from None
            time.sleep(0.1)  # the condition is polled; this only spaces the attempts

    def mint_session(self, email: str, layout: str | None = None, options: dict | None = None) -> dict:
        """A logged-in session {"c_user", "xs"} for `email`, as the simulator's login would give.

        With `layout` ("classic", "2026" or "late2026") and `options`, the account gets that layout too.
        """
        body: dict = {"email": email}
        if layout is not None:
            body["layout"] = layout
        if options is not None:
            body["options"] = options
        return self.call("POST", "/__sim__/sessions", body)

    def set_layout(self, c_user: str, layout: str, options: dict | None = None) -> None:
        """Serve this account `layout` ("classic", "2026", "late2026"); `options` replace the
        previous ones (unnamed ones take the layout's defaults)."""
        body: dict = {"c_user": c_user, "layout": layout}
        if options is not None:
            body["options"] = options
        self.call("POST", "/__sim__/layout", body)

    def layout(self, c_user: str) -> dict:
        """{"layout", "options" (every default filled in), "draft": {...} or None} of an account."""
        return self.call("GET", "/__sim__/layout?c_user=" + quote(c_user))

    def plant_draft(self, c_user: str, title: str, price: str, photos: int) -> None:
        """Give the account a stale draft: title, price and `photos` generated solid-colour PNGs."""
        self.call("POST", "/__sim__/drafts",
                  {"c_user": c_user, "title": title, "price": price, "photos": photos})

    def timeline(self, c_user: str | None = None) -> list[dict]:
        """One {"c_user", "opened_at", "ended_at", "outcome"} per create-page load."""
        path = "/__sim__/timeline" + ("" if c_user is None else "?c_user=" + quote(c_user))
        return self.call("GET", path)["events"]

    def visits(self, c_user: str | None = None) -> list[dict]:
        """The requests for Facebook's pages, oldest first: {"c_user" (None when logged out),
        "method", "path", "user_agent", "accept_language", "at"}."""
        path = "/__sim__/visits" + ("" if c_user is None else "?c_user=" + quote(c_user))
        return self.call("GET", path)["visits"]

    def consents(self, c_user: str | None = None) -> list[dict]:
        """The cookie-consent answers, oldest first: {"c_user", "answer" ("declined"|"all"), "at"}."""
        path = "/__sim__/consent" + ("" if c_user is None else "?c_user=" + quote(c_user))
        return self.call("GET", path)["answers"]

    def revoke_session(self, xs: str) -> None:
        self.call("POST", "/__sim__/sessions/revoke", {"xs": xs})

    def fault(self, name: str, **options) -> None:
        """Add a fault: options times, c_user, delay_ms, at, variant (checkpoint only), e.g.
        fault("checkpoint", variant="two_factor")."""
        self.call("POST", "/__sim__/faults", {"name": name, **options})

    def clear_faults(self) -> None:
        self.call("DELETE", "/__sim__/faults")

    def listings(self, c_user: str | None = None) -> list[dict]:
        path = "/__sim__/listings" + ("" if c_user is None else "?c_user=" + quote(c_user))
        return self.call("GET", path)["listings"]

    def reset(self) -> None:
        self.call("POST", "/__sim__/reset")


def facebook_cookies(pair: dict) -> list[dict]:
    """A minted {"c_user", "xs"} pair as the facebook.com cookies of a storage state."""
    return [
        {"name": "c_user", "value": pair["c_user"], "domain": ".facebook.com", "path": "/",
         "expires": FAR_FUTURE, "httpOnly": False, "secure": True, "sameSite": "None"},
        {"name": "xs", "value": pair["xs"], "domain": ".facebook.com", "path": "/",
         "expires": FAR_FUTURE, "httpOnly": True, "secure": True, "sameSite": "None"},
    ]
