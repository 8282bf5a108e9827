"""A job's accounts post at the same time, up to POSTING_CONCURRENCY browsers per host.

Real parts: `manage.py post_to_marketplace` started by the API, real Chromium, the simulator, whose
timeline records when each account's create page opened and ended.
"""
import os
import signal
import time
from datetime import datetime
from itertools import combinations

import pytest

from postings import worker
from postings.models import ErrorLog, MarketplacePost, PostingJob
from postings.tests.conftest import process_alive, published_titles, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

SLOW_FORM_MS = 1500  # every form takes this long to show its fields: long enough to see two at once


def start(api, posts) -> PostingJob:
    response = api.post("/api/posts/start-posting/", {"post_ids": [p.pk for p in posts]}, format="json")
    assert response.status_code == 202, response.content
    return PostingJob.objects.get(job_id=response.json()["job_id"])


def watch(api, job: PostingJob, timeout: float = 180.0) -> list[dict]:
    """Every state the job's status showed until it ended (polled, as a dashboard would)."""
    states, deadline = [], time.monotonic() + timeout
    while True:
        state = api.get(f"/api/posts/job-status/{job.job_id}/").json()
        states.append(state)
        if state["final"]:
            return states
        if time.monotonic() > deadline:
            pytest.fail(f"the job did not end in {timeout} s: {state}")
        time.sleep(0.1)


def intervals(simulator, accounts) -> dict[str, list[tuple[datetime, datetime]]]:
    """Per account, when each of its create pages was open (published or not)."""
    by_account = {account.c_user: [] for account in accounts}
    for event in simulator.timeline():
        if event["c_user"] in by_account and event["ended_at"]:
            by_account[event["c_user"]].append(
                (datetime.fromisoformat(event["opened_at"]), datetime.fromisoformat(event["ended_at"]))
            )
    return by_account


def overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@pytest.fixture
def accounts(make_account, make_post, simulator):
    def make(count: int, listings: int = 2):
        made = [make_account(f"seller{n}@example.com") for n in range(count)]
        posts = [make_post(account, f"{account.email} #{i}") for account in made for i in range(listings)]
        simulator.fault("slow_fields", delay_ms=SLOW_FORM_MS)
        return made, posts
    return make


def test_a_jobs_accounts_post_at_the_same_time_each_one_listing_at_a_time_each_listing_once(
    worker_env, monkeypatch, simulator, api, accounts
):
    monkeypatch.setenv("POSTING_CONCURRENCY", "4")
    made, posts = accounts(3)

    states = watch(api, start(api, posts))

    assert states[-1]["status"] == "completed" and states[-1]["completed_posts"] == 6
    assert published_titles(simulator) == sorted(p.title for p in posts)
    pages = intervals(simulator, made)
    for account_pages in pages.values():
        assert len(account_pages) == 2
        assert not any(overlap(a, b) for a, b in combinations(account_pages, 2)), "one account posted two at once"
    assert any(
        overlap(a, b) for (_, first), (_, second) in combinations(pages.items(), 2) for a in first for b in second
    ), "no two accounts posted at the same time"
    # The status shows every post in flight, each with its account; the seed's current post is one of them.
    by_id = {p.pk: p for p in posts}
    shown = [state for state in states if len(state["current_posts"]) >= 2]
    assert shown, "the status never showed two posts in flight"
    for state in shown:
        for current in state["current_posts"]:
            assert current == {"id": current["id"], "title": by_id[current["id"]].title,
                               "account": by_id[current["id"]].account_id}
        assert len({current["account"] for current in state["current_posts"]}) == len(state["current_posts"])
        assert state["current_post_id"] in by_id  # the most recently started (it may have ended since)
    assert states[-1]["current_posts"] == []


def test_with_a_concurrency_of_one_the_accounts_take_turns(worker_env, monkeypatch, simulator, api, accounts):
    monkeypatch.setenv("POSTING_CONCURRENCY", "1")
    made, posts = accounts(2)

    states = watch(api, start(api, posts))

    assert states[-1]["completed_posts"] == 4
    assert published_titles(simulator) == sorted(p.title for p in posts)
    every_page = [page for pages in intervals(simulator, made).values() for page in pages]
    assert len(every_page) == 4
    assert not any(overlap(a, b) for a, b in combinations(every_page, 2))
    assert max(len(state["current_posts"]) for state in states) == 1


def test_the_hosts_browsers_are_shared_by_its_jobs_a_job_waits_for_a_free_one_and_says_so(
    worker_env, monkeypatch, settings, simulator, api, accounts
):
    monkeypatch.setenv("POSTING_CONCURRENCY", "2")
    settings.POSTING_CONCURRENCY = 2
    made, posts = accounts(2)
    held = [worker.HostSlot(), worker.HostSlot()]
    assert all(slot.try_take() for slot in held)  # another job of this host uses both browsers

    job = start(api, posts)
    wait_until(lambda: "Waiting for a free browser on this host" in PostingJob.objects.get(pk=job.pk).status_message,
               what="the job to say it waits for a browser")
    assert not MarketplacePost.objects.filter(status="posting").exists()
    assert simulator.timeline() == []
    held[0].release()  # one browser frees up: the job's two accounts take turns on it

    states = watch(api, job)

    held[1].release()
    assert states[-1]["status"] == "completed" and states[-1]["status_message"] == ""
    assert published_titles(simulator) == sorted(p.title for p in posts)
    every_page = [page for pages in intervals(simulator, made).values() for page in pages]
    assert not any(overlap(a, b) for a, b in combinations(every_page, 2)), "more browsers than the host allows"


def test_an_account_pacing_holds_no_browser_another_job_posts_meanwhile(
    worker_env, monkeypatch, simulator, api, make_account, make_post
):
    monkeypatch.setenv("POSTING_CONCURRENCY", "1")  # one post in flight on this host at a time
    monkeypatch.setenv("POSTING_DELAY_SECONDS", "600")
    slow, quick = make_account("slow@example.com"), make_account("quick@example.com")
    long_job = start(api, [make_post(slow, "Slow 1"), make_post(slow, "Slow 2")])
    wait_until(lambda: [listing["title"] for listing in simulator.listings()] == ["Slow 1"], timeout=120,
               what="the long job's first post")

    other = watch(api, start(api, [make_post(quick, "Quick")]))  # while the long job's account paces

    assert (other[-1]["status"], other[-1]["completed_posts"]) == ("completed", 1)
    assert PostingJob.objects.get(pk=long_job.pk).status == "running"
    assert api.post(f"/api/posts/jobs/{long_job.job_id}/cancel/").status_code == 200
    assert watch(api, long_job, timeout=60)[-1]["status"] == "cancelled"
    assert published_titles(simulator) == ["Quick", "Slow 1"]


def test_cancel_stops_every_account_after_its_current_post(worker_env, monkeypatch, simulator, api, accounts):
    monkeypatch.setenv("POSTING_CONCURRENCY", "4")
    monkeypatch.setenv("POSTING_DELAY_SECONDS", "600")  # after its first post, every account waits
    made, posts = accounts(2, listings=3)
    job = start(api, posts)
    wait_until(lambda: len(simulator.listings()) == 2, timeout=120, what="each account's first post")

    assert api.post(f"/api/posts/jobs/{job.job_id}/cancel/").status_code == 200
    states = watch(api, job, timeout=60)

    assert states[-1]["status"] == "cancelled"
    assert states[-1]["completed_posts"] == 2
    assert sorted(listing["title"] for listing in simulator.listings()) == sorted(
        f"{account.email} #0" for account in made
    )
    rest = MarketplacePost.objects.exclude(title__endswith="#0")
    assert set(rest.values_list("status", "claimed_by")) == {("pending", None)}


def test_a_killed_worker_with_accounts_in_flight_is_reaped_and_leaves_no_browser_behind(
    worker_env, monkeypatch, settings, simulator, api, accounts
):
    monkeypatch.setenv("POSTING_CONCURRENCY", "4")
    made, posts = accounts(2, listings=2)
    simulator.clear_faults()
    simulator.fault("slow_fields", delay_ms=60_000)  # every form stays empty: both accounts stay in flight
    monkeypatch.setenv("BROWSER_TIMEOUT_SECONDS", "120")
    job = start(api, posts)
    wait_until(lambda: MarketplacePost.objects.filter(status="posting").count() == 2, timeout=120,
               what="both accounts in flight")
    job.refresh_from_db()
    browsers = _descendants(job.pid)
    assert any(b"launch-server" in _cmdline(pid) for pid in browsers), "the job's shared Chromium was not found"

    os.kill(job.pid, signal.SIGKILL)
    wait_until(lambda: not any(process_alive(pid) for pid in browsers), timeout=60,
               what="the worker's Playwright and Chromium processes to go with it")
    settings.JOB_STALE_SECONDS = 0.001
    state = api.get(f"/api/posts/job-status/{job.job_id}/").json()

    assert (state["status"], state["error_message"], state["current_posts"]) == (
        "failed", "Worker stopped unexpectedly", [])
    in_flight = MarketplacePost.objects.filter(title__endswith="#0")
    assert set(in_flight.values_list("status", flat=True)) == {"failed"}
    assert set(ErrorLog.objects.filter(post__in=in_flight).values_list("error_type", flat=True)) == {"unknown"}
    rest = MarketplacePost.objects.filter(title__endswith="#1")
    assert set(rest.values_list("status", "claimed_by")) == {("pending", None)}


def test_lanes_put_each_account_in_one_lane_and_spread_the_work():
    class Post:
        def __init__(self, pk, account_id):
            self.pk, self.account_id = pk, account_id

    posts = [Post(n, account) for n, account in enumerate([1] * 4 + [2] * 2 + [3] * 2 + [4] * 1 + [5] * 1)]

    lanes = worker._lanes(posts, 3)

    assert len(lanes) == 3
    assert sorted(p.pk for lane in lanes for p in lane) == list(range(10))
    owners = [{p.account_id for p in lane} for lane in lanes]
    assert all(not (a & b) for a, b in combinations(owners, 2)), "an account in two lanes"
    assert [len(lane) for lane in lanes] == [4, 3, 3]
    assert [p.account_id for p in lanes[1]] == [2, 4, 2]  # interleaved: pacing one account idles none
    assert len(worker._lanes(posts, 8)) == 5  # never more lanes than accounts


def _descendants(pid: int) -> list[int]:
    children, found = {}, []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    stack = list(children.get(pid, []))
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(children.get(child, []))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read()
    except OSError:
        return b""
