"""Browser session files: normalising what operators upload, and writing it safely.

A session is stored as a Playwright storage state (`{"cookies": [...], "origins": [...]}`), which
`browser.new_context(storage_state=path)` loads as it is. Operators upload either that, or the bare
cookie array that browser cookie-export extensions write. The files hold credentials: they are
written atomically (a reader sees the old file or the new one, never half of one) with owner-only
permissions, and their contents never leave this module except to the browser.
"""
import json
import math
import os
import tempfile
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

from driver.cookies import is_facebook_domain

REQUIRED_COOKIES = ("c_user", "xs")
MAX_COOKIES = 1000

# Cookie-export extensions write Chrome's names; Playwright wants its own.
_SAME_SITE = {
    "strict": "Strict",
    "lax": "Lax",
    "none": "None",
    "no_restriction": "None",
    "unspecified": "Lax",  # what Chromium applies to a cookie without the attribute
}


class SessionFormatError(ValueError):
    """The uploaded session cannot be used; the message tells the operator what to fix."""


def _number(value, where: str, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SessionFormatError(f"{where}: '{field}' must be a number of seconds")
    return value


def _normalise_cookie(raw, index: int) -> dict:
    where = f"cookie {index}"
    if not isinstance(raw, Mapping):
        raise SessionFormatError(f"{where}: expected an object, got {type(raw).__name__}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise SessionFormatError(f"{where}: 'name' must be a non-empty string")
    where = f"cookie {index} ({name})"
    for field in ("value", "domain"):
        if not isinstance(raw.get(field), str):
            raise SessionFormatError(f"{where}: '{field}' must be a string")
    if not raw["domain"]:
        raise SessionFormatError(f"{where}: 'domain' must not be empty")
    path = raw.get("path", "/")
    if not isinstance(path, str) or not path.startswith("/"):
        raise SessionFormatError(f"{where}: 'path' must be a string starting with '/'")

    # Playwright: `expires` (-1 for a session cookie). Extensions: `expirationDate`, absent
    # (and `session: true`) for a session cookie.
    if "expires" in raw:
        expires = _number(raw["expires"], where, "expires")
    elif raw.get("expirationDate") is not None:
        expires = _number(raw["expirationDate"], where, "expirationDate")
    else:
        expires = -1
    if expires != -1 and expires < 0:
        raise SessionFormatError(f"{where}: 'expires' must be -1 or a time in seconds")

    same_site_raw = raw.get("sameSite")
    if same_site_raw is None:
        same_site = "Lax"
    elif isinstance(same_site_raw, str) and same_site_raw.lower() in _SAME_SITE:
        same_site = _SAME_SITE[same_site_raw.lower()]
    else:
        raise SessionFormatError(
            f"{where}: 'sameSite' must be one of Strict, Lax, None, no_restriction, unspecified"
        )
    for field in ("httpOnly", "secure"):
        if not isinstance(raw.get(field, False), bool):
            raise SessionFormatError(f"{where}: '{field}' must be true or false")

    return {
        "name": name,
        "value": raw["value"],
        "domain": raw["domain"],
        "path": path,
        "expires": expires,
        "httpOnly": raw.get("httpOnly", False),
        "secure": raw.get("secure", False),
        "sameSite": same_site,
    }


def _normalise_origins(origins) -> list:
    if not isinstance(origins, list):
        raise SessionFormatError("'origins' must be a list")
    for index, origin in enumerate(origins):
        if not isinstance(origin, Mapping) or not isinstance(origin.get("origin"), str):
            raise SessionFormatError(f"origin {index}: expected an object with an 'origin' string")
        storage = origin.get("localStorage", [])
        if not isinstance(storage, list) or not all(
            isinstance(item, Mapping)
            and isinstance(item.get("name"), str)
            and isinstance(item.get("value"), str)
            for item in storage
        ):
            raise SessionFormatError(
                f"origin {index}: 'localStorage' must be a list of {{name, value}} strings"
            )
    return [{"origin": o["origin"], "localStorage": o.get("localStorage", [])} for o in origins]


def normalise_session(data, *, now: datetime) -> dict:
    """Turn an uploaded session (storage state or cookie export) into a storage state.

    Raises SessionFormatError naming what is wrong: a shape neither format has, a malformed cookie,
    or a missing or expired `c_user` / `xs` cookie on facebook.com.
    """
    if isinstance(data, list):
        raw_cookies, origins = data, []
    elif isinstance(data, Mapping) and "cookies" in data:
        raw_cookies, origins = data["cookies"], _normalise_origins(data.get("origins", []))
        if not isinstance(raw_cookies, list):
            raise SessionFormatError("'cookies' must be a list")
    else:
        raise SessionFormatError(
            "Expected a Playwright storage state ({\"cookies\": [...], \"origins\": [...]}) "
            "or a cookie export (a JSON array of cookies)"
        )
    if len(raw_cookies) > MAX_COOKIES:
        raise SessionFormatError(f"Too many cookies: {len(raw_cookies)} (at most {MAX_COOKIES})")

    cookies = [_normalise_cookie(raw, index) for index, raw in enumerate(raw_cookies)]
    problems = required_cookie_problems(cookies, now=now)
    if problems:
        raise SessionFormatError("; ".join(problems))
    return {"cookies": cookies, "origins": origins}


def required_cookie_problems(cookies: list, *, now: datetime) -> list[str]:
    """What keeps these cookies from being a logged-in Facebook session (empty when nothing).

    Tolerates malformed entries, so that it can judge a stored file that was edited by hand.
    """
    found = {
        cookie["name"]: cookie
        for cookie in cookies
        if isinstance(cookie, Mapping)
        and cookie.get("name") in REQUIRED_COOKIES
        and isinstance(cookie.get("domain"), str)
        and is_facebook_domain(cookie["domain"])
        and cookie.get("value")
    }
    problems = []
    missing = [name for name in REQUIRED_COOKIES if name not in found]
    if missing:
        problems.append(
            f"Missing facebook.com cookie(s): {', '.join(missing)}. Export the cookies of a "
            "logged-in facebook.com tab"
        )
    for name, cookie in found.items():
        expires = cookie.get("expires", -1)
        if isinstance(expires, (int, float)) and expires != -1 and expires <= now.timestamp():
            when = datetime.fromtimestamp(expires, tz=timezone.utc)
            problems.append(f"Cookie {name} expired on {when:%Y-%m-%d %H:%M} UTC; log in again")
    return problems


def write_atomic(path: Path, state: dict) -> None:
    """Write `state` as JSON to `path`: a temporary file with mode 0600, fsynced, then renamed."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    payload = json.dumps(state, indent=2).encode()
    # mkstemp creates the file with mode 0600 whatever the umask.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)


def read_state(path: Path) -> dict:
    """Read a stored session. Raises OSError or SessionFormatError when it is unusable."""
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SessionFormatError(f"not valid JSON ({exc})") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("cookies"), list):
        raise SessionFormatError("not a storage state (no 'cookies' list)")
    return data
