"""Sessions checked and saved with real Chromium against the simulator."""
import json
import os
import subprocess
import sys
from http import HTTPStatus

import pytest
from django.conf import settings as django_settings

from accounts.models import FacebookAccount

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_live_check_of_a_valid_session_says_valid(simulator, api, make_account):
    account = make_account()

    response = api.get(f"/api/accounts/{account.pk}/validate-session/?live=true")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["valid"] is True
    account.refresh_from_db()
    assert account.live_logged_in is True


def test_a_live_check_of_a_revoked_session_says_expired_and_health_follows(simulator, api, make_account):
    account = make_account()
    xs = json.loads(account.session_path.read_text())["cookies"][1]["value"]
    simulator.call("POST", "/__sim__/sessions/revoke", {"xs": xs})
    assert api.get("/api/accounts/health-check/").json()["accounts"][0]["health_status"] == "healthy"

    response = api.get(f"/api/accounts/{account.pk}/validate-session/?live=true")

    body = response.json()
    assert (response.status_code, body["valid"], body["message"]) == (HTTPStatus.OK, False, "Session may be expired")
    assert body["reasons"][0].startswith("A live check on ")
    assert "log in again" in body["reasons"][0]
    row = api.get("/api/accounts/health-check/").json()["accounts"][0]
    assert (row["health_status"], row["session_valid"]) == ("warning", False)


def test_a_live_check_that_meets_a_block_pauses_the_account(simulator, settings, api, make_account):
    settings.ACCOUNT_BLOCK_PAUSE_HOURS = 24
    account = make_account()
    simulator.fault("temporary_block", c_user=account.c_user)

    response = api.get(f"/api/accounts/{account.pk}/validate-session/?live=true")

    assert response.status_code == HTTPStatus.OK  # the session itself is logged in
    account.refresh_from_db()
    assert account.paused_until is not None and "temporarily blocked" in account.pause_reason
    row = api.get("/api/accounts/health-check/").json()["accounts"][0]
    assert row["health_status"] == "warning" and row["hold_reason"].startswith("Paused until ")


def test_a_live_check_that_cannot_reach_marketplace_is_503_and_changes_nothing(simulator, settings, api, make_account):
    account = make_account()
    settings.MARKETPLACE_BASE_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    settings.BROWSER_TIMEOUT_SECONDS = 3

    response = api.get(f"/api/accounts/{account.pk}/validate-session/?live=true")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "Marketplace could not be checked" in response.json()["detail"]
    account.refresh_from_db()
    assert account.live_checked_at is None


def test_save_session_logs_in_headless_and_saves_a_session_marketplace_accepts(
    simulator, live_server_env, operator, api, make_post
):
    account = FacebookAccount.objects.create(owner=operator, email="new@example.com")

    result = subprocess.run(
        [sys.executable, "manage.py", "save_session", str(account.pk), "--headless", "--timeout", "30"],
        cwd=django_settings.BASE_DIR, input="new@example.com\npassword\n", capture_output=True, text=True,
        env={**os.environ, **live_server_env, "MARKETPLACE_BASE_URL": simulator.base_url}, timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "Session saved for new@example.com" in result.stdout
    saved = json.loads(account.session_path.read_text())
    assert {c["name"]: c["domain"] for c in saved["cookies"]} == {"c_user": ".facebook.com", "xs": ".facebook.com"}
    assert api.get(f"/api/accounts/{account.pk}/validate-session/?live=true").json()["valid"] is True


def test_save_session_with_a_wrong_password_fails_and_writes_nothing(simulator, live_server_env, operator):
    account = FacebookAccount.objects.create(owner=operator, email="new@example.com")

    result = subprocess.run(
        [sys.executable, "manage.py", "save_session", str(account.pk), "--headless", "--timeout", "3"],
        cwd=django_settings.BASE_DIR, input="new@example.com\nwrong\n", capture_output=True, text=True,
        env={**os.environ, **live_server_env, "MARKETPLACE_BASE_URL": simulator.base_url}, timeout=120,
    )

    assert result.returncode != 0
    assert "No login within 3 s" in result.stderr
    assert not account.session_path.exists()
