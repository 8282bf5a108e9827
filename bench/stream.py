"""What the job status stream costs the server, shared watcher against poll-per-stream, at N streams.

Run from the project's directory:

    .venv/bin/python -m bench.stream [--streams 100 1000 2000] [--jobs 4] [--seconds 20]
                                     [--json PATH] [--profile DIR]

Setup. A throwaway SQLite database (migrated here) and directories in a temporary directory, one
operator, J jobs in status `running`, and a bearer token for the operator. An updater thread changes
every job once per second, job i at i/J of each second, jittered uniformly over one poll period (see
Updater): one UPDATE writes the change's wall-clock time (`time.time()`) into `current_post_title`
and bumps `completed_posts`, `updated_at` and `heartbeat_at` (so the server's reaper leaves the jobs
running).

The server. For each (N, variant) a fresh `uvicorn bench.stream_asgi:application` (one worker,
h11 as installed, SSE_POLL_SECONDS=0.5, --backlog 4096, no --limit-concurrency, access log off)
pinned to CPU 0; the client and the updater are pinned to CPU 1. A fresh process per measurement
makes the memory figure honest: memory freed by the previous variant's streams would otherwise be
reused and hide the next one's cost. Two variants:

real    GET /api/posts/status-stream/<job_id>/: the project's view, fed by the shared JobWatcher
        (one query per SSE_POLL_SECONDS for all watched jobs).
naive   GET /bench/naive-stream/<job_id>/ (bench/stream_asgi.py): an async view whose generator
        awaits `sync_to_async(load_job)()` every SSE_POLL_SECONDS for its own job: one query per
        stream per poll. Same authentication, same event bytes.

One measurement. Warm the server up with one stream (its first event and one change), then read
its RSS. Open N streams spread round-robin over the J jobs (raw asyncio connections, at most
OPEN_CONCURRENCY connecting at once; `Authorization: Bearer`, `Accept: text/event-stream`; the
client parses the chunked body and the SSE lines). Once every stream has had its first event (or
after the open timeout, which is then reported as errors), measure for --seconds:

latency         receipt time - the change's time in `current_post_title`, for every data event
                but each stream's first (p50, p99). For the real view it is the wait for the
                watcher's next tick (uniform over SSE_POLL_SECONDS by design: p50 about 250 ms)
                plus the fan-out.
fan-out         real view only: receipt time - when the watcher first read that change (the bench
                wrapper records it, GET /bench/reads): what the server adds after its tick.
events          data events received in the window / expected: each change the updater made in the
                window times the streams on that job (about N per second).
server CPU      (utime + stime of the server from /proc/<pid>/stat) / wall time; 100 % = CPU 0 full.
RSS per stream  (server VmRSS with N streams open, at the window's end - VmRSS before opening) / N,
                read from /proc/<pid>/status (what GET /bench/rss answers, without waiting on a
                loaded event loop).
threads         the server's thread count with N streams open (/proc/<pid>/status).
queries/s       SQL statements the server ran in the window (GET /bench/queries deltas) / seconds.

Each change reaches the N/J streams of its job in one burst, so p50 and p99 rest on only J x seconds
independent changes (80 by default) and one garbage-collector pause can move them: expect some tens
of ms between runs. The fan-out figures rest on every event and vary much less.

A variant is marked BEHIND when it delivers under 50 % of the expected events, ERRORS when streams
failed (e.g. not all opened within the open timeout) and SATURATED when the server's CPU was 95 % busy
or more; its figures are still shown. With --profile DIR the server's event-loop thread is
cProfiled during each window and the top functions written to DIR/<variant>-<N>.txt.

The targets, for the real view at N=1000: p50 < 300 ms, p99 < 1000 ms, < 100 kB of server memory
per stream, and queries/s set by the watcher's tick (about 1/SSE_POLL_SECONDS = 2, independent of N)
where the naive view makes about N x 2. The exit status is 1 when a target is missed.
"""
import argparse
import asyncio
import heapq
import json
import os
import platform
import random
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
POLL_SECONDS = 0.5
OPEN_CONCURRENCY = 128  # connections being opened at once
CHUNK_TIMEOUT = 30.0  # a stream silent this long is an error (the heartbeat is every 15 s)
SERVER_CPU, CLIENT_CPU = 0, 1
BEHIND_SHARE = 0.5
SATURATED_CPU_PERCENT = 95

REAL, NAIVE = "real", "naive"
PATHS = {REAL: "/api/posts/status-stream/{job_id}/", NAIVE: "/bench/naive-stream/{job_id}/"}

TARGET_N = 1000
TARGET_P50_MS, TARGET_P99_MS, TARGET_KB_PER_STREAM = 300, 1000, 100
TARGET_QUERIES_SLACK = 1.1  # the watcher's queries/s may exceed 1/SSE_POLL_SECONDS by this factor


# --- processes, CPUs, /proc ------------------------------------------------------------------------

def raise_open_files_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def pin_possible() -> bool:
    return {SERVER_CPU, CLIENT_CPU} <= os.sched_getaffinity(0)


def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS (kB) and Threads of a process."""
    found = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "Threads"):
                found[key] = int(value.split()[0])
    return found


def get_json(url: str, timeout: float = 10) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One uvicorn worker serving bench.stream_asgi on CPU 0; its output goes to a log file."""

    def __init__(self, env: dict, log_path: Path, pin: bool):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "ab")

        def preexec():
            raise_open_files_limit()
            if pin:
                os.sched_setaffinity(0, {SERVER_CPU})

        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.stream_asgi:application", "--host", "127.0.0.1",
             "--port", str(self.port), "--timeout-graceful-shutdown", "2", "--backlog", "4096",
             "--no-access-log", "--log-level", "warning"],
            cwd=PROJECT_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=preexec,
        )
        self.pid = self.process.pid
        deadline = time.monotonic() + 30
        while True:
            try:
                get_json(f"{self.url}/bench/rss", timeout=2)
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"uvicorn did not start; see {log_path}") from None
                time.sleep(0.1)

    def queries(self) -> int:
        return get_json(f"{self.url}/bench/queries", timeout=30)["queries"]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()


# --- the database and the updater ----------------------------------------------------------------------

def setup_django(workdir: Path) -> dict:
    """Point this process at a throwaway database and directories, migrate; the server's environment."""
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "MEDIA_ROOT": str(workdir / "media"),
        "SESSIONS_DIR": str(workdir / "sessions"),
        "LOG_DIR": str(workdir / "logs"),
        "LOG_LEVEL": "WARNING",
        "SSE_POLL_SECONDS": str(POLL_SECONDS),
    }
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return {**os.environ, **env}


def create_jobs(count: int):
    """An operator, `count` running jobs of theirs, and a bearer token for them."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import RefreshToken

    from postings.models import PostingJob

    user = get_user_model().objects.create_user("bench-operator", "operator@example.com")  # no password
    now = timezone.now()
    jobs = [
        PostingJob.objects.create(owner=user, status=PostingJob.Status.RUNNING, total_posts=1_000_000,
                                  started_at=now, heartbeat_at=now)
        for _ in range(count)
    ]
    return jobs, str(RefreshToken.for_user(user).access_token)


class Updater(threading.Thread):
    """Changes every job once per second; job i's k-th change at k + i/J s, jittered by one poll period.

    The jitter (uniform over SSE_POLL_SECONDS) makes the phase of a change relative to the watcher's
    tick uniform. Without it the 1 s schedule aliases with the ~0.5 s tick: the phase drifts by the
    tick's few ms of work per tick, so over a 20 s window the latencies cluster at two fixed values and
    p50 swings anywhere between ~0 and ~500 ms from one run to the next.
    """

    def __init__(self, job_pks: list[int], jitter: float = POLL_SECONDS):
        super().__init__(name="job-updater", daemon=True)
        self.job_pks = job_pks
        self.jitter = jitter
        self.changes: list[tuple[float, int]] = []  # (time.time(), job index)
        self.stopping = threading.Event()

    def _when(self, start: float, second: int, index: int) -> float:
        slot = start + second + index / len(self.job_pks)
        return slot + random.uniform(-self.jitter / 2, self.jitter / 2)

    def run(self) -> None:
        from django.db import connection
        from django.db.models import F
        from django.utils import timezone

        from postings.models import PostingJob

        start = time.monotonic() + self.jitter
        schedule = [(self._when(start, 0, index), 0, index) for index in range(len(self.job_pks))]
        heapq.heapify(schedule)
        try:
            while True:
                when, second, index = heapq.heappop(schedule)
                if self.stopping.wait(max(when - time.monotonic(), 0)):
                    return
                stamp = time.time()
                now = timezone.now()
                PostingJob.objects.filter(pk=self.job_pks[index]).update(
                    current_post_title=repr(stamp), completed_posts=F("completed_posts") + 1,
                    updated_at=now, heartbeat_at=now,
                )
                self.changes.append((stamp, index))
                heapq.heappush(schedule, (self._when(start, second + 1, index), second + 1, index))
        finally:
            connection.close()

    def changes_between(self, start: float, end: float) -> list[int]:
        return [index for stamp, index in list(self.changes) if start <= stamp < end]

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


# --- the client ----------------------------------------------------------------------------------------

class StreamError(Exception):
    pass


@dataclass
class Collector:
    """What every stream of one measurement reports into."""

    expected_streams: int
    first_events: int = 0
    measuring: bool = False
    samples: list[tuple[str, float]] = field(default_factory=list)  # (current_post_title, receipt time)
    errors: dict[str, int] = field(default_factory=dict)
    all_first: asyncio.Event = field(default_factory=asyncio.Event)

    def first_event(self) -> None:
        self.first_events += 1
        if self.first_events >= self.expected_streams:
            self.all_first.set()

    def event(self, received: float, data: str) -> None:
        if not self.measuring:
            return
        try:
            title = json.loads(data)["current_post_title"]
            float(title)
        except (ValueError, KeyError, TypeError):
            return
        self.samples.append((title, received))

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


async def read_head(reader: asyncio.StreamReader) -> None:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
    status = head.split(" ", 2)[1]
    if status != "200":
        raise StreamError(f"HTTP {status}")
    if "transfer-encoding: chunked" not in head:
        raise StreamError("not chunked")


async def one_stream(port: int, path: str, token: str, collector: Collector, gate: asyncio.Semaphore) -> None:
    """One SSE connection: every data event is reported with its receipt time, until cancelled."""
    writer = None
    try:
        async with gate:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
                f"Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n".encode()
            )
            await asyncio.wait_for(read_head(reader), CHUNK_TIMEOUT)
        pending, first = "", True
        while True:
            size_line = await asyncio.wait_for(reader.readuntil(b"\r\n"), CHUNK_TIMEOUT)
            size = int(size_line.split(b";", 1)[0], 16)
            if size == 0:
                raise StreamError("stream ended")
            chunk = await reader.readexactly(size + 2)
            received = time.time()
            pending += chunk[:-2].decode()
            while "\n\n" in pending:
                block, pending = pending.split("\n\n", 1)
                data = "\n".join(line[5:].removeprefix(" ") for line in block.split("\n") if line.startswith("data:"))
                if not data:
                    continue  # a comment (keep-alive)
                if first:  # the state at subscription, not a change: no latency
                    first = False
                    collector.first_event()
                else:
                    collector.event(received, data)
    except asyncio.CancelledError:
        raise
    except StreamError as exc:
        collector.error(str(exc))
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
        collector.error(type(exc).__name__)
    finally:
        if writer is not None:
            writer.close()


async def close_streams(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks, timeout=30)


# --- one measurement -----------------------------------------------------------------------------------

@dataclass
class Result:
    variant: str
    streams: int
    jobs: int
    seconds: float
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    fan_out_p50_ms: float | None  # real view: from the watcher's read of the change to the receipt
    fan_out_p99_ms: float | None
    events: int
    expected_events: int
    server_cpu_percent: float
    rss_before_kb: int
    rss_open_kb: int
    kb_per_stream: float
    threads_before: int
    threads_open: int
    queries: int
    queries_per_second: float
    open_seconds: float
    streams_opened: int
    errors: dict[str, int]
    status: str


def percentile(ordered: list[float], share: float) -> float | None:
    """Nearest-rank percentile of sorted values, in ms."""
    if not ordered:
        return None
    return round(1000 * ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))], 1)


async def measure(server: Server, updater: Updater, variant: str, n: int, job_ids: list[str],
                  token: str, seconds: float, profile_dir: Path | None) -> Result:
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)
    paths = [PATHS[variant].format(job_id=job_id) for job_id in job_ids]

    # Warm up: one stream, its first event and one change; then the baseline.
    warm = Collector(expected_streams=1)
    warm.measuring = True
    task = asyncio.create_task(one_stream(server.port, paths[0], token, warm, gate))
    deadline = time.monotonic() + 10
    while not warm.samples and not warm.errors and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await close_streams([task])
    if not warm.samples:
        raise RuntimeError(f"{variant}: the warm-up stream got no change event ({warm.errors})")
    await asyncio.sleep(1)  # let the server notice the disconnect
    before = proc_status(server.pid)

    # Open N streams, round-robin over the jobs, and wait for every first event.
    collector = Collector(expected_streams=n)
    opening = time.monotonic()
    tasks = [asyncio.create_task(one_stream(server.port, paths[i % len(paths)], token, collector, gate))
             for i in range(n)]
    open_timeout = 30 + n / 40
    try:
        await asyncio.wait_for(collector.all_first.wait(), open_timeout)
    except TimeoutError:
        collector.error(f"no first event within {open_timeout:.0f} s")
    open_seconds = time.monotonic() - opening
    opened = collector.first_events
    await asyncio.sleep(1)

    # The window.
    if profile_dir is not None:
        await asyncio.to_thread(get_json, f"{server.url}/bench/profile/start")
    queries_start = await asyncio.to_thread(server.queries)
    cpu_start, wall_start, start = proc_cpu_seconds(server.pid), time.monotonic(), time.time()
    collector.measuring = True
    await asyncio.sleep(seconds)
    collector.measuring = False
    cpu_end, wall_end, end = proc_cpu_seconds(server.pid), time.monotonic(), time.time()
    during = proc_status(server.pid)
    queries_end = await asyncio.to_thread(server.queries)
    reads = (await asyncio.to_thread(get_json, f"{server.url}/bench/reads"))["reads"]
    if profile_dir is not None:
        report = await asyncio.to_thread(get_json, f"{server.url}/bench/profile/stop", 60)
        profile_dir.mkdir(parents=True, exist_ok=True)
        (profile_dir / f"{variant}-{n}.txt").write_text(
            "".join(f"=== sorted by {key} ===\n{text}\n" for key, text in report.items()))

    await close_streams(tasks)

    streams_per_job = [len(range(i, n, len(job_ids))) for i in range(len(job_ids))]
    expected = sum(streams_per_job[index] for index in updater.changes_between(start, end))
    wall = wall_end - wall_start
    ordered = sorted(received - float(title) for title, received in collector.samples)
    fan_out = sorted(received - reads[title] for title, received in collector.samples if title in reads)
    events = len(ordered)
    cpu_percent = round(100 * (cpu_end - cpu_start) / wall, 1)
    marks = [mark for mark, on in (("ERRORS", collector.errors),
                                   ("BEHIND", expected and events < BEHIND_SHARE * expected),
                                   ("SATURATED", cpu_percent >= SATURATED_CPU_PERCENT)) if on]
    return Result(
        variant=variant, streams=n, jobs=len(job_ids), seconds=round(wall, 2),
        p50_ms=percentile(ordered, 0.50), p99_ms=percentile(ordered, 0.99), max_ms=percentile(ordered, 1.0),
        fan_out_p50_ms=percentile(fan_out, 0.50), fan_out_p99_ms=percentile(fan_out, 0.99),
        events=events, expected_events=expected,
        server_cpu_percent=cpu_percent,
        rss_before_kb=before["VmRSS"], rss_open_kb=during["VmRSS"],
        kb_per_stream=round((during["VmRSS"] - before["VmRSS"]) / n, 1),
        threads_before=before["Threads"], threads_open=during["Threads"],
        queries=queries_end - queries_start, queries_per_second=round((queries_end - queries_start) / wall, 1),
        open_seconds=round(open_seconds, 1), streams_opened=opened, errors=collector.errors,
        status="+".join(marks) or "ok",
    )


# --- the report ----------------------------------------------------------------------------------------

def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def print_table(results: list[Result]) -> None:
    header = (f"{'variant':<8} {'N':>5} {'p50 ms':>7} {'p99 ms':>7} {'fan-out p50/p99':>15} "
              f"{'events recv/expected':>22} {'CPU %':>6} {'kB/stream':>9} {'threads':>7} {'queries/s':>9} {'open s':>6}  status")
    print(header)
    print("-" * len(header))
    for r in results:
        share = f"({100 * r.events / r.expected_events:.0f}%)" if r.expected_events else ""
        fan_out = "-" if r.fan_out_p50_ms is None else f"{ms(r.fan_out_p50_ms)}/{ms(r.fan_out_p99_ms)}"
        print(f"{r.variant:<8} {r.streams:>5} {ms(r.p50_ms):>7} {ms(r.p99_ms):>7} {fan_out:>15} "
              f"{f'{r.events}/{r.expected_events} {share}':>22} {r.server_cpu_percent:>6.1f} "
              f"{r.kb_per_stream:>9.1f} {r.threads_open:>7} {r.queries_per_second:>9.1f} {r.open_seconds:>6.1f}  "
              f"{r.status}{'' if not r.errors else ' ' + json.dumps(r.errors)}")


def evaluate_targets(results: list[Result]) -> list[dict]:
    real = next((r for r in results if r.variant == REAL and r.streams == TARGET_N), None)
    if real is None:
        return []
    naive = next((r for r in results if r.variant == NAIVE and r.streams == TARGET_N), None)
    watcher_rate = 1 / POLL_SECONDS
    naive_note = ""
    if naive is not None:
        naive_note = f"; naive {naive.queries_per_second:.0f}/s (about N x 2 = {TARGET_N * watcher_rate:.0f})"
    real_rates = ", ".join(f"N={r.streams}: {r.queries_per_second:.1f}" for r in results if r.variant == REAL)
    return [
        {"target": f"p50 latency < {TARGET_P50_MS} ms", "measured": f"{ms(real.p50_ms)} ms",
         "passed": real.p50_ms is not None and real.p50_ms < TARGET_P50_MS},
        {"target": f"p99 latency < {TARGET_P99_MS} ms", "measured": f"{ms(real.p99_ms)} ms",
         "passed": real.p99_ms is not None and real.p99_ms < TARGET_P99_MS},
        {"target": f"server memory < {TARGET_KB_PER_STREAM} kB per stream", "measured": f"{real.kb_per_stream:.1f} kB",
         "passed": real.kb_per_stream < TARGET_KB_PER_STREAM},
        {"target": f"queries/s about 1/SSE_POLL_SECONDS = {watcher_rate:.0f} (at most {TARGET_QUERIES_SLACK} x), "
                   "independent of N",
         "measured": f"{real.queries_per_second:.1f}/s (real: {real_rates}){naive_note}",
         "passed": real.queries_per_second <= TARGET_QUERIES_SLACK * watcher_rate},
    ]


def print_targets(targets: list[dict]) -> None:
    if not targets:
        print(f"\nTargets: not judged, N={TARGET_N} was not measured.")
        return
    print(f"\nTargets for the real view at N={TARGET_N}:")
    for target in targets:
        print(f"  {'PASS' if target['passed'] else 'FAIL'}  {target['target']}: {target['measured']}")


def environment(args, pinned: bool) -> dict:
    return {
        "python": platform.python_version(), "django": package_version("django"),
        "uvicorn": package_version("uvicorn"), "asgiref": package_version("asgiref"),
        "platform": platform.platform(), "cpus": os.cpu_count(), "pinned": pinned,
        "open_files_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "sse_poll_seconds": POLL_SECONDS, "jobs": args.jobs, "seconds": args.seconds, "streams": args.streams,
    }


# --- main ----------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[100, 1000, 2000], help="numbers of streams N")
    parser.add_argument("--jobs", type=int, default=4, help="jobs J the streams are spread over")
    parser.add_argument("--seconds", type=float, default=20, help="length of each measuring window")
    parser.add_argument("--variants", nargs="+", choices=[REAL, NAIVE], default=[REAL, NAIVE])
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="cProfile the server during each window")
    args = parser.parse_args(argv)

    raise_open_files_limit()
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if limit < 2 * max(args.streams) + 200:
        print(f"warning: open files limited to {limit}; the largest N needs about {2 * max(args.streams)}",
              file=sys.stderr)
    pinned = pin_possible()
    if not pinned:
        print("warning: CPUs 0 and 1 are not both available; server and client are not pinned", file=sys.stderr)

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as tmp:
        workdir = Path(tmp)
        server_env = setup_django(workdir)
        jobs, token = create_jobs(args.jobs)
        job_ids = [str(job.job_id) for job in jobs]
        if pinned:
            os.sched_setaffinity(0, {CLIENT_CPU})  # before the updater thread: it inherits it
        updater = Updater([job.pk for job in jobs])
        updater.start()
        started = time.monotonic()
        try:
            for n in args.streams:
                for variant in args.variants:
                    print(f"[{time.monotonic() - started:5.0f} s] {variant}, N={n} ...", file=sys.stderr, flush=True)
                    server = Server(server_env, workdir / f"uvicorn-{variant}-{n}.log", pinned)
                    try:
                        results.append(asyncio.run(
                            measure(server, updater, variant, n, job_ids, token, args.seconds, args.profile)))
                    finally:
                        server.stop()
        finally:
            updater.stop()
        print(f"[{time.monotonic() - started:5.0f} s] done", file=sys.stderr, flush=True)

    print(f"\nJob status stream: {args.jobs} jobs changing once per second each, SSE_POLL_SECONDS={POLL_SECONDS}, "
          f"{args.seconds:g} s windows; server: 1 uvicorn worker on CPU {SERVER_CPU}"
          f"{'' if pinned else ' (not pinned)'}, client on CPU {CLIENT_CPU}\n")
    print_table(results)
    targets = evaluate_targets(results)
    print_targets(targets)
    if args.json:
        args.json.write_text(json.dumps(
            {"environment": environment(args, pinned), "results": [asdict(r) for r in results], "targets": targets},
            indent=2))
    return 0 if all(target["passed"] for target in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
