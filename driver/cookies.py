"""Facebook cookies on the host the browser really talks to.

A session holds facebook.com cookies. When MARKETPLACE_BASE_URL is another host (the local
simulator), the same cookies are put on that host, and after a success the cookies the browser ends
with are merged back into the facebook.com session: everything else in the code path is the same.
"""
from urllib.parse import urlsplit

FACEBOOK_DOMAIN = "facebook.com"


def is_facebook_domain(domain: str) -> bool:
    host = domain.lstrip(".").lower()
    return host == FACEBOOK_DOMAIN or host.endswith("." + FACEBOOK_DOMAIN)


def _target(base_url: str) -> tuple[str, bool]:
    parts = urlsplit(base_url)
    return parts.hostname or "", parts.scheme == "https"


def state_for_target(state: dict, base_url: str) -> dict:
    """The stored storage state, with its facebook.com cookies moved to `base_url`'s host."""
    host, https = _target(base_url)
    if is_facebook_domain(host):
        return state
    cookies = []
    for cookie in state["cookies"]:
        if is_facebook_domain(cookie.get("domain", "")):
            # Chromium drops a SameSite=None cookie that is not Secure, and plain http cannot be Secure.
            same_site = cookie.get("sameSite", "Lax")
            if not https and same_site == "None":
                same_site = "Lax"
            cookie = {**cookie, "domain": host, "secure": https and cookie.get("secure", False), "sameSite": same_site}
        cookies.append(cookie)
    return {"cookies": cookies, "origins": state.get("origins", [])}


def state_from_target(original: dict, browser_cookies: list[dict], base_url: str) -> dict:
    """The session to save after a success: the original, with what the browser now holds."""
    host, _ = _target(base_url)
    if is_facebook_domain(host):
        cookies = [c for c in browser_cookies if is_facebook_domain(c.get("domain", ""))]
        return {"cookies": cookies or original["cookies"], "origins": original.get("origins", [])}
    by_name = {c["name"]: dict(c) for c in original["cookies"] if is_facebook_domain(c.get("domain", ""))}
    for cookie in browser_cookies:
        if cookie.get("domain", "").lstrip(".") != host:
            continue
        saved = by_name.setdefault(
            cookie["name"],
            {"name": cookie["name"], "domain": ".facebook.com", "path": "/", "httpOnly": cookie.get("httpOnly", False),
             "secure": True, "sameSite": "None"},
        )
        saved["value"], saved["expires"] = cookie["value"], cookie.get("expires", -1)
    others = [c for c in original["cookies"] if not is_facebook_domain(c.get("domain", ""))]
    return {"cookies": list(by_name.values()) + others, "origins": original.get("origins", [])}
