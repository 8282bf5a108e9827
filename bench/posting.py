"""How long publishing one listing takes, engine against hand-written Playwright, on both layouts.

Run from the project's directory:

    .venv/bin/python -m bench.posting [--listings N] [--rounds R] [--layouts classic 2026] [--json PATH]

Everything runs against the local Marketplace simulator (`python -m simulator --port 0`, started and
stopped here), in headless Chromium launched the way the engine launches it (`find_chromium()`,
`launch_args()`), on each of the simulator's layouts: "classic" and "2026" (every variant of
facebook.md at once: "Add photos" first, a photo carousel with its own "Next", Category as a
button opening a searchable picker, Location on the second step and prefilled, a Boost switch that
is on, a last step whose "Next" publishes, a "Leave page?" dialog). Per layout, three ways of
publishing the same N listings of one account are timed side by side:

minimal       A bare Playwright sync script that knows the layout: one browser, one context holding
              the account's cookies, and per listing exactly the steps that layout's form needs.
              No error handling, no database: the lower bound of what driving this form costs.
engine        The project's real engine: `postings.worker.run_job` over one job of N posts of one
              account, with POSTING_DELAY_SECONDS=0 and POSTING_RETRY_BACKOFF_SECONDS=0, on a
              throwaway SQLite database, with BROWSER_TRACE=off. It pays for everything the product does
              besides the form: the rows, the heartbeat, reading each step for every variant,
              checking each value it typed, the waits that watch every outcome, the session saved
              back after each success.
engine, traced
              The same with BROWSER_TRACE=on (the default: every post traced by Playwright with
              actions, DOM snapshots and network, the trace kept only on failure) and with
              BROWSER_TRACE=full (screenshots too): what the tracing costs.

Every total runs from starting Playwright to closing it, browser launch included (run_job starts
Playwright and Chromium itself). Setting up the database, the accounts and the posts is not timed,
nor is one warm-up launch of Chromium. The listings have no description, since the minimal flows do
not fill one. Each variant uses an account of its own; the simulator's block after 120 loads an hour
is switched off for them. Each variant must leave exactly N listings, or the benchmark exits with
status 1. With --rounds > 1 the table shows medians; on a small machine one round moves by 10-20 %.

Targets: on each layout the engine within 1.2x of the minimal script per listing. Tracing is
reported, not targeted: it costs more than 10 % per listing here, which is why BROWSER_TRACE is a
setting (see the README).
"""
import argparse
import io
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path

from PIL import Image
from playwright._impl.connection import Connection
from playwright.sync_api import Browser, Page, expect, sync_playwright

from driver.executable import find_chromium, launch_args
from simulator.client import SimulatorClient, facebook_cookies

PROJECT_DIR = Path(__file__).resolve().parent.parent
CREATE_PATH = "/marketplace/create/item"
SELLING_URL = re.compile(r"/marketplace/you/selling/?$")
ITEM_URL = re.compile(r"/marketplace/item/\d+/?$")
CONTEXT_OPTIONS = {"locale": "en-US", "viewport": {"width": 1280, "height": 900}}  # as the engine's
LISTING = {"price": "120", "category": "Furniture", "location": "Austin, TX"}
ENGINE_CONDITION = "Used - Good"  # the product stores a hyphen and matches any dash
LAYOUTS = ("classic", "2026")
BENCH_OPTIONS = {"classic": None, "2026": {"block_after_loads": 0}}
TARGET_ENGINE_VS_MINIMAL = 1.2

MINIMAL, ENGINE, TRACE_ON, TRACE_FULL = "minimal", "engine", "engine_trace_on", "engine_trace_full"
LABELS = {
    MINIMAL: "minimal script", ENGINE: "engine, BROWSER_TRACE=off", TRACE_ON: "engine, BROWSER_TRACE=on",
    TRACE_FULL: "engine, BROWSER_TRACE=full",
}
TRACE = {ENGINE: "off", TRACE_ON: "on", TRACE_FULL: "full"}
ORDER = (MINIMAL, ENGINE, TRACE_ON, TRACE_FULL)


class CallCounter:
    """Counts the calls into the browser: every message this process's Playwright client sends to
    its driver and awaits (each one a round trip to the browser), while `with counter:` is open."""

    def __init__(self):
        self.calls = 0
        self._send = Connection.send_message_to_server

    def __enter__(self):
        counter, send = self, self._send

        def counted(connection, owner, method, params, options):
            if method != "__waitInfo__":  # fire-and-forget bookkeeping, not a call
                counter.calls += 1
            return send(connection, owner, method, params, options)

        Connection.send_message_to_server = counted
        return self

    def __exit__(self, *exc):
        Connection.send_message_to_server = self._send


class BenchmarkFailed(Exception):
    """A variant did not publish what it should have: its figure would mean nothing."""


# --- the simulator ---------------------------------------------------------------------------------

class Simulator(SimulatorClient):
    """`python -m simulator --port 0` in a subprocess, and its /__sim__/ control API."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "simulator", "--port", "0", "--quiet"],
            cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True,
        )
        line = self.process.stdout.readline()  # "simulator listening on http://127.0.0.1:PORT"
        if "listening on" not in line:
            self.process.kill()
            raise BenchmarkFailed(f"the simulator did not start: {line!r}")
        super().__init__(line.rsplit(" ", 1)[-1].strip())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


# --- Django ------------------------------------------------------------------------------------------

def setup_django(workdir: Path, simulator_url: str, chromium: Path) -> None:
    """Point the project at a throwaway database and directories, and at the simulator."""
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "MEDIA_ROOT": str(workdir / "media"),
        "SESSIONS_DIR": str(workdir / "sessions"),
        "LOG_DIR": str(workdir / "logs"),
        "MARKETPLACE_BASE_URL": simulator_url,
        "POSTING_DELAY_SECONDS": "0",
        # The benchmark measures the engine, not the budgets that hold an account to a few posts an hour.
        "ACCOUNT_DAILY_POST_LIMIT": "0",
        "ACCOUNT_HOURLY_POST_LIMIT": "0",
        "POSTING_RETRY_BACKOFF_SECONDS": "0",
        # The same binary as the hand-written variants (and no probe for Playwright's own download).
        "BROWSER_EXECUTABLE": str(chromium),
        "LOG_LEVEL": "WARNING",  # the engine logs every post at INFO; keep the report readable
    })
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def create_engine_account(operator, email: str, session: dict):
    """One Facebook account of the operator holding the simulator's session."""
    from accounts.services import account_create, account_session_store

    account = account_create(owner=operator, email=email)
    account_session_store(account=account, data={"cookies": facebook_cookies(session), "origins": []})
    return account


def create_engine_posts(account, count: int, photo: bytes, label: str) -> list:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from postings import services

    posts = []
    for index in range(count):
        post = services.post_create(
            account=account, title=f"Engine listing {label}.{index + 1}", price=LISTING["price"],
            category=LISTING["category"], condition=ENGINE_CONDITION, location=LISTING["location"],
            description="",
        )
        services.post_image_add(post=post, upload=SimpleUploadedFile("photo.png", photo, "image/png"))
        posts.append(post)
    return posts


# --- the minimal scripts, one per layout ---------------------------------------------------------------

def noise_png(size: int = 128) -> bytes:
    """About 50 KB of PNG that does not compress: random pixels."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (size, size), os.urandom(size * size * 3)).save(buffer, format="PNG")
    return buffer.getvalue()


def launch(playwright) -> Browser:
    return playwright.chromium.launch(executable_path=str(find_chromium()), args=launch_args(), headless=True)


def publish_classic(page: Page, base_url: str, photo: Path, title: str) -> None:
    """One listing through the classic form, the shortest way that works."""
    page.goto(base_url + CREATE_PATH)
    page.locator('input[type="file"]').set_input_files(photo)
    page.get_by_role("textbox", name="Title", exact=True).fill(title)
    page.get_by_role("textbox", name="Price", exact=True).fill(LISTING["price"])
    page.get_by_role("combobox", name="Category", exact=True).click()
    page.get_by_role("option", name=LISTING["category"], exact=True).click()
    page.get_by_role("combobox", name="Condition", exact=True).click()
    page.get_by_role("option", name="Used \u2013 Good", exact=True).click()
    page.get_by_role("combobox", name="Location", exact=True).fill(LISTING["location"])
    page.get_by_role("option").first.click()  # the first suggestion
    next_button = page.get_by_role("button", name="Next", exact=True)
    expect(next_button).to_be_enabled()
    next_button.click()  # item -> delivery method
    next_button.click()  # delivery method -> review
    page.get_by_role("button", name="Publish", exact=True).click()
    not_now = page.get_by_role("button", name="Not now", exact=True)
    not_now.or_(page.get_by_role("heading", name="Your listings", exact=True)).first.wait_for()
    if not_now.is_visible():  # the Boost offer
        not_now.click()
    page.wait_for_url(SELLING_URL)


def publish_2026(page: Page, base_url: str, photo: Path, title: str) -> None:
    """One listing through the 2026 form (its default variant), the shortest way that works."""
    page.goto(base_url + CREATE_PATH)
    form = page.get_by_role("form", name="marketplace")
    form.get_by_role("button", name="Add photos", exact=True).click()  # creates the file input
    form.locator('input[type="file"]').set_input_files(photo)
    form.get_by_role("textbox", name="Title", exact=True).fill(title)
    form.get_by_role("textbox", name="Price", exact=True).fill(LISTING["price"])
    form.get_by_role("button", name="Category", exact=True).click()
    picker = page.get_by_role("dialog", name="Select a category")
    picker.get_by_role("searchbox", name="Search").fill(LISTING["category"])
    picker.get_by_role("button", name=re.compile(f"^{LISTING['category']}\\b")).click()
    form.get_by_role("combobox", name="Condition", exact=True).click()
    page.get_by_role("option", name="Used \u2013 good", exact=True).click()
    footer = form.get_by_role("button", name="Next", exact=True).last  # not the photo carousel's "Next"
    footer.click()  # item -> Delivery method
    form.get_by_role("combobox", name="Location", exact=True).fill("Austin")  # "Austin, TX" suggests nothing
    page.get_by_role("option", name="Austin, Texas", exact=True).click()
    footer.click()  # -> List in more places
    form.get_by_role("switch", name="Boost listing after publish").click()  # on by default: a paid ad
    footer.click()  # this "Next" publishes
    page.get_by_role("button", name="Leave page", exact=True).click()
    page.wait_for_url(ITEM_URL)


MINIMAL_FLOWS = {"classic": publish_classic, "2026": publish_2026}


def warm_up() -> str:
    """Start Playwright and Chromium once, untimed, so that the first variant does not pay for a
    cold disk cache alone; returns Chromium's version."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        browser.new_context().new_page().goto("about:blank")
        chromium_version = browser.version
        browser.close()
    return chromium_version


def run_minimal(layout: str, base_url: str, cookies: list[dict], photo: Path, count: int, label: str) -> float:
    """One browser, one context, one page for every listing."""
    flow = MINIMAL_FLOWS[layout]
    started = time.perf_counter()
    with sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(**CONTEXT_OPTIONS)
        context.add_cookies(cookies)
        page = context.new_page()
        for index in range(count):
            flow(page, base_url, photo, f"Minimal listing {label}.{index + 1}")
        browser.close()
    return time.perf_counter() - started


def run_engine(operator, posts: list, *, trace: str) -> float:
    """The engine: one job over the posts, run to its end in this process."""
    from django.conf import settings

    from postings import services
    from postings.worker import run_job

    settings.BROWSER_TRACE = trace
    job, _ = services.posting_job_create(owner=operator, post_ids=[post.pk for post in posts])
    started = time.perf_counter()
    job = run_job(job_id=job.job_id)
    elapsed = time.perf_counter() - started
    if (job.status, job.completed_posts, job.failed_posts) != ("completed", len(posts), 0):
        from postings.models import ErrorLog

        errors = "; ".join(ErrorLog.objects.filter(job=job).values_list("error_message", flat=True))
        raise BenchmarkFailed(
            f"the engine's job ended {job.status} with {job.completed_posts} posted and {job.failed_posts} "
            f"failed of {len(posts)}: {job.error_message or errors}"
        )
    return elapsed


# --- measuring and reporting -------------------------------------------------------------------------

@dataclass
class Results:
    listings: int
    rounds: int
    layouts: tuple[str, ...]
    totals: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    calls: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    machine: dict = field(default_factory=dict)

    def add(self, layout: str, name: str, seconds: float, calls: int) -> None:
        self.totals.setdefault((layout, name), []).append(seconds)
        self.calls.setdefault((layout, name), []).append(calls)

    def calls_per_listing(self, layout: str, name: str) -> float:
        return statistics.median(self.calls[(layout, name)]) / self.listings

    def per_listing(self, layout: str, name: str) -> float:
        return statistics.median(self.totals[(layout, name)]) / self.listings

    def ratio(self, layout: str, name: str) -> float:
        return self.per_listing(layout, name) / self.per_listing(layout, MINIMAL)

    def trace_cost(self, layout: str, name: str) -> float:
        return self.per_listing(layout, name) / self.per_listing(layout, ENGINE) - 1

    def targets(self) -> dict:
        targets = {}
        for layout in self.layouts:
            targets[f"{layout}_engine_within_{TARGET_ENGINE_VS_MINIMAL}x_of_minimal"] = {
                "passed": self.ratio(layout, ENGINE) <= TARGET_ENGINE_VS_MINIMAL,
                "ratio": round(self.ratio(layout, ENGINE), 3),
            }
        return targets

    def trace_costs(self) -> dict:
        return {f"{layout}/{name}": round(self.trace_cost(layout, name), 3)
                for layout in self.layouts for name in (TRACE_ON, TRACE_FULL)}

    def as_json(self) -> dict:
        return {
            "listings": self.listings,
            "rounds": self.rounds,
            "machine": self.machine,
            "variants": {
                f"{layout}/{name}": {
                    "label": LABELS[name],
                    "total_seconds_per_round": [round(t, 4) for t in self.totals[(layout, name)]],
                    "seconds_per_listing_median": round(self.per_listing(layout, name), 4),
                    "ratio_to_minimal": round(self.ratio(layout, name), 3),
                    "browser_calls_per_listing": round(self.calls_per_listing(layout, name), 1),
                }
                for layout in self.layouts for name in ORDER
            },
            "targets": self.targets(),
            "trace_costs": self.trace_costs(),
        }


def check_published(simulator: Simulator, c_user: str, what: str, expected: int) -> None:
    found = len(simulator.listings(c_user))
    if found != expected:
        raise BenchmarkFailed(f"{what} left {found} listings on the simulator, expected {expected}")


def print_report(results: Results) -> None:
    m = results.machine
    print(f"Machine: {m['cpu_count']} CPUs, {m['platform']}, Python {m['python']}")
    print(f"Chromium {m['chromium_version']} ({m['chromium']}), Playwright {m['playwright']}")
    print(f"One {m['photo_bytes'] / 1024:.0f} KB PNG photo per listing")
    how = f"median of {results.rounds} rounds" if results.rounds > 1 else "1 round"
    print(f"\nPublishing {results.listings} listings of one account, zero pacing ({how}):\n")
    header = f"{'layout':<9}{'variant':<30}{'s/listing':>11}{'ratio to minimal':>18}{'calls/listing':>15}"
    print(header)
    print("-" * len(header))
    for layout in results.layouts:
        for name in ORDER:
            print(f"{layout:<9}{LABELS[name]:<30}{results.per_listing(layout, name):>11.3f}"
                  f"{results.ratio(layout, name):>17.2f}x{results.calls_per_listing(layout, name):>15.1f}")
    print()
    for layout in results.layouts:
        ratio = results.ratio(layout, ENGINE)
        print(f"Target ({layout}): engine within {TARGET_ENGINE_VS_MINIMAL}x of the minimal script: "
              f"{'PASS' if ratio <= TARGET_ENGINE_VS_MINIMAL else 'FAIL'} ({ratio:.3f}x)")
        print(f"Tracing ({layout}): on {results.trace_cost(layout, TRACE_ON) * 100:+.1f} %, "
              f"full {results.trace_cost(layout, TRACE_FULL) * 100:+.1f} % per listing (10 % is the bar for a setting)")


def run(listings: int, rounds: int, layouts: tuple[str, ...]) -> Results:
    chromium = find_chromium()
    results = Results(listings=listings, rounds=rounds, layouts=layouts)
    simulator = Simulator()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-posting-") as tmp:
            workdir = Path(tmp)
            setup_django(workdir, simulator.base_url, chromium)
            from django.contrib.auth import get_user_model

            operator = get_user_model().objects.create_user("bench-operator", "operator@example.com")  # no password
            photo_bytes = noise_png()
            photo = workdir / "photo.png"
            photo.write_bytes(photo_bytes)
            chromium_version = warm_up()
            accounts = {}
            for layout in layouts:
                for name in ORDER:
                    email = f"bench-{layout}-{name}@example.com"
                    session = simulator.mint_session(email, layout=layout, options=BENCH_OPTIONS[layout])
                    accounts[(layout, name)] = (session, create_engine_account(operator, email, session))
            for round_no in range(1, rounds + 1):
                for layout in layouts:
                    for name in ORDER:
                        session, account = accounts[(layout, name)]
                        before = len(simulator.listings(session["c_user"]))
                        label = f"{layout}.{round_no}"
                        if name == MINIMAL:
                            cookies = [{"name": key, "value": session[key], "url": simulator.base_url} for key in ("c_user", "xs")]
                            with CallCounter() as counter:
                                seconds = run_minimal(layout, simulator.base_url, cookies, photo, listings, label)
                        else:
                            posts = create_engine_posts(account, listings, photo_bytes, f"{label}.{name}")
                            with CallCounter() as counter:
                                seconds = run_engine(operator, posts, trace=TRACE[name])
                        results.add(layout, name, seconds, counter.calls)
                        check_published(simulator, session["c_user"], f"{layout}/{LABELS[name]}", before + listings)

            from django.db import connection
            connection.close()
    finally:
        simulator.stop()
    results.machine = machine_facts(chromium, chromium_version, photo_bytes=len(photo_bytes))
    return results


def machine_facts(chromium, chromium_version: str, **more) -> dict:
    """What a benchmark's figures were measured on, for its JSON."""
    return {
        "cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
        "playwright": package_version("playwright"), "chromium": str(chromium), "chromium_version": chromium_version,
        **more,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.posting", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=10, help="listings per variant and round (default 10)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds; the table shows medians (default 1)")
    parser.add_argument("--layouts", nargs="+", choices=LAYOUTS, default=list(LAYOUTS), help="simulator layouts (default both)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args(argv)
    if args.listings < 1 or args.rounds < 1:
        parser.error("--listings and --rounds must be at least 1")
    return conclude(lambda: run(args.listings, args.rounds, tuple(args.layouts)), print_report, args.json)


def conclude(measure, print_report, json_path) -> int:
    """Run a benchmark's `measure()`, print its report, write its figures to `json_path` if given;
    the exit status: 0 when every target passed, 1 on a miss or a failed run."""
    try:
        results = measure()
    except BenchmarkFailed as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    print_report(results)
    if json_path:
        json_path.write_text(json.dumps(results.as_json(), indent=2) + "\n")
        print(f"\nFigures written to {json_path}")
    return 0 if all(t["passed"] for t in results.targets().values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
