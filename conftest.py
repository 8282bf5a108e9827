"""Fixtures shared by every app's tests."""
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest
from django.contrib.auth import get_user_model
from PIL import Image
from playwright.sync_api import expect
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken


# Playwright's assertions wait 5 s by default: too short for a real page on a busy 2-core machine.
expect.set_options(timeout=20_000)
# Longer still, each given as the timeout of the wait that depends on it: a posting worker
# starting (a process, Django, then Chromium), and a real post being published (a browser filling
# Marketplace's form with its photos). A wait for both adds them up.
WORKER_STARTS_MS = 60_000
POST_PUBLISHED_MS = 120_000


@pytest.fixture(autouse=True)
def isolated_files(settings, tmp_path):
    """Every test writes media, logs and sessions under its own temporary directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LOG_DIR = tmp_path / "logs"
    settings.SESSIONS_DIR = tmp_path / "sessions"
    settings.BROWSER_SLOTS_DIR = tmp_path / "browser-slots"  # no other run on this host takes this test's slots
    # No posting budgets unless a test sets them (the budget tests do): a test posts many listings
    # on one account within a minute, which the defaults would rightly hold back for an hour.
    settings.ACCOUNT_DAILY_POST_LIMIT = settings.ACCOUNT_HOURLY_POST_LIMIT = 0
    return tmp_path


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The default hasher takes ~0.4 s per password by design; tests need no such strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_operator(db):
    def make(username: str = "alice"):
        return get_user_model().objects.create_user(username, f"{username}@example.com", "correct-horse-9")

    return make


@pytest.fixture
def operator(make_operator):
    return make_operator("alice")


@pytest.fixture
def other_operator(make_operator):
    return make_operator("mallory")


def bearer_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def api(operator) -> APIClient:
    """A client authenticated as `operator` with a bearer token, as curl would be."""
    return bearer_client(operator)


@pytest.fixture
def other_api(other_operator) -> APIClient:
    return bearer_client(other_operator)


def image_bytes(fmt: str = "PNG", size=(64, 48), color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]



def database_url() -> str:
    """DATABASE_URL of this test run's database, for subprocesses (SQLite file or PostgreSQL)."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def live_server_env(tmp_path, settings):
    """What a server or worker subprocess needs to share this test's database and directories."""
    return {
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SESSIONS_DIR": str(settings.SESSIONS_DIR),
        "LOG_DIR": str(settings.LOG_DIR),
        "BROWSER_SLOTS_DIR": str(settings.BROWSER_SLOTS_DIR),
        "ACCOUNT_DAILY_POST_LIMIT": str(settings.ACCOUNT_DAILY_POST_LIMIT),
        "ACCOUNT_HOURLY_POST_LIMIT": str(settings.ACCOUNT_HOURLY_POST_LIMIT),
    }


def start_uvicorn(port: int, env: dict) -> subprocess.Popen:
    """uvicorn serving config.asgi; its output goes to a temporary file, `server_output(server)`.

    Not a pipe: nobody reads a pipe while the server runs, and a server that logs more than the
    pipe holds (64 kB: a few hundred requests) would block on its next log line.
    """
    output = tempfile.TemporaryFile()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--timeout-graceful-shutdown", "2"],
        cwd=os.path.dirname(os.path.abspath(__file__)), env={**os.environ, **env},
        stdout=output, stderr=subprocess.STDOUT,
    )
    server.output = output
    return server


def server_output(server: subprocess.Popen) -> str:
    """What a server started by `start_uvicorn` has printed so far."""
    output = getattr(server, "output", None)
    if output is None:
        return ""
    output.seek(0)
    return output.read().decode(errors="replace")


def wait_for_health(url: str, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:  # wait for the condition "the server answers", not for a fixed time
        try:
            with urllib.request.urlopen(f"{url}/api/health/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            server.wait()
            pytest.fail(f"uvicorn did not start: {server_output(server)}")
        time.sleep(0.05)


class UvicornServer:
    """uvicorn serving config.asgi as `make run` does, on one free port across restarts."""

    def __init__(self, env: dict):
        self.env, self.port = env, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self) -> "UvicornServer":
        self.process = start_uvicorn(self.port, self.env)
        wait_for_health(self.url, self.process)
        return self

    def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        """SIGTERM: a graceful stop (a restart, a deploy); SIGKILL: a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(how)
            self.process.wait(timeout=15)


@pytest.fixture
def live_server_url(transactional_db, live_server_env):
    """uvicorn serving config.asgi on a free port, on this test's database; stopped afterwards."""
    server = UvicornServer(live_server_env).start()
    yield server.url
    server.stop()
