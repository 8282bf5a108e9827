"""SQLite is set up for a web server and a posting worker writing at the same time."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from accounts.models import FacebookAccount
from postings.models import MarketplacePost

PROJECT_DIR = Path(settings.BASE_DIR)
# These describe the default SQLite set-up; under DATABASE_URL=postgres://... they do not apply.
pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3", reason="SQLite set-up"
)
ITERATIONS = 100


def test_sqlite_runs_in_wal_mode(db):
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        (mode,) = cursor.fetchone()

    assert mode.lower() == "wal"


def test_transactions_take_the_write_lock_when_they_begin(db):
    assert connection.vendor == "sqlite"
    assert connection.transaction_mode == "IMMEDIATE"


def test_the_test_database_is_a_file_other_processes_can_open(db):
    name = connection.settings_dict["NAME"]

    assert Path(name).is_absolute()
    assert Path(name).is_file()


def test_two_writer_processes_neither_fail_with_database_is_locked_nor_lose_an_update(transactional_db):
    user = get_user_model().objects.create_user("writer", "writer@example.com", "correct-horse-9")
    account = FacebookAccount.objects.create(owner=user, email="seller@example.com")
    post = MarketplacePost.objects.create(account=account, title="Bike", price="10.00", category="Sports")
    # A read, then a write in the same transaction: under DEFERRED transactions one of the two
    # processes gets "database is locked" at the write, or both read the same count.
    code = textwrap.dedent(f"""
        from django.db import transaction
        from postings.models import MarketplacePost
        for _ in range({ITERATIONS}):
            with transaction.atomic():
                p = MarketplacePost.objects.get(pk={post.pk})
                p.retry_count += 1
                p.save(update_fields=["retry_count"])
    """)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{Path(connection.settings_dict['NAME']).resolve()}",
        "DJANGO_DEBUG": "true",
    }
    writers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(2)
    ]
    outputs = []
    try:
        for writer in writers:
            stdout, stderr = writer.communicate(timeout=180)
            outputs.append((writer.returncode, stdout, stderr))
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
                writer.wait()

    for returncode, _stdout, stderr in outputs:
        assert "database is locked" not in stderr
        assert returncode == 0, stderr
    post.refresh_from_db()
    assert post.retry_count == 2 * ITERATIONS
