from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from accounts import budgets, selectors


def _today(row) -> str:
    """Listings in the last 24 h against the daily budget in force: "3/20", "3/-" for none."""
    limit = "-" if row["daily_post_limit"] is None else row["daily_post_limit"]
    return f"{row['posts_last_24h']}/{limit}"


def _reasons(row) -> str:
    """The session's reasons, then why the account cannot post now (paused, or at a budget)."""
    hold = row["hold_reason"]
    reasons = [reason for reason in row["reasons"] if reason != hold]  # a pause is among them: said once, last
    return "; ".join([*reasons, *([hold] if hold else [])]) or "-"


class Command(BaseCommand):
    help = (
        "Every account's session health as a table (the health-check's verdicts), with its listings in the "
        "last 24 h against its daily budget and its pause after a block. Exit code 1 when any account is in "
        "error: for cron and monitoring (a paused account or one at its budget is not)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--operator", help="only this operator's accounts (username)")

    def handle(self, *args, operator=None, **options):
        operators = get_user_model().objects.filter(facebook_accounts__isnull=False).distinct().order_by("username")
        if operator:
            operators = operators.filter(username=operator)
        style = {"healthy": self.style.SUCCESS, "warning": self.style.WARNING, "error": self.style.ERROR}
        errors = 0
        self.stdout.write(
            f"{'id':>5}  {'operator':<14} {'email':<32} {'health':<8} {'age (d)':>8} {'24h/day':>8}  "
            f"{'paused until':<20}  reasons"
        )
        for user in operators:
            for row in selectors.accounts_health(user=user)["accounts"]:
                errors += row["health_status"] == "error"
                age = "-" if row["session_age_days"] is None else f"{row['session_age_days']:.1f}"
                paused = "-" if row["paused_until"] is None else budgets.when(row["paused_until"])
                self.stdout.write(
                    f"{row['account_id']:>5}  {user.username[:14]:<14} {row['email'][:32]:<32} "
                    f"{style[row['health_status']](row['health_status'].ljust(8))} {age:>8} {_today(row):>8}  "
                    f"{paused:<20}  {_reasons(row)}"
                )
        if errors:
            self.stderr.write(self.style.ERROR(f"{errors} account(s) need a new session"))
            raise SystemExit(1)
