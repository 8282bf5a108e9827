"""`manage.py demo_setup`: the data `make demo` shows, against the simulator at MARKETPLACE_BASE_URL."""
from collections import Counter

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from dashboard import services


class Command(BaseCommand):
    help = (
        "Migrate, wait for the Marketplace simulator, and (re)create the demo operator with two "
        "accounts and listings of which some fail on purpose. Running it again starts the demo afresh."
    )

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=15.0,
                            help="seconds to wait for the simulator to answer (default 15)")

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=max(0, options["verbosity"] - 1))
        try:
            demo = services.demo_setup(base_url=settings.MARKETPLACE_BASE_URL, timeout=options["timeout"])
        except services.DemoSetupError as exc:
            raise CommandError(str(exc)) from None

        failures = Counter(spec.outcome for spec in services.DEMO_LISTINGS if spec.outcome != "posted")
        posted = sum(1 for spec in services.DEMO_LISTINGS if spec.outcome == "posted")
        self.stdout.write(self.style.SUCCESS("Demo ready."))
        self.stdout.write(f"  Log in as:  {services.DEMO_USERNAME}")
        self.stdout.write(f"  Password:   {services.DEMO_PASSWORD}")
        self.stdout.write(f"  Accounts:   {services.SELLER_EMAIL} (valid session), "
                          f"{services.EXPIRED_EMAIL} (session revoked by the simulator)")
        self.stdout.write(f"  Listings:   {len(demo.listings)}, all pending. Post them all: "
                          f"{posted} are published, {sum(failures.values())} fail "
                          f"({', '.join(f'{kind} x{count}' for kind, count in sorted(failures.items()))}).")
        self.stdout.write(f"  Simulator:  {settings.MARKETPLACE_BASE_URL}")
