"""Claiming posts and starting jobs from several processes at once, on this run's database.

Eight claimer processes, each a Django of its own with its own connection, wait on one line of
stdin, so that they ask at the same moment: create a job for a set of post ids (overlapping the
others' sets), then begin it as its worker would. Whatever the interleaving, every post must be
taken by exactly one job, and no two running jobs may share an account. `.ci/run` runs this on
SQLite and on PostgreSQL.
"""
import json
import os
import subprocess
import sys
from itertools import combinations

import pytest
from django.conf import settings

from conftest import database_url
from postings.models import MarketplacePost, PostingJob
from postings.tests.factories import AccountFactory, PostFactory

pytestmark = pytest.mark.django_db(transaction=True)

CLAIMERS = 8
ROUNDS = 4
ACCOUNTS, POSTS_PER_ACCOUNT = 3, 4

CLAIMER = """
import json, os, sys
import django
django.setup()
from django.contrib.auth import get_user_model
from django.db import connection
from postings import services

owner = get_user_model().objects.get(pk=int(sys.argv[1]))
connection.ensure_connection()
print("ready", flush=True)
for line in sys.stdin:  # one round per line: the post ids to ask for, or null for "all pending"
    try:
        job, _ = services.posting_job_create(owner=owner, post_ids=json.loads(line))
    except services.NothingToPost:
        print(json.dumps({"job": None}), flush=True)
        continue
    began = services.job_begin(job=job, pid=os.getpid())
    print(json.dumps({"job": job.pk, "taken": job.total_posts, "began": began}), flush=True)
"""


@pytest.fixture
def claimers(operator):
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "config.settings"}
    processes = [
        subprocess.Popen([sys.executable, "-c", CLAIMER, str(operator.pk)], cwd=settings.BASE_DIR, env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(CLAIMERS)
    ]
    for process in processes:
        assert process.stdout.readline().strip() == "ready"
    yield processes
    for process in processes:
        process.stdin.close()
        process.wait(timeout=30)


def ask_all_at_once(claimers, asks: list) -> list[dict]:
    """Send every claimer its ask, then read the answers: the writes go out before any reading."""
    for process, ask in zip(claimers, asks):
        process.stdin.write(json.dumps(ask) + "\n")
    for process in claimers:
        process.stdin.flush()
    return [json.loads(process.stdout.readline()) for process in claimers]


def test_concurrent_claimers_take_each_post_once_and_never_share_an_account(claimers, operator):
    for round_number in range(ROUNDS):
        accounts = [AccountFactory(owner=operator) for _ in range(ACCOUNTS)]
        posts = [PostFactory(account=account).pk for account in accounts for _ in range(POSTS_PER_ACCOUNT)]
        # Overlapping windows of 5 posts (spanning two accounts), and two claimers asking for "all pending".
        asks = [[posts[(start + i) % len(posts)] for i in range(5)] for start in range(0, 2 * (CLAIMERS - 2), 2)]
        asks += [None, None]

        answers = ask_all_at_once(claimers, asks)

        jobs = {a["job"]: a for a in answers if a["job"] is not None}
        claimed = dict(MarketplacePost.objects.filter(pk__in=posts).values_list("pk", "claimed_by"))
        assert None not in claimed.values(), f"round {round_number}: a post nobody took"
        assert set(claimed.values()) <= set(jobs)
        assert sum(a["taken"] for a in jobs.values()) == len(posts)  # each post taken exactly once
        for job_id, answer in jobs.items():
            held = {pk for pk, holder in claimed.items() if holder == job_id}
            assert len(held) == answer["taken"]
            assert set(PostingJob.objects.get(pk=job_id).posts.values_list("pk", flat=True)) == held

        accounts_of = {
            job_id: set(MarketplacePost.objects.filter(claimed_by=job_id).values_list("account_id", flat=True))
            for job_id in jobs
        }
        status = dict(PostingJob.objects.filter(pk__in=jobs).values_list("pk", "status"))
        running = [job_id for job_id in jobs if status[job_id] == "running"]
        assert running, f"round {round_number}: no job started"
        assert all(status[job_id] == ("running" if jobs[job_id]["began"] else "queued") for job_id in jobs)
        for one, other in combinations(running, 2):
            assert not accounts_of[one] & accounts_of[other], f"round {round_number}: two running jobs share an account"
        for job_id in set(jobs) - set(running):  # a job waits only for an account a running job holds
            assert any(accounts_of[job_id] & accounts_of[other] for other in running)
            assert PostingJob.objects.get(pk=job_id).status_message.startswith("Waiting for another job")
