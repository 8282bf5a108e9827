"""Posting budgets and pauses: whether an account may post now, and if not, from when.

An account posts at most its daily limit of listings in any 24 hours and its hourly limit in any
60 minutes (each counted from PostingAttempt rows: what it published or tried to publish), and not
at all while paused after a block. Every function takes `now`, so that callers and tests decide
what time it is.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db import transaction

from accounts.models import FacebookAccount, PostingAttempt

DAY, HOUR = timedelta(hours=24), timedelta(hours=1)


def when(moment: datetime) -> str:
    """A moment as messages write it: `2026-12-01 14:05 UTC`."""
    return f"{moment.astimezone(dt_timezone.utc):%Y-%m-%d %H:%M} UTC"


def limits_of(account: FacebookAccount) -> tuple[int | None, int | None]:
    """(daily, hourly): the account's own, else the settings'; None for no limit (a setting of 0)."""
    daily = account.daily_post_limit if account.daily_post_limit is not None else settings.ACCOUNT_DAILY_POST_LIMIT
    hourly = account.hourly_post_limit if account.hourly_post_limit is not None else settings.ACCOUNT_HOURLY_POST_LIMIT
    return daily or None, hourly or None


def _frees_at(times: list[datetime], limit: int | None, window: timedelta, now: datetime) -> datetime | None:
    """When the window (ending now) next holds fewer than `limit` attempts; None if it does now."""
    inside = sorted(t for t in times if t > now - window)
    if limit is None or len(inside) < limit:
        return None
    return inside[len(inside) - limit] + window  # the attempt whose leaving makes room


@dataclass(frozen=True)
class Standing:
    """Where an account stands: its counts, its limits, and whether (until when) it must wait."""

    last_24h: int
    last_hour: int
    daily_limit: int | None
    hourly_limit: int | None
    paused_until: datetime | None
    pause_reason: str
    budget_frees_at: datetime | None  # at its budget: when it may post again

    @property
    def paused(self) -> bool:
        return self.paused_until is not None

    @property
    def can_post_at(self) -> datetime | None:
        """None: now. Else the earliest moment it may post (its pause's end, or its budget's)."""
        if self.paused:
            return self.paused_until
        return self.budget_frees_at

    @property
    def spent(self) -> str | None:
        """Which budget is used up: "daily" (first, when both are), "hourly", or None."""
        if self.daily_limit is not None and self.last_24h >= self.daily_limit:
            return "daily"
        if self.hourly_limit is not None and self.last_hour >= self.hourly_limit:
            return "hourly"
        return None

    def phrase(self) -> str | None:
        """Why the account may not post now ("paused until ...", "at its daily budget ..."); None when it may."""
        if self.paused:
            return f"paused until {when(self.paused_until)} after a block ({self.pause_reason or 'rate_limit'})"
        if self.budget_frees_at is None:
            return None
        if self.spent == "daily":
            spent = f"its daily budget ({self.last_24h} of {self.daily_limit} listings in 24 h)"
        else:
            spent = f"its hourly budget ({self.last_hour} of {self.hourly_limit} listings in 60 min)"
        return f"at {spent}: it can post again at {when(self.budget_frees_at)}"

    def reason(self) -> str | None:
        """The same as a sentence of its own, as the health check lists it."""
        phrase = self.phrase()
        return phrase and phrase[0].upper() + phrase[1:]


def standing_of(account: FacebookAccount, times: list[datetime], *, now: datetime) -> Standing:
    """The account's standing from its attempts' `times` (at least the last 24 h's)."""
    daily, hourly = limits_of(account)
    frees = [t for t in (_frees_at(times, daily, DAY, now), _frees_at(times, hourly, HOUR, now)) if t is not None]
    paused = account.paused_until if account.paused_until and account.paused_until > now else None
    return Standing(
        last_24h=sum(t > now - DAY for t in times), last_hour=sum(t > now - HOUR for t in times),
        daily_limit=daily, hourly_limit=hourly, paused_until=paused, pause_reason=account.pause_reason if paused else "",
        budget_frees_at=max(frees) if frees else None,
    )


def standings(accounts: list[FacebookAccount], *, now: datetime) -> dict[int, Standing]:
    """{account id: standing} for many accounts, in one query."""
    times: dict[int, list[datetime]] = {account.pk: [] for account in accounts}
    rows = PostingAttempt.objects.filter(account__in=[a.pk for a in accounts], at__gt=now - DAY).values_list("account_id", "at")
    for account_id, at in rows:
        times[account_id].append(at)
    return {account.pk: standing_of(account, times[account.pk], now=now) for account in accounts}


def standing(account_id: int, *, now: datetime) -> Standing:
    """One account's standing, read fresh (its pause and limits may have changed meanwhile)."""
    account = FacebookAccount.objects.get(pk=account_id)
    return standings([account], now=now)[account.pk]


def attempt_record(*, account_id: int, at: datetime) -> None:
    """Count a listing the account is about to try; drop its attempts too old to count."""
    with transaction.atomic():
        PostingAttempt.objects.create(account_id=account_id, at=at)
        PostingAttempt.objects.filter(account_id=account_id, at__lt=at - 2 * DAY).delete()
