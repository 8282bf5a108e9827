"""The simulator's in-memory state: issued sessions, published listings and active faults.

One `State` is shared by every request thread, so each method takes the lock.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import asdict, dataclass
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
})
DROP_POINTS = ("page", "publish")


def user_id_for(email: str) -> str:
    """A Facebook-looking 15-digit numeric id, the same for the same email in every process."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"1000{int(digest[:12], 16) % 10**11:011d}"


@dataclass
class Fault:
    id: int
    name: str
    times: int | None  # remaining firings; None fires until cleared
    c_user: str | None  # only requests of this account; None matches every account
    delay_ms: int | None
    at: str | None  # drop_connection only: "page" or "publish"

    def as_json(self) -> dict:
        return asdict(self)


class FaultError(ValueError):
    """A fault definition the control API refuses."""


class State:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, str] = {}  # xs -> c_user, for pairs issued and not revoked
        self._listings: list[dict] = []
        self._next_listing_id = 1
        self._faults: list[Fault] = []
        self._next_fault_id = 1

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

    # -- listings ---------------------------------------------------------------------------
    def add_listing(self, *, c_user: str, fields: dict, photos: int, photo_bytes: int) -> dict:
        with self._lock:
            listing = {
                "id": self._next_listing_id,
                "c_user": c_user,
                **fields,
                "photos": photos,
                "photo_bytes": photo_bytes,
                "created_at": datetime.now(timezone.utc).isoformat(),
            }
            self._next_listing_id += 1
            self._listings.append(listing)
            return dict(listing)

    def listings(self, c_user: str | None = None) -> list[dict]:
        """Every listing in publishing order, or only those of one account."""
        with self._lock:
            return [dict(x) for x in self._listings if c_user is None or x["c_user"] == c_user]

    def listing(self, listing_id: int) -> dict | None:
        with self._lock:
            return next((dict(x) for x in self._listings if x["id"] == listing_id), None)

    # -- faults -----------------------------------------------------------------------------
    def add_fault(self, spec: dict) -> Fault:
        """Validate a control-API fault definition and activate it."""
        if not isinstance(spec, dict):
            raise FaultError("body must be a JSON object")
        unknown = set(spec) - {"name", "times", "c_user", "delay_ms", "at"}
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
        if name == "drop_connection":
            at = at or "page"
            if at not in DROP_POINTS:
                raise FaultError(f"at must be one of: {', '.join(DROP_POINTS)}")
        elif at is not None:
            raise FaultError("at applies to drop_connection only")
        with self._lock:
            fault = Fault(self._next_fault_id, name, times, c_user, delay_ms, at)
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

    # -- everything -------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget listings (numbering restarts at 1) and faults; issued sessions stay valid."""
        with self._lock:
            self._listings.clear()
            self._next_listing_id = 1
            self._faults.clear()
