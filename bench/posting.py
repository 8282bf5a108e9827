"""How long publishing one listing takes, engine against hand-written Playwright, with zero pacing.

Run from the project's directory:

    .venv/bin/python -m bench.posting [--listings N] [--rounds R] [--json PATH]

Everything runs against the local Marketplace simulator (`python -m simulator --port 0`, started and
stopped here), in headless Chromium launched the way the engine launches it (`find_chromium()`,
`launch_args()`). Three ways of publishing the same N listings of one account are timed side by side:

(a) minimal   A bare Playwright sync script: one browser, one context holding the account's cookies,
              and per listing exactly the steps the form needs (photo, Title, Price, Category,
              Condition, Location, Next, Next, Publish, "Not now"). No error handling, no database:
              the lower bound of what driving this form costs.
engine        The project's real engine: `postings.worker.run_job` over one job of N posts of one
              account, with POSTING_DELAY_SECONDS=0 and POSTING_RETRY_BACKOFF_SECONDS=0, on a
              throwaway SQLite database. It pays for everything the product does besides the form:
              the job's and posts' database rows, the heartbeat, checks for blockers and language,
              explicit waits on each control, the session saved back after each success, and
              reading the listing's URL off the selling page.
(b) browser per listing
              The minimal flow, but with a new Chromium (and context) for every listing: the naive
              design the engine avoids by keeping one browser per job.

Every total runs from starting Playwright to closing it, browser launch included, because a real job
pays for it too (run_job starts Playwright and Chromium itself). Setting up the database, the
account and the posts is not timed, nor is one warm-up launch of Chromium before the first round
(without it (a), which runs first, would alone pay for a cold disk cache). The engine's posts have
no description, since the minimal flow does not fill one. The simulator is reset before each
variant, and each variant must leave exactly N listings there, or the benchmark exits with status 1.
Rounds run in the order (a), engine, (b); with --rounds > 1 the table shows medians. On a small
machine one round's figures move by 10-20% from run to run: compare with --rounds 3 or more.

The targets: the engine within 1.5x of (a) per listing, so its robustness costs little next to the
browser work itself; and the engine faster than (b), so that one browser per job pays off.
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
from playwright.sync_api import Browser, Page, expect, sync_playwright

from driver.executable import find_chromium, launch_args
from simulator.client import SimulatorClient, facebook_cookies

PROJECT_DIR = Path(__file__).resolve().parent.parent
EMAIL = "bench@example.com"
CREATE_PATH = "/marketplace/create/item"
SELLING_URL = re.compile(r"/marketplace/you/selling/?$")
CONTEXT_OPTIONS = {"locale": "en-US", "viewport": {"width": 1280, "height": 900}}  # as the engine's
LISTING = {"price": "120", "category": "Furniture", "location": "Austin, TX"}
MINIMAL_CONDITION = "Used \u2013 Good"  # the page writes it with an en dash
ENGINE_CONDITION = "Used - Good"  # the product stores a hyphen and matches any dash
TARGET_ENGINE_VS_MINIMAL = 1.5

MINIMAL, ENGINE, PER_LISTING = "minimal", "engine", "browser_per_listing"
LABELS = {
    MINIMAL: "(a) minimal script",
    ENGINE: "engine (run_job)",
    PER_LISTING: "(b) browser per listing",
}
ORDER = (MINIMAL, ENGINE, PER_LISTING)


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

    def listing_count(self) -> int:
        return len(self.listings())

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
        "POSTING_RETRY_BACKOFF_SECONDS": "0",
        # The same binary as the hand-written variants (and no probe for Playwright's own download).
        "BROWSER_EXECUTABLE": str(chromium),
        "LOG_LEVEL": "WARNING",  # the engine logs every post at INFO; keep the report readable
    })
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def create_engine_account(session: dict):
    """An operator and one Facebook account holding the simulator's session."""
    from django.contrib.auth import get_user_model

    from accounts.services import account_create, account_session_store

    operator = get_user_model().objects.create_user("bench-operator", "operator@example.com")  # no password
    account = account_create(owner=operator, email=EMAIL)
    account_session_store(account=account, data={"cookies": facebook_cookies(session), "origins": []})
    return operator, account


def create_engine_posts(account, count: int, photo: bytes, round_no: int) -> list:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from postings import services

    posts = []
    for index in range(count):
        post = services.post_create(
            account=account, title=f"Engine listing {round_no}.{index + 1}", price=LISTING["price"],
            category=LISTING["category"], condition=ENGINE_CONDITION, location=LISTING["location"],
            description="",
        )
        services.post_image_add(post=post, upload=SimpleUploadedFile("photo.png", photo, "image/png"))
        posts.append(post)
    return posts



# --- the variants ----------------------------------------------------------------------------------

def noise_png(size: int = 128) -> bytes:
    """About 50 KB of PNG that does not compress: random pixels."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (size, size), os.urandom(size * size * 3)).save(buffer, format="PNG")
    return buffer.getvalue()


def launch(playwright) -> Browser:
    return playwright.chromium.launch(executable_path=str(find_chromium()), args=launch_args(), headless=True)


def publish_minimal(page: Page, base_url: str, photo: Path, title: str) -> None:
    """One listing through the form, the shortest way that works."""
    page.goto(base_url + CREATE_PATH)
    page.locator('input[type="file"]').set_input_files(photo)
    page.get_by_role("textbox", name="Title", exact=True).fill(title)
    page.get_by_role("textbox", name="Price", exact=True).fill(LISTING["price"])
    page.get_by_role("combobox", name="Category", exact=True).click()
    page.get_by_role("option", name=LISTING["category"], exact=True).click()
    page.get_by_role("combobox", name="Condition", exact=True).click()
    page.get_by_role("option", name=MINIMAL_CONDITION, exact=True).click()
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


def warm_up() -> str:
    """Start Playwright and Chromium once, untimed, so that (a) does not pay for a cold disk cache
    alone; returns Chromium's version."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        browser.new_context().new_page().goto("about:blank")
        chromium_version = browser.version
        browser.close()
    return chromium_version


def run_minimal(base_url: str, cookies: list[dict], photo: Path, count: int, round_no: int) -> float:
    """(a): one browser, one context, one page for every listing."""
    started = time.perf_counter()
    with sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(**CONTEXT_OPTIONS)
        context.add_cookies(cookies)
        page = context.new_page()
        for index in range(count):
            publish_minimal(page, base_url, photo, f"Minimal listing {round_no}.{index + 1}")
        browser.close()
    return time.perf_counter() - started


def run_browser_per_listing(base_url: str, cookies: list[dict], photo: Path, count: int, round_no: int) -> float:
    """(b): the same flow, with a new Chromium for every listing."""
    started = time.perf_counter()
    with sync_playwright() as playwright:
        for index in range(count):
            browser = launch(playwright)
            context = browser.new_context(**CONTEXT_OPTIONS)
            context.add_cookies(cookies)
            publish_minimal(context.new_page(), base_url, photo, f"Per-browser listing {round_no}.{index + 1}")
            browser.close()
    return time.perf_counter() - started


def run_engine(operator, posts: list) -> float:
    """The engine: one job over the posts, run to its end in this process."""
    from postings import services
    from postings.worker import run_job

    job, _ = services.posting_job_create(owner=operator, post_ids=[post.pk for post in posts])
    started = time.perf_counter()
    job = run_job(job_id=job.job_id)
    elapsed = time.perf_counter() - started
    if (job.status, job.completed_posts, job.failed_posts) != ("completed", len(posts), 0):
        raise BenchmarkFailed(
            f"the engine's job ended {job.status} with {job.completed_posts} posted and {job.failed_posts} "
            f"failed of {len(posts)}: {job.error_message or 'see the ErrorLogs'}"
        )
    return elapsed


# --- measuring and reporting -------------------------------------------------------------------------

@dataclass
class Results:
    listings: int
    rounds: int
    totals: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in ORDER})
    machine: dict = field(default_factory=dict)

    def total(self, name: str) -> float:
        return statistics.median(self.totals[name])

    def per_listing(self, name: str) -> float:
        return self.total(name) / self.listings

    def ratio(self, name: str) -> float:
        return self.per_listing(name) / self.per_listing(MINIMAL)

    def targets(self) -> dict:
        engine, per_listing = self.per_listing(ENGINE), self.per_listing(PER_LISTING)
        return {
            "engine_within_1_5x_of_minimal": {
                "passed": self.ratio(ENGINE) <= TARGET_ENGINE_VS_MINIMAL, "ratio": round(self.ratio(ENGINE), 3),
            },
            "engine_faster_than_browser_per_listing": {
                "passed": engine < per_listing,
                "seconds_saved_per_listing": round(per_listing - engine, 3),
                "speedup": round(per_listing / engine, 3),
            },
        }

    def as_json(self) -> dict:
        return {
            "listings": self.listings,
            "rounds": self.rounds,
            "machine": self.machine,
            "variants": {
                name: {
                    "label": LABELS[name],
                    "total_seconds_per_round": [round(t, 4) for t in self.totals[name]],
                    "total_seconds_median": round(self.total(name), 4),
                    "seconds_per_listing_median": round(self.per_listing(name), 4),
                    "ratio_to_minimal": round(self.ratio(name), 3),
                }
                for name in ORDER
            },
            "targets": self.targets(),
        }


def check_published(simulator: Simulator, name: str, expected: int) -> None:
    found = simulator.listing_count()
    if found != expected:
        raise BenchmarkFailed(f"{LABELS[name]} left {found} listings on the simulator, expected {expected}")


def print_report(results: Results) -> None:
    m = results.machine
    print(f"Machine: {m['cpu_count']} CPUs, {m['platform']}, Python {m['python']}")
    print(f"Chromium {m['chromium_version']} ({m['chromium']}), Playwright {m['playwright']}")
    print(f"One {m['photo_bytes'] / 1024:.0f} KB PNG photo per listing")
    how = f"median of {results.rounds} rounds" if results.rounds > 1 else "1 round"
    print(f"\nPublishing {results.listings} listings of one account, zero pacing ({how}):\n")
    header = f"{'variant':<26}{'listings':>9}{'total s':>10}{'s/listing':>11}{'ratio to (a)':>14}"
    print(header)
    print("-" * len(header))
    for name in ORDER:
        print(f"{LABELS[name]:<26}{results.listings:>9}{results.total(name):>10.2f}"
              f"{results.per_listing(name):>11.3f}{results.ratio(name):>13.2f}x")
    targets = results.targets()
    within, faster = targets["engine_within_1_5x_of_minimal"], targets["engine_faster_than_browser_per_listing"]
    print()
    print(f"Target: engine within {TARGET_ENGINE_VS_MINIMAL}x of (a): {'PASS' if within['passed'] else 'FAIL'} "
          f"(engine is {within['ratio']:.3f}x of (a))")
    print(f"Target: engine faster than (b): {'PASS' if faster['passed'] else 'FAIL'} "
          f"(engine takes {faster['seconds_saved_per_listing']:.3f} s less per listing, "
          f"{faster['speedup']:.2f}x as fast as (b))")


def run(listings: int, rounds: int) -> Results:
    chromium = find_chromium()
    results = Results(listings=listings, rounds=rounds)
    simulator = Simulator()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-posting-") as tmp:
            workdir = Path(tmp)
            setup_django(workdir, simulator.base_url, chromium)
            session = simulator.mint_session(EMAIL)
            operator, account = create_engine_account(session)
            photo_bytes = noise_png()
            photo = workdir / "photo.png"
            photo.write_bytes(photo_bytes)
            cookies = [{"name": name, "value": session[name], "url": simulator.base_url} for name in ("c_user", "xs")]

            chromium_version = warm_up()
            for round_no in range(1, rounds + 1):
                simulator.reset()
                results.totals[MINIMAL].append(run_minimal(simulator.base_url, cookies, photo, listings, round_no))
                check_published(simulator, MINIMAL, listings)

                posts = create_engine_posts(account, listings, photo_bytes, round_no)
                simulator.reset()
                results.totals[ENGINE].append(run_engine(operator, posts))
                check_published(simulator, ENGINE, listings)

                simulator.reset()
                results.totals[PER_LISTING].append(
                    run_browser_per_listing(simulator.base_url, cookies, photo, listings, round_no))
                check_published(simulator, PER_LISTING, listings)

            from django.db import connection
            connection.close()
    finally:
        simulator.stop()
    results.machine = {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "playwright": package_version("playwright"),
        "chromium": str(chromium),
        "chromium_version": chromium_version,
        "photo_bytes": len(photo_bytes),
    }
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.posting", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=10, help="listings per variant and round (default 10)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds; the table shows medians (default 1)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args(argv)
    if args.listings < 1 or args.rounds < 1:
        parser.error("--listings and --rounds must be at least 1")
    try:
        results = run(args.listings, args.rounds)
    except BenchmarkFailed as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    print_report(results)
    if args.json:
        args.json.write_text(json.dumps(results.as_json(), indent=2) + "\n")
        print(f"\nFigures written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
