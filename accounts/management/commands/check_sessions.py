from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from accounts import selectors


class Command(BaseCommand):
    help = (
        "Every account's session health as a table (the health-check's verdicts). Exit code 1 when "
        "any account is in error: for cron and monitoring."
    )

    def add_arguments(self, parser):
        parser.add_argument("--operator", help="only this operator's accounts (username)")

    def handle(self, *args, operator=None, **options):
        operators = get_user_model().objects.filter(facebook_accounts__isnull=False).distinct().order_by("username")
        if operator:
            operators = operators.filter(username=operator)
        style = {"healthy": self.style.SUCCESS, "warning": self.style.WARNING, "error": self.style.ERROR}
        errors = 0
        self.stdout.write(f"{'id':>5}  {'operator':<14} {'email':<32} {'health':<8} {'age (d)':>8}  reasons")
        for user in operators:
            for row in selectors.accounts_health(user=user)["accounts"]:
                errors += row["health_status"] == "error"
                age = "-" if row["session_age_days"] is None else f"{row['session_age_days']:.1f}"
                self.stdout.write(
                    f"{row['account_id']:>5}  {user.username[:14]:<14} {row['email'][:32]:<32} "
                    f"{style[row['health_status']](row['health_status'].ljust(8))} {age:>8}  "
                    f"{'; '.join(row['reasons']) or '-'}"
                )
        if errors:
            self.stderr.write(self.style.ERROR(f"{errors} account(s) need a new session"))
            raise SystemExit(1)
