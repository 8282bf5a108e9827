"""Reads for the accounts app: the operator's accounts and how healthy their sessions are."""
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts import budgets, session_files
from accounts.models import FacebookAccount

HEALTHY, WARNING, ERROR = "healthy", "warning", "error"
# Failures that mean the session itself no longer works.
SESSION_FAILURES = ("session_expired", "captcha")


def accounts_for(*, user) -> QuerySet[FacebookAccount]:
    """The operator's own Facebook accounts: the only ones any endpoint may see."""
    if not user.is_authenticated:  # schema generation runs views without an operator
        return FacebookAccount.objects.none()
    return FacebookAccount.objects.filter(owner=user)


def account_for(*, user, pk: int) -> FacebookAccount:
    return get_object_or_404(accounts_for(user=user), pk=pk)


@dataclass
class SessionStatus:
    """What is known of an account's session. `problems` make it `error`, `doubts` `warning`."""

    exists: bool
    age_days: float | None = None
    problems: list[str] = field(default_factory=list)
    doubts: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.exists and not self.problems and not self.doubts

    @property
    def health(self) -> str:
        if not self.exists or self.problems:
            return ERROR
        return WARNING if self.doubts else HEALTHY

    @property
    def reasons(self) -> list[str]:
        return self.problems + self.doubts

    def as_validation(self) -> dict:
        """The seed's validate-session body (valid, expired, missing), plus the reasons."""
        if not self.exists:
            return {
                "valid": False,
                "message": "Session file does not exist",
                "action_required": "Please update session for this account",
                "reasons": self.reasons,
            }
        if self.problems:
            message, action = "Session file is unusable", "Please update session for this account"
        elif self.doubts:
            message, action = "Session may be expired", "Consider updating session"
        else:
            message, action = "Session is valid", None
        return {
            "valid": self.valid,
            "session_age_days": self.age_days,
            "message": message,
            "action_required": action,
            "reasons": self.reasons,
        }


def account_session_status(
    *, account: FacebookAccount, now: datetime | None = None, last_session_failure=...
) -> SessionStatus:
    """What the account's session file and its history say. Never raises for a broken file.

    Valid: the file exists and parses, holds unexpired `c_user` and `xs`, is younger than
    SESSION_MAX_AGE_DAYS (age from the file's modification time), no post of the account failed
    with session_expired or captcha since the file was written, and no live check since then found
    it logged out. A broken file is reported and left as it is. `last_session_failure` (the time of
    the account's latest such failure, or None) can be given to save the query.
    """
    now = now or timezone.now()
    path = account.session_path
    try:
        stat = path.stat()
    except FileNotFoundError:
        return SessionStatus(exists=False, problems=["No session has been uploaded for this account"])
    except OSError as exc:
        return SessionStatus(exists=True, problems=[f"Session file cannot be read: {exc.strerror}"])
    written = datetime.fromtimestamp(stat.st_mtime, tz=dt_timezone.utc)
    status = SessionStatus(exists=True, age_days=round(max(0.0, (now - written).total_seconds()) / 86400, 1))

    try:
        state = session_files.read_state(path)
    except IsADirectoryError:
        status.problems.append("Session file is a directory, not a file")
    except OSError as exc:
        status.problems.append(f"Session file cannot be read: {exc.strerror}")
    except session_files.SessionFormatError as exc:
        status.problems.append(f"Session file is corrupt: {exc}")
    else:
        for problem in session_files.required_cookie_problems(state["cookies"], now=now):
            (status.problems if problem.startswith("Missing") else status.doubts).append(problem)

    if status.age_days > settings.SESSION_MAX_AGE_DAYS:
        status.doubts.append(
            f"Session is {status.age_days} days old (older than {settings.SESSION_MAX_AGE_DAYS:g} days)"
        )
    if last_session_failure is ...:
        last_session_failure = _last_session_failures(accounts=[account]).get(account.pk)
    if last_session_failure and last_session_failure > written:
        status.doubts.append(f"Posting failed with an expired session or a CAPTCHA on {budgets.when(last_session_failure)}, "
                             "after this session was saved")
    if account.live_checked_at and account.live_checked_at >= written and account.live_logged_in is False:
        status.doubts.append(f"A live check on {budgets.when(account.live_checked_at)} found it logged out: {account.live_message}")
    return status


def _last_session_failures(*, accounts) -> dict[int, datetime]:
    """{account id: time of its latest session_expired or captcha failure}, in one query.

    Read through the reverse relations (account -> posts -> error logs): `accounts` sits below
    `postings` and imports none of it.
    """
    return dict(
        FacebookAccount.objects.filter(pk__in=[account.pk for account in accounts],
                                       posts__error_logs__error_type__in=SESSION_FAILURES)
        .annotate(last=Max("posts__error_logs__created_at")).values_list("pk", "last")
    )


def overall_health(summary: dict) -> str:
    """One word for all of an operator's accounts.

    `healthy` while more than half of the accounts can post (the seed's 3 healthy, 1 warning,
    1 error is healthy), `error` when none can (or there is none), `warning` in between.
    """
    total, healthy = summary["total_accounts"], summary[HEALTHY]
    if healthy == 0:
        return ERROR
    return HEALTHY if healthy * 2 > total else WARNING


def accounts_health(*, user, now: datetime | None = None) -> dict:
    """The seed's health-check body for all of the operator's accounts, in a constant number of queries.

    Each entry adds where the account stands with Facebook: paused after a block (which makes it
    `warning` at least, the pause among its reasons), its posts in the last 24 h and hour against its
    budgets, and `hold_reason` when it cannot post now (paused or at a budget).
    """
    rows = [row for _, row in health_entries(accounts=accounts_for(user=user), now=now)]
    summary = {"total_accounts": len(rows), HEALTHY: 0, WARNING: 0, ERROR: 0}
    for row in rows:
        summary[row["health_status"]] += 1
    return {"overall_health": overall_health(summary), "summary": summary, "accounts": rows}


def health_entries(
    *, accounts: QuerySet[FacebookAccount], now: datetime | None = None
) -> list[tuple[FacebookAccount, dict]]:
    """(account, its health-check entry) for each of `accounts`, by id, in a constant number of queries."""
    now = now or timezone.now()
    accounts = list(
        accounts.order_by("pk").annotate(
            total_posts=Count("posts"),  # the listings' statuses, as postings.models names them
            posted_count=Count("posts", filter=Q(posts__status="posted")),
            failed_count=Count("posts", filter=Q(posts__status="failed")),
        )
    )
    failures = _last_session_failures(accounts=accounts) if accounts else {}
    standings = budgets.standings(accounts, now=now) if accounts else {}
    entries = []
    for account in accounts:
        status = account_session_status(account=account, now=now, last_session_failure=failures.get(account.pk))
        standing = standings[account.pk]
        health, reasons = status.health, status.reasons
        if standing.paused:
            health, reasons = (ERROR if health == ERROR else WARNING), [*reasons, standing.reason()]
        entries.append((account, {
            "account_id": account.pk,
            "email": account.email,
            "session_exists": status.exists,
            "session_valid": status.valid,
            "session_age_days": status.age_days,
            "total_posts": account.total_posts,
            "posted_count": account.posted_count,
            "failed_count": account.failed_count,
            "health_status": health,
            "reasons": reasons,
            "paused_until": standing.paused_until,
            "posts_last_24h": standing.last_24h,
            "posts_last_hour": standing.last_hour,
            "daily_post_limit": standing.daily_limit,
            "hourly_post_limit": standing.hourly_limit,
            "can_post_at": standing.can_post_at,
            "hold_reason": standing.reason(),
        }))
    return entries
