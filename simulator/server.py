"""The simulator's HTTP server: Facebook-like pages, the publish endpoint and the /__sim__/ API.

Standard library only: `http.server.ThreadingHTTPServer`, one thread per request, all state in
one `State` object guarded by its lock.
"""
from __future__ import annotations

import json
import re
import signal
import socket
import sys
import threading
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, quote, urlsplit

from simulator import pages
from simulator.multipart import MultipartError, parse_multipart
from simulator.state import Fault, FaultError, State

MAX_BODY_BYTES = 200 * 1024 * 1024
COOKIE_MAX_AGE = 365 * 24 * 3600  # Facebook's c_user and xs last about a year
PRICE_RE = re.compile(r"\d+(\.\d+)?")


def parse_cookies(header: str | None) -> dict[str, str]:
    """Cookie header -> dict; tolerant where http.cookies gives up on one odd cookie."""
    cookies: dict[str, str] = {}
    for pair in (header or "").split(";"):
        name, sep, value = pair.strip().partition("=")
        if sep and name:
            cookies.setdefault(name, value.strip().strip('"'))
    return cookies


def safe_next(value: str | None) -> str:
    """Only same-site paths: "/x" yes, "//evil.example" and "https://..." no."""
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return "/"


def valid_price(text: str) -> bool:
    """The same rule as the page's: a plain non-negative number, "$" and "," allowed."""
    return PRICE_RE.fullmatch(re.sub(r"[$,\s]", "", text)) is not None


def normalise_dashes(text: str) -> str:
    return text.replace("\u2013", "-").replace("\u2014", "-")


class BodyTooLarge(Exception):
    pass


class Route:
    def __init__(self, method: str, pattern: str, view: Callable, *, login: bool = False):
        self.method = method
        self.pattern = re.compile(pattern)
        self.view = view
        self.login = login  # redirect to /login/?next=... when not logged in


POLICY_WORDS = re.compile(r"\b(counterfeit|replica)\b", re.IGNORECASE)


class Handler(BaseHTTPRequestHandler):
    server: "SimulatorServer"
    server_version = "FacebookSimulator/1.0"
    sys_version = ""
    # HTTP/1.0: a fresh connection per request. Chromium silently retries a request whose
    # *reused* keep-alive connection closes without an answer, which would hide drop_connection.
    protocol_version = "HTTP/1.0"

    # -- plumbing ---------------------------------------------------------------------------
    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format, *args):
        if not self.server.quiet:
            super().log_message(format, *args)

    @property
    def state(self) -> State:
        return self.server.state

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        self.url_path = url.path
        self.query = parse_qs(url.query)
        cookies = parse_cookies(self.headers.get("Cookie"))
        self.c_user = self.state.logged_in_user(cookies.get("c_user"), cookies.get("xs"))
        allowed = []
        try:
            for route in ROUTES:
                match = route.pattern.fullmatch(self.url_path)
                if not match:
                    continue
                if route.method != method:
                    allowed.append(route.method)
                    continue
                if route.login and not self.c_user:
                    return self.redirect(pages.login_path(self.path))
                return route.view(self, *match.groups())
            if allowed:
                return self.send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "method not allowed"},
                                      headers=[("Allow", ", ".join(allowed))])
            return self.send_html(HTTPStatus.NOT_FOUND, pages.not_found_page())
        except BodyTooLarge:
            self.close_connection = True
            self.send_json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body too large"})
        except ConnectionError:
            pass  # the browser went away; nothing to answer
        except Exception:  # a simulator bug: say so loudly, never hang the client
            traceback.print_exc(file=sys.stderr)
            try:
                self.send_json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "simulator error"})
            except ConnectionError:
                pass

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise BodyTooLarge
        return self.rfile.read(length) if length > 0 else b""

    def read_json(self):
        body = self.read_body()
        return json.loads(body) if body.strip() else {}

    def read_form(self) -> dict[str, str]:
        fields = parse_qs(self.read_body().decode("utf-8", "replace"), keep_blank_values=True)
        return {name: values[0] for name, values in fields.items()}

    def _send(self, status: int, body: bytes, content_type: str | None, headers=()) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        # Every load must be a fresh page with fresh class names.
        self.send_header("Cache-Control", "no-store")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def send_html(self, status: int, html: str, headers=()) -> None:
        self._send(status, html.encode("utf-8"), "text/html; charset=utf-8", headers)

    def send_json(self, status: int, payload, headers=()) -> None:
        self._send(status, json.dumps(payload).encode("utf-8"), "application/json", headers)

    def send_empty(self, status: int = HTTPStatus.NO_CONTENT) -> None:
        self._send(status, b"", None)

    def redirect(self, location: str, headers=()) -> None:
        self._send(HTTPStatus.FOUND, b"", None, [("Location", location), *headers])

    def drop_connection(self) -> None:
        """Close the TCP connection with no response at all (Chromium: ERR_EMPTY_RESPONSE)."""
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def fire(self, name: str, at: str | None = None) -> Fault | None:
        """Consume the fault `name` if one applies to this request's account; apply its delay."""
        fault = self.state.fire(name, self.c_user, at)
        if fault is None:
            return None
        if not self.server.quiet:
            sys.stderr.write(f"simulator: fault {fault.name} #{fault.id} fired on {self.url_path}\n")
        # slow_fields uses delay_ms in the page; every other fault waits before acting.
        if fault.delay_ms and name != "slow_fields":
            time.sleep(fault.delay_ms / 1000)
        return fault

    # -- sessions and simple pages ----------------------------------------------------------
    def login_form(self):
        # Shown even to a logged-in browser: session_expired sends valid sessions here too.
        next_path = safe_next(self.query.get("next", ["/"])[0])
        self.send_html(HTTPStatus.OK, pages.login_page(next_path=next_path))

    def login_submit(self):
        form = self.read_form()
        email, password = form.get("email", "").strip(), form.get("pass", "")
        next_path = safe_next(form.get("next"))
        if not email:
            return self.send_html(HTTPStatus.OK, pages.login_page(
                next_path=next_path, error="The email address or mobile number you entered isn't "
                                           "connected to an account."))
        if password != "password":
            return self.send_html(HTTPStatus.OK, pages.login_page(
                next_path=next_path, email=email,
                error="The password that you've entered is incorrect."))
        c_user, xs = self.state.issue_session(email)
        attributes = f"Max-Age={COOKIE_MAX_AGE}; Path=/; SameSite=Lax"
        self.redirect(next_path, headers=[
            ("Set-Cookie", f"c_user={c_user}; {attributes}"),
            ("Set-Cookie", f"xs={xs}; {attributes}; HttpOnly"),
        ])

    def checkpoint(self, _rest):
        self.send_html(HTTPStatus.OK, pages.checkpoint_page())

    def home(self):
        self.send_html(HTTPStatus.OK, pages.home_page())

    def marketplace(self):
        self.send_html(HTTPStatus.OK, pages.marketplace_page())

    def selling(self):
        self.send_html(HTTPStatus.OK, pages.selling_page(self.state.listings(self.c_user)))

    def item(self, listing_id):
        listing = self.state.listing(int(listing_id))
        if listing is None:
            return self.send_html(HTTPStatus.NOT_FOUND, pages.not_found_page())
        self.send_html(HTTPStatus.OK, pages.item_page(listing))

    # -- the create-listing page and its publish endpoint -----------------------------------
    def create_item(self):
        if self.fire("drop_connection", at="page"):
            return self.drop_connection()
        if self.fire("server_error"):
            return self.send_html(HTTPStatus.INTERNAL_SERVER_ERROR, pages.server_error_page())
        if self.fire("session_expired"):
            return self.redirect(pages.login_path(self.path))
        if self.fire("checkpoint_captcha"):
            return self.redirect("/checkpoint/?next=" + quote(self.path, safe="/"))
        if self.fire("temporary_block"):
            return self.send_html(HTTPStatus.OK, pages.blocked_page())
        slow = self.fire("slow_fields")
        renamed = self.fire("renamed_field")
        spanish = self.fire("locale_es")
        slow_ms = None
        if slow:
            slow_ms = slow.delay_ms if slow.delay_ms is not None else pages.DEFAULT_SLOW_FIELDS_MS
        self.send_html(HTTPStatus.OK, pages.create_item_page(
            locale="es" if spanish else "en", renamed_title=renamed is not None, slow_ms=slow_ms))

    def publish(self):
        if not self.c_user:  # a fetch, not a navigation: the page itself goes to /login/
            return self.send_json(HTTPStatus.UNAUTHORIZED,
                                  {"error": "Your session has expired. Please log in again."})
        body = self.read_body()
        content_type = self.headers.get("Content-Type", "")
        try:
            if content_type.startswith("multipart/"):
                multi, files = parse_multipart(body, content_type)
                fields = {name: values[0] for name, values in multi.items()}
            else:
                fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"),
                                                       keep_blank_values=True).items()}
                files = []
        except MultipartError as error:
            return self.send_json(HTTPStatus.BAD_REQUEST, {"error": f"Malformed upload: {error}"})
        photos = [f for f in files if f.field == "photos"]
        record = {
            "title": fields.get("title", "").strip(),
            "price": fields.get("price", "").strip(),
            "category": fields.get("category", ""),
            "condition": normalise_dashes(fields.get("condition", "")),
            "description": fields.get("description", ""),
            "location": fields.get("location", ""),
            "delivery": fields.get("delivery", ""),
        }
        error = None
        if not photos:
            error = "Add at least one photo."
        elif len(photos) > pages.MAX_PHOTOS:
            error = f"You can add up to {pages.MAX_PHOTOS} photos."
        elif not record["title"]:
            error = "Enter a title for your listing."
        elif not valid_price(record["price"]):
            error = "Enter a valid price."
        if error:
            return self.send_json(HTTPStatus.BAD_REQUEST, {"error": error})
        # Like Facebook, refuse what its Commerce Policies forbid: a fault, or words in the title.
        if self.fire("policy_rejection") or POLICY_WORDS.search(record["title"]):
            return self.send_json(HTTPStatus.FORBIDDEN, {"error": pages.POLICY_MESSAGE})
        listing = self.state.add_listing(c_user=self.c_user, fields=record, photos=len(photos),
                                         photo_bytes=sum(len(p.data) for p in photos))
        # From here on the listing exists, whatever the browser gets to see.
        if self.fire("drop_connection", at="publish"):
            return self.drop_connection()
        if self.fire("publish_never_confirms"):
            return self.send_json(HTTPStatus.INTERNAL_SERVER_ERROR,
                                  {"error": pages.PUBLISH_FAILED_MESSAGE})
        forced_boost = self.fire("boost_offer") is not None
        self.send_json(HTTPStatus.OK, {
            "id": listing["id"],
            "boost_offer": forced_boost or listing["id"] % 2 == 0,
        })

    # -- the control API --------------------------------------------------------------------
    def _json_body_or_400(self):
        try:
            return self.read_json()
        except (ValueError, UnicodeDecodeError):
            self.send_json(HTTPStatus.BAD_REQUEST, {"error": "body must be JSON"})
            return None

    def sim_health(self):
        self.send_json(HTTPStatus.OK, {"ok": True})

    def sim_sessions(self):
        body = self._json_body_or_400()
        if body is None:
            return
        email = body.get("email") if isinstance(body, dict) else None
        if email is not None and (not isinstance(email, str) or not email.strip()):
            return self.send_json(HTTPStatus.BAD_REQUEST, {"error": "email must be a non-empty string"})
        c_user, xs = self.state.issue_session(email)
        self.send_json(HTTPStatus.OK, {"c_user": c_user, "xs": xs})

    def sim_revoke(self):
        body = self._json_body_or_400()
        if body is None:
            return
        xs = body.get("xs") if isinstance(body, dict) else None
        if not isinstance(xs, str) or not xs:
            return self.send_json(HTTPStatus.BAD_REQUEST, {"error": "xs is required"})
        if not self.state.revoke_session(xs):
            return self.send_json(HTTPStatus.NOT_FOUND, {"error": "no session with this xs"})
        self.send_empty()

    def sim_listings(self):
        c_user = self.query.get("c_user", [None])[0]
        self.send_json(HTTPStatus.OK, {"listings": self.state.listings(c_user)})

    def sim_faults_list(self):
        self.send_json(HTTPStatus.OK, {"faults": self.state.faults()})

    def sim_faults_add(self):
        body = self._json_body_or_400()
        if body is None:
            return
        try:
            fault = self.state.add_fault(body)
        except FaultError as error:
            return self.send_json(HTTPStatus.BAD_REQUEST, {"error": str(error)})
        self.send_json(HTTPStatus.CREATED, {"id": fault.id})

    def sim_faults_clear(self):
        self.state.clear_faults()
        self.send_empty()

    def sim_fault_delete(self, fault_id):
        if not self.state.remove_fault(int(fault_id)):
            return self.send_json(HTTPStatus.NOT_FOUND, {"error": "no such fault"})
        self.send_empty()

    def sim_reset(self):
        self.state.reset()
        self.send_empty()


ROUTES = [
    Route("GET", r"/login/?", Handler.login_form),
    Route("POST", r"/login/?", Handler.login_submit),
    Route("GET", r"/checkpoint/(.*)", Handler.checkpoint),
    Route("GET", r"/", Handler.home, login=True),
    Route("GET", r"/marketplace/?", Handler.marketplace, login=True),
    Route("GET", r"/marketplace/create/item/?", Handler.create_item, login=True),
    Route("POST", r"/marketplace/create/item/publish/?", Handler.publish),
    Route("GET", r"/marketplace/you/selling/?", Handler.selling, login=True),
    Route("GET", r"/marketplace/item/(\d+)/?", Handler.item, login=True),
    Route("GET", r"/__sim__/health", Handler.sim_health),
    Route("POST", r"/__sim__/sessions", Handler.sim_sessions),
    Route("POST", r"/__sim__/sessions/revoke", Handler.sim_revoke),
    Route("GET", r"/__sim__/listings", Handler.sim_listings),
    Route("GET", r"/__sim__/faults", Handler.sim_faults_list),
    Route("POST", r"/__sim__/faults", Handler.sim_faults_add),
    Route("DELETE", r"/__sim__/faults", Handler.sim_faults_clear),
    Route("DELETE", r"/__sim__/faults/(\d+)", Handler.sim_fault_delete),
    Route("POST", r"/__sim__/reset", Handler.sim_reset),
]


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, *, quiet: bool = False):
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.state = State()
        self.quiet = quiet
        super().__init__((host, port), Handler)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def run_in_thread(port: int = 0, host: str = "127.0.0.1", *, quiet: bool = True):
    """Serve in a daemon thread; returns (base_url, shutdown) where shutdown() stops and frees it."""
    server = SimulatorServer(host, port, quiet=quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="marketplace-simulator", daemon=True)
    thread.start()

    def shutdown() -> None:
        server.shutdown()
        server.server_close()
        thread.join()

    return server.base_url, shutdown


def serve(host: str = "127.0.0.1", port: int = 8765, *, quiet: bool = True) -> None:
    """Serve in the foreground until SIGTERM or SIGINT."""
    server = SimulatorServer(host, port, quiet=quiet)

    def stop(signum, frame):
        # shutdown() waits for serve_forever() to return, so it cannot run on this thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # The socket listens since the constructor returned: connections are accepted from now on.
    print(f"simulator listening on {server.base_url}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
