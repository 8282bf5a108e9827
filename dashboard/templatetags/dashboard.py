"""Small formatting helpers for the dashboard's templates (app.js mirrors them for live updates)."""
from datetime import datetime, timezone

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def session_age(days) -> str:
    """A session's age in words: "no session", "under a day", "1 day", "12.5 days"."""
    if days is None:
        return "no session"
    if days < 1:
        return "under a day"
    return "1 day" if days == 1 else f"{days:g} days"


@register.filter
def percent(value) -> str:
    """A progress percentage for a CSS width or a label: 0-100, at most one decimal."""
    return f"{max(0.0, min(100.0, float(value or 0))):g}"


@register.simple_tag
def budget(count, limit, period) -> str:
    """Posts against a budget: "3 / 20 today", or "3 today (no limit)" when there is none."""
    if limit is None:
        return f"{count} {period} (no limit)"
    return f"{count} / {limit} {period}"


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Version/", "Safari"))
_PLATFORMS = (("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iOS"),
              ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))
_USER_AGENT_SHOWN = 40


@register.filter
def short_user_agent(user_agent: str) -> str:
    """A user agent in a few words: "Chrome 156 on Linux" (the full one goes in a title attribute).

    Anything it does not recognise is cut to its first 40 characters.
    """
    user_agent = user_agent or ""
    browser = next(((name, token) for token, name in _BROWSERS if token in user_agent), None)
    platform = next((name for token, name in _PLATFORMS if token in user_agent), None)
    if browser and platform:
        name, token = browser
        major = user_agent.split(token, 1)[1].split(".", 1)[0].split(" ", 1)[0]
        return f"{name} {major} on {platform}" if major.isdigit() else f"{name} on {platform}"
    return user_agent if len(user_agent) <= _USER_AGENT_SHOWN else user_agent[:_USER_AGENT_SHOWN - 1] + "…"


@register.filter
def window_size(viewport) -> str:
    """A viewport {"width", "height"} as "1366 × 641"."""
    try:
        return f"{viewport['width']} × {viewport['height']}"
    except (KeyError, TypeError):
        return "—"


@register.simple_tag
def moment(value: datetime) -> str:
    """A moment as the server writes it, `2026-12-01 18:00 UTC`, in a <time> that app.js's
    localTimes shows in the browser's own time zone."""
    value = value.astimezone(timezone.utc)
    return format_html('<time datetime="{}">{} UTC</time>', value.isoformat(), f"{value:%Y-%m-%d %H:%M}")
