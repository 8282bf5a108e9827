"""Benchmark: the account health-check for many accounts.

`GET /api/accounts/health-check/` reads every account's session file (stat, read, parse, check
the cookies) and counts posts and failures in a constant number of queries. This measures the
answer time through the real view (DRF, JWT auth, JSON rendering) with the Django test client, on
a throwaway SQLite database, for N accounts each with a session file and a few posts, and counts
the queries.

    .venv/bin/python -m bench.health [--accounts 100 1000 5000] [--repeat 5] [--json PATH]
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS_AT_1000 = 1.0


def setup_django(workdir: Path) -> None:
    os.environ.update({
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "MEDIA_ROOT": str(workdir / "media"),
        "SESSIONS_DIR": str(workdir / "sessions"),
        "LOG_DIR": str(workdir / "logs"),
        "DJANGO_DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LOG_LEVEL": "WARNING",
        "DJANGO_ALLOWED_HOSTS": "testserver,localhost",
    })
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def populate(user, count: int) -> None:
    from accounts import session_files
    from accounts.models import FacebookAccount
    from postings.models import ErrorLog, MarketplacePost

    start = FacebookAccount.objects.filter(owner=user).count()
    accounts = FacebookAccount.objects.bulk_create(
        FacebookAccount(owner=user, email=f"seller{i}@example.com") for i in range(start, count)
    )
    state = {"cookies": [
        {"name": name, "value": f"{name}-secret", "domain": ".facebook.com", "path": "/", "expires": 4102444800,
         "httpOnly": True, "secure": True, "sameSite": "None"} for name in ("c_user", "xs", "datr", "sb", "fr")
    ], "origins": []}
    posts = []
    for index, account in enumerate(accounts):
        if index % 10 != 9:  # one account in ten has no session: an `error` row
            session_files.write_atomic(account.session_path, state)
        posts += [MarketplacePost(account=account, title=f"Item {n}", price=10, category="Tools",
                                  status=("posted", "failed", "pending")[n % 3]) for n in range(3)]
    MarketplacePost.objects.bulk_create(posts)
    failed = MarketplacePost.objects.filter(account__in=accounts, status="failed")
    ErrorLog.objects.bulk_create(
        ErrorLog(owner=user, post=post, error_type="session_expired", error_message="bench") for post in failed[::5]
    )


def measure(client, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get("/api/accounts/health-check/")
            timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:200]
    body = response.json()
    return {
        "median_s": statistics.median(timings),
        "min_s": min(timings),
        "queries": len(queries.captured_queries),
        "summary": body["summary"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-health-") as tmp:
        setup_django(Path(tmp))
        from django.contrib.auth import get_user_model
        from rest_framework.test import APIClient
        from rest_framework_simplejwt.tokens import RefreshToken

        user = get_user_model().objects.create_user("bench", "", "bench-password-1")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        client.get("/api/accounts/health-check/")  # warm up imports and the connection

        rows = []
        for count in sorted(args.accounts):
            populate(user, count)
            result = measure(client, args.repeat)
            rows.append({"accounts": count, **result})

    print(f"Health-check through the real view, median of {args.repeat} ({os.cpu_count()} CPUs)\n")
    print(f"{'accounts':>8}  {'median s':>9}  {'min s':>7}  {'ms/account':>10}  {'queries':>7}  summary")
    for row in rows:
        print(f"{row['accounts']:>8}  {row['median_s']:>9.3f}  {row['min_s']:>7.3f}  "
              f"{1000 * row['median_s'] / row['accounts']:>10.3f}  {row['queries']:>7}  {row['summary']}")
    at_1000 = next((row for row in rows if row["accounts"] == 1000), None)
    ok = True
    if at_1000:
        ok = at_1000["median_s"] < TARGET_SECONDS_AT_1000
        print(f"\nTarget: 1,000 accounts in well under {TARGET_SECONDS_AT_1000:g} s: "
              f"{'PASS' if ok else 'FAIL'} ({at_1000['median_s']:.3f} s)")
    constant = len({row["queries"] for row in rows}) == 1
    print(f"Target: a constant number of queries: {'PASS' if constant else 'FAIL'} "
          f"({sorted({row['queries'] for row in rows})})")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0 if ok and constant else 1


if __name__ == "__main__":
    sys.exit(main())
