"""Small formatting helpers for the dashboard's templates (app.js mirrors them for live updates)."""
from django import template

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
