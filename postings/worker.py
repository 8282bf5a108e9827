"""The posting worker: runs one job, post by post, in one Chromium.

Run by `manage.py post_to_marketplace`. Everything it learns goes into the database as it happens
(the job row for progress, the posts, ErrorLogs), so the API and the status stream can show it.
"""
import fcntl
import logging
import os
import random
import threading
import time
import traceback
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from contextlib import contextmanager
from dataclasses import asdict
from itertools import chain, zip_longest
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from accounts import budgets, session_files
from accounts.models import FacebookAccount
from accounts.services import account_pause
from config.browsing import marketplace_target
from driver import errors
from driver.browser import AccountBrowser, SharedChromium, launch, start_playwright
from driver.evidence import capture
from driver.form import Previewed, Published
from driver.listing import Listing, Target
from driver.selectors import SelectorsFileError
from postings import services
from postings.models import ErrorLog, MarketplacePost, PostingJob
from postings.selectors import in_flight_posts

logger = logging.getLogger(__name__)

ACCOUNT_WAIT_POLL_SECONDS = 1.0
DATABASE_WAIT_SECONDS = 60.0  # how long the worker waits for a database that stopped answering


def database_ready(*, timeout: float = DATABASE_WAIT_SECONDS) -> None:
    """Before the worker's next writes: drop this thread's connection if it broke (the database
    restarted, a failover, an idle timeout) and wait for the database to answer again.

    The worker spends its time in the browser; a connection lost meanwhile would otherwise fail the
    write that records what the browser did. Raises the last error after `timeout`.
    """
    deadline = time.monotonic() + timeout
    while True:
        if connection.connection is not None and not connection.is_usable():
            logger.warning("the database connection was lost: reconnecting")
            connection.close()
        try:
            connection.ensure_connection()
            return
        except DatabaseError:
            if time.monotonic() > deadline:
                raise
            logger.warning("the database does not answer: trying again", exc_info=True)
            connection.close()
            time.sleep(1.0)


def pause(seconds: float, *, job: PostingJob | None = None) -> bool:
    """Where the worker waits for time: pacing between posts and retry backoff (the other wait is
    `database_ready`'s, for a database that does not answer).

    Returns False early when the job is asked to cancel meanwhile.
    """
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 1.0))
        if job is not None:
            database_ready()
            if PostingJob.objects.filter(pk=job.pk, cancel_requested=True).exists():
                return False
    return True


class Heartbeat(threading.Thread):
    """Writes `heartbeat_at` every JOB_HEARTBEAT_SECONDS while the worker lives."""

    def __init__(self, job: PostingJob):
        super().__init__(name=f"heartbeat-{job.job_id}", daemon=True)
        self.job = job
        self.stopped = threading.Event()

    def run(self):
        try:
            while not self.stopped.wait(settings.JOB_HEARTBEAT_SECONDS):
                try:
                    database_ready(timeout=0)
                    services.job_heartbeat(job=self.job)
                except DatabaseError:  # the next beat reconnects; the worker itself is alive
                    logger.warning("the heartbeat could not be written", exc_info=True)
                    connection.close()
        finally:
            connection.close()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stopped.set()
        self.join()


_async_unsafe_lock = threading.Lock()
_async_unsafe_holders = 0
_async_unsafe_before: str | None = None


@contextmanager
def orm_beside_playwright():
    """Let this thread use the ORM while Playwright's sync API runs its event loop in it.

    Playwright's sync API keeps an asyncio loop running in the calling thread, which makes Django
    refuse every query ("You cannot call this from an async context"). Nothing here is async code:
    the queries and the browser calls take turns in one thread. The permission is an environment
    variable, so process-wide: it is held while any job of this process is in its browser block
    (a Procrastinate worker may run several) and restored after the last.
    """
    global _async_unsafe_holders, _async_unsafe_before
    with _async_unsafe_lock:
        if not _async_unsafe_holders:
            _async_unsafe_before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        _async_unsafe_holders += 1
    try:
        yield
    finally:
        with _async_unsafe_lock:
            _async_unsafe_holders -= 1
            if not _async_unsafe_holders:
                if _async_unsafe_before is None:
                    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
                else:
                    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = _async_unsafe_before


def listing_problems(post: MarketplacePost) -> list[str]:
    """Why this listing cannot be published as it is (checked before any browser starts)."""
    problems = []
    images = list(post.images.all())
    if not images:
        problems.append("it has no photo (Marketplace needs at least one)")
    elif missing := [image.pk for image in images if not image.image.storage.exists(image.image.name)]:
        problems.append(f"the files of photo(s) {', '.join(map(str, missing))} are missing")
    if not post.title.strip():
        problems.append("its title is empty")
    if post.price is None or post.price < 0:
        problems.append("its price is not a number of 0 or more")
    if not post.category.strip():
        problems.append("it has no category")
    if not post.location.strip():
        problems.append("it has no location (Marketplace needs one)")
    return problems


def _interleaved(posts: list[MarketplacePost]) -> list[MarketplacePost]:
    """One post per account in turn, so that pacing one account does not idle the others."""
    return [p for p in chain.from_iterable(zip_longest(*_by_account(posts).values())) if p is not None]


def listing_of(post: MarketplacePost) -> Listing:
    """The listing as the driver takes it: plain data."""
    return Listing(
        title=post.title, price=post.price, category=post.category, condition=post.condition,
        location=post.location, description=post.description, delivery=tuple(post.delivery),
        hide_from_friends=post.hide_from_friends, tags=tuple(post.tags), sku=post.sku,
    )


def _file_identity(path: Path) -> tuple[int, int, int] | None:
    """What tells one version of a file from another: inode, size, modification time."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


class AccountContext:
    """One account's browser, loaded from its session file and saved back after a success."""

    def __init__(self, browser, account: FacebookAccount, target: Target):
        self.account = account
        path: Path = account.session_path
        try:
            self.written = _file_identity(path)
            state = session_files.read_state(path)
        except FileNotFoundError:
            raise errors.SessionExpired(
                f"Account {account.email} has no session file. Upload its session first"
            ) from None
        except (OSError, session_files.SessionFormatError) as exc:
            raise errors.SessionExpired(
                f"The session file of account {account.email} is unusable ({exc}). Upload it again"
            ) from None
        self.browser = AccountBrowser(
            browser, state=state, target=target, trace=settings.BROWSER_TRACE, profile=account.browser_profile(),
        )

    def save_session(self) -> None:
        """Write back what the browser holds now, so that the session stays fresh.

        Only over the file this context was loaded from: a session the operator deleted or replaced
        while the job ran is theirs, and is neither brought back nor overwritten with older cookies.
        """
        path = self.account.session_path
        if _file_identity(path) != self.written:
            logger.info("the session of account %s changed during the job; not saving over it", self.account.pk)
            return
        state = self.browser.storage_state()
        session_files.write_atomic(path, state)
        self.browser.saved(state)
        self.written = _file_identity(path)

    def evidence(self, intended_url: str) -> services.Evidence:
        """The page as it is now (screenshot, HTML, accessibility snapshot), no cookie value in it."""
        page = self.browser.page()
        return services.Evidence(**asdict(capture(page, intended_url=intended_url, secrets=self.browser.secrets())))

    def close(self) -> None:
        self.browser.close()


class HostSlot:
    """One of this host's POSTING_CONCURRENCY browser slots, held by one post in flight at a time
    (an account's pacing holds none, so that a long job leaves the host's browsers to other jobs
    between its posts).

    A slot is an exclusive `flock` on a file in a host-local directory, so it is shared by every
    job and worker process on the host and freed by the kernel when its process dies, even by
    SIGKILL.
    """

    def __init__(self):
        self.file = None

    def try_take(self) -> bool:
        directory = Path(settings.BROWSER_SLOTS_DIR)
        directory.mkdir(parents=True, exist_ok=True)
        for number in range(settings.POSTING_CONCURRENCY):
            file = open(directory / f"slot-{number}.lock", "a")
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                file.close()
                continue
            self.file = file
            return True
        return False

    def release(self) -> None:
        if self.file is not None:
            self.file.close()  # closing the file drops its lock
            self.file = None


EARLIEST = datetime.min.replace(tzinfo=dt_timezone.utc)  # an account that has not posted yet: its turn is now


class AccountLane:
    """The accounts one thread posts for: one listing at a time, each account in a browser context
    of its own. The next listing is always that of the account whose turn comes first (its pacing
    over, its budget free), so that one account waiting idles none of the others."""

    def __init__(self, runner: "JobRunner", posts: list[MarketplacePost]):
        self.runner = runner
        self.job = PostingJob.objects.get(pk=runner.job.pk)  # this thread's own copy of the row
        self.queues: dict[int, deque[int]] = {}  # account id -> its post ids, in turn (dicts keep order)
        self.emails: dict[int, str] = {}
        for post in posts:
            self.queues.setdefault(post.account_id, deque()).append(post.pk)
            self.emails[post.account_id] = post.account.email
        self.ready_at: dict[int, datetime] = {}  # on the runner's clock: pacing and budget waits
        self.contexts: dict[int, AccountContext] = {}
        self.stopped_accounts: dict[int, errors.PostingError] = {}
        self.failure: BaseException | None = None

    def run(self, shared: SharedChromium | None) -> None:
        """Post this lane's listings (in its own thread when the job has several lanes)."""
        try:
            with start_playwright() as playwright:
                if shared is None:
                    browser = launch(playwright, executable=settings.BROWSER_EXECUTABLE, headless=settings.BROWSER_HEADLESS)
                else:
                    browser = shared.connect(playwright)
                try:
                    self._post_all(browser)
                finally:
                    for context in self.contexts.values():
                        context.close()
                    browser.close()
        except BaseException as exc:  # the job's thread fails the job with it, once every lane is done
            self.failure = exc

    def _post_all(self, browser) -> None:
        while self.queues:
            if self.runner.cancel_requested():
                return
            now = self.runner.clock()
            account_id = min(self.queues, key=self._turn)  # the first whose turn comes
            wait = (self._turn(account_id) - now).total_seconds()
            if wait > 0:
                if not pause(wait, job=self.job):
                    return  # cancelled while every account waits its turn
                continue
            stop = self.stopped_accounts.get(account_id)
            if stop is None or isinstance(stop, errors.RateLimited):  # a stopped account's posts fail at once
                queued = list(self.queues[account_id])
                until = self.runner.hold(account_id, self.emails[account_id], queued)
                if until is not None:
                    if until is HELD:
                        del self.queues[account_id]
                        self.runner.report(self.job)
                    else:
                        self.ready_at[account_id] = until
                        self.runner.report(self.job)  # the job log says what it waits for
                    continue
            post_id = self.queues[account_id].popleft()
            if not self.queues[account_id]:
                del self.queues[account_id]
            self._post_one(browser, post_id, account_id)
            self.runner.report(self.job)

    def _turn(self, account_id: int) -> datetime:
        """When the account's next listing may go: after its pacing, and not before the listing's
        time in a spread job."""
        return max(self.ready_at.get(account_id, EARLIEST), self.runner.not_before.get(self.queues[account_id][0], EARLIEST))

    def _post_one(self, browser, post_id: int, account_id: int) -> None:
        opens_a_page = account_id not in self.stopped_accounts
        slot = HostSlot()  # held while the post is in flight, not while its account paces
        if opens_a_page and not self.runner.wait_for_slot(slot):
            return  # cancelled while waiting for one
        try:
            self._post_in_slot(browser, post_id, opens_a_page)
        finally:
            slot.release()
        if opens_a_page:
            low, high = settings.POSTING_DELAY_SECONDS
            self.ready_at[account_id] = self.runner.clock() + timedelta(seconds=random.uniform(low, high))

    def _post_in_slot(self, browser, post_id: int, opens_a_page: bool) -> None:
        target = self.runner.target
        counts = opens_a_page and not self.job.dry_run  # a dry run publishes nothing: no budget spent
        post = services.post_begin(job=self.job, post_id=post_id, attempt_at=self.runner.clock() if counts else None)
        if post is None:
            return
        self.runner.report(self.job)
        account = post.account
        try:
            if account.pk in self.stopped_accounts:
                first = self.stopped_accounts[account.pk]
                raise type(first)(f"Skipped: account {account.email} stopped earlier in this job ({first})")
            if account.pk not in self.contexts:
                self.contexts[account.pk] = AccountContext(browser, account, target)
            result = self._post_with_retries(self.contexts[account.pk], post, target)
        except errors.PostingError as exc:
            skipped = account.pk in self.stopped_accounts
            if exc.stops_account:
                self.stopped_accounts.setdefault(account.pk, exc)
            if isinstance(exc, errors.RateLimited) and not skipped:  # Facebook showed a block
                until = self.runner.clock() + timedelta(hours=settings.ACCOUNT_BLOCK_PAUSE_HOURS)
                account_pause(account_id=account.pk, until=until, reason=str(exc))
                exc.args = (f"{exc}. The account is paused until {budgets.when(until)} (ACCOUNT_BLOCK_PAUSE_HOURS); "
                            f"POST /api/accounts/{account.pk}/resume/ lifts it",)
            self._record_failure(post, exc)
        except Exception as exc:  # anything unforeseen still ends as a recorded failure, never a stuck post
            logger.exception("post %s failed unexpectedly", post.pk)
            self._record_failure(post, errors.PostingError(f"Unexpected error: {exc}"), cause=exc)
        else:
            self.contexts[account.pk].save_session()
            database_ready()
            if isinstance(result, Previewed):
                services.post_preview_record(job=self.job, post=post, evidence=result.evidence)
                logger.info("post %s checked (dry run) up to its publishing step: %s", post.pk, result.page_url)
            else:
                services.post_mark_posted(job=self.job, post=post, listing_url=result.listing_url)
                logger.info("post %s published%s: %s", post.pk, " (in review)" if result.in_review else "", result.listing_url)

    def _record_failure(self, post, exc: errors.PostingError, cause: Exception | None = None) -> None:
        logger.warning("post %s failed (%s): %s", post.pk, exc.error_type, exc)
        database_ready()
        services.post_mark_failed(
            job=self.job, post=post, error_type=exc.error_type, message=str(exc),
            stack_trace="".join(traceback.format_exception(cause or exc)),
            evidence=getattr(exc, "evidence", None),
        )

    def _post_with_retries(self, account_context: AccountContext, post, target: Target) -> Published | Previewed:
        """Post one listing (or, in a dry run, go up to its publishing click), retrying network
        errors and timeouts on a fresh page until a click that can publish has been made."""
        listing = listing_of(post)
        photos = [image.image.path for image in post.images.all()]
        account_browser = account_context.browser
        account_browser.trace_begin(f"post {post.pk}: {post.title}")
        attempt = 0
        while True:
            attempt += 1
            form = account_browser.form()
            try:
                result = form.post(listing, photos, dry_run=self.job.dry_run)
            except errors.PostingError as exc:
                failure = account_browser.blame_proxy(exc)
            except PlaywrightTimeout as exc:
                failure = (errors.PublishUnconfirmed if form.may_be_live else errors.PageTimeout)(str(exc).splitlines()[0])
                failure.__cause__ = exc
            except PlaywrightError as exc:
                kind = errors.PublishUnconfirmed if form.may_be_live else (
                    errors.NetworkError if "net::" in str(exc) else errors.PostingError
                )
                failure = kind(str(exc).splitlines()[0])
                failure.__cause__ = exc
                failure = account_browser.blame_proxy(failure)
            else:
                if isinstance(result, Previewed):
                    result.evidence = account_context.evidence(result.page_url)
                account_browser.trace_end(keep=False)
                return result
            if failure.retryable and not form.may_be_live and attempt < settings.POSTING_MAX_ATTEMPTS:
                logger.info("post %s: attempt %s failed (%s), retrying on a fresh page", post.pk, attempt, failure)
                account_browser.discard_page()
                pause(settings.POSTING_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1))
                continue
            if failure.retryable and attempt > 1:
                failure.args = (f"{failure} (after {attempt} attempts)",)
            failure.evidence = account_context.evidence(target.base_url + target.selectors["create_path"])
            failure.evidence.trace_zip = account_browser.trace_end(keep=True)
            account_browser.discard_page()  # the next post starts on a fresh page
            raise failure


def _by_account(posts: list[MarketplacePost]) -> dict[int, list[MarketplacePost]]:
    by_account = defaultdict(list)
    for post in posts:
        by_account[post.account_id].append(post)
    return by_account


def _lanes(posts: list[MarketplacePost], count: int) -> list[list[MarketplacePost]]:
    """The posts split into at most `count` lanes, each account in exactly one (never two browsers
    on one account), the accounts with the most posts spread first, each lane's posts interleaved."""
    by_account = _by_account(posts)
    lanes: list[list[MarketplacePost]] = [[] for _ in range(min(count, len(by_account)))]
    for account_posts in sorted(by_account.values(), key=len, reverse=True):
        min(lanes, key=len).extend(account_posts)
    return [_interleaved(lane) for lane in lanes]


def spread(posts: list[MarketplacePost], *, start: datetime, minutes: int | None) -> dict[int, datetime]:
    """Each post's time when a job spreads `posts` evenly over `minutes` after `start`: the first
    at `start`, the last at its end ({} when not spread). Pacing and budgets still apply on top."""
    if not minutes or not posts:
        return {}
    step = timedelta(minutes=minutes) / max(len(posts) - 1, 1)
    return {post.pk: start + step * index for index, post in enumerate(posts)}


def _in_thread(work, *args) -> None:
    try:
        work(*args)
    finally:
        connection.close()  # this thread's own connection


HELD = object()  # JobRunner.hold: the account's posts were left pending


class JobRunner:
    """Runs one job's posts: its accounts at the same time, up to POSTING_CONCURRENCY per host,
    each within its posting budgets and never while it is paused after a block.

    `clock` tells the time for budgets, pauses and pacing (tests give one of their own).
    """

    def __init__(
        self, job: PostingJob, progress: Callable[[PostingJob], None] | None = None,
        clock: Callable[[], datetime] = timezone.now,
    ):
        self.job = job
        self.progress = progress or (lambda job: None)
        self.clock = clock
        self.target: Target | None = None
        self._lock = threading.Lock()  # for progress, notices and the waiting count, shared by the lanes
        self._waiting = 0
        self._notices: dict[str, str] = {}  # what the job waits for, by what: its status_message
        self.left_pending: dict[str, list[int]] = {}  # why -> the posts left pending for it
        self.not_before: dict[int, datetime] = {}  # post id -> its time, in a spread job

    def _notice(self, key: str, message: str | None) -> None:
        with self._lock:
            if message is None and key not in self._notices or self._notices.get(key) == message:
                return
            if message is None:
                del self._notices[key]
            else:
                self._notices[key] = message
            services.job_heartbeat(job=self.job, status_message="; ".join(self._notices.values()))

    def hold(self, account_id: int, email: str, post_ids: list[int]):
        """Whether the account may post its next listing now: None if so; the time to wait until,
        when its budget frees within BUDGET_WAIT_MAX_MINUTES (the job says so meanwhile); HELD when
        it is paused or its budget frees later, its `post_ids` then left pending, saying why."""
        database_ready()
        now = self.clock()
        standing = budgets.standing(account_id, now=now)
        key = f"budget-{account_id}"
        if standing.can_post_at is None or (self.job.dry_run and not standing.paused):  # a dry run spends no budget
            self._notice(key, None)
            return None
        if not standing.paused and standing.can_post_at - now <= timedelta(minutes=settings.BUDGET_WAIT_MAX_MINUTES):
            self._notice(key, f"Account {email} is at its {standing.spent} budget: its next listing waits until "
                              f"{budgets.when(standing.can_post_at)}")
            return standing.can_post_at
        self._notice(key, None)
        why = f"Not posted: account {email} is {standing.phrase()}"
        if standing.paused:
            why += f". POST /api/accounts/{account_id}/resume/ lifts the pause"
        for post_id in post_ids:
            if services.post_leave_pending(job=self.job, post_id=post_id, why=why):
                with self._lock:
                    self.left_pending.setdefault(why, []).append(post_id)
        logger.info("%s posts of account %s left pending: %s", len(post_ids), account_id, why)
        return HELD

    def left_pending_summary(self) -> str:
        """The job's closing status_message: which posts it left pending, and why."""
        count = sum(len(posts) for posts in self.left_pending.values())
        if not count:
            return ""
        return f"{count} listing(s) left pending: " + "; ".join(
            why.removeprefix("Not posted: ") for why in self.left_pending
        )

    def report(self, job: PostingJob) -> None:
        job.refresh_from_db()
        with self._lock:
            self.progress(job)

    def cancel_requested(self) -> bool:
        database_ready()
        return PostingJob.objects.filter(pk=self.job.pk, cancel_requested=True).exists()

    def wait_for_slot(self, slot: HostSlot) -> bool:
        """Take a browser slot of this host, waiting (and saying so) while every one is in use by
        other jobs. False when the job is cancelled meanwhile."""
        if slot.try_take():
            return True
        message = f"Waiting for a free browser on this host (POSTING_CONCURRENCY={settings.POSTING_CONCURRENCY})"
        with self._lock:
            self._waiting += 1
        self._notice("slot", message)
        try:
            while not slot.try_take():
                if self.cancel_requested():
                    return False
                time.sleep(ACCOUNT_WAIT_POLL_SECONDS)
            return True
        finally:
            with self._lock:
                self._waiting -= 1
                last = not self._waiting
            if last:
                self._notice("slot", None)

    def run(self) -> None:
        self.target = marketplace_target()
        posts = list(
            MarketplacePost.objects.filter(claimed_by=self.job).select_related("account")
            .prefetch_related("images").order_by("pk")
        )
        ready = []  # each lane interleaves its accounts' posts (_lanes)
        for post in posts:
            problems = listing_problems(post)
            if not problems:
                ready.append(post)
            elif started := services.post_begin(job=self.job, post_id=post.pk):
                services.post_mark_failed(
                    job=self.job, post=started, error_type=ErrorLog.ErrorType.VALIDATION_ERROR,
                    message=f"Not posted: {'; '.join(problems)}.",
                )
                self.report(self.job)
        for account_id, account_posts in _by_account(ready).items():  # paused, or past its budget for long:
            if self.hold(account_id, account_posts[0].account.email, [p.pk for p in account_posts]) is HELD:
                ready = [post for post in ready if post.account_id != account_id]  # no browser for it
                self.report(self.job)
        if not ready:
            return
        self.not_before = spread(_interleaved(ready), start=self.job.start_at or self.clock(), minutes=self.job.spread_minutes)
        with orm_beside_playwright():
            lanes = [AccountLane(self, lane) for lane in _lanes(ready, settings.POSTING_CONCURRENCY)]
            if len(lanes) == 1:
                lanes[0].run(shared=None)  # one account at a time: its own Chromium, in this thread
            else:
                shared = SharedChromium(executable=settings.BROWSER_EXECUTABLE, headless=settings.BROWSER_HEADLESS)
                try:
                    threads = [
                        threading.Thread(target=_in_thread, args=(lane.run, shared), name=f"job-{self.job.pk}-lane-{n}")
                        for n, lane in enumerate(lanes, 1)
                    ]
                    for thread in threads:
                        thread.start()
                    for thread in threads:
                        thread.join()
                finally:
                    shared.close()
        for lane in lanes:
            if lane.failure is not None:
                raise lane.failure


def progress_line(job: PostingJob) -> str:
    """The job's progress in one line of a log, with every post being published right now."""
    done = job.completed_posts + job.failed_posts
    current = ", ".join(post.title for post in in_flight_posts(job))
    return (
        f"{job.status}: {done}/{job.total_posts} done ({job.completed_posts} posted, {job.failed_posts} failed)"
        f"{'; posting: ' + current if current else ''}"
        f"{'; ' + job.status_message if job.status_message else ''}"
    )


def summary_line(job: PostingJob) -> str:
    """How the job ended, in one line of a log."""
    done = "previewed (dry run, nothing published)" if job.dry_run else "posted"
    line = f"Job {job.status}: {job.completed_posts} {done}, {job.failed_posts} failed of {job.total_posts}"
    return f"{line}; {job.status_message}" if job.status_message else line  # e.g. the listings left pending


def run_job(
    *, job_id, progress: Callable[[PostingJob], None] | None = None, clock: Callable[[], datetime] = timezone.now,
) -> PostingJob:
    """Run a queued job to its end and return it. Waits while another job uses one of its accounts."""
    job = PostingJob.objects.get(job_id=job_id)
    while not services.job_begin(job=job, pid=os.getpid()):
        job.refresh_from_db()
        if job.status != PostingJob.Status.QUEUED:
            return job  # ended meanwhile (reaped), or another worker runs it
        if job.cancel_requested:
            services.job_finish(job=job, status=PostingJob.Status.CANCELLED)
            return job
        if progress:
            progress(job)
        pause(ACCOUNT_WAIT_POLL_SECONDS)
        close_old_connections()
    runner = JobRunner(job, progress, clock)
    with Heartbeat(job):
        try:
            runner.run()
        except (errors.BrowserUnavailable, SelectorsFileError) as exc:
            _fail_job(job, str(exc), exc)
        except Exception as exc:
            logger.exception("job %s failed", job.job_id)
            _fail_job(job, f"The worker failed: {exc}", exc)
            raise
        else:
            database_ready()
            cancelled = PostingJob.objects.filter(pk=job.pk, cancel_requested=True).exists()
            services.job_finish(
                job=job, status=PostingJob.Status.CANCELLED if cancelled else PostingJob.Status.COMPLETED,
                status_message=runner.left_pending_summary(),
            )
    job.refresh_from_db()
    return job


def _fail_job(job: PostingJob, message: str, exc: Exception) -> None:
    database_ready()
    services.post_mark_failed(
        job=job, post=None, error_type=ErrorLog.ErrorType.UNKNOWN, message=message,
        stack_trace="".join(traceback.format_exception(exc)),
    )
    services.job_finish(job=job, status=PostingJob.Status.FAILED, error_message=message)
