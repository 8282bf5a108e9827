"""Listings per minute with 1, 2 and 4 accounts, the sequential runner against the parallel one, and
the memory each extra concurrent account costs; with both job runners.

Run from the project's directory:

    .venv/bin/python -m bench.throughput [--accounts 1 2 4] [--listings 3] [--concurrency C ...]
        [--rounds 3] [--layout 2026|classic] [--trace on|off|full] [--database-url URL]
        [--runners subprocess procrastinate] [--sample-seconds 0.2] [--json PATH]

Set-up (untimed). A throwaway database: a SQLite file in a temporary directory, or with
--database-url (a PostgreSQL server and a database to connect to, e.g.
postgres://mp:mp@127.0.0.1:5432/postgres, with a role that may create databases) a fresh database
`mp_bench_<pid>` created on that server and dropped at the end; `migrate` on it. Temporary
MEDIA_ROOT, SESSIONS_DIR, LOG_DIR and BROWSER_SLOTS_DIR (so that no other checkout's workers or
tests take this host's browser slots meanwhile). The local Marketplace simulator
(`python -m simulator --port 0`, started and stopped here). Each measured job gets accounts of its
own, each with a session minted by the simulator (on --layout, default 2026, with the simulator's
block after 120 loads an hour switched off) and --listings listings (default 3) with one 50 KB PNG
photo. The workers get all of it through the environment: DATABASE_URL, MEDIA_ROOT, SESSIONS_DIR,
LOG_DIR, BROWSER_SLOTS_DIR, MARKETPLACE_BASE_URL, BROWSER_EXECUTABLE, BROWSER_TRACE (default on, the
product's default), POSTING_DELAY_SECONDS=2,2 (2 s between two posts of one account),
POSTING_CONCURRENCY and JOB_RUNNER. Before the rounds, one untimed one-listing job warms the disk
cache (Python, Django, Chromium).

What is measured. For each job runner, each POSTING_CONCURRENCY and each number of accounts, one
job holding every listing of those accounts:

POSTING_CONCURRENCY=1      the sequential runner: one account at a time, the accounts' posts
                           interleaved so that one account's pause does not idle the others.
POSTING_CONCURRENCY=C      the parallel runner: up to C accounts posting at once. C is the setting's
                           default unless --concurrency names others (e.g. 2 4). The variable is
                           only handed to the workers: a worker that does not read it gives
                           sequential figures, and the "forms" column then says 1.

subprocess                 (the default runner) one `manage.py post_to_marketplace --job-id <uuid>`
                           process per job, the command start-posting starts. Wall clock: from
                           starting the process to its exit (Python's and Django's start-up,
                           Chromium's launch and shutdown included).
procrastinate              (PostgreSQL only; JOB_RUNNER=procrastinate) one `manage.py procrastinate
                           worker` started here per POSTING_CONCURRENCY value and warmed up with one
                           untimed one-listing job; each job started as start-posting starts it,
                           `postings.runners.posting_job_start` (the job created and its task
                           deferred in one transaction). Wall clock: from that call to the moment
                           the job row is seen ended (polled every 50 ms); the worker stays up, so
                           no start-up is paid. The job must have been run by that worker (its pid
                           in the worker's process tree), or the benchmark fails. Without the
                           project's Procrastinate runner (postings/tasks.py, postings/runners.py,
                           `manage.py procrastinate`) this part is skipped with a message.

Listings per minute are computed from the wall clock. The job row's started_at -> completed_at is
shown beside it ("job s"), and a second table splits the wall clock: start-up (launch ->
started_at), to the first form (-> the simulator serving the first create page: Chromium's launch,
the account's context), forms (first create page served -> last listing published), finish (-> the
process's exit, or the row seen ended: contexts and Chromium closed, the job's end written). "forms"
is the largest number of create pages open at once on the simulator (its timeline): the
parallelism actually reached.

Memory. Every 0.2 s (--sample-seconds) a thread here walks the whole process tree of the worker
process (Python, Playwright's node driver, every Chromium process) through /proc and sums the Pss
of each from /proc/<pid>/smaps_rollup; the peak is kept. Pss (proportional set size) divides every
shared page among the processes that map it, so a page shared inside the tree (Chromium's code, its
shared memory) is counted once in the sum, not once per process; pages shared with processes outside
the tree (another Chromium running at the time) are counted only in part. "MB/extra acct" = (peak
with N accounts - peak with 1) / (N - 1), with the same runner and POSTING_CONCURRENCY: per
concurrent account for the parallel runner; for the sequential one, what each account's browser
context left open costs. For procrastinate the peak includes the idle worker, which cancels out.
Reading smaps_rollup is not free: the kernel walks every mapping, about 1-3 ms per Chromium process,
and the report prints what the sampling cost in CPU (10-20 % of one core at 0.2 s with 4 accounts),
which the workers do not get.

Checks: every job must end `completed` with each listing posted and none failed, and each account
must have exactly its listings on the simulator, each title once; otherwise the benchmark stops with
status 1. The tables show medians over --rounds (default 3) of the wall clock and of the peak; one
round moves by 10-20 % on a 2-core machine, more when anything else runs (the load average before
and after is printed). The default invocation (subprocess runner on SQLite, 1, 2 and 4 accounts at
POSTING_CONCURRENCY 1 and the default, 3 rounds) takes about 7 minutes on a quiet 2-core machine;
with --database-url both runners run, about twice as long (--rounds 1 or --runners to shorten it).

Targets, on the parallel runner at the default POSTING_CONCURRENCY (or the largest tried when the
default is not), per job runner: 4 accounts at least 2.5x the listings per minute of 1 account,
and less than 200 MB per extra concurrent account. A miss exits with status 1 too.
"""
import argparse
import importlib.util
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib.metadata import version as package_version
from pathlib import Path

from bench.load import Database
from bench.posting import BenchmarkFailed, Simulator, conclude, machine_facts, noise_png, warm_up
from driver.executable import find_chromium
from simulator.client import facebook_cookies

PROJECT_DIR = Path(__file__).resolve().parent.parent
SUBPROCESS, PROCRASTINATE = "subprocess", "procrastinate"
RUNNERS = (SUBPROCESS, PROCRASTINATE)
LAYOUTS = ("2026", "classic")
LAYOUT_OPTIONS = {"2026": {"block_after_loads": 0}, "classic": None}  # classic has no load limit
DELAY = "2,2"
SAMPLE_SECONDS = 0.2  # --sample-seconds
POLL_SECONDS = 0.05
TARGET_SPEEDUP, TARGET_ACCOUNTS = 2.5, 4
TARGET_MB_PER_ACCOUNT = 200
LISTING = {"price": "120", "category": "Furniture", "condition": "Used - Good", "location": "Austin, TX"}


# --- memory: the worker's whole process tree ----------------------------------------------------------

def process_tree(root: int) -> list[int]:
    """`root` and every process descended from it, read from /proc/<pid>/stat (ppid)."""
    children = defaultdict(list)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):  # gone meanwhile
            continue
        children[ppid].append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def pss_kib(pid: int) -> int:
    """The process's proportional set size in KiB; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class PeakMemory(threading.Thread):
    """Samples the summed Pss of a process tree every `interval` seconds and keeps the peak."""

    def __init__(self, root: int, interval: float = SAMPLE_SECONDS):
        super().__init__(name=f"pss-{root}", daemon=True)
        self.root, self.interval = root, interval
        self.stopped = threading.Event()
        self.peak_kib = self.peak_processes = self.samples = 0
        self.sampling_seconds = 0.0
        self.seen: set[int] = set()

    def sample(self) -> None:
        started = time.thread_time()  # this thread's CPU time, the kernel's reading of smaps included
        tree = process_tree(self.root)
        total = sum(pss_kib(pid) for pid in tree)
        self.seen.update(tree)
        if total > self.peak_kib:
            self.peak_kib, self.peak_processes = total, len(tree)
        self.samples += 1
        self.sampling_seconds += time.thread_time() - started

    def run(self) -> None:
        while True:
            self.sample()
            if self.stopped.wait(self.interval):
                return

    def __enter__(self) -> "PeakMemory":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopped.set()
        self.join()
        self.sample()  # one last look, after the job ended


# --- the database and Django ---------------------------------------------------------------------------

def is_postgres_url(url: str) -> bool:
    return urllib.parse.urlsplit(url).scheme in {"postgres", "postgresql", "pgsql"}


def procrastinate_missing(env: dict) -> str | None:
    """Why JOB_RUNNER=procrastinate cannot run here yet, or None when it can: asked of a
    `manage.py` of its own, since Django's set-up in this process cannot be undone."""
    if not (importlib.util.find_spec("postings.tasks") and importlib.util.find_spec("postings.runners")):
        return "the project has no Procrastinate runner yet (postings/tasks.py and postings/runners.py)"
    probe = subprocess.run(
        [sys.executable, "manage.py", "procrastinate", "--help"], cwd=PROJECT_DIR,
        env={**env, "JOB_RUNNER": PROCRASTINATE}, capture_output=True, text=True, timeout=120,
    )
    if probe.returncode:
        last = (probe.stderr.strip() or probe.stdout.strip() or "no output").splitlines()[-1]
        return f"`manage.py procrastinate` does not start with JOB_RUNNER=procrastinate ({last})"
    return None


def setup_django(env: dict) -> None:
    """This process on the throwaway database (it creates the rows and, for procrastinate,
    starts the jobs), then `migrate`."""
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


# --- accounts, listings, checks ---------------------------------------------------------------------

@dataclass
class BenchAccount:
    c_user: str
    post_ids: list[int]
    titles: list[str]


def create_accounts(simulator: Simulator, operator, *, count: int, listings: int, layout: str,
                    photo: bytes, label: str) -> list[BenchAccount]:
    """`count` fresh accounts with simulator sessions, `listings` listings with one photo each."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.services import account_create, account_session_store
    from postings import services

    accounts = []
    for number in range(1, count + 1):
        email = f"tp-{label}-a{number}@example.com"
        session = simulator.mint_session(email, layout=layout, options=LAYOUT_OPTIONS[layout])
        account = account_create(owner=operator, email=email)
        account_session_store(account=account, data={"cookies": facebook_cookies(session), "origins": []})
        post_ids, titles = [], []
        for index in range(1, listings + 1):
            title = f"Throughput {label} a{number} #{index}"
            post = services.post_create(account=account, title=title, description="", **LISTING)
            services.post_image_add(post=post, upload=SimpleUploadedFile("photo.png", photo, "image/png"))
            post_ids.append(post.pk)
            titles.append(title)
        accounts.append(BenchAccount(session["c_user"], post_ids, titles))
    return accounts


def check_job(job, expected: int, what: str, log_file: Path | None) -> None:
    """The job ended completed with every listing posted: else the figure means nothing."""
    from postings.models import ErrorLog

    job.refresh_from_db()
    if (job.status, job.completed_posts, job.failed_posts) == ("completed", expected, 0):
        return
    errors = "; ".join(ErrorLog.objects.filter(job=job).values_list("error_message", flat=True)[:5])
    tail = ""
    if log_file and log_file.exists():
        tail = "\n  worker log (last lines):\n    " + "\n    ".join(log_file.read_text(errors="replace").splitlines()[-15:])
    raise BenchmarkFailed(
        f"{what}: the job ended {job.status} with {job.completed_posts} posted and {job.failed_posts} failed "
        f"of {expected}: {job.error_message or errors or 'no error recorded'}{tail}"
    )


def check_published(simulator: Simulator, accounts: list[BenchAccount], what: str) -> list[dict]:
    """Each account has exactly its listings on the simulator, each once; returns the timeline."""
    for account in accounts:
        found = sorted(listing["title"] for listing in simulator.listings(account.c_user))
        if found != sorted(account.titles):
            raise BenchmarkFailed(f"{what}: account {account.c_user} has {found} on the simulator, "
                                  f"expected each of {sorted(account.titles)} once")
    return [event for account in accounts for event in simulator.timeline(account.c_user)]


def max_open_forms(events: list[dict]) -> int:
    """The most create pages open at once (an open event counts until the end)."""
    edges = []
    for event in events:
        edges.append((event["opened_at"], 1))
        if event["ended_at"]:
            edges.append((event["ended_at"], -1))
    edges.sort(key=lambda edge: (edge[0], edge[1]))  # an end before an open at the same instant
    open_now = peak = 0
    for _, step in edges:
        open_now += step
        peak = max(peak, open_now)
    return peak


def stamp(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


# --- one measured job --------------------------------------------------------------------------------

@dataclass
class Run:
    runner: str
    concurrency: int
    accounts: int
    listings: int
    wall_seconds: float
    job_seconds: float
    startup_seconds: float
    to_first_form_seconds: float
    forms_seconds: float
    finish_seconds: float
    peak_pss_kib: int
    peak_processes: int
    open_forms: int


def measured(runner: str, concurrency: int, accounts: list[BenchAccount], job, events: list[dict],
             launched: float, ended: float, wall: float, memory: PeakMemory) -> Run:
    first_open = min(stamp(event["opened_at"]) for event in events)
    last_end = max(stamp(event["ended_at"]) for event in events)
    started, completed = job.started_at.timestamp(), job.completed_at.timestamp()
    return Run(
        runner=runner, concurrency=concurrency, accounts=len(accounts),
        listings=sum(len(account.post_ids) for account in accounts), wall_seconds=wall,
        job_seconds=completed - started, startup_seconds=started - launched,
        to_first_form_seconds=first_open - started, forms_seconds=last_end - first_open,
        finish_seconds=ended - last_end, peak_pss_kib=memory.peak_kib, peak_processes=memory.peak_processes,
        open_forms=max_open_forms(events),
    )


def run_timeout(listings: int) -> float:
    return 120 + 20 * listings


class SubprocessRunner:
    """One `manage.py post_to_marketplace --job-id` process per job, as start-posting starts it."""

    name = SUBPROCESS

    def __init__(self, env: dict, log_dir: Path, sample_seconds: float):
        self.env, self.log_dir, self.sample_seconds = env, log_dir, sample_seconds
        self.sampling = [0, 0.0]  # samples, seconds spent sampling

    def start(self, concurrency: int) -> None:
        self.concurrency = concurrency

    def stop(self) -> None:
        pass

    def run(self, operator, post_ids: list[int]):
        """(job, launched at, ended at, wall seconds, memory, log file) of one job run to its end."""
        from postings import services

        job, _ = services.posting_job_create(owner=operator, post_ids=post_ids)
        log_file = self.log_dir / f"job_{job.job_id}.log"
        env = {**self.env, "JOB_RUNNER": SUBPROCESS, "POSTING_CONCURRENCY": str(self.concurrency)}
        with open(log_file, "ab") as output:
            launched, started = time.time(), time.perf_counter()
            process = subprocess.Popen(
                [sys.executable, "manage.py", "post_to_marketplace", "--job-id", str(job.job_id)],
                cwd=PROJECT_DIR, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            with PeakMemory(process.pid, self.sample_seconds) as memory:
                try:
                    process.wait(timeout=run_timeout(len(post_ids)))
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)  # its own session: its group is its pid
                    process.wait()
                    raise BenchmarkFailed(f"job {job.job_id} did not end within {run_timeout(len(post_ids))} s "
                                          f"(log: {log_file})") from None
            wall, ended = time.perf_counter() - started, time.time()
        self.sampling[0] += memory.samples
        self.sampling[1] += memory.sampling_seconds
        return job, launched, ended, wall, memory, log_file


class ProcrastinateRunner:
    """One `manage.py procrastinate worker` per POSTING_CONCURRENCY value; jobs started as
    start-posting starts them (`postings.runners.posting_job_start`: the job created and its task
    deferred in one transaction)."""

    name = PROCRASTINATE

    def __init__(self, env: dict, log_dir: Path, sample_seconds: float):
        self.env, self.log_dir, self.sample_seconds = env, log_dir, sample_seconds
        self.process = None
        self.sampling = [0, 0.0]

    def start(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.log_file = self.log_dir / f"procrastinate_worker_c{concurrency}_{uuid.uuid4().hex[:8]}.log"
        env = {**self.env, "JOB_RUNNER": PROCRASTINATE, "POSTING_CONCURRENCY": str(concurrency)}
        with open(self.log_file, "ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "procrastinate", "worker"], cwd=PROJECT_DIR, env=env,
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # a graceful stop: no job runs now
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # anything of its group left behind
        except ProcessLookupError:
            pass
        self.process = None

    def run(self, operator, post_ids: list[int]):
        from postings import runners
        from postings.models import PostingJob

        with PeakMemory(self.process.pid, self.sample_seconds) as memory:
            launched, started = time.time(), time.perf_counter()
            job, _ = runners.posting_job_start(owner=operator, post_ids=post_ids)
            deadline = started + run_timeout(len(post_ids))
            while PostingJob.objects.filter(pk=job.pk, status__in=PostingJob.ACTIVE_STATUSES).exists():
                if self.process.poll() is not None:
                    raise BenchmarkFailed(f"the procrastinate worker exited ({self.process.returncode}) during "
                                          f"job {job.job_id}; its log: {self.log_file}")
                if time.perf_counter() > deadline:
                    raise BenchmarkFailed(f"job {job.job_id} did not end within {run_timeout(len(post_ids))} s "
                                          f"(worker log: {self.log_file})")
                time.sleep(POLL_SECONDS)  # polling the job row: the condition, spaced
            wall, ended = time.perf_counter() - started, time.time()
        job.refresh_from_db()
        if job.pid not in memory.seen:
            raise BenchmarkFailed(
                f"job {job.job_id} was run by process {job.pid}, not by the procrastinate worker "
                f"{self.process.pid} or a child of it: posting_job_start did not hand it to Procrastinate"
            )
        self.sampling[0] += memory.samples
        self.sampling[1] += memory.sampling_seconds
        return job, launched, ended, wall, memory, self.log_file


# --- the whole benchmark ------------------------------------------------------------------------------

@dataclass
class Results:
    accounts: tuple[int, ...]
    listings: int
    concurrencies: tuple[int, ...]  # 1 first
    default_concurrency: int
    rounds: int
    runners: tuple[str, ...]
    skipped: dict[str, str] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    machine: dict = field(default_factory=dict)

    def of(self, runner: str, concurrency: int, accounts: int) -> list[Run]:
        return [r for r in self.runs if (r.runner, r.concurrency, r.accounts) == (runner, concurrency, accounts)]

    def median(self, runner: str, concurrency: int, accounts: int, what: str) -> float:
        return statistics.median(getattr(run, what) for run in self.of(runner, concurrency, accounts))

    def per_minute(self, runner: str, concurrency: int, accounts: int) -> float:
        return accounts * self.listings * 60 / self.median(runner, concurrency, accounts, "wall_seconds")

    def speedup(self, runner: str, concurrency: int, accounts: int) -> float | None:
        if 1 not in self.accounts:
            return None
        return self.per_minute(runner, concurrency, accounts) / self.per_minute(runner, concurrency, 1)

    def peak_mb(self, runner: str, concurrency: int, accounts: int) -> float:
        return self.median(runner, concurrency, accounts, "peak_pss_kib") / 1024

    def mb_per_extra_account(self, runner: str, concurrency: int, accounts: int) -> float | None:
        if accounts == 1 or 1 not in self.accounts:
            return None
        return (self.peak_mb(runner, concurrency, accounts) - self.peak_mb(runner, concurrency, 1)) / (accounts - 1)

    @property
    def judged_concurrency(self) -> int | None:
        parallel = [c for c in self.concurrencies if c > 1]
        if not parallel:
            return None
        return self.default_concurrency if self.default_concurrency in parallel else max(parallel)

    def targets(self) -> dict:
        concurrency = self.judged_concurrency
        if concurrency is None or not {1, TARGET_ACCOUNTS} <= set(self.accounts):
            return {}
        targets = {}
        for runner in self.runners:
            speedup = self.speedup(runner, concurrency, TARGET_ACCOUNTS)
            mb = self.mb_per_extra_account(runner, concurrency, TARGET_ACCOUNTS)
            targets[f"{runner}_c{concurrency}_{TARGET_ACCOUNTS}_accounts_at_least_{TARGET_SPEEDUP}x"] = {
                "passed": speedup >= TARGET_SPEEDUP, "ratio": round(speedup, 3),
            }
            targets[f"{runner}_c{concurrency}_under_{TARGET_MB_PER_ACCOUNT}_mb_per_extra_account"] = {
                "passed": mb < TARGET_MB_PER_ACCOUNT, "mb": round(mb, 1),
            }
        return targets

    def as_json(self) -> dict:
        variants = {}
        for runner in self.runners:
            for concurrency in self.concurrencies:
                for accounts in self.accounts:
                    speedup = self.speedup(runner, concurrency, accounts)
                    extra = self.mb_per_extra_account(runner, concurrency, accounts)
                    variants[f"{runner}/c{concurrency}/n{accounts}"] = {
                        "listings": accounts * self.listings,
                        "wall_seconds_median": round(self.median(runner, concurrency, accounts, "wall_seconds"), 3),
                        "job_seconds_median": round(self.median(runner, concurrency, accounts, "job_seconds"), 3),
                        "listings_per_minute": round(self.per_minute(runner, concurrency, accounts), 2),
                        "speedup_vs_1_account": None if speedup is None else round(speedup, 3),
                        "peak_pss_mb_median": round(self.peak_mb(runner, concurrency, accounts), 1),
                        "mb_per_extra_account": None if extra is None else round(extra, 1),
                        "runs": [asdict(run) for run in self.of(runner, concurrency, accounts)],
                    }
        return {
            "accounts": list(self.accounts), "listings_per_account": self.listings, "rounds": self.rounds,
            "posting_delay_seconds": DELAY, "concurrencies": list(self.concurrencies),
            "default_concurrency": self.default_concurrency, "runners": list(self.runners),
            "skipped": self.skipped, "machine": self.machine, "variants": variants, "targets": self.targets(),
        }


def concurrency_label(concurrency: int, default: int) -> str:
    kind = "sequential" if concurrency == 1 else "default" if concurrency == default else "parallel"
    return f"{concurrency} ({kind})"


def print_report(results: Results) -> None:
    m = results.machine
    print(f"Machine: {m['cpu_count']} CPUs, {m['platform']}, Python {m['python']}")
    print(f"Chromium {m['chromium_version']} ({m['chromium']}), Playwright {m['playwright']}")
    print(f"Database: {m['database']}; simulator layout {m['layout']}; BROWSER_TRACE={m['trace']}")
    print(f"Load average (1, 5, 15 min) before: {', '.join(map(str, m['load_average_before']))}; "
          f"after: {', '.join(map(str, m['load_average_after']))}")
    if max(m["load_average_before"][0], m["load_average_after"][1]) > m["cpu_count"] / 2:
        print("Note: something else kept this machine busy meanwhile: the figures are perturbed")
    print(f"Memory sampling: {m['sample_ms']:.1f} ms of CPU per sample, every {m['sample_seconds']} s "
          f"({m['sample_ms'] / m['sample_seconds'] / 10:.1f} % of one core, taken from the workers)")
    how = f"median of {results.rounds} rounds" if results.rounds > 1 else "1 round"
    print(f"\n{results.listings} listings per account, POSTING_DELAY_SECONDS={DELAY} ({how}):\n")
    header = (f"{'runner':<15}{'POSTING_CONCURRENCY':<21}{'accounts':>8}{'listings':>9}{'wall s':>8}{'job s':>7}"
              f"{'listings/min':>14}{'vs 1':>7}{'forms':>7}{'peak MB':>9}{'MB/extra acct':>15}")
    print(header)
    print("-" * len(header))
    for runner in results.runners:
        for concurrency in results.concurrencies:
            for accounts in results.accounts:
                speedup = results.speedup(runner, concurrency, accounts)
                extra = results.mb_per_extra_account(runner, concurrency, accounts)
                forms = max(run.open_forms for run in results.of(runner, concurrency, accounts))
                print(f"{runner:<15}{concurrency_label(concurrency, results.default_concurrency):<21}{accounts:>8}"
                      f"{accounts * results.listings:>9}"
                      f"{results.median(runner, concurrency, accounts, 'wall_seconds'):>8.1f}"
                      f"{results.median(runner, concurrency, accounts, 'job_seconds'):>7.1f}"
                      f"{results.per_minute(runner, concurrency, accounts):>14.1f}"
                      f"{'' if speedup is None else f'{speedup:.2f}x':>7}{forms:>7}"
                      f"{results.peak_mb(runner, concurrency, accounts):>9.0f}"
                      f"{'' if extra is None else f'{extra:.0f}':>15}")
    print("\nWhere the wall clock goes (seconds, medians): start-up = launch -> job started; to first form = "
          "-> first create page served; forms = -> last listing published; finish = -> worker exited / job seen ended\n")
    header = f"{'runner':<15}{'POSTING_CONCURRENCY':<21}{'accounts':>8}{'start-up':>10}{'to 1st form':>13}{'forms':>8}{'finish':>8}"
    print(header)
    print("-" * len(header))
    for runner in results.runners:
        for concurrency in results.concurrencies:
            for accounts in results.accounts:
                parts = [results.median(runner, concurrency, accounts, what) for what in
                         ("startup_seconds", "to_first_form_seconds", "forms_seconds", "finish_seconds")]
                print(f"{runner:<15}{concurrency_label(concurrency, results.default_concurrency):<21}{accounts:>8}"
                      f"{parts[0]:>10.2f}{parts[1]:>13.2f}{parts[2]:>8.2f}{parts[3]:>8.2f}")
    print()
    for runner, why in results.skipped.items():
        print(f"Skipped: the {runner} runner: {why}")
    for runner in results.runners:
        for concurrency in results.concurrencies:
            if concurrency > 1 and all(run.open_forms <= 1 for run in results.runs
                                       if (run.runner, run.concurrency) == (runner, concurrency)):
                print(f"Note: {runner} with POSTING_CONCURRENCY={concurrency} never had two create pages open at "
                      "once: the worker ran its accounts one at a time (sequential figures)")
    concurrency = results.judged_concurrency
    targets = results.targets()
    if not targets:
        print("Targets: not judged (they need --accounts with 1 and 4 and a POSTING_CONCURRENCY above 1)")
    for runner in results.runners if targets else ():
        key = f"{runner}_c{concurrency}"
        speed = targets[f"{key}_{TARGET_ACCOUNTS}_accounts_at_least_{TARGET_SPEEDUP}x"]
        memory = targets[f"{key}_under_{TARGET_MB_PER_ACCOUNT}_mb_per_extra_account"]
        print(f"Target ({runner}, POSTING_CONCURRENCY={concurrency}): {TARGET_ACCOUNTS} accounts at least "
              f"{TARGET_SPEEDUP}x the listings per minute of 1: {'PASS' if speed['passed'] else 'FAIL'} ({speed['ratio']:.2f}x)")
        print(f"Target ({runner}, POSTING_CONCURRENCY={concurrency}): under {TARGET_MB_PER_ACCOUNT} MB per extra "
              f"concurrent account: {'PASS' if memory['passed'] else 'FAIL'} ({memory['mb']:.0f} MB)")


def run(args) -> Results:
    chromium = find_chromium()
    load_before = os.getloadavg()
    simulator = Simulator()
    sampling = [0, 0.0]
    engines = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
            workdir = Path(tmp)
            database = Database("postgres" if args.database_url else "sqlite", workdir, args.database_url)
            try:
                env = {
                    "DJANGO_SETTINGS_MODULE": "config.settings",
                    "DJANGO_DEBUG": "true",
                    "DATABASE_URL": database.url,
                    "MEDIA_ROOT": str(workdir / "media"),
                    "SESSIONS_DIR": str(workdir / "sessions"),
                    "LOG_DIR": str(workdir / "logs"),
                    "MARKETPLACE_BASE_URL": simulator.base_url,
                    "POSTING_DELAY_SECONDS": DELAY,
                    # The benchmark measures the engine, not the budgets that hold an account to a few posts an hour.
                    "ACCOUNT_DAILY_POST_LIMIT": "0",
                    "ACCOUNT_HOURLY_POST_LIMIT": "0",
                    "BROWSER_EXECUTABLE": str(chromium),  # and no probe for Playwright's own download
                    "BROWSER_TRACE": args.trace,
                    "LOG_LEVEL": "WARNING",  # this process's own (the workers log at INFO, into LOG_DIR)
                    # This host's browser slots (POSTING_CONCURRENCY), apart from any other checkout's
                    # workers or tests running on the machine meanwhile.
                    "BROWSER_SLOTS_DIR": str(workdir / "browser-slots"),
                }
                for name in ("POSTING_CONCURRENCY", "JOB_RUNNER"):
                    os.environ.pop(name, None)  # the settings' own default, unless .env sets one
                runners, skipped = list(args.runners), {}
                if PROCRASTINATE in runners and (why := procrastinate_missing({**os.environ, **env})):
                    runners.remove(PROCRASTINATE)
                    skipped[PROCRASTINATE] = why
                    print(f"Skipping the procrastinate runner: {why}.", file=sys.stderr)
                if PROCRASTINATE in runners:
                    env["JOB_RUNNER"] = PROCRASTINATE  # its app and migrations; this process starts its jobs
                setup_django(env)
                from django.conf import settings
                from django.contrib.auth import get_user_model
                from django.db import connection

                default_concurrency = settings.POSTING_CONCURRENCY
                concurrencies = tuple(sorted({1, *(args.concurrency or [default_concurrency])}))
                results = Results(
                    accounts=tuple(args.accounts), listings=args.listings, concurrencies=concurrencies,
                    default_concurrency=default_concurrency, rounds=args.rounds, runners=tuple(runners),
                    skipped=skipped,
                )
                worker_env = {**os.environ, **env, "LOG_LEVEL": "INFO"}
                worker_env.pop("JOB_RUNNER", None)
                log_dir = workdir / "logs"
                log_dir.mkdir(parents=True, exist_ok=True)
                operator = get_user_model().objects.create_user(f"bench-throughput-{uuid.uuid4().hex[:8]}")
                photo = noise_png()
                print("Warming up Chromium and one worker...", file=sys.stderr)
                chromium_version = warm_up()
                engines.update({SUBPROCESS: SubprocessRunner(worker_env, log_dir, args.sample_seconds),
                                PROCRASTINATE: ProcrastinateRunner(worker_env, log_dir, args.sample_seconds)})

                def one_job(engine, concurrency: int, count: int, listings: int, label: str):
                    accounts = create_accounts(simulator, operator, count=count, listings=listings,
                                               layout=args.layout, photo=photo, label=label)
                    post_ids = [pk for account in accounts for pk in account.post_ids]
                    job, launched, ended, wall, memory, log_file = engine.run(operator, post_ids)
                    check_job(job, len(post_ids), label, log_file)
                    events = check_published(simulator, accounts, label)
                    return measured(engine.name, concurrency, accounts, job, events, launched, ended, wall, memory)

                engines[SUBPROCESS].start(1)
                one_job(engines[SUBPROCESS], 1, 1, 1, "warmup")  # Python, Django and Chromium off a warm disk
                for round_no in range(1, args.rounds + 1):
                    for runner in runners:
                        engine = engines[runner]
                        for concurrency in concurrencies:
                            engine.start(concurrency)
                            try:
                                if runner == PROCRASTINATE:  # the worker up, and its first job's imports paid
                                    one_job(engine, concurrency, 1, 1, f"{runner}-c{concurrency}-r{round_no}-warmup")
                                for count in args.accounts:
                                    label = f"{runner}-c{concurrency}-n{count}-r{round_no}"
                                    print(f"  round {round_no}: {runner}, POSTING_CONCURRENCY={concurrency}, "
                                          f"{count} account(s)", file=sys.stderr)
                                    results.runs.append(one_job(engine, concurrency, count, args.listings, label))
                            finally:
                                engine.stop()
                for engine in engines.values():
                    sampling[0] += engine.sampling[0]
                    sampling[1] += engine.sampling[1]
                with connection.cursor() as cursor:
                    if connection.vendor == "postgresql":
                        cursor.execute("SHOW server_version")
                        database_name = f"PostgreSQL {cursor.fetchone()[0]}"
                    else:
                        cursor.execute("SELECT sqlite_version()")
                        database_name = f"SQLite {cursor.fetchone()[0]}"
                connection.close()
            finally:
                for engine in engines.values():
                    engine.stop()
                from django.conf import settings as django_settings

                if django_settings.configured:  # Django was set up: let go of the database first
                    from django.db import connections

                    connections.close_all()
                database.drop()
    finally:
        simulator.stop()
    results.machine = machine_facts(
        chromium, chromium_version, procrastinate=package_version("procrastinate"), database=database_name,
        layout=args.layout, trace=args.trace, photo_bytes=len(photo),
        sample_ms=1000 * sampling[1] / max(sampling[0], 1), sample_seconds=args.sample_seconds,
        load_average_before=[round(load, 2) for load in load_before],
        load_average_after=[round(load, 2) for load in os.getloadavg()],
    )
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, nargs="+", default=[1, 2, 4],
                        help="numbers of accounts, one job each (default 1 2 4)")
    parser.add_argument("--listings", type=int, default=3, help="listings per account (default 3)")
    parser.add_argument("--concurrency", type=int, nargs="+", metavar="C",
                        help="POSTING_CONCURRENCY values of the parallel runner (default: the setting's default); "
                        "1, the sequential runner, is always measured")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the tables show medians (default 3)")
    parser.add_argument("--layout", choices=LAYOUTS, default="2026", help="the simulator's layout (default 2026)")
    parser.add_argument("--trace", choices=("on", "off", "full"), default="on", help="BROWSER_TRACE (default on)")
    parser.add_argument("--database-url", metavar="URL",
                        help="a PostgreSQL server (and a database to connect to) on which to create a throwaway "
                        "database; default: a SQLite file in a temporary directory")
    parser.add_argument("--runners", nargs="+", choices=RUNNERS,
                        help="job runners (default: subprocess, and procrastinate with --database-url)")
    parser.add_argument("--sample-seconds", type=float, default=SAMPLE_SECONDS,
                        help=f"how often the workers' memory is sampled (default {SAMPLE_SECONDS})")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args(argv)
    if args.listings < 1 or args.rounds < 1 or min(args.accounts) < 1 or min(args.concurrency or [1]) < 1:
        parser.error("--accounts, --listings, --concurrency and --rounds must be at least 1")
    if args.sample_seconds <= 0:
        parser.error("--sample-seconds must be above 0")
    args.accounts = sorted(set(args.accounts))
    if args.database_url and not is_postgres_url(args.database_url):
        parser.error("--database-url must be a PostgreSQL URL (postgres://user:password@host:port/database)")
    if args.runners is None:
        args.runners = [SUBPROCESS, PROCRASTINATE] if args.database_url else [SUBPROCESS]
    if PROCRASTINATE in args.runners and not args.database_url:
        parser.error("the procrastinate runner needs PostgreSQL: give --database-url")
    return conclude(lambda: run(args), print_report, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
