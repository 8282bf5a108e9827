"""Posting budgets and pauses (accounts.budgets), at times the tests choose."""
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest

from accounts import budgets
from accounts.models import FacebookAccount, PostingAttempt

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=dt_timezone.utc)


def minutes_ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


def account(**fields) -> FacebookAccount:
    return FacebookAccount(email="a@example.com", **fields)  # unsaved: standing_of reads only its fields


def test_an_account_under_both_budgets_may_post_now(settings):
    settings.ACCOUNT_DAILY_POST_LIMIT, settings.ACCOUNT_HOURLY_POST_LIMIT = 20, 6

    standing = budgets.standing_of(account(), minutes_ago(5, 30, 90), now=NOW)

    assert (standing.last_24h, standing.last_hour, standing.daily_limit, standing.hourly_limit) == (3, 2, 20, 6)
    assert standing.can_post_at is None and standing.reason() is None and standing.spent is None


def test_at_its_hourly_budget_it_may_post_again_when_the_oldest_of_the_hour_is_an_hour_old(settings):
    settings.ACCOUNT_DAILY_POST_LIMIT, settings.ACCOUNT_HOURLY_POST_LIMIT = 20, 3

    standing = budgets.standing_of(account(), minutes_ago(10, 25, 40, 200), now=NOW)

    assert standing.spent == "hourly"
    assert standing.can_post_at == NOW - timedelta(minutes=40) + timedelta(hours=1)  # 12:20
    assert standing.reason() == "At its hourly budget (3 of 3 listings in 60 min): it can post again at 2026-12-01 12:20 UTC"


def test_over_a_budget_it_waits_for_as_many_attempts_to_leave_as_it_is_over(settings):
    """A limit lowered below what was already posted: room comes once the extra ones are out too."""
    settings.ACCOUNT_HOURLY_POST_LIMIT = 0

    standing = budgets.standing_of(account(hourly_post_limit=2), minutes_ago(5, 15, 35, 50), now=NOW)

    assert standing.can_post_at == NOW - timedelta(minutes=15) + timedelta(hours=1)  # 3 must leave: 50, 35, 15 ago


def test_at_its_daily_budget_the_day_decides_even_when_the_hour_has_room(settings):
    settings.ACCOUNT_DAILY_POST_LIMIT, settings.ACCOUNT_HOURLY_POST_LIMIT = 2, 6

    standing = budgets.standing_of(account(), minutes_ago(30, 23 * 60), now=NOW)

    assert standing.spent == "daily"
    assert standing.can_post_at == NOW + timedelta(hours=1)  # the one 23 h ago leaves in an hour
    assert standing.reason().startswith("At its daily budget (2 of 2 listings in 24 h)")


def test_when_both_budgets_are_spent_it_waits_for_the_later(settings):
    settings.ACCOUNT_DAILY_POST_LIMIT, settings.ACCOUNT_HOURLY_POST_LIMIT = 2, 1

    standing = budgets.standing_of(account(), minutes_ago(10, 20 * 60), now=NOW)

    assert standing.can_post_at == NOW + timedelta(hours=4)  # the hour frees at 12:50, the day at 16:00


def test_the_accounts_own_limits_win_and_a_setting_of_0_is_no_limit(settings):
    settings.ACCOUNT_DAILY_POST_LIMIT, settings.ACCOUNT_HOURLY_POST_LIMIT = 0, 0
    many = minutes_ago(*range(1, 50))

    assert budgets.standing_of(account(), many, now=NOW).can_post_at is None
    assert budgets.standing_of(account(), many, now=NOW).daily_limit is None
    own = budgets.standing_of(account(daily_post_limit=100, hourly_post_limit=10), many, now=NOW)
    assert (own.daily_limit, own.hourly_limit, own.spent) == (100, 10, "hourly")


def test_attempts_older_than_a_day_count_for_nothing(settings):
    settings.ACCOUNT_DAILY_POST_LIMIT, settings.ACCOUNT_HOURLY_POST_LIMIT = 1, 1

    standing = budgets.standing_of(account(), minutes_ago(24 * 60 + 1, 30 * 60), now=NOW)

    assert (standing.last_24h, standing.can_post_at) == (0, None)


def test_a_pause_holds_the_account_until_its_end_and_then_not_at_all():
    paused = account(paused_until=NOW + timedelta(hours=5), pause_reason="You're Temporarily Blocked")

    standing = budgets.standing_of(paused, [], now=NOW)
    assert standing.paused and standing.can_post_at == NOW + timedelta(hours=5)
    assert standing.reason() == "Paused until 2026-12-01 17:00 UTC after a block (You're Temporarily Blocked)"

    later = budgets.standing_of(paused, [], now=NOW + timedelta(hours=5, seconds=1))
    assert not later.paused and later.can_post_at is None and later.reason() is None


@pytest.mark.django_db
def test_standings_read_many_accounts_attempts_in_one_query(operator, settings, django_assert_num_queries):
    settings.ACCOUNT_DAILY_POST_LIMIT, settings.ACCOUNT_HOURLY_POST_LIMIT = 0, 2
    busy, idle = (FacebookAccount.objects.create(owner=operator, email=f"{n}@example.com") for n in ("busy", "idle"))
    for at in minutes_ago(5, 10, 26 * 60):
        PostingAttempt.objects.create(account=busy, at=at)

    with django_assert_num_queries(1):
        standings = budgets.standings([busy, idle], now=NOW)

    assert (standings[busy.pk].last_24h, standings[busy.pk].can_post_at) == (2, NOW + timedelta(minutes=50))
    assert (standings[idle.pk].last_24h, standings[idle.pk].can_post_at) == (0, None)


@pytest.mark.django_db
def test_recording_an_attempt_prunes_the_accounts_attempts_older_than_two_days(operator):
    mine = FacebookAccount.objects.create(owner=operator, email="mine@example.com")
    other = FacebookAccount.objects.create(owner=operator, email="other@example.com")
    PostingAttempt.objects.create(account=mine, at=NOW - timedelta(days=3))
    PostingAttempt.objects.create(account=mine, at=NOW - timedelta(hours=30))
    PostingAttempt.objects.create(account=other, at=NOW - timedelta(days=3))

    budgets.attempt_record(account_id=mine.pk, at=NOW)

    assert sorted(PostingAttempt.objects.filter(account=mine).values_list("at", flat=True)) == [
        NOW - timedelta(hours=30), NOW,
    ]
    assert PostingAttempt.objects.filter(account=other).count() == 1  # another account's are its own business
