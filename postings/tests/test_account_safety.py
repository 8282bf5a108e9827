"""Posting budgets and pauses after a block, through the real worker, Chromium and the simulator.

Time is the worker's injected clock (SkippingClock): real time, with every wait it takes skipped at
once, so that an hour's budget wait takes none of the test's.
"""
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from accounts.models import FacebookAccount, PostingAttempt
from postings import services, worker
from postings.models import ErrorLog, MarketplacePost, PostingJob
from postings.tests.conftest import published_titles
from simulator.client import facebook_cookies

pytestmark = pytest.mark.django_db(transaction=True)


def start(operator, posts, **options) -> PostingJob:
    job, _ = services.posting_job_create(owner=operator, post_ids=[p.pk for p in posts], **options)
    return job


def run(operator, posts, clock, **options) -> tuple[PostingJob, list[str]]:
    """Run a job of `posts` to its end; returns it and every status_message it showed meanwhile."""
    messages = []
    job = worker.run_job(job_id=start(operator, posts, **options).job_id, clock=clock,
                         progress=lambda job: messages.append(job.status_message))
    return job, messages


def attempts(account) -> list:
    return list(PostingAttempt.objects.filter(account=account).order_by("at").values_list("at", flat=True))


def test_a_listing_past_the_hourly_budget_waits_for_the_accounts_next_slot_while_others_post(
    simulator, settings, skipping_clock, operator, make_account, make_post
):
    settings.POSTING_CONCURRENCY = 1  # one lane: the other account must go on in the same thread
    settings.BUDGET_WAIT_MAX_MINUTES = 60
    limited, free = make_account("limited@example.com"), make_account("free@example.com")
    FacebookAccount.objects.filter(pk=limited.pk).update(hourly_post_limit=2)
    posts = [make_post(limited, f"L{n}") for n in (1, 2, 3)] + [make_post(free, f"F{n}") for n in (1, 2)]

    job, messages = run(operator, posts, skipping_clock)

    assert (job.status, job.completed_posts, job.failed_posts) == ("completed", 5, 0)
    order = [listing["title"] for listing in simulator.listings()]
    assert order.index("L3") == 4  # L3 waited for its hour; F1 and F2 did not wait for it
    first, second, third = attempts(limited)
    assert third - first >= timedelta(hours=1)  # never 3 in any 60 minutes
    assert third - first < timedelta(hours=1, minutes=1)  # and no longer than that
    waiting = [m for m in messages if "limited@example.com is at its hourly budget" in m]
    assert waiting and "its next listing waits until" in waiting[0] and waiting[0].endswith(" UTC")
    assert max(skipping_clock.pauses) > 50 * 60  # the one long wait, before L3
    assert job.status_message == ""


def test_a_listing_whose_budget_frees_too_late_is_left_pending_saying_when_and_opens_no_page(
    simulator, settings, skipping_clock, operator, make_account, make_post
):
    settings.ACCOUNT_DAILY_POST_LIMIT = 2
    settings.BUDGET_WAIT_MAX_MINUTES = 30
    spent, other = make_account("spent@example.com"), make_account("other@example.com")
    for minutes in (50, 120):  # the day's two, long before: the next room comes in 22 h
        PostingAttempt.objects.create(account=spent, at=timezone.now() - timedelta(minutes=minutes))
    held = [make_post(spent, "S1"), make_post(spent, "S2")]

    job, _ = run(operator, [*held, make_post(other, "O1")], skipping_clock)

    assert (job.status, job.total_posts, job.completed_posts, job.failed_posts) == ("completed", 1, 1, 0)
    assert published_titles(simulator) == ["O1"]
    assert simulator.timeline(spent.c_user) == []  # no form opened for it
    for post in held:
        post.refresh_from_db()
        assert (post.status, post.claimed_by) == ("pending", None)
        assert post.error_message.startswith("Not posted: account spent@example.com is at its daily budget (2 of 2 listings in 24 h)")
        assert "it can post again at" in post.error_message
    assert job.status_message.startswith("2 listing(s) left pending: account spent@example.com is at its daily budget")
    assert not ErrorLog.objects.exists()
    assert len(attempts(spent)) == 2  # nothing tried, nothing counted


def test_a_paused_account_is_skipped_at_once_without_a_browser(
    simulator, settings, skipping_clock, monkeypatch, operator, make_account, make_post
):
    paused = make_account("paused@example.com")
    FacebookAccount.objects.filter(pk=paused.pk).update(
        paused_until=timezone.now() + timedelta(hours=3), pause_reason="You're Temporarily Blocked"
    )
    def no_browser(*args, **kwargs):
        raise AssertionError("a browser was started for a paused account")
    monkeypatch.setattr(worker, "launch", no_browser)
    monkeypatch.setattr(worker, "SharedChromium", no_browser)
    post = make_post(paused)

    job, _ = run(operator, [post], skipping_clock)

    post.refresh_from_db()
    assert (job.status, job.total_posts, post.status) == ("completed", 0, "pending")
    assert post.error_message.startswith("Not posted: account paused@example.com is paused until ")
    assert "after a block (You're Temporarily Blocked)" in post.error_message
    assert f"POST /api/accounts/{paused.pk}/resume/ lifts the pause" in post.error_message
    assert simulator.timeline() == [] and skipping_clock.pauses == []


def test_a_block_pauses_the_account_for_every_later_job_until_resumed(
    simulator, settings, skipping_clock, api, operator, make_account, make_post
):
    settings.ACCOUNT_BLOCK_PAUSE_HOURS = 24
    blocked, other = make_account("blocked@example.com"), make_account("other@example.com")
    simulator.fault("temporary_block", c_user=blocked.c_user, times=1)
    first_posts = [make_post(blocked, "B1"), make_post(blocked, "B2"), make_post(other, "O1")]

    job, _ = run(operator, first_posts, skipping_clock)

    blocked.refresh_from_db()
    assert blocked.paused_until - skipping_clock() > timedelta(hours=23, minutes=59)
    assert "temporarily blocked" in blocked.pause_reason
    log = ErrorLog.objects.get()
    assert log.error_type == "rate_limit" and "The account is paused until" in log.error_message
    b1, b2 = (MarketplacePost.objects.get(title=t) for t in ("B1", "B2"))
    assert (b1.status, b2.status) == ("failed", "pending")  # B2 was never tried: it waits for the account
    assert "is paused until" in b2.error_message
    assert (job.completed_posts, job.failed_posts, job.total_posts) == (1, 1, 2)
    forms_opened = len(simulator.timeline(blocked.c_user))

    # The fault is gone, but Facebook's block is not over: a later job does not touch the account,
    # nor after a fresh session.
    fresh = {"cookies": facebook_cookies(simulator.mint_session(blocked.email)), "origins": []}
    assert api.put(f"/api/accounts/{blocked.pk}/session/", fresh, format="json").status_code == HTTPStatus.OK
    later, _ = run(operator, [b2], skipping_clock)
    b2.refresh_from_db()
    assert (later.total_posts, b2.status) == (0, "pending")
    assert len(simulator.timeline(blocked.c_user)) == forms_opened

    assert api.post(f"/api/accounts/{blocked.pk}/resume/").status_code == HTTPStatus.OK
    resumed, _ = run(operator, [b2], skipping_clock)

    b2.refresh_from_db()
    assert (resumed.completed_posts, b2.status) == (1, "posted")
    assert published_titles(simulator) == ["B2", "O1"]


def test_the_daily_limit_notice_pauses_the_account_too(simulator, skipping_clock, operator, make_account, make_post):
    capped = make_account("new@example.com", layout="2026")
    simulator.fault("daily_limit", c_user=capped.c_user)

    run(operator, [make_post(capped, "C1"), make_post(capped, "C2")], skipping_clock)

    capped.refresh_from_db()
    assert capped.paused_until is not None and "daily limit" in capped.pause_reason.lower()
    assert MarketplacePost.objects.get(title="C2").status == "pending"


def test_a_dry_run_spends_no_budget_and_is_not_held_by_one(
    simulator, settings, skipping_clock, operator, make_account, make_post
):
    settings.ACCOUNT_HOURLY_POST_LIMIT = 1
    account = make_account()
    PostingAttempt.objects.create(account=account, at=timezone.now() - timedelta(minutes=5))

    job, _ = run(operator, [make_post(account, "D1"), make_post(account, "D2")], skipping_clock, dry_run=True)

    assert (job.status, job.completed_posts) == ("completed", 2)
    assert len(attempts(account)) == 1
    assert not any(p > 60 for p in skipping_clock.pauses)


def test_every_post_tried_counts_once_in_the_budget_whatever_its_outcome(
    simulator, skipping_clock, operator, make_account, make_post
):
    account = make_account()
    simulator.fault("policy_rejection", c_user=account.c_user, times=1)

    run(operator, [make_post(account, "Refused"), make_post(account, "Published")], skipping_clock)

    assert len(attempts(account)) == 2
    assert MarketplacePost.objects.get(title="Refused").status == "failed"
