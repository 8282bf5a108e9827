"""Settings read the environment once and refuse a configuration that cannot be right.

Each test starts a fresh Python process, because settings are evaluated at import
time.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

PROJECT_DIR = Path(settings.BASE_DIR)

# Variables the settings read; each test starts from none of them set (the .env file still
# supplies DJANGO_SECRET_KEY unless a test sets it to "" explicitly).
SETTINGS_VARS = (
    "DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "MEDIA_ROOT",
    "LOG_DIR", "SESSIONS_DIR", "MARKETPLACE_BASE_URL", "BROWSER_EXECUTABLE", "BROWSER_HEADLESS",
    "POSTING_DELAY_SECONDS", "SESSION_MAX_AGE_DAYS", "JWT_ACCESS_MINUTES", "JWT_REFRESH_DAYS",
    "AUTH_COOKIE_SECURE", "CORS_ALLOWED_ORIGINS", "LOG_LEVEL",
)


def environment(**overrides: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in SETTINGS_VARS}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env.update(overrides)
    return env


def manage_check(**overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT_DIR, env=environment(**overrides), capture_output=True, text=True, timeout=120,
    )


def settings_value(expression: str, *, cwd: Path = PROJECT_DIR, **overrides: str):
    """Set Django up in a new process and return `expression` (evaluated there), through JSON."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({expression}, default=str))"
    )
    env = environment(**overrides)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_DIR), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_without_a_secret_key_refuses_to_start_and_names_the_variable():
    result = manage_check(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_debug_mode_starts_without_a_secret_key():
    result = manage_check(DJANGO_DEBUG="true", DJANGO_SECRET_KEY="")

    assert result.returncode == 0, result.stderr


def test_production_starts_with_a_secret_key():
    result = manage_check(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="a-long-random-secret-key-for-this-test-only-0123456789")

    assert result.returncode == 0, result.stderr


def test_sessions_dir_inside_media_root_is_refused(tmp_path):
    media = tmp_path / "media"

    result = manage_check(DJANGO_DEBUG="true", MEDIA_ROOT=str(media), SESSIONS_DIR=str(media / "sessions"))

    assert result.returncode != 0
    assert "SESSIONS_DIR" in result.stderr


def test_sessions_dir_equal_to_media_root_is_refused(tmp_path):
    media = tmp_path / "media"

    result = manage_check(DJANGO_DEBUG="true", MEDIA_ROOT=str(media), SESSIONS_DIR=str(media))

    assert result.returncode != 0
    assert "SESSIONS_DIR" in result.stderr


def test_sessions_dir_beside_media_root_is_accepted(tmp_path):
    result = manage_check(
        DJANGO_DEBUG="true", MEDIA_ROOT=str(tmp_path / "media"), SESSIONS_DIR=str(tmp_path / "sessions")
    )

    assert result.returncode == 0, result.stderr


def test_a_debug_value_that_is_not_a_boolean_is_refused_naming_it():
    result = manage_check(DJANGO_DEBUG="maybe")

    assert result.returncode != 0
    assert "DJANGO_DEBUG" in result.stderr
    assert "maybe" in result.stderr


def test_a_posting_delay_that_is_not_a_number_is_refused_naming_it():
    result = manage_check(DJANGO_DEBUG="true", POSTING_DELAY_SECONDS="abc")

    assert result.returncode != 0
    assert "POSTING_DELAY_SECONDS" in result.stderr


@pytest.mark.parametrize("written, meant", [("", "on"), ("true", "on"), ("FULL", "full"), ("false", "off")])
def test_browser_trace_is_on_by_default_and_takes_its_three_values(written, meant):
    assert settings_value("settings.BROWSER_TRACE", DJANGO_DEBUG="true", BROWSER_TRACE=written) == meant


def test_a_browser_trace_value_it_does_not_know_is_refused_naming_it():
    result = manage_check(DJANGO_DEBUG="true", BROWSER_TRACE="sometimes")

    assert result.returncode != 0
    assert "BROWSER_TRACE" in result.stderr and "sometimes" in result.stderr


def test_a_relative_media_root_is_taken_from_the_project_directory_not_the_current_one(tmp_path):
    media_root = settings_value("str(settings.MEDIA_ROOT)", cwd=tmp_path, DJANGO_DEBUG="true", MEDIA_ROOT="uploads/media")

    assert Path(media_root) == (PROJECT_DIR / "uploads" / "media").resolve()


def test_a_postgres_database_url_selects_the_postgresql_engine():
    engine = settings_value(
        'settings.DATABASES["default"]["ENGINE"]',
        DJANGO_DEBUG="true", DATABASE_URL="postgres://u:p@localhost:5432/x",
    )

    assert engine == "django.db.backends.postgresql"


def test_the_default_database_is_sqlite_with_a_busy_timeout_and_immediate_transactions():
    database = settings_value('settings.DATABASES["default"]', DJANGO_DEBUG="true")

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert database["OPTIONS"]["timeout"] > 0


def test_cors_allows_only_the_dashboard_origin_by_default_and_never_every_origin():
    cors = settings_value(
        '[settings.CORS_ALLOWED_ORIGINS, getattr(settings, "CORS_ALLOW_ALL_ORIGINS", False), '
        'getattr(settings, "CORS_ORIGIN_ALLOW_ALL", False), settings.CORS_ALLOW_CREDENTIALS]',
        DJANGO_DEBUG="true",
    )

    assert cors == [["http://localhost:3000"], False, False, True]


def test_cors_origins_are_read_as_a_comma_separated_list():
    origins = settings_value(
        "settings.CORS_ALLOWED_ORIGINS",
        DJANGO_DEBUG="true", CORS_ALLOWED_ORIGINS="https://a.example, https://b.example",
    )

    assert origins == ["https://a.example", "https://b.example"]
