import os

from django.core.management.base import BaseCommand

from accounts.services import operator_ensure


class Command(BaseCommand):
    help = (
        "Make sure an operator can log in: DJANGO_SUPERUSER_USERNAME/PASSWORD/EMAIL when set, "
        "otherwise on the first run an 'operator' with a random password, printed once."
    )

    def handle(self, *args, **options):
        user, generated = operator_ensure(
            username=os.environ.get("DJANGO_SUPERUSER_USERNAME") or None,
            password=os.environ.get("DJANGO_SUPERUSER_PASSWORD") or None,
            email=os.environ.get("DJANGO_SUPERUSER_EMAIL", ""),
        )
        if generated:
            self.stdout.write(self.style.SUCCESS("Created the first operator. Note the password: it is shown only once."))
            self.stdout.write(f"  username: {user.username}\n  password: {generated}")
        else:
            self.stdout.write(f"Operator ready: {user.username}")
