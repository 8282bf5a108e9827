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
from simulator.state import (MAX_DRAFT_PHOTOS, MAX_TAGS, Draft, Fault, FaultError, LayoutError,
                             Photo, State, resolve_layout, solid_png)

MAX_BODY_BYTES = 200 * 1024 * 1024
COOKIE_MAX_AGE = 365 * 24 * 3600  # Facebook's c_user and xs last about a year
PRICE_RE = re.compile(r"\d+(\.\d+)?")
NEW_LAYOUTS = ("2026", "late2026")  # the client-built page of create_item_2026.js
CONSENT_COOKIE = "sim_cookie_consent"
CONSENT_ANSWERS = ("declined", "all")
# The checkpoint fault's redirects: variant -> where the create page sends the browser (None:
# the create page itself asks, see pages.identity_text_page).
CHECKPOINT_REDIRECTS = {
    "checkpoint": "/checkpoint/?next={next}",
    "two_step_verification": "/two_step_verification/?next={next}",
    "two_factor": "/two_factor/?next={next}",
    "2fac": "/2fac/?next={next}",
    "recover": "/recover/initiate/",
    "login_identify": "/login/identify/?ctx=recover",
    "identity_text": None,
}


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


def record_classic(fields: dict) -> tuple[dict, str | None]:
    """The classic form's listing as sent, and the first problem with it (None when fine)."""
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
    if not record["title"]:
        error = "Enter a title for your listing."
    elif not valid_price(record["price"]):
        error = "Enter a valid price."
    return record, error


def record_2026(fields: dict, multi: dict, locale: str) -> tuple[dict, str | None]:
    """The 2026 form's listing as sent, and the first problem with it (None when fine)."""
    condition = pages.canonical_condition(fields.get("condition", ""), locale)
    meetup = multi.get("meetup", [])
    groups = multi.get("groups", [])
    record = {
        "title": fields.get("title", "").strip(),
        "price": fields.get("price", "").strip(),
        "category": fields.get("category", ""),
        "condition": condition or "",
        "description": fields.get("description", ""),
        "location": fields.get("location", "").strip(),
        "delivery": "local_pickup",  # every meetup option is a hand-over in person
        "meetup": meetup,
        "hide_from_friends": fields.get("hide_from_friends") == "true",
        "boosted": fields.get("boost") == "true",
        "groups": groups,
        "tags": [t.strip() for t in multi.get("tags", []) if t.strip()],
        "sku": fields.get("sku", "").strip(),
    }
    known_meetup = set(pages.meetup_names(locale, "hyphen")) | set(pages.meetup_names(locale, "plain"))
    error = None
    if not record["title"]:
        error = "Enter a title for your listing."
    elif not valid_price(record["price"]):
        error = "Enter a valid price."
    elif record["category"] not in pages.category_leaves(locale):
        error = "Choose a category."
    elif condition is None:
        error = "Choose a condition."
    elif not record["location"]:
        error = "Enter a location."
    elif not meetup:
        error = "Choose at least one meetup option."
    elif any(m not in known_meetup for m in meetup):
        error = "Unknown meetup option: " + ", ".join(m for m in meetup if m not in known_meetup)
    elif any(g not in pages.GROUPS for g in groups):
        error = "Unknown group: " + ", ".join(g for g in groups if g not in pages.GROUPS)
    elif len(record["tags"]) > MAX_TAGS:
        error = f"You can add up to {MAX_TAGS} product tags."
    return record, error


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
        self.consent_answered = cookies.get(CONSENT_COOKIE) in CONSENT_ANSWERS
        self.account_page = False  # a logged-in page: it may carry the cookie-consent dialog
        if not self.url_path.startswith("/__sim__/"):  # the control API is not Facebook
            self.state.record_visit(
                c_user=self.c_user, method=method,
                path=self.url_path + (f"?{url.query}" if url.query else ""),
                user_agent=self.headers.get("User-Agent", ""),
                accept_language=self.headers.get("Accept-Language", ""))
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
                self.account_page = route.login
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
        if status == HTTPStatus.OK and self.wants_consent():
            html = html.replace("</body>", pages.cookie_consent_dialog() + "</body>", 1)
        self._send(status, html.encode("utf-8"), "text/html; charset=utf-8", headers)

    def wants_consent(self) -> bool:
        """An account page of an account served the consent dialog, in a browser that never answered."""
        if not (self.account_page and self.c_user) or self.consent_answered:
            return False
        return bool(self.state.layout(self.c_user)[1].get("cookie_consent"))

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
        # A captcha unless this account's last checkpoint came from the `checkpoint` fault.
        if self.state.checkpoint_kind(self.c_user) == "identity":
            return self.send_html(HTTPStatus.OK, pages.identity_page())
        self.send_html(HTTPStatus.OK, pages.checkpoint_page())

    def identity(self, *_rest):
        """/two_step_verification/, /two_factor/, /2fac/, /recover/..., /login/identify/: no captcha."""
        self.send_html(HTTPStatus.OK, pages.identity_page())

    def cookie_consent(self):
        """What the consent dialog's buttons post: the answer, remembered in a cookie for a year."""
        answer = self.read_form().get("answer", "")
        if answer not in CONSENT_ANSWERS:
            return self.send_json(HTTPStatus.BAD_REQUEST,
                                  {"error": "answer must be one of: " + ", ".join(CONSENT_ANSWERS)})
        self.state.record_consent(self.c_user, answer)
        self._send(HTTPStatus.NO_CONTENT, b"", None, [
            ("Set-Cookie", f"{CONSENT_COOKIE}={answer}; Max-Age={COOKIE_MAX_AGE}; Path=/; SameSite=Lax")])

    def home(self):
        self.send_html(HTTPStatus.OK, pages.home_page())

    def marketplace(self):
        self.send_html(HTTPStatus.OK, pages.marketplace_page())

    def selling(self):
        layout, _ = self.state.layout(self.c_user)
        listings, notice = self.state.listings(self.c_user), self.state.notice(self.c_user)
        if layout in NEW_LAYOUTS:
            return self.send_landing(pages.selling_page_2026(listings, notice=notice))
        self.send_landing(pages.selling_page(listings, notice=notice))

    def send_landing(self, html: str) -> None:
        """A page a publish may land on: with the promote offer, when one waits for this account."""
        listing_id = self.state.promote_after(self.c_user) if self.c_user else None
        if listing_id is not None:
            layout, _ = self.state.layout(self.c_user)
            html = html.replace("</body>", pages.promote_dialog(layout, listing_id) + "</body>", 1)
        self.send_html(HTTPStatus.OK, html)

    def create_chooser(self):
        layout, options = self.state.layout(self.c_user)
        if layout == "classic":
            return self.send_html(HTTPStatus.OK, pages.create_chooser_page())
        # The "Item for sale" card carries a one-shot token: the create page lets it through.
        item_url = "/marketplace/create/item?ref=chooser&entry=" + self.state.issue_entry(self.c_user)
        if layout == "late2026":
            return self.send_html(HTTPStatus.OK, pages.create_chooser_page_late2026(
                item_url, options["chooser_cards"]))
        self.send_html(HTTPStatus.OK, pages.create_chooser_page(item_url))

    def create_rental(self):
        self.send_html(HTTPStatus.OK, pages.rental_page())

    def create_vehicle(self):
        self.send_html(HTTPStatus.OK, pages.vehicle_page())

    def edit(self):
        raw = self.query.get("listing_id", [""])[0]
        listing = self.state.listing(int(raw)) if raw.isdigit() and len(raw) < 19 else None
        if listing is None or listing["c_user"] != self.c_user:
            return self.send_html(HTTPStatus.NOT_FOUND, pages.not_found_page())
        self.send_landing(pages.edit_page(listing))

    def item(self, listing_id):
        listing = self.state.listing(int(listing_id)) if len(listing_id) < 19 else None
        if listing is None:
            return self.send_html(HTTPStatus.NOT_FOUND, pages.not_found_page())
        self.send_landing(pages.item_page(listing))

    # -- the create-listing page and its publish endpoint -----------------------------------
    def create_item(self):
        layout, options = self.state.layout(self.c_user)
        loads = self.state.count_load(self.c_user, time.monotonic())
        if self.fire("drop_connection", at="page"):  # before anything is read, the card's token kept
            return self.drop_connection()
        if options.get("chooser") and not self.state.take_entry(
                self.c_user, self.query.get("entry", [None])[0]):
            # Straight to the form: Facebook shows the "Create new listing" chooser first.
            return self.redirect("/marketplace/create/")
        if self.fire("server_error"):
            return self.send_html(HTTPStatus.INTERNAL_SERVER_ERROR, pages.server_error_page())
        if self.fire("session_expired"):
            return self.redirect(pages.login_path(self.path))
        if self.fire("checkpoint_captcha"):
            # The 2026 layout's checkpoint is a two-step-verification URL (with a captcha).
            checkpoint = "/checkpoint/two_step_verification/" if layout in NEW_LAYOUTS else "/checkpoint/"
            self.state.set_checkpoint(self.c_user, "captcha")
            return self.redirect(checkpoint + "?next=" + quote(self.path, safe="/"))
        checkpoint = self.fire("checkpoint")
        if checkpoint:
            self.state.set_checkpoint(self.c_user, "identity")
            target = CHECKPOINT_REDIRECTS[checkpoint.variant]
            if target is None:
                return self.send_html(HTTPStatus.OK, pages.identity_text_page(self.path))
            return self.redirect(target.format(next=quote(self.path, safe="/")))
        too_many = layout in NEW_LAYOUTS and 0 < options["block_after_loads"] < loads
        if self.fire("temporary_block", at="page") or too_many:
            return self.send_html(HTTPStatus.OK, pages.blocked_page())
        daily_limit = self.fire("daily_limit", at="page") is not None
        slow = self.fire("slow_fields")
        renamed = self.fire("renamed_field")
        spanish = self.fire("locale_es")
        slow_ms = None
        if slow:
            slow_ms = slow.delay_ms if slow.delay_ms is not None else pages.DEFAULT_SLOW_FIELDS_MS
        locale = "es" if spanish else "en"
        page_id = self.state.open_page(c_user=self.c_user, layout=layout, options=options,
                                       locale=locale, daily_limit=daily_limit)
        if layout in NEW_LAYOUTS:
            draft = self.state.draft(self.c_user) if options["draft"] else None
            return self.send_html(HTTPStatus.OK, pages.create_item_page_2026(
                page_id=page_id, options=options, locale=locale, renamed_title=renamed is not None,
                slow_ms=slow_ms, draft=draft, daily_limit=daily_limit, layout=layout))
        self.send_html(HTTPStatus.OK, pages.create_item_page(
            locale=locale, renamed_title=renamed is not None, slow_ms=slow_ms, page_id=page_id,
            daily_limit=daily_limit, options=options))

    def _read_upload(self):
        """A form the page posted: (fields name -> values, files), or None after answering 400."""
        body = self.read_body()
        content_type = self.headers.get("Content-Type", "")
        try:
            if content_type.startswith("multipart/"):
                return parse_multipart(body, content_type)
            return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True), []
        except MultipartError as error:
            self.send_json(HTTPStatus.BAD_REQUEST, {"error": f"Malformed upload: {error}"})
            return None

    def _refusal(self, title: str, text: str):
        """A refusal the page shows in a dialog with "OK"; nothing is recorded."""
        return self.send_json(HTTPStatus.FORBIDDEN, {
            "error": text, "dialog": {"title": title, "text": text, "button": "OK"}})

    def publish(self):
        if not self.c_user:  # a fetch, not a navigation: the page itself goes to /login/
            return self.send_json(HTTPStatus.UNAUTHORIZED,
                                  {"error": "Your session has expired. Please log in again."})
        upload = self._read_upload()
        if upload is None:
            return
        multi, files = upload
        fields = {name: values[0] for name, values in multi.items()}
        photos = [f for f in files if f.field == "photos"]
        page = self.state.page(fields.get("page_id"), self.c_user)
        if page is not None:
            layout, options, locale = page.layout, page.options, page.locale
        else:  # not from a page this account loaded: the account's layout, in English
            (layout, options), locale = self.state.layout(self.c_user), "en"
        if layout in NEW_LAYOUTS:
            record, field_error = record_2026(fields, multi, locale)
            if options.get("after_publish") == "item_review":
                record["state"] = "in_review"  # published, not visible to buyers until reviewed
        else:
            record, field_error = record_classic(fields)
        if not photos:  # photos first, then the fields in the form's order
            error = "Add at least one photo."
        elif len(photos) > pages.MAX_PHOTOS:
            error = f"You can add up to {pages.MAX_PHOTOS} photos."
        else:
            error = field_error
        if error:
            return self.send_json(HTTPStatus.BAD_REQUEST, {"error": error})
        # Refusals: nothing is recorded.
        if (page is not None and page.daily_limit) or self.fire("daily_limit", at="publish"):
            return self._refusal(pages.DIALOG_STRINGS_2026["daily_limit_title"],
                                 pages.DAILY_LIMIT_MESSAGE)
        if self.fire("temporary_block", at="publish"):
            return self._refusal(pages.BLOCKED_TITLE, pages.BLOCKED_TEXT)
        # Like Facebook, refuse what its Commerce Policies forbid: a fault, or words in the title.
        if self.fire("policy_rejection") or POLICY_WORDS.search(record["title"]):
            return self.send_json(HTTPStatus.FORBIDDEN, {"error": pages.POLICY_MESSAGE})
        if self.fire("duplicate_listing"):
            self.state.set_notice(self.c_user, pages.DUPLICATE_MESSAGE)
            return self.send_json(HTTPStatus.CONFLICT,
                                  {"error": pages.DUPLICATE_MESSAGE, "duplicate": True})
        listing = self.state.add_listing(c_user=self.c_user, fields=record,
                                         photos=[p.data for p in photos], layout=layout, page=page,
                                         clear_draft=layout in NEW_LAYOUTS and options.get("draft", False))
        # From here on the listing exists, whatever the browser gets to see.
        if self.fire("drop_connection", at="publish"):
            return self.drop_connection()
        if self.fire("publish_never_confirms"):
            return self.send_json(HTTPStatus.INTERNAL_SERVER_ERROR,
                                  {"error": pages.PUBLISH_FAILED_MESSAGE})
        # Answered as recorded: a second such answer to the same page is a second copy, which
        # Facebook takes, and then says so on the selling page.
        if self.state.confirm_publish(page):
            self.state.set_notice(self.c_user, pages.DUPLICATE_MESSAGE)
        promote = options.get("promote_dialog", "even_ids")
        boost_offer = (self.fire("boost_offer") is not None or promote == "before"
                       or (promote == "even_ids" and listing["id"] % 2 == 0))
        promote_after = promote == "after" and not boost_offer
        in_place = layout in NEW_LAYOUTS and options.get("after_publish") == "review"
        # The offer waits for the page the publish lands on (the in-place review shows it itself).
        self.state.promote_after(self.c_user, promote_after and not in_place, listing["id"])
        if layout in NEW_LAYOUTS:
            answer = {"id": listing["id"], "boosted": listing["boosted"], "boost_offer": boost_offer}
            if promote_after and in_place:
                answer["promote_after"] = True
            return self.send_json(HTTPStatus.OK, answer)
        self.send_json(HTTPStatus.OK, {"id": listing["id"], "boost_offer": boost_offer})

    def save_draft(self):
        """What the 2026 page posts whenever title, price or photos change."""
        if not self.c_user:
            return self.send_json(HTTPStatus.UNAUTHORIZED, {"error": "not logged in"})
        upload = self._read_upload()
        if upload is None:
            return
        multi, files = upload
        photos = [Photo(f.filename, f.content_type, f.data) for f in files if f.field == "photos"]
        draft = Draft(title=multi.get("title", [""])[0], price=multi.get("price", [""])[0],
                      photos=photos[:MAX_DRAFT_PHOTOS])
        self.state.save_draft(self.c_user, draft)
        self.send_empty()

    def boost(self):
        """The post-publish Boost offer's "Boost": the listing becomes boosted (a paid ad)."""
        if not self.c_user:
            return self.send_json(HTTPStatus.UNAUTHORIZED, {"error": "not logged in"})
        upload = self._read_upload()
        if upload is None:
            return
        raw = upload[0].get("id", [""])[0]
        if not (raw.isdigit() and len(raw) < 19 and self.state.set_boosted(int(raw), self.c_user)):
            return self.send_json(HTTPStatus.NOT_FOUND, {"error": "no such listing"})
        self.send_empty()

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
        if not isinstance(body, dict):
            body = {}
        email = body.get("email")
        if email is not None and (not isinstance(email, str) or not email.strip()):
            return self.send_json(HTTPStatus.BAD_REQUEST, {"error": "email must be a non-empty string"})
        layout = None
        if "layout" in body or "options" in body:
            if "layout" not in body:
                return self.send_json(HTTPStatus.BAD_REQUEST, {"error": "options need a layout"})
            try:
                layout = resolve_layout(body["layout"], body.get("options"))
            except LayoutError as error:
                return self.send_json(HTTPStatus.BAD_REQUEST, {"error": str(error)})
        c_user, xs = self.state.issue_session(email)
        if layout is not None:
            self.state.set_layout(c_user, *layout)
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

    def _c_user_or_400(self, value) -> str | None:
        if not isinstance(value, str) or not value:
            self.send_json(HTTPStatus.BAD_REQUEST, {"error": "c_user must be a non-empty string"})
            return None
        return value

    def sim_layout_get(self):
        c_user = self._c_user_or_400(self.query.get("c_user", [None])[0])
        if c_user is None:
            return
        layout, options = self.state.layout(c_user)
        draft = self.state.draft(c_user)
        self.send_json(HTTPStatus.OK, {"layout": layout, "options": options,
                                       "draft": draft.as_json() if draft else None})

    def sim_layout_set(self):
        body = self._json_body_or_400()
        if body is None:
            return
        if not isinstance(body, dict):
            return self.send_json(HTTPStatus.BAD_REQUEST, {"error": "body must be a JSON object"})
        unknown = sorted(set(body) - {"c_user", "layout", "options"})
        if unknown:
            return self.send_json(HTTPStatus.BAD_REQUEST, {"error": f"unknown keys: {', '.join(unknown)}"})
        c_user = self._c_user_or_400(body.get("c_user"))
        if c_user is None:
            return
        try:
            self.state.set_layout(c_user, body.get("layout"), body.get("options"))
        except LayoutError as error:
            return self.send_json(HTTPStatus.BAD_REQUEST, {"error": str(error)})
        self.send_empty()

    def sim_drafts(self):
        body = self._json_body_or_400()
        if body is None:
            return
        if not isinstance(body, dict):
            return self.send_json(HTTPStatus.BAD_REQUEST, {"error": "body must be a JSON object"})
        unknown = sorted(set(body) - {"c_user", "title", "price", "photos"})
        if unknown:
            return self.send_json(HTTPStatus.BAD_REQUEST, {"error": f"unknown keys: {', '.join(unknown)}"})
        c_user = self._c_user_or_400(body.get("c_user"))
        if c_user is None:
            return
        title, price, count = body.get("title", ""), body.get("price", ""), body.get("photos", 0)
        if not isinstance(title, str) or not isinstance(price, str):
            return self.send_json(HTTPStatus.BAD_REQUEST, {"error": "title and price must be strings"})
        if type(count) is not int or not 0 <= count <= MAX_DRAFT_PHOTOS:
            return self.send_json(HTTPStatus.BAD_REQUEST, {
                "error": f"photos must be an integer from 0 to {MAX_DRAFT_PHOTOS} (how many to generate)"})
        photos = [Photo(f"draft-{i + 1}.png", "image/png", solid_png(i)) for i in range(count)]
        self.state.save_draft(c_user, Draft(title=title, price=price, photos=photos))
        self.send_empty()

    def sim_timeline(self):
        c_user = self.query.get("c_user", [None])[0]
        self.send_json(HTTPStatus.OK, {"events": self.state.timeline(c_user)})

    def sim_visits(self):
        c_user = self.query.get("c_user", [None])[0]
        self.send_json(HTTPStatus.OK, {"visits": self.state.visits(c_user)})

    def sim_consent(self):
        c_user = self.query.get("c_user", [None])[0]
        self.send_json(HTTPStatus.OK, {"answers": self.state.consents(c_user)})

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
    Route("GET", r"/login\.php", Handler.login_form),
    Route("POST", r"/login/?", Handler.login_submit),
    Route("GET", r"/checkpoint/(.*)", Handler.checkpoint),
    Route("GET", r"/two_step_verification/(.*)", Handler.identity),
    Route("GET", r"/two_factor/(.*)", Handler.identity),
    Route("GET", r"/2fac(/.*)?", Handler.identity),
    Route("GET", r"/recover/(.*)", Handler.identity),
    Route("GET", r"/login/identify/?", Handler.identity),
    Route("POST", r"/cookie/consent/?", Handler.cookie_consent),
    Route("GET", r"/", Handler.home, login=True),
    Route("GET", r"/marketplace/?", Handler.marketplace, login=True),
    Route("GET", r"/marketplace/create/item/?", Handler.create_item, login=True),
    Route("POST", r"/marketplace/create/item/publish/?", Handler.publish),
    Route("POST", r"/marketplace/create/item/draft/?", Handler.save_draft),
    Route("POST", r"/marketplace/create/item/boost/?", Handler.boost),
    Route("GET", r"/marketplace/create/?", Handler.create_chooser, login=True),
    Route("GET", r"/marketplace/create/vehicle/?", Handler.create_vehicle, login=True),
    Route("GET", r"/marketplace/create/rental/?", Handler.create_rental, login=True),
    Route("GET", r"/marketplace/edit/?", Handler.edit, login=True),
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
    Route("GET", r"/__sim__/layout", Handler.sim_layout_get),
    Route("POST", r"/__sim__/layout", Handler.sim_layout_set),
    Route("POST", r"/__sim__/drafts", Handler.sim_drafts),
    Route("GET", r"/__sim__/timeline", Handler.sim_timeline),
    Route("GET", r"/__sim__/visits", Handler.sim_visits),
    Route("GET", r"/__sim__/consent", Handler.sim_consent),
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
