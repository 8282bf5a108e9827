"""JOB_RUNNER=procrastinate: jobs on Procrastinate's queue in PostgreSQL, run by real
`manage.py procrastinate worker` processes (two of them standing for two machines: a host-local
directory each, the test's database and files shared) against the simulator, in real Chromium.

PostgreSQL only, skipped otherwise (`.ci/run` runs the suite a second time on PostgreSQL), except
what holds on any database: the refusal to start on SQLite, no retry, the reaper's patience with a
job still in the queue.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from http import HTTPStatus
from itertools import combinations

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone
from procrastinate import sql
from procrastinate.contrib.django.django_connector import DjangoConnector

from conftest import database_url
from postings import runners, services
from postings.models import ErrorLog, MarketplacePost, PostingJob
from postings.tests.conftest import published_titles, wait_until
from postings.tests.factories import AccountFactory, PostFactory

ON_POSTGRESQL = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
postgresql_only = pytest.mark.skipif(
    not ON_POSTGRESQL,
    reason="Procrastinate needs PostgreSQL: run with DATABASE_URL=postgres://... (CI's second run does)",
)
DEAD_PID = 2**22 + 1  # above Linux's largest pid: never a live process
STALE_SECONDS = 3  # the workers' JOB_STALE_SECONDS: the reaper acts within seconds


def manage(*args, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=django_settings.BASE_DIR, env={**os.environ, **env},
        capture_output=True, text=True, timeout=timeout,
    )


# On any database


def test_procrastinate_on_sqlite_refuses_to_start_saying_why_and_what_to_do(tmp_path):
    result = manage("check", env={"JOB_RUNNER": "procrastinate", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})

    assert result.returncode != 0
    assert "ImproperlyConfigured: JOB_RUNNER=procrastinate needs PostgreSQL" in result.stderr
    assert "LISTEN/NOTIFY" in result.stderr  # why
    assert "Set DATABASE_URL to a PostgreSQL database" in result.stderr  # what to do
    assert "or set JOB_RUNNER=subprocess" in result.stderr


def test_the_posting_task_and_the_reaper_are_never_retried():
    from postings import tasks

    assert tasks.run_posting_job.retry_strategy is None
    assert tasks.reap_stale_jobs.retry_strategy is None
    assert tasks.run_posting_job.name == runners.RUN_POSTING_JOB


@pytest.mark.django_db
def test_a_job_still_in_its_runners_queue_is_not_reaped_however_old(settings, operator):
    settings.JOB_STALE_SECONDS = 1
    an_hour_later = timezone.now() + timedelta(hours=1)
    waiting = PostingJob.objects.create(owner=operator, runner_job_id=1)  # deferred, no worker took it
    launched = PostingJob.objects.create(owner=operator, pid=DEAD_PID)  # a subprocess worker that died

    assert not services.job_reap_if_stale(job=waiting, now=an_hour_later)
    assert services.job_reap_if_stale(job=launched, now=an_hour_later)


# PostgreSQL: Procrastinate's queue in this process, no worker


@pytest.fixture(scope="module")
def procrastinate_schema(django_db_setup):
    """Procrastinate's migrations on the test database, by `manage.py migrate` as a server with
    JOB_RUNNER=procrastinate applies them (this process runs without them, as by default)."""
    if not ON_POSTGRESQL:
        pytest.skip("Procrastinate needs PostgreSQL")
    result = manage("migrate", "procrastinate", env={"JOB_RUNNER": "procrastinate", "DATABASE_URL": database_url()})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def procrastinate(procrastinate_schema, transactional_db, settings):
    """JOB_RUNNER=procrastinate in this process; Procrastinate's tables emptied afterwards (the
    test database's flush knows only this project's tables)."""
    settings.JOB_RUNNER = "procrastinate"
    yield
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers, "
                       "procrastinate_workers")


def queued_job(runner_job_id: int) -> dict:
    [row] = DjangoConnector().execute_query_all(
        query=sql.queries["list_jobs"], id=runner_job_id, queue_name=None, task_name=None, status=None,
        lock=None, queueing_lock=None, worker_id=None,
    )
    return row


def procrastinate_jobs_of(job: PostingJob) -> list[dict]:
    """Every Procrastinate job that runs this PostingJob: one, or it was deferred (or retried) again."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, status FROM procrastinate_jobs WHERE args->>'job_id' = %s", [str(job.job_id)])
        return [{"id": row[0], "status": row[1]} for row in cursor.fetchall()]


def dead_worker_takes_next_job() -> dict:
    """What a worker that took the next job and then died leaves in Procrastinate's tables: the job
    `doing`, the worker's heartbeat an hour old. Returns the job's row."""
    db = DjangoConnector()
    worker_id = db.execute_query_one(query=sql.queries["register_worker"])["worker_id"]
    row = db.execute_query_one(query=sql.queries["fetch_job"], queues=None, worker_id=worker_id)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour' WHERE id = %s",
                       [worker_id])
    return row


def start(operator, *posts) -> PostingJob:
    job, _ = runners.posting_job_start(owner=operator, post_ids=[post.pk for post in posts])
    return job


@postgresql_only
def test_start_defers_the_task_in_the_transaction_that_creates_the_job(procrastinate, settings, operator):
    account = AccountFactory(owner=operator)
    rolled_back = PostFactory(account=account)
    with pytest.raises(RuntimeError), transaction.atomic():
        start(operator, rolled_back)
        assert procrastinate_jobs_of(PostingJob.objects.get())  # deferred, not committed yet
        raise RuntimeError("the request fails after start-posting")
    assert not PostingJob.objects.exists()
    assert DjangoConnector().execute_query_one(query="SELECT count(*) AS n FROM procrastinate_jobs")["n"] == 0

    job = start(operator, PostFactory(account=account))

    row = queued_job(job.runner_job_id)
    assert (row["task_name"], json.loads(row["args"]), row["status"]) == (  # Django reads jsonb as text
        runners.RUN_POSTING_JOB, {"job_id": str(job.job_id)}, "todo"
    )
    assert (job.status, job.pid, job.log_file) == ("queued", None, str(settings.LOG_DIR / f"job_{job.job_id}.log"))


@postgresql_only
def test_a_one_account_job_is_locked_on_its_account_and_a_several_account_job_on_none(procrastinate, operator):
    first, second = AccountFactory(owner=operator), AccountFactory(owner=operator)

    single = start(operator, PostFactory(account=first), PostFactory(account=first))
    several = start(operator, PostFactory(account=first), PostFactory(account=second))

    assert queued_job(single.runner_job_id)["lock"] == f"account:{first.pk}"
    assert queued_job(several.runner_job_id)["lock"] is None


@postgresql_only
def test_a_scheduled_job_is_deferred_with_procrastinates_own_schedule_and_no_timekeeper_starts_it(procrastinate, operator):
    at = timezone.now() + timedelta(hours=3)

    job, _ = runners.posting_job_start(owner=operator, post_ids=[PostFactory(account=AccountFactory(owner=operator)).pk],
                                       start_at=at, spread_minutes=20)

    with connection.cursor() as cursor:
        cursor.execute("SELECT scheduled_at, status FROM procrastinate_jobs WHERE id = %s", [job.runner_job_id])
        scheduled_at, status = cursor.fetchone()
    assert (scheduled_at, status) == (at, "todo")
    assert (job.status, job.start_at, job.spread_minutes) == ("queued", at, 20)
    assert runners.launch_due_jobs(now=at + timedelta(minutes=1)) == []  # Procrastinate's, not the timekeeper's
    assert not services.job_reap_if_stale(job=job, now=at + timedelta(days=1))


@postgresql_only
def test_cancelling_a_job_still_in_the_queue_ends_it_at_once_and_cancels_it_there(procrastinate, api, operator):
    post = PostFactory(account=AccountFactory(owner=operator))
    job = start(operator, post)

    response = api.post(f"/api/posts/jobs/{job.job_id}/cancel/")

    assert response.status_code == HTTPStatus.OK
    assert (response.json()["status"], response.json()["final"]) == ("cancelled", True)
    post.refresh_from_db()
    assert (post.status, post.claimed_by) == ("pending", None)
    assert queued_job(job.runner_job_id)["status"] == "cancelled"


@postgresql_only
def test_the_reaper_fails_a_dead_workers_job_and_frees_its_lock_for_the_accounts_next_job(
    procrastinate, settings, operator
):
    account = AccountFactory(owner=operator)
    job = start(operator, PostFactory(account=account))
    next_job = start(operator, PostFactory(account=account))  # waits behind `job`'s lock
    assert dead_worker_takes_next_job()["id"] == job.runner_job_id
    assert services.job_begin(job=job, pid=DEAD_PID)
    assert DjangoConnector().execute_query_one(query=sql.queries["fetch_job"], queues=None, worker_id=None)["id"] is None

    settings.JOB_STALE_SECONDS = 1
    assert services.job_reap_if_stale(job=job, now=timezone.now() + timedelta(seconds=2))

    assert (job.status, job.error_message) == ("failed", "Worker stopped unexpectedly")
    assert procrastinate_jobs_of(job) == [{"id": job.runner_job_id, "status": "failed"}]  # never retried
    fetched = DjangoConnector().execute_query_one(query=sql.queries["fetch_job"], queues=None, worker_id=None)
    assert fetched["id"] == next_job.runner_job_id  # the account's lock is free


@postgresql_only
@pytest.mark.parametrize("when", ["before beginning", "after ending"])
def test_a_job_a_dead_worker_left_doing_in_the_queue_is_released(procrastinate, operator, when):
    post = PostFactory(account=AccountFactory(owner=operator))
    job = start(operator, post)
    dead_worker_takes_next_job()
    if when == "after ending":  # the job ended, the worker died before telling Procrastinate
        services.job_begin(job=job, pid=DEAD_PID)
        services.job_finish(job=job, status=PostingJob.Status.COMPLETED)

    reaped = runners.jobs_reap_stale()

    job.refresh_from_db()
    post.refresh_from_db()
    assert queued_job(job.runner_job_id)["status"] == "failed"
    if when == "before beginning":
        assert reaped == [job]
        assert (job.status, job.error_message) == ("failed", "Worker stopped unexpectedly")
        assert (post.status, post.claimed_by) == ("pending", None)
    else:
        assert (reaped, job.status) == ([], "completed")


# PostgreSQL: real workers, the simulator, Chromium


class Machine:
    """`manage.py procrastinate worker` as one machine runs it: this test's database and files (as
    on a shared mount), and a host-local directory of its own (its TMPDIR and its browser slots)."""

    def __init__(self, name: str, env: dict):
        self.name = name
        # Short: Chromium's singleton socket lives under TMPDIR, and a socket's path has 107 bytes at most.
        self.home = tempfile.mkdtemp(prefix=f"mp-{name}-")
        self.output = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "procrastinate", "worker", "--name", name],
            cwd=django_settings.BASE_DIR,
            env={**os.environ, **env, "TMPDIR": self.home, "BROWSER_SLOTS_DIR": os.path.join(self.home, "slots")},
            stdout=self.output, stderr=subprocess.STDOUT,
        )
        self.pid = self.process.pid

    def log(self) -> str:
        self.output.seek(0)
        return self.output.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # a graceful stop: no job is running by now
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.home, ignore_errors=True)
        print(f"--- worker {self.name} (pid {self.pid}) ---\n{self.log()}")  # shown when the test fails


@pytest.fixture
def machine(procrastinate, worker_env):
    """Start a worker: `machine("one", posting_concurrency=2)`; every one is stopped afterwards."""
    started = []

    def start_machine(name: str, posting_concurrency: int = 2) -> Machine:
        env = {
            **worker_env, "JOB_RUNNER": "procrastinate", "JOB_STALE_SECONDS": str(STALE_SECONDS),
            "POSTING_CONCURRENCY": str(posting_concurrency),  # also the worker's --concurrency
            "BROWSER_TIMEOUT_SECONDS": "20",  # four Chromiums on two cores
        }
        started.append(Machine(name, env))
        return started[-1]

    yield start_machine
    wait_until(lambda: not PostingJob.objects.filter(status__in=PostingJob.ACTIVE_STATUSES).exists(),
               timeout=180, what="every job to end")
    for each in started:
        each.stop()


def start_posting(api, posts) -> PostingJob:
    response = api.post("/api/posts/start-posting/", {"post_ids": [post.pk for post in posts]}, format="json")
    assert response.status_code == HTTPStatus.ACCEPTED, response.json()
    return PostingJob.objects.get(job_id=response.json()["job_id"])


def ended(*jobs):
    for job in jobs:
        job.refresh_from_db()
    return all(job.is_final for job in jobs)


def page_open(simulator, account) -> bool:
    """The account's create page is open in its browser: served, neither published nor left."""
    return any(event["ended_at"] is None for event in simulator.timeline(account.c_user))


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


@postgresql_only
def test_two_workers_publish_four_accounts_listings_once_accounts_at_once_one_listing_at_a_time_each(
    machine, simulator, api, make_account, make_post
):
    simulator.fault("slow_fields", delay_ms=1500)  # every form takes a while, so that pages can overlap
    one, two = machine("one"), machine("two")
    accounts = [make_account(f"seller{n}@example.com") for n in range(4)]
    posts = {account.pk: [make_post(account, f"Item {n}.{i}") for i in range(3)] for n, account in enumerate(accounts)}
    first = accounts[0]
    jobs = [start_posting(api, posts[first.pk][:2]), start_posting(api, posts[first.pk][2:])]  # one account, two jobs
    jobs += [start_posting(api, posts[account.pk]) for account in accounts[1:]]

    wait_until(lambda: ended(*jobs), timeout=300, what="the five jobs to end")

    assert [(job.status, job.completed_posts, job.failed_posts) for job in jobs] == [
        ("completed", 2, 0), ("completed", 1, 0), ("completed", 3, 0), ("completed", 3, 0), ("completed", 3, 0)
    ]
    assert {job.pid for job in jobs} == {one.pid, two.pid}  # both machines posted
    assert published_titles(simulator) == sorted(post.title for each in posts.values() for post in each)  # once each
    pages = {account.pk: sorted(simulator.timeline(account.c_user), key=lambda event: event["opened_at"])
             for account in accounts}
    for account_pages in pages.values():  # one account: each page published before its next one opened
        assert [event["outcome"] for event in account_pages] == ["published"] * 3
        assert all(moment(a["ended_at"]) <= moment(b["opened_at"]) for a, b in zip(account_pages, account_pages[1:]))
    machines = {account.pk: {job.pid for job in jobs if job.posts.filter(account=account).exists()} for account in accounts}
    overlaps = [
        (a, b) for a, b in combinations(accounts, 2) if machines[a.pk].isdisjoint(machines[b.pk])
        for x in pages[a.pk] for y in pages[b.pk]
        if max(moment(x["opened_at"]), moment(y["opened_at"])) < min(moment(x["ended_at"]), moment(y["ended_at"]))
    ]
    assert overlaps, "no two accounts of two machines had a page open at the same time"


@postgresql_only
def test_a_worker_killed_mid_post_has_its_job_failed_by_the_reaper_and_the_other_worker_goes_on(
    machine, simulator, api, make_account, make_post
):
    slow, other = make_account("slow@example.com"), make_account("other@example.com")
    simulator.fault("slow_fields", delay_ms=4000, c_user=slow.c_user)  # holds the post in flight
    workers = {each.pid: each for each in (machine("one", posting_concurrency=1), machine("two", posting_concurrency=1))}
    doomed_job = start_posting(api, [make_post(slow, f"Slow {i}") for i in range(3)])
    doomed = workers[wait_until(lambda: PostingJob.objects.get(pk=doomed_job.pk).pid, what="a worker to take the job")]
    [survivor] = [each for each in workers.values() if each is not doomed]
    second = start_posting(api, [make_post(other, "Chair"), make_post(other, "Sofa")])  # the other worker's
    later = start_posting(api, [make_post(slow, "Lamp")])  # behind the doomed job's lock on its account

    wait_until(lambda: page_open(simulator, slow), what="the first slow post to be in flight")
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.process.wait()
    in_flight = MarketplacePost.objects.get(claimed_by=doomed_job, status="posting")

    doomed_job = wait_until(lambda: PostingJob.objects.filter(pk=doomed_job.pk, status="failed").first(),
                            timeout=90, what="the reaper to fail the dead worker's job")  # nobody reads it
    assert doomed_job.error_message == "Worker stopped unexpectedly"
    in_flight.refresh_from_db()
    assert in_flight.status == "failed" and "check Marketplace before retrying" in in_flight.error_message
    assert ErrorLog.objects.get(post=in_flight).error_type == "unknown"
    untouched = MarketplacePost.objects.filter(title__startswith="Slow").exclude(pk=in_flight.pk)
    assert set(untouched.values_list("status", "claimed_by")) == {("pending", None)}
    assert f"Job {doomed_job.job_id}: worker stopped unexpectedly; failed" in survivor.log()
    assert procrastinate_jobs_of(doomed_job) == [{"id": doomed_job.runner_job_id, "status": "failed"}]  # no retry

    wait_until(lambda: ended(second, later), timeout=120, what="the other worker to run the next jobs")
    assert [(job.status, job.completed_posts, job.pid) for job in (second, later)] == [
        ("completed", 2, survivor.pid), ("completed", 1, survivor.pid)
    ]
    assert published_titles(simulator) == ["Chair", "Lamp", "Sofa"]


@postgresql_only
def test_cancel_ends_a_queued_job_at_once_and_a_running_one_after_its_current_post(
    machine, simulator, api, make_account, make_post
):
    account = make_account()
    simulator.fault("slow_fields", delay_ms=3000)
    worker = machine("one", posting_concurrency=1)
    running = start_posting(api, [make_post(account, f"Item {i}") for i in range(3)])
    queued = start_posting(api, [make_post(account, "Later")])  # behind the running job's lock
    wait_until(lambda: page_open(simulator, account), what="the first post to be in flight")
    in_flight = MarketplacePost.objects.get(claimed_by=running, status="posting")

    body = api.post(f"/api/posts/jobs/{queued.job_id}/cancel/").json()

    assert (body["status"], body["final"]) == ("cancelled", True)
    queued.refresh_from_db()
    assert queued.pid is None  # no worker ever took it
    assert set(queued.posts.values_list("status", "claimed_by")) == {("pending", None)}
    assert procrastinate_jobs_of(queued) == [{"id": queued.runner_job_id, "status": "cancelled"}]

    body = api.post(f"/api/posts/jobs/{running.job_id}/cancel/").json()

    assert (body["status"], body["final"]) == ("running", False)  # it stops after its current post
    wait_until(lambda: ended(running), timeout=90, what="the running job to stop")
    assert (running.status, running.completed_posts, running.pid) == ("cancelled", 1, worker.pid)
    in_flight.refresh_from_db()
    assert in_flight.status == "posted"
    assert set(running.posts.exclude(pk=in_flight.pk).values_list("status", "claimed_by")) == {("pending", None)}
    assert procrastinate_jobs_of(running) == [{"id": running.runner_job_id, "status": "aborted"}]
    assert published_titles(simulator) == [in_flight.title]
