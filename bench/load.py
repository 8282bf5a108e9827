"""The whole product under load: API clients, status streams and running posting jobs on one server.

Run from the project's directory:

    .venv/bin/python -m bench.load [--seconds 60] [--clients 50] [--streams 200] [--jobs 2]
                                   [--database sqlite|postgres|both] [--postgres-url URL]
                                   [--pace MIN,MAX] [--json PATH]

For each database in turn (both by default, SQLite first), one measurement:

Setup. A throwaway database: a SQLite file in a temporary directory (WAL mode, busy timeout and
IMMEDIATE transactions, as the settings make it), or a fresh PostgreSQL database `mp_bench_<pid>` on
the server of --postgres-url (env LOAD_POSTGRES_URL; default postgres://mp:mp@127.0.0.1:5433/postgres),
dropped at the end. `manage.py migrate`, then one operator per job (`manage.py ensure_operator`):
with --jobs 2, two operators. Temporary MEDIA_ROOT, SESSIONS_DIR and LOG_DIR. The local Marketplace
simulator (`python -m simulator --port 0`) in a subprocess.

The server. One `uvicorn config.asgi:application --timeout-graceful-shutdown 5` on a free port, as
`make run` serves it (access log and LOG_LEVEL as by default, DJANGO_DEBUG off), on that database,
with MARKETPLACE_BASE_URL at the simulator and POSTING_DELAY_SECONDS=--pace (default 2,5). Nothing is
pinned to a CPU: the posting workers are the server's children and inherit its CPU set, so pinning
the server to one core would pin the two Chromiums there too. Server, workers, Chromium, PostgreSQL
and this load generator share the machine's cores as they would in use; the table shows what each
took.

Everything else goes through the API, as an operator's dashboard would: a token per operator
(POST /api/auth/token/); per operator a "job" account and a "desk" account, each with a valid
simulator session uploaded (PUT .../session/); on the job account enough listings with a 50 kB PNG
photo to keep its job posting through the whole window at that pace, plus 3 without a photo, which
the job fails as validation_error at once (so that the error log has rows to show). Each operator
then starts one job on its job account (POST /api/posts/start-posting/): a real worker subprocess
(`manage.py post_to_marketplace`) driving headless Chromium against the simulator. The measurement
starts once every job is running and has published its first listing (Chromium is up).

Streams. --streams SSE connections, spread round-robin over the jobs, each with its job's
operator's bearer token (raw asyncio HTTP/1.1, as in bench/stream.py), all open before the window
and kept open through it. Counted: data events received in the window, streams that ended
(disconnects) and streams that failed (non-200, a 30 s silence, a broken connection).

Clients. --clients API clients spread round-robin over the operators, each one keep-alive HTTP/1.1
connection in a closed loop without think time: a request, its whole answer, the next request. Each
step is drawn by weight from MIX (reads 65, writes 33): list posts (plain, or filtered by status,
account, page size), get a post (its own or one the job is posting), its job's status, the jobs
list, error logs (by job or limited), accounts, account health, /api/health/, a photo's file; create
a listing on the desk account, patch one, upload a photo (multipart, 12 kB PNG), delete one. A client
keeps at most 4 listings of its own: a write that needs one when it has none creates one, a create
at 4 deletes one instead, so the mix actually run is shown per operation. Clients run WARMUP_SECONDS
before the window; a request counts in the window when it started in it.

Reported per database: requests in the window and per second; p50/p95/p99 latency overall and per
operation; errors (a 5xx, an unexpected 4xx, a connection error or timeout; warm-up included);
"database is locked" lines, and tracebacks, in the server's log and the workers' logs
(LOG_DIR/job_<uuid>.log); 5xx answers in the server's access log; stream events, disconnects and
errors; listings the jobs published and failed in the window; the server's CPU (100 % = one core)
and RSS at the window's end; the CPU of the workers with their Chromium and Playwright processes;
this load generator's CPU; the machine's CPU busy share (100 % = every core) and what of it the
processes above do not account for: PostgreSQL, the simulator, the kernel, anything else running.

After the window: clients stop, streams close, each job is cancelled through the API and its worker
waited for (its process group is killed if it has not ended 60 s later), the server and the
simulator stop, the database is dropped.

The exit status is 1 when any measurement had an error of any kind: a failed request, a stream
error or disconnect, a job that ended or failed a listing in the window, a 5xx in the access log, a
traceback in a log, a listing count on the simulator other than the jobs', or any "database is
locked".
"""
import argparse
import asyncio
import json
import os
import platform
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path

from bench.posting import Simulator, noise_png
from bench.stream import free_port, percentile, proc_cpu_seconds, proc_status, raise_open_files_limit
from simulator.client import facebook_cookies

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgres://mp:mp@127.0.0.1:5433/postgres"
DATABASES = ("sqlite", "postgres")

WARMUP_SECONDS = 5.0
REQUEST_TIMEOUT = 30.0  # a request not answered in this long is an error
STREAM_SILENCE = 30.0  # a stream silent this long is an error (the server's keep-alive is every 15 s)
JOB_READY_TIMEOUT = 180.0  # for both jobs to be running with one listing published
WORKER_EXIT_TIMEOUT = 60.0
OWN_POSTS_MAX = 4
INVALID_LISTINGS_PER_JOB = 3
SETUP_CONCURRENCY = 8

# The clients' mix: operation -> weight. Reads first.
MIX = {
    "list_posts": 14, "get_post": 10, "job_status": 12, "jobs_list": 5, "error_logs": 5, "accounts_list": 5,
    "account_health": 4, "health": 5, "get_photo": 5,
    "create_post": 8, "patch_post": 10, "upload_photo": 8, "delete_post": 7,
}
EXPECTED_STATUS = {"create_post": 201, "upload_photo": 201, "delete_post": 204}  # the others: 200
LISTING = {"price": "120.00", "category": "Furniture", "condition": "Used - Good", "location": "Austin, TX"}


class LoadFailed(Exception):
    """The set-up did not come about (a job did not start, a server did not answer): no figures."""


# --- raw HTTP/1.1 -----------------------------------------------------------------------------------

class HttpError(Exception):
    pass


CONNECTION_ERRORS = (OSError, HttpError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
                     ValueError)


class Connection:
    """One keep-alive HTTP/1.1 connection to the server: one request at a time."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, *, token: str | None = None, body: bytes = b"",
                      content_type: str = "application/json") -> tuple[int, bytes]:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                return await self._exchange(method, path, token, body, content_type)
        except BaseException:
            self.close()  # its state is unknown: the next request gets a new connection
            raise

    async def _exchange(self, method, path, token, body, content_type) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "Accept: application/json"]
        if token:
            head.append(f"Authorization: Bearer {token}")
        if body or method in ("POST", "PUT", "PATCH"):
            head += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        status, headers = parse_head(await self.reader.readuntil(b"\r\n\r\n"))
        if "content-length" in headers:
            payload = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            payload = b""
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";", 1)[0], 16):
                payload += (await self.reader.readexactly(size + 2))[:-2]
            await self.reader.readuntil(b"\r\n")
        else:
            payload = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def parse_head(raw: bytes) -> tuple[int, dict[str, str]]:
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise HttpError(f"bad status line {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


def multipart(field_name: str, filename: str, content: bytes, content_type: str) -> tuple[bytes, str]:
    boundary = f"load{secrets.token_hex(12)}"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field_name}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


async def call(port: int, method: str, path: str, expected: int, **options):
    """A set-up request that must succeed, on a connection of its own (set-up requests come with
    pauses longer than the server's keep-alive): its JSON answer, or LoadFailed."""
    connection = Connection(port)
    try:
        status, payload = await connection.request(method, path, **options)
    finally:
        connection.close()
    if status != expected:
        raise LoadFailed(f"{method} {path} answered {status}, expected {expected}: {payload[:300]!r}")
    return json.loads(payload) if payload else None


# --- /proc -----------------------------------------------------------------------------------------

def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


def process_table() -> dict[int, tuple[int, float]]:
    """{pid: (parent pid, CPU seconds of it and of its waited-for children)} of every process."""
    table, tick = {}, os.sysconf("SC_CLK_TCK")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry.name)] = (int(fields[1]), sum(int(v) for v in fields[11:15]) / tick)
    return table


def tree_cpu_seconds(roots: list[int]) -> float:
    """CPU seconds of these processes and all their descendants (Chromium, the Playwright driver)."""
    table = process_table()
    children = defaultdict(list)
    for pid, (parent, _) in table.items():
        children[parent].append(pid)
    total, todo = 0.0, [pid for pid in roots if pid in table]
    while todo:
        pid = todo.pop()
        total += table[pid][1]
        todo += children[pid]
    return total


def worker_pids(job_id: str) -> list[int]:
    """The pids of the posting worker running this job (found by its command line)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
            except OSError:
                continue
            if b"post_to_marketplace" in cmdline and job_id.encode() in cmdline:
                found.append(int(entry.name))
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie (a finished worker stays one until the server reaps or ends)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


# --- the database, the server ----------------------------------------------------------------------

class Database:
    """A throwaway database: a SQLite file in `workdir`, or a fresh database on the PostgreSQL
    server of `postgres_url` (also used by bench/throughput.py)."""

    def __init__(self, kind: str, workdir: Path, postgres_url: str | None):
        self.kind, self.admin_url = kind, postgres_url
        if kind == "sqlite":
            self.url = f"sqlite:///{workdir / 'bench.sqlite3'}"
            return
        import psycopg

        self.name = f"mp_bench_{os.getpid()}"
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
            connection.execute(f'CREATE DATABASE "{self.name}"')
        self.url = urllib.parse.urlunsplit(urllib.parse.urlsplit(postgres_url)._replace(path=f"/{self.name}"))

    def drop(self) -> None:
        if self.kind == "postgres":
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def manage(env: dict, *args: str) -> None:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=env,
                          capture_output=True, text=True)
    if done.returncode:
        raise LoadFailed(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


class Server:
    """`uvicorn config.asgi:application` as `make run` serves it, on a free port, output to a file."""

    def __init__(self, env: dict, log_path: Path):
        self.port = free_port()
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
             "--port", str(self.port), "--timeout-graceful-shutdown", "5"],
            cwd=PROJECT_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=raise_open_files_limit,
        )
        self.pid = self.process.pid

    async def wait_until_up(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            connection = Connection(self.port)
            try:
                if (await connection.request("GET", "/api/health/"))[0] == 200:
                    return
            except CONNECTION_ERRORS:
                pass
            finally:
                connection.close()
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise LoadFailed(f"uvicorn did not start; see {self.log_path}")
            await asyncio.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()


# --- the operators' data ---------------------------------------------------------------------------

@dataclass
class Operator:
    username: str
    token: str = ""
    job_account: int = 0
    desk_account: int = 0
    job_posts: list[int] = field(default_factory=list)
    job_id: str = ""
    worker_pids: list[int] = field(default_factory=list)


async def add_account(port: int, operator: Operator, simulator: Simulator, email: str) -> int:
    account = await call(port, "POST", "/api/accounts/", 201, token=operator.token,
                         body=json.dumps({"email": email, "name": email.split("@")[0]}).encode())
    state = {"cookies": facebook_cookies(simulator.mint_session(email)), "origins": []}
    verdict = await call(port, "PUT", f"/api/accounts/{account['id']}/session/", 200, token=operator.token,
                         body=json.dumps(state).encode())
    if not verdict["valid"]:
        raise LoadFailed(f"the session of {email} is not valid: {verdict}")
    return account["id"]


async def create_listings(port: int, operator: Operator, count: int, photo: bytes) -> list[int]:
    """`count` listings with a photo and INVALID_LISTINGS_PER_JOB without, on the job account."""
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one(index: int, with_photo: bool) -> int:
        async with gate:
            post = await call(port, "POST", "/api/posts/", 201, token=operator.token, body=json.dumps({
                "account": operator.job_account, "title": f"Job listing {operator.username}.{index}",
                "description": "Load test listing.", **LISTING}).encode())
            if with_photo:
                body, content_type = multipart("image", "photo.png", photo, "image/png")
                await call(port, "POST", f"/api/posts/{post['id']}/images/", 201, token=operator.token,
                           body=body, content_type=content_type)
            return post["id"]

    return list(await asyncio.gather(*(one(i, i >= INVALID_LISTINGS_PER_JOB)
                                       for i in range(count + INVALID_LISTINGS_PER_JOB))))


async def set_up_operators(server: Server, simulator: Simulator, env: dict, jobs: int, listings: int) -> list[Operator]:
    operators, port = [], server.port
    photo = noise_png(128)
    for number in range(1, jobs + 1):
        operator = Operator(f"load-operator-{number}")
        password = secrets.token_urlsafe(16)
        manage({**env, "DJANGO_SUPERUSER_USERNAME": operator.username, "DJANGO_SUPERUSER_PASSWORD": password},
               "ensure_operator")
        tokens = await call(port, "POST", "/api/auth/token/", 200, body=json.dumps(
            {"username": operator.username, "password": password}).encode())
        operator.token = tokens["access"]
        operator.job_account = await add_account(port, operator, simulator, f"job-{number}@example.com")
        operator.desk_account = await add_account(port, operator, simulator, f"desk-{number}@example.com")
        operator.job_posts = await create_listings(port, operator, listings, photo)
        operators.append(operator)
    for operator in operators:
        started = await call(port, "POST", "/api/posts/start-posting/", 202, token=operator.token,
                             body=json.dumps({"post_ids": operator.job_posts}).encode())
        operator.job_id = started["job_id"]
        operator.worker_pids = worker_pids(operator.job_id)
    return operators


async def job_state(port: int, operator: Operator) -> dict:
    return await call(port, "GET", f"/api/posts/job-status/{operator.job_id}/", 200, token=operator.token)


async def wait_for_jobs(port: int, operators: list[Operator]) -> None:
    """Until every job is running and has published a listing (its Chromium is up)."""
    deadline = time.monotonic() + JOB_READY_TIMEOUT
    while True:
        states = [await job_state(port, operator) for operator in operators]
        if any(state["final"] for state in states):
            raise LoadFailed(f"a job ended before the measurement: {states}")
        if all(state["status"] == "running" and state["completed_posts"] >= 1 for state in states):
            return
        if time.monotonic() > deadline:
            raise LoadFailed(f"the jobs were not all posting within {JOB_READY_TIMEOUT:.0f} s: {states}")
        await asyncio.sleep(0.5)


# --- the load ------------------------------------------------------------------------------------------

@dataclass
class Recorder:
    window: tuple[float, float] = (float("inf"), float("inf"))  # monotonic start, end
    samples: list[tuple[str, int, float]] = field(default_factory=list)  # (operation, status, seconds), window only
    errors: Counter = field(default_factory=Counter)  # "operation: what" -> count, warm-up included
    error_examples: list[str] = field(default_factory=list)

    def record(self, operation: str, started: float, seconds: float, status: int | None, detail: str = "") -> None:
        if status is None or status != EXPECTED_STATUS.get(operation, 200):
            what = f"HTTP {status}" if status is not None else detail
            self.errors[f"{operation}: {what}"] += 1
            if len(self.error_examples) < 10:
                self.error_examples.append(f"{operation}: {what} {detail}"[:400])
        if self.window[0] <= started < self.window[1] and status is not None:
            self.samples.append((operation, status, seconds))


class Client:
    """One API client of one operator: a closed loop of requests drawn from MIX."""

    def __init__(self, port: int, operator: Operator, recorder: Recorder, upload: bytes, rng: random.Random):
        self.connection = Connection(port)
        self.operator, self.recorder, self.upload, self.rng = operator, recorder, upload, rng
        self.own: dict[int, list[int]] = {}  # post id -> photo ids
        self.kinds, self.weights = list(MIX), list(MIX.values())

    async def run(self, stopping: asyncio.Event) -> None:
        try:
            while not stopping.is_set():
                await self.step(self.choose())
        finally:
            self.connection.close()

    def choose(self) -> str:
        kind = self.rng.choices(self.kinds, self.weights)[0]
        if kind in ("patch_post", "upload_photo", "delete_post") and not self.own:
            return "create_post"
        if kind == "get_photo" and not any(self.own.values()):
            return "upload_photo" if self.own else "create_post"
        if kind == "create_post" and len(self.own) >= OWN_POSTS_MAX:
            return "delete_post"
        if kind == "upload_photo" and all(len(photos) >= 10 for photos in self.own.values()):
            return "delete_post"
        return kind

    async def step(self, kind: str) -> None:
        op, rng = self.operator, self.rng
        method, body, content_type = "GET", b"", "application/json"
        if kind == "list_posts":
            path = rng.choice(["/api/posts/", "/api/posts/?status=pending",
                               f"/api/posts/?status=posted&account={op.job_account}",
                               f"/api/posts/?account={op.desk_account}&page_size=20"])
        elif kind == "get_post":
            own = rng.random() < 0.5 and self.own
            path = f"/api/posts/{rng.choice(list(self.own) if own else op.job_posts)}/"
        elif kind == "job_status":
            path = f"/api/posts/job-status/{op.job_id}/"
        elif kind == "jobs_list":
            path = "/api/posts/jobs/"
        elif kind == "error_logs":
            path = rng.choice(["/api/posts/error-logs/?limit=20", f"/api/posts/error-logs/?job_id={op.job_id}"])
        elif kind == "accounts_list":
            path = "/api/accounts/"
        elif kind == "account_health":
            path = "/api/accounts/health-check/"
        elif kind == "health":
            path = "/api/health/"
        elif kind == "get_photo":
            post_id = rng.choice([pk for pk, photos in self.own.items() if photos])
            path = f"/api/posts/{post_id}/images/{rng.choice(self.own[post_id])}/"
        elif kind == "create_post":
            method, path = "POST", "/api/posts/"
            body = json.dumps({"account": op.desk_account, "title": f"Desk listing {rng.randrange(10**6)}",
                               "description": "Added during the load test.", **LISTING}).encode()
        elif kind == "patch_post":
            method, path = "PATCH", f"/api/posts/{rng.choice(list(self.own))}/"
            body = json.dumps({"price": f"{rng.randrange(1, 999)}.00",
                               "title": f"Edited {rng.randrange(10**6)}"}).encode()
        elif kind == "upload_photo":
            post_id = rng.choice([pk for pk, photos in self.own.items() if len(photos) < 10])
            method, path = "POST", f"/api/posts/{post_id}/images/"
            body, content_type = multipart("image", "photo.png", self.upload, "image/png")
        elif kind == "delete_post":
            method, path = "DELETE", f"/api/posts/{rng.choice(list(self.own))}/"
        else:
            raise ValueError(kind)
        token = None if kind == "health" else op.token
        started = time.monotonic()
        try:
            status, payload = await self.connection.request(method, path, token=token, body=body,
                                                            content_type=content_type)
        except CONNECTION_ERRORS as exc:
            self.recorder.record(kind, started, time.monotonic() - started, None, f"{type(exc).__name__} {exc}")
            return
        self.recorder.record(kind, started, time.monotonic() - started, status, payload[:200].decode(errors="replace"))
        if status == EXPECTED_STATUS.get(kind, 200):
            self.learn(kind, path, payload)

    def learn(self, kind: str, path: str, payload: bytes) -> None:
        if kind == "create_post":
            self.own[json.loads(payload)["id"]] = []
        elif kind == "upload_photo":
            self.own[int(path.split("/")[3])].append(json.loads(payload)["id"])
        elif kind == "delete_post":
            del self.own[int(path.split("/")[3])]


@dataclass
class StreamStats:
    opened: int = 0
    counting: bool = False
    events: int = 0  # data events received in the window
    per_stream: list[int] = field(default_factory=list)
    disconnects: int = 0
    errors: Counter = field(default_factory=Counter)
    all_open: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0


async def one_stream(port: int, operator: Operator, stats: StreamStats, index: int) -> None:
    """One SSE connection to the operator's job, until cancelled; counts its events."""
    writer = None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"GET /api/posts/status-stream/{operator.job_id}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {operator.token}\r\nAccept: text/event-stream\r\n"
            "Cache-Control: no-cache\r\n\r\n".encode()
        )
        status, headers = parse_head(await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), STREAM_SILENCE))
        if status != 200 or headers.get("transfer-encoding") != "chunked":
            raise HttpError(f"HTTP {status}")
        pending, first = "", True
        while True:
            size = int((await asyncio.wait_for(reader.readuntil(b"\r\n"), STREAM_SILENCE)).split(b";", 1)[0], 16)
            if size == 0:
                stats.disconnects += 1  # the server ended the stream (a final event)
                return
            pending += (await reader.readexactly(size + 2))[:-2].decode()
            while "\n\n" in pending:
                block, pending = pending.split("\n\n", 1)
                if not any(line.startswith("data:") for line in block.split("\n")):
                    continue  # a keep-alive comment
                if first:
                    first = False
                    stats.opened += 1
                    if stats.opened >= stats.expected:
                        stats.all_open.set()
                elif stats.counting:
                    stats.events += 1
                    stats.per_stream[index] += 1
    except asyncio.CancelledError:
        raise
    except CONNECTION_ERRORS as exc:
        stats.errors[str(exc) if isinstance(exc, HttpError) else type(exc).__name__] += 1
    finally:
        if writer is not None:
            writer.close()


# --- one measurement ---------------------------------------------------------------------------------

@dataclass
class Result:
    database: str
    seconds: float
    clients: int
    streams: int
    jobs: int
    requests: int
    requests_per_second: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    operations: dict  # operation -> {"count", "p50_ms", "p95_ms", "p99_ms"}
    errors: int
    error_kinds: dict
    error_examples: list
    database_locked: int
    database_locked_by_log: dict
    server_5xx_logged: int
    tracebacks_logged: int
    tracebacks_by_log: dict
    stream_events: int
    stream_events_min_per_stream: int
    stream_disconnects: int
    stream_errors: dict
    posted_in_window: int
    failed_in_window: int
    jobs_ended_early: int
    published_on_simulator: int
    posted_by_jobs: int
    server_cpu_percent: float
    server_rss_mb: float
    server_peak_rss_mb: float
    workers_cpu_percent: float
    load_generator_cpu_percent: float
    machine_cpu_percent: float
    other_cpu_percent: float  # the machine's busy time not taken by the server, the workers or this process
    passed: bool = False

    def judge(self) -> None:
        self.passed = not (self.errors or self.database_locked or self.server_5xx_logged or self.tracebacks_logged
                           or self.stream_disconnects
                           or self.stream_errors or self.failed_in_window or self.jobs_ended_early)


def latency_figures(seconds: list[float]) -> dict:
    ordered = sorted(seconds)
    return {"count": len(ordered), "p50_ms": percentile(ordered, 0.50), "p95_ms": percentile(ordered, 0.95),
            "p99_ms": percentile(ordered, 0.99)}


def count_in_logs(paths: list[Path], pattern: re.Pattern) -> dict[str, int]:
    counts = {}
    for path in paths:
        if path.is_file():
            with open(path, errors="replace") as log:
                found = sum(1 for line in log if pattern.search(line))
            if found:
                counts[path.name] = found
    return counts


async def stop_jobs(port: int, operators: list[Operator]) -> None:
    """Cancel every job through the API, then wait for its worker (kill its group if it hangs)."""
    connection = Connection(port)
    try:
        for operator in operators:
            status, payload = await connection.request("POST", f"/api/posts/jobs/{operator.job_id}/cancel/",
                                                       token=operator.token)
            if status not in (200, 409):  # 409: it had already ended
                print(f"warning: cancelling job {operator.job_id} answered {status}: {payload[:200]!r}",
                      file=sys.stderr)
    finally:
        connection.close()
    deadline = time.monotonic() + WORKER_EXIT_TIMEOUT
    pids = [pid for operator in operators for pid in operator.worker_pids]
    while any(running(pid) for pid in pids) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    for pid in pids:
        if running(pid):
            print(f"warning: worker {pid} still runs {WORKER_EXIT_TIMEOUT:.0f} s after its job was cancelled; "
                  "killing its process group", file=sys.stderr)
            try:
                os.killpg(pid, signal.SIGKILL)  # it runs in a session of its own: its group is its pid
            except ProcessLookupError:
                pass


async def measure(kind: str, args, workdir: Path) -> Result:
    database = Database(kind, workdir, args.postgres_url)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": database.url,
        "MEDIA_ROOT": str(workdir / "media"),
        "SESSIONS_DIR": str(workdir / "sessions"),
        "LOG_DIR": str(workdir / "logs"),
        "POSTING_DELAY_SECONDS": args.pace,
        # The benchmark measures the engine, not the budgets that hold an account to a few posts an hour.
        "ACCOUNT_DAILY_POST_LIMIT": "0",
        "ACCOUNT_HOURLY_POST_LIMIT": "0",
    }
    for name in ("DJANGO_SUPERUSER_USERNAME", "DJANGO_SUPERUSER_PASSWORD", "DJANGO_SUPERUSER_EMAIL"):
        env.pop(name, None)
    simulator = server = None
    operators: list[Operator] = []
    jobs_stopped = False
    try:
        progress(f"{kind}: migrating")
        manage(env, "migrate", "--noinput")
        simulator = Simulator()
        env["MARKETPLACE_BASE_URL"] = simulator.base_url
        server = Server(env, workdir / "server.log")
        await server.wait_until_up()
        pace_low = float(args.pace.split(",")[0])
        listings = int((args.seconds + JOB_READY_TIMEOUT / 2) / (pace_low + 0.5)) + 5
        progress(f"{kind}: {args.jobs} operators, {listings + INVALID_LISTINGS_PER_JOB} listings each; "
                 "starting the jobs")
        operators = await set_up_operators(server, simulator, env, args.jobs, listings)
        await wait_for_jobs(server.port, operators)

        progress(f"{kind}: opening {args.streams} streams")
        stats = StreamStats(per_stream=[0] * args.streams, expected=args.streams)
        if not args.streams:
            stats.all_open.set()
        streams = [asyncio.create_task(one_stream(server.port, operators[i % len(operators)], stats, i))
                   for i in range(args.streams)]
        try:
            await asyncio.wait_for(stats.all_open.wait(), 60)
        except TimeoutError:
            stats.errors["no first event within 60 s"] += args.streams - stats.opened

        recorder = Recorder()
        stopping = asyncio.Event()
        upload = noise_png(64)
        clients = [Client(server.port, operators[i % len(operators)], recorder, upload, random.Random(i))
                   for i in range(args.clients)]
        client_tasks = [asyncio.create_task(client.run(stopping)) for client in clients]
        progress(f"{kind}: {args.clients} clients warming up for {WARMUP_SECONDS:.0f} s")
        await asyncio.sleep(WARMUP_SECONDS)

        progress(f"{kind}: measuring for {args.seconds:g} s")
        jobs_before = [await job_state(server.port, operator) for operator in operators]
        workers = [pid for operator in operators for pid in operator.worker_pids]
        server_cpu, workers_cpu, own_cpu = proc_cpu_seconds(server.pid), tree_cpu_seconds(workers), time.process_time()
        machine_before = machine_cpu()
        start = time.monotonic()
        recorder.window = (start, start + args.seconds)
        stats.counting = True
        await asyncio.sleep(args.seconds)
        stats.counting = False
        wall = time.monotonic() - start
        server_cpu = proc_cpu_seconds(server.pid) - server_cpu
        workers_cpu = tree_cpu_seconds(workers) - workers_cpu
        own_cpu = time.process_time() - own_cpu
        machine_after = machine_cpu()
        memory = proc_status(server.pid)
        peak_rss_kb = int(re.search(r"VmHWM:\s+(\d+)", Path(f"/proc/{server.pid}/status").read_text())[1])
        jobs_after = [await job_state(server.port, operator) for operator in operators]

        stopping.set()
        await asyncio.wait(client_tasks, timeout=REQUEST_TIMEOUT + 5)
        disconnects, stream_errors = stats.disconnects, dict(stats.errors)
        for task in streams:
            task.cancel()
        await asyncio.gather(*streams, return_exceptions=True)

        progress(f"{kind}: cancelling the jobs")
        await stop_jobs(server.port, operators)
        jobs_stopped = True
        published = len(simulator.listings())
        final_states = [await job_state(server.port, operator) for operator in operators]
    finally:
        if operators and not jobs_stopped and server.process.poll() is None:
            await stop_jobs(server.port, operators)  # the set-up failed after starting them
        if server is not None:
            server.stop()
        for operator in operators:  # should the server have failed to cancel them
            for pid in operator.worker_pids:
                if running(pid):
                    os.killpg(pid, signal.SIGKILL)
        if simulator is not None:
            simulator.stop()
        database.drop()

    logs = [workdir / "server.log", *sorted((workdir / "logs").glob("job_*.log"))]
    locked = count_in_logs(logs, re.compile("database is locked", re.IGNORECASE))
    tracebacks = count_in_logs(logs, re.compile(r"^Traceback \(most recent call last\)"))
    server_5xx = sum(count_in_logs([workdir / "server.log"], re.compile(r'HTTP/1\.[01]" 5\d\d ')).values())
    by_operation = defaultdict(list)
    for operation, _, seconds in recorder.samples:
        by_operation[operation].append(seconds)
    overall = latency_figures([seconds for _, _, seconds in recorder.samples])
    busy = machine_after[0] - machine_before[0]
    result = Result(
        database=kind, seconds=round(wall, 2), clients=args.clients, streams=args.streams, jobs=args.jobs,
        requests=overall["count"], requests_per_second=round(overall["count"] / wall, 1),
        p50_ms=overall["p50_ms"], p95_ms=overall["p95_ms"], p99_ms=overall["p99_ms"],
        operations={operation: latency_figures(samples) for operation in MIX
                    if (samples := by_operation[operation])},
        errors=sum(recorder.errors.values()), error_kinds=dict(recorder.errors), error_examples=recorder.error_examples,
        database_locked=sum(locked.values()), database_locked_by_log=locked, server_5xx_logged=server_5xx,
        tracebacks_logged=sum(tracebacks.values()), tracebacks_by_log=tracebacks,
        stream_events=stats.events, stream_events_min_per_stream=min(stats.per_stream, default=0),
        stream_disconnects=disconnects, stream_errors=stream_errors,
        posted_in_window=sum(a["completed_posts"] - b["completed_posts"] for a, b in zip(jobs_after, jobs_before)),
        failed_in_window=sum(a["failed_posts"] - b["failed_posts"] for a, b in zip(jobs_after, jobs_before)),
        jobs_ended_early=sum(1 for state in jobs_after if state["final"]),
        published_on_simulator=published,
        posted_by_jobs=sum(state["completed_posts"] for state in final_states),
        server_cpu_percent=round(100 * server_cpu / wall, 1),
        server_rss_mb=round(memory["VmRSS"] / 1024, 1), server_peak_rss_mb=round(peak_rss_kb / 1024, 1),
        workers_cpu_percent=round(100 * workers_cpu / wall, 1),
        load_generator_cpu_percent=round(100 * own_cpu / wall, 1),
        machine_cpu_percent=round(100 * busy / (machine_after[1] - machine_before[1]), 1),
        other_cpu_percent=round(100 * (os.cpu_count() * busy / (machine_after[1] - machine_before[1])
                                       - (server_cpu + workers_cpu + own_cpu) / wall), 1),
    )
    if result.published_on_simulator != result.posted_by_jobs:
        result.error_kinds["simulator holds a different number of listings than the jobs posted"] = 1
        result.errors += 1
    result.judge()
    return result


# --- the report ----------------------------------------------------------------------------------------

started_at = time.monotonic()


def progress(message: str) -> None:
    print(f"[{time.monotonic() - started_at:5.0f} s] {message}", file=sys.stderr, flush=True)


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def print_report(results: list[Result], args) -> None:
    print(f"\nLoad: {args.seconds:g} s window, {args.clients} API clients (closed loop, no think time), "
          f"{args.streams} status streams, {args.jobs} posting jobs (POSTING_DELAY_SECONDS={args.pace}); "
          f"one uvicorn worker, nothing pinned, {os.cpu_count()} CPUs\n")
    width = 18
    rows = [
        ("requests", lambda r: f"{r.requests:,}"),
        ("requests/s", lambda r: f"{r.requests_per_second:.0f}"),
        ("p50 / p95 / p99 ms", lambda r: f"{ms(r.p50_ms)} / {ms(r.p95_ms)} / {ms(r.p99_ms)}"),
        ("errors", lambda r: str(r.errors)),
        ('"database is locked"', lambda r: str(r.database_locked)),
        ("5xx in access log", lambda r: str(r.server_5xx_logged)),
        ("tracebacks in logs", lambda r: str(r.tracebacks_logged)),
        ("stream events", lambda r: f"{r.stream_events:,} (min {r.stream_events_min_per_stream}/stream)"),
        ("stream disconnects", lambda r: str(r.stream_disconnects)),
        ("stream errors", lambda r: str(sum(r.stream_errors.values()))),
        ("posted / failed in window", lambda r: f"{r.posted_in_window} / {r.failed_in_window}"),
        ("server CPU", lambda r: f"{r.server_cpu_percent:.0f} % of a core"),
        ("server RSS (peak)", lambda r: f"{r.server_rss_mb:.0f} MB ({r.server_peak_rss_mb:.0f})"),
        ("workers+Chromium CPU", lambda r: f"{r.workers_cpu_percent:.0f} % of a core"),
        ("load generator CPU", lambda r: f"{r.load_generator_cpu_percent:.0f} % of a core"),
        ("machine CPU busy", lambda r: f"{r.machine_cpu_percent:.0f} % of {os.cpu_count()} cores"),
        ("everything else CPU", lambda r: f"{r.other_cpu_percent:.0f} % of a core"),
        ("result", lambda r: "PASS" if r.passed else "FAIL"),
    ]
    print(f"{'':<26}" + "".join(f"{r.database:>{width + 8}}" for r in results))
    for label, value in rows:
        print(f"{label:<26}" + "".join(f"{value(r):>{width + 8}}" for r in results))
    print("\nPer operation, in the window: requests, then p50 / p95 / p99 latency in ms\n")
    print(f"{'':<16}" + "".join(f"{r.database:>27}" for r in results))
    print(f"{'operation':<16}" + f"{'requests':>9}{'p50':>6}{'p95':>6}{'p99':>6}" * len(results))
    for operation in MIX:
        line = f"{operation:<16}"
        for r in results:
            figures = r.operations.get(operation, {"count": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None})
            line += (f"{figures['count']:>9,}{ms(figures['p50_ms']):>6}{ms(figures['p95_ms']):>6}"
                     f"{ms(figures['p99_ms']):>6}")
        print(line)
    for r in results:
        problems = {**r.error_kinds, **{f"stream: {k}": v for k, v in r.stream_errors.items()},
                    **{f"database is locked in {k}": v for k, v in r.database_locked_by_log.items()},
                    **{f"tracebacks in {k}": v for k, v in r.tracebacks_by_log.items()}}
        if problems:
            print(f"\n{r.database}: {json.dumps(problems, indent=1)}")
            for example in r.error_examples:
                print(f"  e.g. {example}")


def environment(args) -> dict:
    return {
        "python": platform.python_version(), "django": package_version("django"),
        "uvicorn": package_version("uvicorn"), "playwright": package_version("playwright"),
        "platform": platform.platform(), "cpus": os.cpu_count(), "pinned": False,
        "seconds": args.seconds, "clients": args.clients, "streams": args.streams, "jobs": args.jobs,
        "posting_delay_seconds": args.pace, "warmup_seconds": WARMUP_SECONDS, "mix": MIX,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=60, help="length of the measuring window (default 60)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent API clients (default 50)")
    parser.add_argument("--streams", type=int, default=200, help="open status streams (default 200)")
    parser.add_argument("--jobs", type=int, default=2, help="running posting jobs, one operator each (default 2)")
    parser.add_argument("--database", choices=[*DATABASES, "both"], default="both")
    parser.add_argument("--postgres-url", default=os.environ.get("LOAD_POSTGRES_URL", DEFAULT_POSTGRES_URL),
                        help="a PostgreSQL server's database to connect to; mp_bench_<pid> is created beside it")
    parser.add_argument("--pace", default="2,5", help="POSTING_DELAY_SECONDS of the jobs (default 2,5)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.clients < 0 or args.streams < 0 or args.seconds <= 0:
        parser.error("--jobs must be at least 1, --seconds positive, --clients and --streams not negative")
    raise_open_files_limit()

    results = []
    for kind in DATABASES if args.database == "both" else (args.database,):
        with tempfile.TemporaryDirectory(prefix=f"bench-load-{kind}-") as tmp:
            try:
                results.append(asyncio.run(measure(kind, args, Path(tmp))))
            except LoadFailed as exc:
                print(f"{kind}: the load test could not run: {exc}", file=sys.stderr)
                return 1
    progress("done")
    print_report(results, args)
    if args.json:
        args.json.write_text(json.dumps({"environment": environment(args), "results": [asdict(r) for r in results]},
                                        indent=2) + "\n")
        print(f"\nFigures written to {args.json}")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
