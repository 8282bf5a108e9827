"""Writes for the accounts app."""
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from accounts import selectors, session_files
from accounts.models import FacebookAccount
from config.browsing import marketplace_target
from config.exceptions import BadRequest
from driver.browser import check_logged_in
from driver.errors import BrowserUnavailable
from driver.selectors import SelectorsFileError


def _email_taken() -> ValidationError:
    return ValidationError({"email": ["You already have an account with this email."]})


def account_create(*, owner, email: str, name: str = "", **fields) -> FacebookAccount:
    """Add a Facebook account for `owner`; an email is unique per operator. Its browser identity
    (user agent, time zone, window size) is drawn now unless given, and kept."""
    try:
        with transaction.atomic():
            # It has no session yet, which its operator knows: that is not news (account_needs_attention).
            return FacebookAccount.objects.create(
                owner=owner, email=email, name=name, last_health=selectors.ERROR, **fields
            )
    except IntegrityError:
        raise _email_taken() from None


def account_update(*, account: FacebookAccount, **fields) -> FacebookAccount:
    """Change an account's email, name, proxy, identity or budgets."""
    for name, value in fields.items():
        setattr(account, name, value)
    try:
        with transaction.atomic():
            account.save(update_fields=[*fields, "updated_at"])
    except IntegrityError:
        raise _email_taken() from None
    return account


def account_pause(*, account_id: int, until, reason: str) -> None:
    """Keep every job off the account until `until` (Facebook blocked it); a later block extends it."""
    FacebookAccount.objects.filter(pk=account_id).update(
        paused_until=until, pause_reason=reason[:500], updated_at=timezone.now()
    )
    accounts_health_watch(account_ids=[account_id])


def account_resume(*, account: FacebookAccount) -> FacebookAccount:
    """Lift a pause: the next job posts with the account again (nothing happens if it is not paused)."""
    FacebookAccount.objects.filter(pk=account.pk).update(paused_until=None, pause_reason="", updated_at=timezone.now())
    accounts_health_watch(account_ids=[account.pk])
    account.refresh_from_db()
    return account


# Sent inside the transaction that deletes `account`, before the rows go: the apps above this one
# (postings) let go of what they hold of it, or raise (a Conflict) to refuse the deletion.
account_deleting = Signal()


def account_delete(*, account: FacebookAccount) -> None:
    """Delete an account, its listings and its session file; refused while one of them is posting."""
    with transaction.atomic():
        account_deleting.send(sender=FacebookAccount, account=account)
        path = account.session_path
        account.delete()
        transaction.on_commit(lambda: path.unlink(missing_ok=True))


def account_session_store(*, account: FacebookAccount, data) -> None:
    """Normalise an uploaded session and replace the account's session file with it, atomically."""
    try:
        state = session_files.normalise_session(data, now=timezone.now())
    except session_files.SessionFormatError as exc:
        raise BadRequest(f"Invalid session: {exc}") from None
    session_files.write_atomic(account.session_path, state)
    accounts_health_watch(account_ids=[account.pk])


def account_session_delete(*, account: FacebookAccount) -> None:
    """Forget the account's session (nothing happens if there is none)."""
    account.session_path.unlink(missing_ok=True)
    accounts_health_watch(account_ids=[account.pk])


def operator_ensure(*, username: str | None, password: str | None, email: str = "") -> tuple[object, str | None]:
    """Make sure an operator can log in. Returns (user, password if one was generated now).

    With a username and password (DJANGO_SUPERUSER_*): that superuser, created if missing. Without:
    nothing if any operator exists, else an `operator` superuser with a random password.
    """
    users = get_user_model().objects
    if username and password:
        user = users.filter(username=username).first()
        if user is None:
            user = users.create_superuser(username=username, email=email, password=password)
        return user, None
    existing = users.order_by("id").first()
    if existing is not None:
        return existing, None
    generated = secrets.token_urlsafe(12)
    return users.create_superuser(username=username or "operator", email=email, password=generated), generated


class LiveCheckUnavailable(Exception):
    """Marketplace could not be reached to tell whether the session works."""


def account_session_check_live(*, account: FacebookAccount) -> FacebookAccount:
    """Open Marketplace with the account's session in Chromium and record whether it is logged in.

    Runs the browser: call it from a thread of its own, not from the server's event loop thread.
    """
    try:
        state = session_files.read_state(account.session_path)
    except (OSError, session_files.SessionFormatError) as exc:
        return _record_live_check(account, False, f"The session file cannot be used ({exc}). Upload it again")
    try:
        check = check_logged_in(
            state=state, target=marketplace_target(), profile=account.browser_profile(),
            executable=settings.BROWSER_EXECUTABLE,
            headless=settings.BROWSER_HEADLESS,
        )
    except (BrowserUnavailable, SelectorsFileError) as exc:
        raise LiveCheckUnavailable(str(exc)) from None
    if check.logged_in is None:
        raise LiveCheckUnavailable(f"Marketplace could not be checked: {check.message}")
    if check.blocked:  # Facebook shows a block: no job may post into it
        until = timezone.now() + timedelta(hours=settings.ACCOUNT_BLOCK_PAUSE_HOURS)
        account_pause(account_id=account.pk, until=until, reason=check.message.removeprefix("Logged in, but "))
    return _record_live_check(account, check.logged_in, check.message)


def _record_live_check(account: FacebookAccount, logged_in: bool, message: str) -> FacebookAccount:
    FacebookAccount.objects.filter(pk=account.pk).update(
        live_checked_at=timezone.now(), live_logged_in=logged_in, live_message=message[:500], updated_at=timezone.now()
    )
    accounts_health_watch(account_ids=[account.pk])
    account.refresh_from_db()
    return account


# Sent once its transaction has committed when an account gets worse: from healthy (or never seen)
# to warning or error, or from warning to error; `entry` is its health-check entry (with
# `health_status` and `reasons`). For the apps above (notifications); receivers must not block.
account_needs_attention = Signal()

_SEVERITY = {"": 0, selectors.HEALTHY: 0, selectors.WARNING: 1, selectors.ERROR: 2}


def accounts_health_watch(*, user=None, account_ids: list[int] | None = None, now=None) -> list[dict]:
    """Compare the health of the operator's accounts (`user`), of `account_ids`, or of every account
    (neither) with what the last watch saw, record it, and send `account_needs_attention` for each
    one that got worse. Returns the entries of those.

    A constant number of queries, plus one conditional UPDATE per account whose health changed: of two
    processes watching at once, the one whose UPDATE changes the row sends, never both.
    """
    accounts = FacebookAccount.objects.all()
    if user is not None:
        accounts = accounts.filter(owner=user)
    if account_ids is not None:
        accounts = accounts.filter(pk__in=account_ids)
    worse = []
    for account, entry in selectors.health_entries(accounts=accounts, now=now):
        health = entry["health_status"]
        if health == account.last_health:
            continue
        # Not updated_at: this is the watch's bookkeeping, not a change the operator made.
        changed = FacebookAccount.objects.filter(pk=account.pk, last_health=account.last_health).update(
            last_health=health
        )
        if changed and _SEVERITY[health] > _SEVERITY.get(account.last_health, 0):
            worse.append(entry)
            transaction.on_commit(
                lambda account=account, entry=entry: account_needs_attention.send(
                    sender=FacebookAccount, account_id=account.pk, owner_id=account.owner_id, entry=entry,
                ),
                robust=True,
            )
    return worse
