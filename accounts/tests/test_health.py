"""Account health: health-check, validate-session, check_sessions."""
import json
import os
import time
from datetime import timedelta
from datetime import timezone as dt_timezone
from http import HTTPStatus
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import selectors, session_files
from accounts.models import FacebookAccount, PostingAttempt
from postings.models import ErrorLog, MarketplacePost

FAR_FUTURE = 4102444800
DAY = 86400


def cookies(**expires) -> dict:
    return {"cookies": [
        {"name": name, "value": f"{name}-value", "domain": ".facebook.com", "path": "/",
         "expires": expires.get(name, FAR_FUTURE), "httpOnly": name == "xs", "secure": True, "sameSite": "None"}
        for name in ("c_user", "xs")
    ], "origins": []}


def make_account(owner, email, *, age_days=None, state=None, posts=()):
    """An account whose session file (if `age_days` is given) was written `age_days` ago."""
    account = FacebookAccount.objects.create(owner=owner, email=email)
    if age_days is not None:
        session_files.write_atomic(account.session_path, state or cookies())
        written = time.time() - age_days * DAY
        os.utime(account.session_path, (written, written))
    for status in posts:
        MarketplacePost.objects.create(account=account, title="x", price=1, category="c", status=status)
    return account


@pytest.fixture
def seed_accounts(operator):
    """The seed's three example accounts: 5.3 days, 35.2 days, no file."""
    return [
        make_account(operator, "user1@example.com", age_days=5.3,
                     posts=["posted"] * 20 + ["failed"] * 2 + ["pending"] * 3),
        make_account(operator, "user2@example.com", age_days=35.2, posts=["posted"] * 5 + ["failed"] * 5),
        make_account(operator, "user3@example.com"),
    ]


SEED_FIELDS = ("account_id", "email", "session_exists", "session_valid", "session_age_days", "total_posts",
               "posted_count", "failed_count", "health_status", "reasons")
# What an account that may post answers beyond the seed's fields, with no posting budgets set.
STANDING_NOW = {"paused_until": None, "posts_last_24h": 0, "posts_last_hour": 0, "daily_post_limit": None,
                "hourly_post_limit": None, "can_post_at": None, "hold_reason": None}


def test_the_health_check_reproduces_the_seed_example(api, seed_accounts):
    response = api.get("/api/accounts/health-check/")

    assert response.status_code == HTTPStatus.OK
    first, second, third = seed_accounts
    body = response.json()
    assert [{name: row[name] for name in row if name not in SEED_FIELDS} for row in body["accounts"]] == [STANDING_NOW] * 3
    body["accounts"] = [{name: row[name] for name in SEED_FIELDS} for row in body["accounts"]]
    assert body == {
        "overall_health": "warning",
        "summary": {"total_accounts": 3, "healthy": 1, "warning": 1, "error": 1},
        "accounts": [
            {"account_id": first.pk, "email": "user1@example.com", "session_exists": True, "session_valid": True,
             "session_age_days": 5.3, "total_posts": 25, "posted_count": 20, "failed_count": 2,
             "health_status": "healthy", "reasons": []},
            {"account_id": second.pk, "email": "user2@example.com", "session_exists": True, "session_valid": False,
             "session_age_days": 35.2, "total_posts": 10, "posted_count": 5, "failed_count": 5,
             "health_status": "warning", "reasons": ["Session is 35.2 days old (older than 30 days)"]},
            {"account_id": third.pk, "email": "user3@example.com", "session_exists": False, "session_valid": False,
             "session_age_days": None, "total_posts": 0, "posted_count": 0, "failed_count": 0,
             "health_status": "error", "reasons": ["No session has been uploaded for this account"]},
        ],
    }


def test_the_seeds_five_accounts_three_healthy_one_warning_one_error_are_healthy_overall(api, operator, seed_accounts):
    make_account(operator, "user4@example.com", age_days=1)
    make_account(operator, "user5@example.com", age_days=2)

    body = api.get("/api/accounts/health-check/").json()

    assert body["summary"] == {"total_accounts": 5, "healthy": 3, "warning": 1, "error": 1}
    assert body["overall_health"] == "healthy"


@pytest.mark.parametrize(
    "healthy, warning, error, overall",
    [
        (3, 1, 1, "healthy"),
        (1, 0, 0, "healthy"),
        (2, 2, 0, "warning"),
        (1, 0, 1, "warning"),
        (1, 3, 3, "warning"),
        (0, 5, 0, "error"),
        (0, 0, 2, "error"),
        (0, 0, 0, "error"),
    ],
)
def test_the_overall_rule(healthy, warning, error, overall):
    summary = {"total_accounts": healthy + warning + error, "healthy": healthy, "warning": warning, "error": error}

    assert selectors.overall_health(summary) == overall


def test_validate_session_gives_the_seeds_three_answers(api, seed_accounts):
    answers = [api.get(f"/api/accounts/{account.pk}/validate-session/").json() for account in seed_accounts]

    assert answers == [
        {"valid": True, "session_age_days": 5.3, "message": "Session is valid", "action_required": None,
         "reasons": []},
        {"valid": False, "session_age_days": 35.2, "message": "Session may be expired",
         "action_required": "Consider updating session",
         "reasons": ["Session is 35.2 days old (older than 30 days)"]},
        {"valid": False, "message": "Session file does not exist",
         "action_required": "Please update session for this account",
         "reasons": ["No session has been uploaded for this account"]},
    ]


def _write(path, content):
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_bytes(content)


@pytest.mark.parametrize(
    "corrupt, reason",
    [
        (lambda path: _write(path, b"{not json"), "Session file is corrupt: not valid JSON"),
        (lambda path: _write(path, b""), "Session file is corrupt: not valid JSON"),
        (lambda path: _write(path, b"\xff\xfe\x00garbage"), "Session file is corrupt: not valid JSON"),
        (lambda path: _write(path, b'["a list"]'), "Session file is corrupt: not a storage state"),
        (lambda path: path.mkdir(parents=True), "Session file is a directory, not a file"),
        (lambda path: _write(path, json.dumps({"cookies": []}).encode()), "Missing facebook.com cookie(s): c_user, xs"),
        (lambda path: _write(path, json.dumps({"cookies": [{"name": "xs"}, 7]}).encode()),
         "Missing facebook.com cookie(s): c_user, xs"),
    ],
)
def test_a_corrupt_session_file_is_an_error_with_a_reason_and_is_left_alone(api, operator, corrupt, reason):
    account = make_account(operator, "broken@example.com")
    corrupt(account.session_path)
    before = (account.session_path.stat().st_mtime_ns,
              None if account.session_path.is_dir() else account.session_path.read_bytes())

    health = api.get("/api/accounts/health-check/")
    validation = api.get(f"/api/accounts/{account.pk}/validate-session/")

    assert (health.status_code, validation.status_code) == (HTTPStatus.OK, HTTPStatus.OK)
    row = health.json()["accounts"][0]
    assert (row["health_status"], row["session_exists"], row["session_valid"]) == ("error", True, False)
    assert any(r.startswith(reason) for r in row["reasons"]), row["reasons"]
    assert validation.json()["message"] == "Session file is unusable"
    assert (account.session_path.stat().st_mtime_ns,
            None if account.session_path.is_dir() else account.session_path.read_bytes()) == before


def test_a_session_file_that_cannot_be_read_is_an_error(api, operator, monkeypatch):
    make_account(operator, "locked@example.com", age_days=1)

    def denied(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(session_files.Path, "read_bytes", denied)  # root reads through chmod 000
    row = api.get("/api/accounts/health-check/").json()["accounts"][0]

    assert row["health_status"] == "error"
    assert row["reasons"] == ["Session file cannot be read: Permission denied"]


def test_an_expired_xs_cookie_is_a_warning(api, operator):
    make_account(operator, "old@example.com", age_days=1, state=cookies(xs=time.time() - DAY))

    row = api.get("/api/accounts/health-check/").json()["accounts"][0]

    assert row["health_status"] == "warning"
    assert row["reasons"][0].startswith("Cookie xs expired on ")


def test_a_session_failure_since_the_file_was_written_is_a_warning_and_an_older_one_is_not(api, operator):
    account = make_account(operator, "flaky@example.com", age_days=2)
    post = MarketplacePost.objects.create(account=account, title="x", price=1, category="c", status="failed")
    old = ErrorLog.objects.create(owner=operator, post=post, error_type="captcha", error_message="m")
    ErrorLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    ErrorLog.objects.create(owner=operator, post=post, error_type="network_error", error_message="m")

    assert api.get("/api/accounts/health-check/").json()["accounts"][0]["health_status"] == "healthy"

    ErrorLog.objects.create(owner=operator, post=post, error_type="session_expired", error_message="m")
    row = api.get("/api/accounts/health-check/").json()["accounts"][0]

    assert row["health_status"] == "warning"
    assert row["reasons"][0].startswith("Posting failed with an expired session or a CAPTCHA on ")


def test_uploading_a_fresh_session_clears_an_earlier_failure(api, operator):
    account = make_account(operator, "renewed@example.com", age_days=2)
    post = MarketplacePost.objects.create(account=account, title="x", price=1, category="c")
    log = ErrorLog.objects.create(owner=operator, post=post, error_type="session_expired", error_message="m")
    ErrorLog.objects.filter(pk=log.pk).update(created_at=timezone.now() - timedelta(days=1))

    response = api.put(f"/api/accounts/{account.pk}/session/", cookies(), format="json")

    assert response.json()["valid"] is True


def test_health_check_runs_the_same_queries_for_3_or_30_accounts(api, operator, django_assert_max_num_queries):
    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert api.get("/api/accounts/health-check/").status_code == HTTPStatus.OK
        return len(context.captured_queries)

    for i in range(3):
        make_account(operator, f"few{i}@example.com", age_days=1, posts=["posted", "failed"])
    few = queries()
    for i in range(27):
        make_account(operator, f"many{i}@example.com", age_days=1, posts=["posted"])

    assert queries() == few
    with django_assert_max_num_queries(4):  # the operator (token), the accounts with counts, the failures, the attempts
        api.get("/api/accounts/health-check/")


def test_health_and_validation_show_only_the_operators_accounts(api, other_api, seed_accounts):
    assert other_api.get("/api/accounts/health-check/").json() == {
        "overall_health": "error", "summary": {"total_accounts": 0, "healthy": 0, "warning": 0, "error": 0},
        "accounts": [],
    }
    assert other_api.get(f"/api/accounts/{seed_accounts[0].pk}/validate-session/").status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("query", ["", "?live=true", "?live=bogus"])
def test_validate_session_needs_credentials_before_anything_else(client, seed_accounts, query):
    response = client.get(f"/api/accounts/{seed_accounts[0].pk}/validate-session/{query}")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize("live", ["yes", "2", "TRUEE"])
def test_a_bad_live_parameter_is_400(api, seed_accounts, live):
    response = api.get(f"/api/accounts/{seed_accounts[0].pk}/validate-session/?live={live}")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "live" in response.json()


def run_check_sessions() -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("check_sessions", stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue() + err.getvalue()
    return 0, out.getvalue()


def test_check_sessions_exits_0_when_no_account_is_in_error(operator):
    make_account(operator, "fine@example.com", age_days=1)
    make_account(operator, "stale@example.com", age_days=40)

    code, output = run_check_sessions()

    assert code == 0
    assert "fine@example.com" in output and "healthy" in output
    assert "stale@example.com" in output and "Session is 40.0 days old" in output


def test_check_sessions_exits_1_when_an_account_is_in_error(operator, other_operator):
    make_account(operator, "fine@example.com", age_days=1)
    make_account(other_operator, "missing@example.com")

    code, output = run_check_sessions()

    assert code == 1
    assert "missing@example.com" in output and "1 account(s) need a new session" in output


def test_check_sessions_shows_the_posts_of_the_last_24h_against_the_daily_budget(operator):
    budgeted = make_account(operator, "budgeted@example.com", age_days=1)
    make_account(operator, "unlimited@example.com", age_days=1)  # ACCOUNT_DAILY_POST_LIMIT is 0 here: none
    FacebookAccount.objects.filter(pk=budgeted.pk).update(daily_post_limit=20)
    now = timezone.now()
    PostingAttempt.objects.bulk_create([PostingAttempt(account=budgeted, at=now - timedelta(hours=h)) for h in (1, 5, 30)])

    code, output = run_check_sessions()

    header, *lines = output.splitlines()
    assert code == 0
    assert header.index("health") < header.index("24h/day") < header.index("paused until") < header.index("reasons")
    budgeted_line = next(line for line in lines if "budgeted@example.com" in line)
    assert " 2/20 " in budgeted_line  # the 30-hour-old attempt counts for nothing
    assert budgeted_line.split()[-2:] == ["-", "-"]  # not paused, no reasons
    assert " 0/- " in next(line for line in lines if "unlimited@example.com" in line)


def test_check_sessions_shows_a_pause_after_the_session_reasons_without_failing(operator):
    until = timezone.now() + timedelta(hours=5)
    stale = make_account(operator, "stale@example.com", age_days=40)
    FacebookAccount.objects.filter(pk=stale.pk).update(paused_until=until, pause_reason="rate_limit: blocked",
                                                       hourly_post_limit=1)

    code, output = run_check_sessions()

    assert code == 0  # paused is a warning, not an error
    line = next(line for line in output.splitlines() if "stale@example.com" in line)
    assert f"{until.astimezone(dt_timezone.utc):%Y-%m-%d %H:%M} UTC" in line
    reasons = line.split("  ")[-1]
    assert reasons.startswith("Session is 40.0 days old (older than 30 days); Paused until ")
    assert reasons.endswith("after a block (rate_limit: blocked)")
    assert reasons.count("Paused until") == 1


def test_check_sessions_shows_an_account_at_its_budget_and_still_exits_1_only_for_an_error(operator):
    held = make_account(operator, "held@example.com", age_days=1)
    FacebookAccount.objects.filter(pk=held.pk).update(daily_post_limit=1)
    PostingAttempt.objects.create(account=held, at=timezone.now() - timedelta(minutes=3))

    code, output = run_check_sessions()
    assert code == 0
    line = next(line for line in output.splitlines() if "held@example.com" in line)
    assert " 1/1 " in line and "At its daily budget (1 of 1 listings in 24 h): it can post again at " in line

    make_account(operator, "missing@example.com")
    code, output = run_check_sessions()
    assert code == 1
    line = next(line for line in output.splitlines() if "missing@example.com" in line)
    assert line.rstrip().endswith("No session has been uploaded for this account")


def test_health_shows_a_paused_account_and_one_at_its_budget(api, operator, settings):
    from accounts.models import PostingAttempt

    settings.ACCOUNT_DAILY_POST_LIMIT, settings.ACCOUNT_HOURLY_POST_LIMIT = 20, 2
    now = timezone.now()
    paused = make_account(operator, "paused@example.com", age_days=1)
    FacebookAccount.objects.filter(pk=paused.pk).update(paused_until=now + timedelta(hours=20), pause_reason="Blocked")
    busy = make_account(operator, "busy@example.com", age_days=1)
    FacebookAccount.objects.filter(pk=busy.pk).update(daily_post_limit=10)
    for minutes in (10, 30, 200):
        PostingAttempt.objects.create(account=busy, at=now - timedelta(minutes=minutes))

    body = api.get("/api/accounts/health-check/").json()

    rows = {row["email"]: row for row in body["accounts"]}
    p, b = rows["paused@example.com"], rows["busy@example.com"]
    assert (p["health_status"], p["session_valid"]) == ("warning", True)  # the session is fine; the account is not
    assert p["reasons"] == [p["hold_reason"]] and p["hold_reason"].startswith("Paused until ")
    assert p["hold_reason"].endswith("after a block (Blocked)")
    assert p["paused_until"] is not None and p["can_post_at"] == p["paused_until"]
    assert (b["health_status"], b["reasons"]) == ("healthy", [])  # a budget is no health problem
    assert (b["posts_last_24h"], b["posts_last_hour"], b["daily_post_limit"], b["hourly_post_limit"]) == (3, 2, 10, 2)
    assert b["hold_reason"].startswith("At its hourly budget (2 of 2 listings in 60 min): it can post again at ")
    assert b["can_post_at"] is not None and b["paused_until"] is None
    assert body["summary"] == {"total_accounts": 2, "healthy": 1, "warning": 1, "error": 0}


def test_an_expired_pause_is_no_pause(api, operator):
    account = make_account(operator, "was-paused@example.com", age_days=1)
    FacebookAccount.objects.filter(pk=account.pk).update(paused_until=timezone.now() - timedelta(minutes=1))

    row = api.get("/api/accounts/health-check/").json()["accounts"][0]

    assert (row["health_status"], row["paused_until"], row["hold_reason"]) == ("healthy", None, None)
