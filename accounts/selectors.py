"""Reads for the accounts app."""
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts import session_files
from accounts.models import FacebookAccount


def accounts_for(*, user) -> QuerySet[FacebookAccount]:
    """The operator's own Facebook accounts: the only ones any endpoint may see."""
    if not user.is_authenticated:  # schema generation runs views without an operator
        return FacebookAccount.objects.none()
    return FacebookAccount.objects.filter(owner=user)


@dataclass
class SessionStatus:
    exists: bool
    valid: bool
    age_days: float | None
    reasons: list[str] = field(default_factory=list)

    def as_validation(self) -> dict:
        """The seed's validate-session body (valid, expired, missing), plus the reasons."""
        if not self.exists:
            return {
                "valid": False,
                "message": "Session file does not exist",
                "action_required": "Please update session for this account",
                "reasons": self.reasons,
            }
        return {
            "valid": self.valid,
            "session_age_days": self.age_days,
            "message": "Session is valid" if self.valid else "Session may be expired",
            "action_required": None if self.valid else "Consider updating session",
            "reasons": self.reasons,
        }


def account_session_status(*, account: FacebookAccount, now: datetime | None = None) -> SessionStatus:
    """What the account's session file says: present, readable, logged in, young enough.

    Age comes from the file's modification time. Never raises for a broken file: a file that
    cannot be read or parsed is reported, and left as it is.
    """
    now = now or timezone.now()
    path = account.session_path
    try:
        stat = path.stat()
    except FileNotFoundError:
        return SessionStatus(
            exists=False, valid=False, age_days=None, reasons=["No session has been uploaded"]
        )
    except OSError as exc:
        reason = f"Session file cannot be read: {exc.strerror}"
        return SessionStatus(exists=True, valid=False, age_days=None, reasons=[reason])
    age_days = round(max(0.0, now.timestamp() - stat.st_mtime) / 86400, 1)

    reasons = []
    try:
        state = session_files.read_state(path)
    except IsADirectoryError:
        reasons.append("Session file is a directory, not a file")
    except OSError as exc:
        reasons.append(f"Session file cannot be read: {exc.strerror}")
    except session_files.SessionFormatError as exc:
        reasons.append(f"Session file is corrupt: {exc}")
    else:
        reasons.extend(session_files.required_cookie_problems(state["cookies"], now=now))
    if age_days > settings.SESSION_MAX_AGE_DAYS:
        reasons.append(
            f"Session is {age_days} days old (older than {settings.SESSION_MAX_AGE_DAYS:g} days)"
        )
    return SessionStatus(exists=True, valid=not reasons, age_days=age_days, reasons=reasons)
