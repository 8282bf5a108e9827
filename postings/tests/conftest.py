"""Fixtures for driving real Chromium against the local marketplace simulator."""
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import FacebookAccount
from accounts.services import account_session_store
from conftest import image_bytes
from postings import services, worker
from postings.models import MarketplacePost, PostingJob
from simulator.client import SimulatorClient, facebook_cookies


@pytest.fixture(scope="session")
def simulator_process():
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0"],
        cwd=django_settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    line = process.stdout.readline()  # blocks until the simulator says it listens
    if "listening on" not in line:
        process.kill()
        pytest.fail(f"the simulator did not start: {line}{process.stdout.read()}")
    yield SimulatorClient(line.rsplit(" ", 1)[-1].strip())
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def simulator(simulator_process, settings):
    """A clean simulator, and the engine pointed at it with fast, deterministic timings."""
    simulator_process.reset()
    settings.MARKETPLACE_BASE_URL = simulator_process.base_url
    settings.POSTING_DELAY_SECONDS = (0.0, 0.0)
    settings.POSTING_RETRY_BACKOFF_SECONDS = 0.0
    settings.BROWSER_TIMEOUT_SECONDS = 5.0
    settings.JOB_HEARTBEAT_SECONDS = 0.5
    return simulator_process


@pytest.fixture
def make_account(simulator, operator):
    """An account of `operator` with a session the simulator issued (its c_user in `.c_user`),
    served the simulator's `layout` ("classic", or "2026" with `options`)."""
    def make(email: str = "seller@example.com", owner=None, layout: str | None = None, options: dict | None = None) -> FacebookAccount:
        account = FacebookAccount.objects.create(owner=owner or operator, email=email)
        pair = simulator.mint_session(email, layout=layout, options=options)
        account_session_store(account=account, data={"cookies": facebook_cookies(pair), "origins": []})
        account.c_user = pair["c_user"]
        return account
    return make


@pytest.fixture
def make_post():
    def make(account, title="Oak table", photos=1, **fields) -> MarketplacePost:
        post = MarketplacePost.objects.create(
            account=account, title=title, price=fields.pop("price", 120), category=fields.pop("category", "Furniture"),
            condition=fields.pop("condition", "Used - Good"), location=fields.pop("location", "Austin, TX"),
            description=fields.pop("description", "Solid oak."), **fields,
        )
        for index in range(photos):
            upload = SimpleUploadedFile(f"p{index}.png", image_bytes(color=(index * 40, 90, 20)), "image/png")
            services.post_image_add(post=post, upload=upload)
        return post
    return make


class SkippingClock:
    """The worker's clock in a test: real time, plus every pause the worker takes (pacing, a
    budget's wait) skipped at once and added, so that an hour's wait takes no time."""

    def __init__(self):
        self.offset = timedelta(0)
        self.pauses: list[float] = []

    def __call__(self):
        return timezone.now() + self.offset

    def pause(self, seconds: float, job=None) -> bool:
        self.pauses.append(seconds)
        self.offset += timedelta(seconds=max(seconds, 0))
        return True


@pytest.fixture
def skipping_clock(monkeypatch) -> SkippingClock:
    """A SkippingClock, already standing in for the worker's pause: give it to run_job as `clock`."""
    clock = SkippingClock()
    monkeypatch.setattr(worker, "pause", clock.pause)
    return clock


def wait_until(condition, timeout=60.0, what="the condition"):
    """Poll `condition` (a database read) until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)
    return result


def process_alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def published_titles(simulator) -> list[str]:
    """The titles the simulator's Marketplace has published, sorted: each once, or a post went up twice."""
    return sorted(listing["title"] for listing in simulator.listings())


def all_jobs_ended():
    return not PostingJob.objects.filter(status__in=PostingJob.ACTIVE_STATUSES).exists()


@pytest.fixture
def worker_env(simulator, live_server_env, monkeypatch):
    """Worker subprocesses see this test's database, files and simulator through the environment."""
    env = {
        **live_server_env,
        "MARKETPLACE_BASE_URL": simulator.base_url,
        "POSTING_DELAY_SECONDS": "0",
        "POSTING_RETRY_BACKOFF_SECONDS": "0",
        "BROWSER_TIMEOUT_SECONDS": "5",
        "JOB_HEARTBEAT_SECONDS": "0.5",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env
    wait_until(all_jobs_ended, what="every worker to finish")  # leave no worker writing after the test
