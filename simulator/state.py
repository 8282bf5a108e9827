"""The simulator's in-memory state: sessions, listings, faults, layouts, drafts, the timeline
and the visits.

One `State` is shared by every request thread, so each method takes the lock.
"""
from __future__ import annotations

import hashlib
import secrets
import struct
import threading
import zlib
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

DEFAULT_EMAIL = "user@example.com"

# Every fault the simulator knows, and where it acts (see README.md in this package).
FAULT_NAMES = frozenset({
    "session_expired",
    "checkpoint_captcha",
    "temporary_block",
    "policy_rejection",
    "slow_fields",
    "drop_connection",
    "publish_never_confirms",
    "renamed_field",
    "locale_es",
    "server_error",
    "boost_offer",
    "daily_limit",
    "duplicate_listing",
    "checkpoint",
})
DROP_POINTS = ("page", "publish")
# Faults that take `at` ("page" by default).
FAULTS_WITH_AT = ("drop_connection", "temporary_block", "daily_limit")
# The `checkpoint` fault's variants (its `variant` field; the first is the default): where the
# create page sends the account, or (identity_text) what it shows instead of the form.
CHECKPOINT_VARIANTS = ("checkpoint", "two_step_verification", "two_factor", "2fac", "recover",
                       "login_identify", "identity_text")

LAYOUTS = ("classic", "2026", "late2026")
MAX_DRAFT_PHOTOS = 10
PAGE_MEMORY = 5000  # create-page loads remembered for their publish (oldest forgotten first)
VISIT_MEMORY = 5000  # visits remembered (oldest forgotten first)


def _choice(*values):
    def check(value):
        # bool is an int in Python: True must not pass for 1.
        if any(type(value) is type(v) and value == v for v in values):
            return None
        return "one of: " + ", ".join(repr(v) if not isinstance(v, str) else f'"{v}"' for v in values)
    return check


def _bool(value):
    return None if type(value) is bool else "true or false"


def _text(allow_empty: bool):
    def check(value):
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            return "a string" if allow_empty else "a non-empty string"
        return None
    return check


def _count(value):
    return None if type(value) is int and value >= 0 else "a non-negative integer"


def _linger(value):
    return None if type(value) is int and 0 <= value <= 10000 else "an integer from 0 to 10000"


# What follows a recorded publish, in every layout: where the promote (Boost) offer shows
# ("even_ids": classic's old way, every even listing id; "before": on the form before the page
# moves on; "after": on the page it lands on; "never"), how long the form stays on screen after
# it (the last step drawn again), and whether that step's button is then disabled or enabled (a
# click on it publishes again). README.md documents them.
OPTIONS_AFTER_PUBLISH = {
    "promote_dialog": ("even_ids", _choice("even_ids", "before", "after", "never")),
    "linger_ms": (600, _linger),
    "linger_button": ("disabled", _choice("disabled", "enabled")),
}

# The "2026" layout's options: name -> (default, validator). README.md documents each one. The
# late-2026 variants (chooser ... sku) default to the 2026 page as it was before them.
OPTIONS_2026 = {
    **OPTIONS_AFTER_PUBLISH,
    "promote_dialog": ("never", _choice("before", "after", "never")),
    "form_label": ("marketplace", _text(False)),
    "add_photos_first": (True, _bool),
    "draft": (True, _bool),
    "category_trigger": ("button", _choice("button", "combobox")),
    "category_chips": (True, _bool),
    "description": ("always", _choice("always", "more_details", "contenteditable")),
    "location_step": (2, _choice(1, 2)),
    "location_role": ("combobox", _choice("combobox", "none")),
    "prefill_location": ("Round Rock, Texas", _text(True)),
    "city_state_suppresses": (True, _bool),
    "meetup_spelling": ("hyphen", _choice("hyphen", "plain")),
    "steps": (3, _choice(2, 3, 4)),
    "boost_default_on": (True, _bool),
    "final_button": ("Next", _choice("Next", "Publish")),
    "aria_disabled": (False, _bool),
    "leave_dialog": (True, _bool),
    "after_publish": ("item", _choice("item", "selling", "edit", "review", "item_review")),
    "review_link": (True, _bool),
    "block_after_loads": (120, _count),
    "chooser": (False, _bool),
    "chooser_cards": ("button", _choice("button", "link")),
    "cookie_consent": (False, _bool),
    "carousel_arrows": ("next", _choice("next", "view_next_image")),
    "condition_after_category": (False, _bool),
    "more_details_redraw": (False, _bool),
    "product_tags": (False, _bool),
    "sku": (False, _bool),
    "brand_availability": (False, _bool),
}

# The "late2026" layout: the same page and options, every late-2026 variant of facebook.md on
# by default (and the hardest of the rest).
LATE2026_DEFAULTS = {
    "promote_dialog": "before",
    "linger_button": "enabled",
    "category_trigger": "combobox",
    "description": "contenteditable",
    "meetup_spelling": "plain",
    "final_button": "Publish",
    "aria_disabled": True,
    "leave_dialog": False,
    "chooser": True,
    "cookie_consent": True,
    "carousel_arrows": "view_next_image",
    "condition_after_category": True,
    "more_details_redraw": True,
    "product_tags": True,
    "sku": True,
    "brand_availability": True,
}
OPTIONS_LATE2026 = {name: (LATE2026_DEFAULTS.get(name, default), check)
                    for name, (default, check) in OPTIONS_2026.items()}
LAYOUT_OPTIONS = {"classic": OPTIONS_AFTER_PUBLISH, "2026": OPTIONS_2026, "late2026": OPTIONS_LATE2026}
MAX_TAGS = 20


class LayoutError(ValueError):
    """A layout or option the control API refuses."""


def resolve_layout(layout, options) -> tuple[str, dict]:
    """Validate a layout name and its options; the options with every default filled in."""
    if layout not in LAYOUTS:
        raise LayoutError(f"layout must be one of: {', '.join(LAYOUTS)} (got {layout!r})")
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise LayoutError("options must be a JSON object")
    known = LAYOUT_OPTIONS[layout]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise LayoutError(f"unknown options for layout {layout}: {', '.join(unknown)} "
                          f"(known: {', '.join(known)})")
    resolved = {}
    for name, (default, check) in known.items():
        value = options.get(name, default)
        problem = check(value)
        if problem:
            raise LayoutError(f"option {name} must be {problem} (got {value!r})")
        resolved[name] = value
    return layout, resolved


def solid_png(index: int, size: int = 12) -> bytes:
    """A small solid-colour PNG, a different colour for each index (standard library only)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    digest = hashlib.sha256(f"draft photo {index}".encode()).digest()
    rows = b"".join(b"\x00" + digest[:3] * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def user_id_for(email: str) -> str:
    """A Facebook-looking 15-digit numeric id, the same for the same email in every process."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"1000{int(digest[:12], 16) % 10**11:011d}"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


@dataclass
class Fault:
    id: int
    name: str
    times: int | None  # remaining firings; None fires until cleared
    c_user: str | None  # only requests of this account; None matches every account
    delay_ms: int | None
    at: str | None  # drop_connection, temporary_block, daily_limit: "page" or "publish"
    variant: str | None = None  # checkpoint only: one of CHECKPOINT_VARIANTS

    def as_json(self) -> dict:
        data = asdict(self)
        if self.name != "checkpoint":
            del data["variant"]  # only the checkpoint fault has one
        return data


class FaultError(ValueError):
    """A fault definition the control API refuses."""


@dataclass
class Photo:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Draft:
    title: str = ""
    price: str = ""
    photos: list[Photo] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"title": self.title, "price": self.price, "photos": len(self.photos),
                "photo_digests": [hashlib.sha256(p.data).hexdigest() for p in self.photos]}


@dataclass
class PageLoad:
    """One served create page: what it was served with, and its timeline event."""
    page_id: str
    c_user: str
    layout: str
    options: dict
    locale: str
    daily_limit: bool
    event: dict
    confirmed: int = 0  # publishes of this page answered as recorded (a second one is a duplicate)


class State:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, str] = {}  # xs -> c_user, for pairs issued and not revoked
        self._listings: list[dict] = []
        self._next_listing_id = 1
        self._faults: list[Fault] = []
        self._next_fault_id = 1
        self._layouts: dict[str, tuple[str, dict]] = {}  # c_user -> (layout, resolved options)
        self._drafts: dict[str, Draft] = {}
        self._timeline: list[dict] = []
        self._open_events: dict[str, dict] = {}  # c_user -> its open timeline event
        self._pages: dict[str, PageLoad] = {}  # page_id -> PageLoad (insertion ordered)
        self._loads: dict[str, deque] = {}  # c_user -> monotonic-ish times of create-page requests
        self._notices: dict[str, str] = {}  # c_user -> a notice for the selling page
        self._promote_after: dict[str, int] = {}  # c_user -> listing whose offer its next landing page shows
        self._entries: dict[str, deque] = {}  # c_user -> the chooser's unused "Item for sale" tokens
        self._checkpoints: dict[str, str] = {}  # c_user -> "captcha" | "identity": its last checkpoint
        self._consents: list[dict] = []  # cookie-consent answers
        self._visits: deque[dict] = deque(maxlen=VISIT_MEMORY)

    # -- sessions ---------------------------------------------------------------------------
    def issue_session(self, email: str | None = None) -> tuple[str, str]:
        """A fresh (c_user, xs) pair; c_user is stable per email."""
        c_user = user_id_for(email or DEFAULT_EMAIL)
        xs = secrets.token_urlsafe(24)
        with self._lock:
            self._sessions[xs] = c_user
        return c_user, xs

    def revoke_session(self, xs: str) -> bool:
        """Forget the pair holding this xs; False when the simulator never issued it."""
        with self._lock:
            return self._sessions.pop(xs, None) is not None

    def logged_in_user(self, c_user: str | None, xs: str | None) -> str | None:
        """The account id when (c_user, xs) is a live issued pair, else None."""
        if not c_user or not xs:
            return None
        with self._lock:
            return c_user if self._sessions.get(xs) == c_user else None

    # -- layouts ----------------------------------------------------------------------------
    def set_layout(self, c_user: str, layout, options=None) -> None:
        resolved = resolve_layout(layout, options)
        with self._lock:
            self._layouts[c_user] = resolved

    def layout(self, c_user: str | None) -> tuple[str, dict]:
        """(layout, options with defaults filled in) of an account; classic when never set."""
        with self._lock:
            layout, options = self._layouts.get(c_user or "", ("classic", {}))
            return layout, dict(options)

    # -- drafts -----------------------------------------------------------------------------
    def save_draft(self, c_user: str, draft: Draft | None) -> None:
        """Keep (or, for None or an empty draft, forget) the account's unfinished listing."""
        with self._lock:
            if draft is None or not (draft.title or draft.price or draft.photos):
                self._drafts.pop(c_user, None)
            else:
                self._drafts[c_user] = draft

    def draft(self, c_user: str | None) -> Draft | None:
        with self._lock:
            return self._drafts.get(c_user or "")

    # -- create-page loads: the timeline, the load rate, the pages' publish context -----------
    def count_load(self, c_user: str, now: float, window: float = 3600.0) -> int:
        """Count one create-page request; how many this account made in the last `window` s."""
        with self._lock:
            loads = self._loads.setdefault(c_user, deque())
            loads.append(now)
            while loads and loads[0] <= now - window:
                loads.popleft()
            return len(loads)

    def open_page(self, *, c_user: str, layout: str, options: dict, locale: str,
                  daily_limit: bool) -> str:
        """A create page is being served: end the account's open event, start a new one."""
        page_id = secrets.token_hex(12)
        stamp = now_iso()
        with self._lock:
            previous = self._open_events.pop(c_user, None)
            if previous is not None:
                previous["ended_at"], previous["outcome"] = stamp, "abandoned"
            event = {"c_user": c_user, "opened_at": stamp, "ended_at": None, "outcome": None}
            self._timeline.append(event)
            self._open_events[c_user] = event
            self._pages[page_id] = PageLoad(page_id, c_user, layout, dict(options), locale,
                                            daily_limit, event)
            while len(self._pages) > PAGE_MEMORY:
                self._pages.pop(next(iter(self._pages)))
            # A new form clears the selling page's notice about the last attempt.
            self._notices.pop(c_user, None)
        return page_id

    def page(self, page_id: str | None, c_user: str | None) -> PageLoad | None:
        """The page load a publish comes from (only the same account's)."""
        with self._lock:
            page = self._pages.get(page_id or "")
            return page if page is not None and page.c_user == c_user else None

    def timeline(self, c_user: str | None = None) -> list[dict]:
        with self._lock:
            return [dict(e) for e in self._timeline if c_user is None or e["c_user"] == c_user]

    # -- the selling page's notices ---------------------------------------------------------
    def set_notice(self, c_user: str, notice: str | None) -> None:
        with self._lock:
            if notice is None:
                self._notices.pop(c_user, None)
            else:
                self._notices[c_user] = notice

    def promote_after(self, c_user: str, show: bool | None = None, listing_id: int | None = None):
        """With `show`, note (or forget) a promote offer of `listing_id` for the next page this
        account lands on; without, take it: the waiting listing's id, or None (it is then gone)."""
        with self._lock:
            if show is not None:
                if show:
                    self._promote_after[c_user] = listing_id or 0
                else:
                    self._promote_after.pop(c_user, None)
                return show
            return self._promote_after.pop(c_user, None)

    def confirm_publish(self, page: PageLoad | None) -> bool:
        """A publish of this page is answered as recorded: whether one was before (a duplicate)."""
        if page is None:
            return False
        with self._lock:
            page.confirmed += 1
            return page.confirmed > 1

    # -- the create chooser's way in --------------------------------------------------------
    def issue_entry(self, c_user: str) -> str:
        """A one-shot token for the chooser's "Item for sale" card (the last 50 are kept)."""
        token = secrets.token_urlsafe(12)
        with self._lock:
            self._entries.setdefault(c_user, deque(maxlen=50)).append(token)
        return token

    def take_entry(self, c_user: str, token: str | None) -> bool:
        """Whether `token` is an unused card token of this account (it is then used up)."""
        with self._lock:
            tokens = self._entries.get(c_user)
            if not token or not tokens or token not in tokens:
                return False
            tokens.remove(token)
            return True

    # -- checkpoints and cookie consent -----------------------------------------------------
    def set_checkpoint(self, c_user: str, kind: str) -> None:
        with self._lock:
            self._checkpoints[c_user] = kind

    def checkpoint_kind(self, c_user: str | None) -> str:
        """What /checkpoint/ shows this account: "identity" after a checkpoint fault, else "captcha"."""
        with self._lock:
            return self._checkpoints.get(c_user or "", "captcha")

    def record_consent(self, c_user: str | None, answer: str) -> dict:
        entry = {"c_user": c_user, "answer": answer, "at": now_iso()}
        with self._lock:
            self._consents.append(entry)
            del self._consents[:-VISIT_MEMORY]
        return dict(entry)

    def consents(self, c_user: str | None = None) -> list[dict]:
        with self._lock:
            return [dict(a) for a in self._consents if c_user is None or a["c_user"] == c_user]

    def notice(self, c_user: str | None) -> str | None:
        with self._lock:
            return self._notices.get(c_user or "")

    # -- listings ---------------------------------------------------------------------------
    def add_listing(self, *, c_user: str, fields: dict, photos, photo_bytes: int | None = None,
                    layout: str = "classic", page: PageLoad | None = None,
                    clear_draft: bool = False) -> dict:
        """Record a published listing; `photos` is the list of uploaded photos' bytes.

        (An int is accepted for `photos` with `photo_bytes`, as older callers passed them.)
        Ends the publishing page's timeline event; `clear_draft` forgets the account's draft.
        """
        if isinstance(photos, int):
            count, total, digests = photos, photo_bytes or 0, []
        else:
            count, total = len(photos), sum(len(p) for p in photos)
            digests = [hashlib.sha256(p).hexdigest() for p in photos]
        with self._lock:
            listing = {"id": self._next_listing_id, "c_user": c_user, **fields}
            # What the classic form does not send.
            for key, default in (("meetup", []), ("hide_from_friends", False), ("boosted", False),
                                 ("groups", []), ("tags", []), ("sku", ""), ("state", "active")):
                listing.setdefault(key, default)
            listing.update({
                "photos": count,
                "photo_bytes": total,
                "photo_digests": digests,
                "layout": layout,
                "created_at": now_iso(),
            })
            self._next_listing_id += 1
            self._listings.append(listing)
            if page is not None and page.event["ended_at"] is None:
                page.event["ended_at"], page.event["outcome"] = listing["created_at"], "published"
                if self._open_events.get(c_user) is page.event:
                    del self._open_events[c_user]
            if clear_draft:
                self._drafts.pop(c_user, None)
            self._notices.pop(c_user, None)
            return _copy_listing(listing)

    def set_boosted(self, listing_id: int, c_user: str) -> bool:
        with self._lock:
            for listing in self._listings:
                if listing["id"] == listing_id and listing["c_user"] == c_user:
                    listing["boosted"] = True
                    return True
            return False

    def listings(self, c_user: str | None = None) -> list[dict]:
        """Every listing in publishing order, or only those of one account."""
        with self._lock:
            return [_copy_listing(x) for x in self._listings if c_user is None or x["c_user"] == c_user]

    def listing(self, listing_id: int) -> dict | None:
        with self._lock:
            return next((_copy_listing(x) for x in self._listings if x["id"] == listing_id), None)

    # -- faults -----------------------------------------------------------------------------
    def add_fault(self, spec: dict) -> Fault:
        """Validate a control-API fault definition and activate it."""
        if not isinstance(spec, dict):
            raise FaultError("body must be a JSON object")
        unknown = set(spec) - {"name", "times", "c_user", "delay_ms", "at", "variant"}
        if unknown:
            raise FaultError(f"unknown keys: {', '.join(sorted(unknown))}")
        name = spec.get("name")
        if name not in FAULT_NAMES:
            raise FaultError(f"name must be one of: {', '.join(sorted(FAULT_NAMES))}")
        times = spec.get("times")
        if times is not None and (type(times) is not int or times < 1):
            raise FaultError("times must be a positive integer (omit it to fire until cleared)")
        c_user = spec.get("c_user")
        if c_user is not None and (not isinstance(c_user, str) or not c_user):
            raise FaultError("c_user must be a non-empty string")
        delay_ms = spec.get("delay_ms")
        if delay_ms is not None and (type(delay_ms) is not int or delay_ms < 0):
            raise FaultError("delay_ms must be a non-negative integer")
        at = spec.get("at")
        if name in FAULTS_WITH_AT:
            at = at or "page"
            if at not in DROP_POINTS:
                raise FaultError(f"at must be one of: {', '.join(DROP_POINTS)}")
        elif at is not None:
            raise FaultError(f"at applies to {', '.join(FAULTS_WITH_AT)} only")
        variant = spec.get("variant")
        if name == "checkpoint":
            variant = CHECKPOINT_VARIANTS[0] if variant is None else variant
            if variant not in CHECKPOINT_VARIANTS:
                raise FaultError(f"variant must be one of: {', '.join(CHECKPOINT_VARIANTS)} "
                                 f"(got {variant!r})")
        elif variant is not None:
            raise FaultError(f"variant applies to checkpoint only (not {name})")
        with self._lock:
            fault = Fault(self._next_fault_id, name, times, c_user, delay_ms, at, variant)
            self._next_fault_id += 1
            self._faults.append(fault)
            return fault

    def faults(self) -> list[dict]:
        with self._lock:
            return [f.as_json() for f in self._faults]

    def remove_fault(self, fault_id: int) -> bool:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            return len(self._faults) != before

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def fire(self, name: str, c_user: str | None, at: str | None = None) -> Fault | None:
        """The first active fault `name` that applies to this account (and point), consumed once.

        Returns a snapshot of the fault as it was when it fired; a fault with `times` disappears
        when its count reaches zero.
        """
        with self._lock:
            for fault in self._faults:
                if fault.name != name or (at is not None and fault.at != at):
                    continue
                if fault.c_user is not None and fault.c_user != c_user:
                    continue
                fired = Fault(**asdict(fault))
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fired
        return None

    # -- visits: which browser identity asked for which page -----------------------------------
    def record_visit(self, *, c_user: str | None, method: str, path: str, user_agent: str,
                     accept_language: str) -> None:
        """Remember one request to a Facebook page (the last VISIT_MEMORY of them)."""
        visit = {"c_user": c_user, "method": method, "path": path, "user_agent": user_agent,
                 "accept_language": accept_language, "at": now_iso()}
        with self._lock:
            self._visits.append(visit)

    def visits(self, c_user: str | None = None) -> list[dict]:
        """The remembered visits, oldest first, or only those made logged in as one account."""
        with self._lock:
            return [dict(v) for v in self._visits if c_user is None or v["c_user"] == c_user]

    # -- everything -------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget listings (numbering restarts at 1), faults, drafts, the timeline, load counts,
        notices, chooser tokens, checkpoints, consent answers and visits; every layout goes back
        to classic. Issued sessions stay valid."""
        with self._lock:
            self._listings.clear()
            self._next_listing_id = 1
            self._faults.clear()
            self._layouts.clear()
            self._drafts.clear()
            self._timeline.clear()
            self._open_events.clear()
            self._pages.clear()
            self._loads.clear()
            self._notices.clear()
            self._promote_after.clear()
            self._entries.clear()
            self._checkpoints.clear()
            self._consents.clear()
            self._visits.clear()


def _copy_listing(listing: dict) -> dict:
    copy = dict(listing)
    for key in ("meetup", "groups", "photo_digests", "tags"):
        copy[key] = list(copy[key])
    return copy
