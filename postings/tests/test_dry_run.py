"""Dry runs: start-posting's `dry_run`, the services that record a dry run, and its previews' endpoints.

The worker is not started here (posting_job_launch is replaced by one that only records the job):
what a dry run does in the browser is the engine's to test; what it leaves in the database is here.
"""
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from conftest import image_bytes
from postings import services, worker
from postings.models import ErrorLog, MarketplacePost, PostingJob, PostingPreview
from postings.services import Evidence
from postings.tests.factories import AccountFactory, PostFactory

pytestmark = pytest.mark.django_db

START_URL = "/api/posts/start-posting/"
PNG = image_bytes(color=(20, 120, 200))
SNAPSHOT = '- heading "Item for sale" [level=1]\n- button "Publish"\n- text: "<script>alert(1)</script>"\n'
PAGE_URL = "http://sim/marketplace/create/item"


@pytest.fixture
def launched(monkeypatch, settings):
    """posting_job_launch without a worker: the jobs it was given, each with its log file set."""
    jobs = []

    def launch(*, job):
        log_file = Path(settings.LOG_DIR) / f"job_{job.job_id}.log"
        PostingJob.objects.filter(pk=job.pk).update(pid=None, log_file=str(log_file))
        job.refresh_from_db()
        jobs.append(job)
        return job

    monkeypatch.setattr(services, "posting_job_launch", launch)
    return jobs


@pytest.fixture
def account(operator):
    return AccountFactory(owner=operator)


def preview_evidence(**fields) -> Evidence:
    return Evidence(**{"page_url": PAGE_URL, "screenshot_png": PNG, "aria_snapshot": SNAPSHOT, **fields})


def claimed_dry_run(operator, *posts) -> PostingJob:
    job, _ = services.posting_job_create(owner=operator, post_ids=[post.pk for post in posts], dry_run=True)
    return job


def begun(job, post) -> MarketplacePost:
    """The post as the worker holds it once it has begun with it (status `posting`)."""
    return services.post_begin(job=job, post_id=post.pk)


def cookie_client(user) -> APIClient:
    client = APIClient()
    client.cookies["mp_access"] = str(RefreshToken.for_user(user).access_token)
    return client


# start-posting


def test_a_dry_run_starts_with_the_seed_answer_saying_nothing_will_be_published(api, launched, settings, account):
    first, second = PostFactory(account=account), PostFactory(account=account)
    PostFactory(account=account)  # pending, but not asked for

    response = api.post(START_URL, {"post_ids": [first.pk, second.pk], "dry_run": True}, format="json")

    assert response.status_code == HTTPStatus.ACCEPTED
    [job] = launched
    assert response.json() == {
        "success": True,
        "message": "Started a dry run for 2 pending post(s): nothing will be published",
        "job_id": str(job.job_id),
        "pending_count": 2,
        "total_selected": 2,
        "log_file": str(Path(settings.LOG_DIR) / f"job_{job.job_id}.log"),
        "status_stream_url": f"/api/posts/status-stream/{job.job_id}/",
        "dry_run": True,
        "start_at": None,
    }
    assert job.dry_run is True
    assert sorted(job.posts.values_list("pk", flat=True)) == [first.pk, second.pk]


def test_dry_run_alone_takes_every_pending_post(api, launched, account):
    PostFactory(account=account), PostFactory(account=account)
    PostFactory(account=account, status=MarketplacePost.Status.POSTED)

    body = api.post(START_URL, {"dry_run": True}, format="json").json()

    assert (body["pending_count"], body["total_selected"], body["dry_run"]) == (2, 2, True)
    assert body["message"] == "Started a dry run for 2 pending post(s): nothing will be published"
    assert PostingJob.objects.get().dry_run is True


@pytest.mark.parametrize("body", [{}, {"dry_run": False}], ids=["left out", "false"])
def test_without_dry_run_the_job_is_a_real_run_and_says_so(api, launched, account, body):
    PostFactory(account=account)

    response = api.post(START_URL, body, format="json")

    assert response.status_code == HTTPStatus.ACCEPTED
    assert (response.json()["dry_run"], response.json()["message"]) == (
        False, "Started posting process for 1 pending post(s)",
    )
    assert PostingJob.objects.get().dry_run is False


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, None, [], {"on": True}])
def test_a_dry_run_flag_that_is_not_a_boolean_is_a_400_and_starts_nothing(api, launched, account, value):
    post = PostFactory(account=account)

    response = api.post(START_URL, {"post_ids": [post.pk], "dry_run": value}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()) == ["dry_run"]
    assert not PostingJob.objects.exists() and not launched
    post.refresh_from_db()
    assert (post.status, post.claimed_by) == (MarketplacePost.Status.PENDING, None)


def test_a_form_posted_dry_run_flag_reads_true_as_true(api, launched, account):
    post = PostFactory(account=account)

    response = api.post(START_URL, {"post_ids": [post.pk], "dry_run": "true"}, format="multipart")

    assert response.status_code == HTTPStatus.ACCEPTED, response.json()
    assert PostingJob.objects.get().dry_run is True


def test_a_retry_is_never_a_dry_run(api, launched, operator, account):
    post = PostFactory(account=account)
    job = claimed_dry_run(operator, post)
    services.job_finish(job=job, status=PostingJob.Status.COMPLETED)
    MarketplacePost.objects.filter(pk=post.pk).update(status=MarketplacePost.Status.FAILED)

    response = api.post(f"/api/posts/{post.pk}/retry/", {"dry_run": True}, format="json")

    assert response.status_code == HTTPStatus.ACCEPTED
    assert (response.json()["dry_run"], response.json()["message"]) == (
        False, "Started posting process for 1 pending post(s)",
    )
    assert launched[-1].dry_run is False


# The job's status


def test_job_status_and_the_jobs_list_say_whether_a_job_is_a_dry_run_and_where_its_previews_are(api, operator):
    real = PostingJob.objects.create(owner=operator, status=PostingJob.Status.RUNNING, total_posts=2)
    dry = PostingJob.objects.create(owner=operator, status=PostingJob.Status.RUNNING, total_posts=3, dry_run=True)

    statuses = {
        job.pk: api.get(f"/api/posts/job-status/{job.job_id}/").json() for job in (real, dry)
    }
    listed = {item["id"]: item for item in api.get("/api/posts/jobs/").json()["results"]}

    for job, expected in ((real, (False, None)), (dry, (True, f"/api/posts/jobs/{dry.job_id}/previews/"))):
        assert (statuses[job.pk]["dry_run"], statuses[job.pk]["previews_url"]) == expected
        assert (listed[job.pk]["dry_run"], listed[job.pk]["previews_url"]) == expected
    assert list(statuses[dry.pk])[-4:-2] == ["dry_run", "previews_url"]


def test_the_status_streams_events_carry_the_dry_run_flag(operator):
    from postings.streams import job_state

    job = PostingJob.objects.create(owner=operator, dry_run=True)

    state = job_state(job)

    assert (state["dry_run"], state["previews_url"]) == (True, f"/api/posts/jobs/{job.job_id}/previews/")


# post_preview_record


def test_a_preview_is_recorded_and_the_post_goes_back_to_pending_as_it_was(operator, account, settings):
    post = PostFactory(account=account, status=MarketplacePost.Status.PENDING, error_message="Earlier CAPTCHA",
                       retry_count=2)
    job = claimed_dry_run(operator, post)
    post = begun(job, post)
    before = timezone.now()

    preview = services.post_preview_record(job=job, post=post, evidence=preview_evidence())

    stored = PostingPreview.objects.get()
    assert stored.pk == preview.pk
    assert (stored.job, stored.post, stored.page_url, stored.page_snapshot) == (job, post, PAGE_URL, SNAPSHOT)
    path = Path(settings.MEDIA_ROOT) / stored.screenshot.name
    assert path.parent == Path(settings.MEDIA_ROOT) / "dry_run_screenshots"
    assert path.suffix == ".png" and path.read_bytes() == PNG
    post.refresh_from_db()
    assert (post.status, post.claimed_by, post.error_message, post.retry_count, post.listing_url, post.posted_at) == (
        MarketplacePost.Status.PENDING, None, "Earlier CAPTCHA", 2, "", None,
    )
    job.refresh_from_db()
    assert (job.completed_posts, job.failed_posts) == (1, 0)
    assert job.heartbeat_at >= before and job.updated_at >= before


def test_a_preview_screenshot_that_cannot_be_written_keeps_the_preview_without_it(
    monkeypatch, settings, operator, account, caplog
):
    post = PostFactory(account=account)
    job = claimed_dry_run(operator, post)
    post = begun(job, post)

    def disk_full(self, name, content):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(FileSystemStorage, "_save", disk_full)

    services.post_preview_record(job=job, post=post, evidence=preview_evidence())

    stored = PostingPreview.objects.get()
    assert not stored.screenshot
    assert (stored.page_url, stored.page_snapshot) == (PAGE_URL, SNAPSHOT)
    assert "screenshot of a dry run could not be written" in caplog.text
    post.refresh_from_db()
    assert (post.status, post.claimed_by) == (MarketplacePost.Status.PENDING, None)
    job.refresh_from_db()
    assert job.completed_posts == 1
    folder = Path(settings.MEDIA_ROOT) / "dry_run_screenshots"
    assert not folder.exists() or not any(folder.iterdir())


def test_a_preview_row_that_cannot_be_saved_leaves_no_screenshot_behind(monkeypatch, settings, operator, account):
    post = PostFactory(account=account)
    job = claimed_dry_run(operator, post)

    def database_gone(self, *args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(PostingPreview, "save", database_gone)

    with pytest.raises(RuntimeError):
        services.post_preview_record(job=job, post=begun(job, post), evidence=preview_evidence())

    folder = Path(settings.MEDIA_ROOT) / "dry_run_screenshots"
    assert not folder.exists() or not any(folder.iterdir())


def test_a_preview_without_any_evidence_is_still_recorded_and_counted(operator, account):
    post = PostFactory(account=account)
    job = claimed_dry_run(operator, post)

    services.post_preview_record(job=job, post=begun(job, post), evidence=Evidence())

    stored = PostingPreview.objects.get()
    assert (bool(stored.screenshot), stored.page_snapshot, stored.page_url) == (False, "", "")
    job.refresh_from_db()
    assert job.completed_posts == 1


# post_mark_failed and the reaper on a dry run


def test_a_failure_in_a_dry_run_is_logged_and_counted_but_the_post_stays_pending_as_it_was(operator, account):
    post = PostFactory(account=account, error_message="", retry_count=1)
    job = claimed_dry_run(operator, post)
    post = begun(job, post)

    log = services.post_mark_failed(
        job=job, post=post, error_type=ErrorLog.ErrorType.LAYOUT_CHANGED, message="No 'Title' field on the page",
        evidence=Evidence(page_url=PAGE_URL, screenshot_png=PNG, aria_snapshot=SNAPSHOT),
    )

    assert ErrorLog.objects.get() == log
    assert (log.job, log.post, log.error_type, log.page_snapshot) == (job, post, "layout_changed", SNAPSHOT)
    post.refresh_from_db()
    assert (post.status, post.claimed_by, post.error_message, post.retry_count) == (
        MarketplacePost.Status.PENDING, None, "", 1,
    )
    job.refresh_from_db()
    assert (job.completed_posts, job.failed_posts) == (0, 1)


def test_a_failure_in_a_real_run_still_fails_the_post(operator, account):
    post = PostFactory(account=account)
    job, _ = services.posting_job_create(owner=operator, post_ids=[post.pk])

    services.post_mark_failed(job=job, post=begun(job, post), error_type="captcha", message="CAPTCHA")

    post.refresh_from_db()
    assert (post.status, post.error_message, post.retry_count) == (MarketplacePost.Status.FAILED, "CAPTCHA", 1)


@pytest.mark.parametrize(
    ("dry_run", "in_flight_after", "unknown_logs"),
    [(True, MarketplacePost.Status.PENDING, 0), (False, MarketplacePost.Status.FAILED, 1)],
    ids=["dry run: back to pending", "real run: failed as unknown"],
)
def test_reaping_a_job_whose_worker_died_leaves_a_dry_runs_in_flight_post_pending(
    settings, operator, account, dry_run, in_flight_after, unknown_logs
):
    in_flight, untouched = PostFactory(account=account), PostFactory(account=account)
    job, _ = services.posting_job_create(owner=operator, post_ids=[in_flight.pk, untouched.pk], dry_run=dry_run)
    begun(job, in_flight)
    PostingJob.objects.filter(pk=job.pk).update(status=PostingJob.Status.RUNNING, pid=2**22 + 1)
    job.refresh_from_db()
    settings.JOB_STALE_SECONDS = 0.001

    assert services.job_reap_if_stale(job=job, now=timezone.now() + timedelta(seconds=1))

    job.refresh_from_db()
    assert (job.status, job.error_message) == (PostingJob.Status.FAILED, "Worker stopped unexpectedly")
    in_flight.refresh_from_db()
    assert (in_flight.status, in_flight.claimed_by) == (in_flight_after, None)
    assert ErrorLog.objects.filter(post=in_flight, error_type="unknown").count() == unknown_logs
    untouched.refresh_from_db()
    assert (untouched.status, untouched.claimed_by) == (MarketplacePost.Status.PENDING, None)


def test_a_dry_run_that_fails_leaves_its_in_flight_post_pending(operator, account):
    post = PostFactory(account=account)
    job = claimed_dry_run(operator, post)
    begun(job, post)

    services.job_finish(job=job, status=PostingJob.Status.FAILED, error_message="Chromium crashed")

    post.refresh_from_db()
    assert (post.status, post.claimed_by, post.retry_count) == (MarketplacePost.Status.PENDING, None, 0)
    assert not ErrorLog.objects.exists()


# The previews' endpoints


@pytest.fixture
def previewed(operator, account):
    """A dry run over two posts: one previewed with everything, one with neither screenshot nor snapshot."""
    full, bare = PostFactory(account=account, title="Oak desk"), PostFactory(account=account, title="Pine shelf")
    job = claimed_dry_run(operator, full, bare)
    first = services.post_preview_record(job=job, post=begun(job, full), evidence=preview_evidence())
    second = services.post_preview_record(job=job, post=begun(job, bare), evidence=Evidence(page_url=PAGE_URL))
    return {"job": job, "full": first, "bare": second}


def previews_url(job) -> str:
    return f"/api/posts/jobs/{job.job_id}/previews/"


def screenshot_url(preview) -> str:
    return f"/api/posts/previews/{preview.pk}/screenshot/"


def snapshot_url(preview) -> str:
    return f"/api/posts/previews/{preview.pk}/snapshot/"


def test_a_dry_runs_previews_are_listed_whole_in_the_order_they_were_taken(api, previewed):
    full, bare = previewed["full"], previewed["bare"]

    response = api.get(previews_url(previewed["job"]))

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert [parse_datetime(item.pop("created_at")) for item in body["previews"]] == [full.created_at, bare.created_at]
    assert body == {
        "count": 2,
        "previews": [
            {"id": full.pk, "post": full.post_id, "post_title": "Oak desk", "page_url": PAGE_URL,
             "screenshot": screenshot_url(full), "page_snapshot": snapshot_url(full)},
            {"id": bare.pk, "post": bare.post_id, "post_title": "Pine shelf", "page_url": PAGE_URL,
             "screenshot": None, "page_snapshot": None},
        ],
    }


def test_a_real_run_has_no_previews(api, operator):
    job = PostingJob.objects.create(owner=operator)

    assert api.get(previews_url(job)).json() == {"count": 0, "previews": []}


def test_another_operators_or_an_unknown_jobs_previews_are_404(other_api, api, previewed):
    assert other_api.get(previews_url(previewed["job"])).status_code == HTTPStatus.NOT_FOUND
    unknown = api.get("/api/posts/jobs/00000000-0000-0000-0000-000000000000/previews/")
    assert unknown.status_code == HTTPStatus.NOT_FOUND


def test_the_owner_gets_the_preview_screenshot_png_also_from_an_img_with_the_cookie(api, operator, previewed):
    for client in (api, cookie_client(operator)):
        response = client.get(screenshot_url(previewed["full"]), HTTP_ACCEPT="image/avif,image/webp,image/*,*/*;q=0.8")

        assert response.status_code == HTTPStatus.OK
        assert response["Content-Type"] == "image/png"
        assert response.content == PNG


def test_the_preview_snapshot_is_sandboxed_plain_text_with_exactly_what_was_captured(operator, previewed):
    response = cookie_client(operator).get(snapshot_url(previewed["full"]), HTTP_ACCEPT="text/html,*/*;q=0.8")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response.content.decode() == SNAPSHOT


@pytest.mark.parametrize("url", [screenshot_url, snapshot_url], ids=["screenshot", "snapshot"])
def test_a_preview_without_that_evidence_is_404(api, previewed, url):
    assert api.get(url(previewed["bare"])).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("url", [screenshot_url, snapshot_url], ids=["screenshot", "snapshot"])
def test_another_operator_gets_404_for_a_previews_files_as_for_an_unknown_one(
    other_api, other_operator, previewed, url
):
    preview = previewed["full"]
    unknown = PostingPreview(pk=preview.pk + 1000)

    for client in (other_api, cookie_client(other_operator)):
        response = client.get(url(preview), HTTP_ACCEPT="image/*")
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert (response.status_code, response.content) == (
            client.get(url(unknown)).status_code, client.get(url(unknown)).content,
        )
        assert PNG not in response.content and b"Publish" not in response.content


@pytest.mark.parametrize("url", [lambda p: previews_url(p.job), screenshot_url, snapshot_url])
def test_without_credentials_the_preview_endpoints_are_401(previewed, url):
    assert APIClient().get(url(previewed["full"])).status_code == HTTPStatus.UNAUTHORIZED


def test_preview_screenshots_are_not_served_from_media(settings, operator, previewed):
    name = previewed["full"].screenshot.name
    assert (Path(settings.MEDIA_ROOT) / name).is_file()

    response = cookie_client(operator).get(f"{settings.MEDIA_URL}{name}")

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_deleting_a_listing_deletes_its_previews_and_their_screenshots(
    api, settings, previewed, django_capture_on_commit_callbacks
):
    preview = previewed["full"]
    path = Path(settings.MEDIA_ROOT) / preview.screenshot.name

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/posts/{preview.post_id}/").status_code == HTTPStatus.NO_CONTENT

    assert not PostingPreview.objects.filter(pk=preview.pk).exists()
    assert not path.exists()


def test_deleting_a_job_deletes_its_previews_screenshots_once_committed(
    settings, previewed, django_capture_on_commit_callbacks
):
    path = Path(settings.MEDIA_ROOT) / previewed["full"].screenshot.name

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        PostingJob.objects.filter(pk=previewed["job"].pk).delete()
    assert path.exists()  # not before the transaction commits
    for callback in callbacks:
        callback()

    assert not PostingPreview.objects.exists()
    assert not path.exists()


def test_the_schema_documents_the_dry_run_and_its_previews(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    components, paths = schema["components"]["schemas"], schema["paths"]

    assert components["StartPostingRequest"]["properties"]["dry_run"]["type"] == "boolean"
    assert components["StartPostingResponse"]["properties"]["dry_run"]["type"] == "boolean"
    assert {"dry_run", "previews_url"} <= set(components["Job"]["properties"])
    assert set(components["Preview"]["properties"]) == {
        "id", "post", "post_title", "page_url", "screenshot", "page_snapshot", "created_at",
    }
    previews = paths["/api/posts/jobs/{job_id}/previews/"]["get"]["responses"]
    assert previews["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/PreviewList"}
    assert set(previews) >= {"200", "401", "404"}
    assert list(paths["/api/posts/previews/{id}/screenshot/"]["get"]["responses"]["200"]["content"]) == ["image/png"]
    assert list(paths["/api/posts/previews/{id}/snapshot/"]["get"]["responses"]["200"]["content"]) == ["text/plain"]


# The command line


@pytest.fixture
def run_job(monkeypatch):
    """worker.run_job that ends the job at once, as completed with every post done."""
    ran = []

    def run(*, job_id, progress=None):
        job = PostingJob.objects.get(job_id=job_id)
        PostingJob.objects.filter(pk=job.pk).update(
            status=PostingJob.Status.COMPLETED, completed_posts=job.total_posts, completed_at=timezone.now()
        )
        job.refresh_from_db()
        ran.append(job)
        return job

    monkeypatch.setattr(worker, "run_job", run)
    return ran


@pytest.mark.parametrize("which", [["--post-ids", "{pk}"], ["--all-pending"]], ids=["post-ids", "all-pending"])
def test_the_command_creates_a_dry_run_with_dry_run_and_says_so(run_job, account, capsys, which):
    post = PostFactory(account=account)

    with pytest.raises(SystemExit) as exited:
        call_command("post_to_marketplace", *[arg.format(pk=post.pk) for arg in which], "--dry-run")

    assert exited.value.code == 0
    [job] = run_job
    assert job.dry_run is True
    out = capsys.readouterr().out
    assert f"Job {job.job_id}: 1 post(s) - a dry run: nothing will be published" in out
    assert "Job completed: 1 previewed (dry run, nothing published), 0 failed of 1" in out


def test_the_command_without_dry_run_creates_a_real_run(run_job, account, capsys):
    post = PostFactory(account=account)

    with pytest.raises(SystemExit):
        call_command("post_to_marketplace", "--post-ids", str(post.pk))

    assert run_job[0].dry_run is False
    assert "dry run" not in capsys.readouterr().out


def test_with_a_job_id_the_jobs_own_flag_decides(run_job, operator, account, capsys):
    post = PostFactory(account=account)
    real, _ = services.posting_job_create(owner=operator, post_ids=[post.pk])

    with pytest.raises(SystemExit):
        call_command("post_to_marketplace", "--job-id", str(real.job_id), "--dry-run")

    real.refresh_from_db()
    assert real.dry_run is False
    captured = capsys.readouterr()
    assert "--dry-run is ignored" in captured.err
    assert "dry run: nothing will be published" not in captured.out
