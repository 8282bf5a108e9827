"""/api/posts/error-logs/ and its screenshot, page, snapshot and trace endpoints: seed section 2, the
failures of posting."""
import io
import zipfile
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from conftest import image_bytes
from postings import services
from postings.models import ErrorLog, MarketplacePost, PostingJob
from postings.serializers import error_page_name
from postings.services import Evidence
from postings.tests.factories import AccountFactory, PostFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/posts/error-logs/"
PNG = image_bytes()
HTML = "<html><script>alert(1)</script></html>"
PAGE_URL = "http://x/marketplace/create/item"
TRACEBACK = 'Traceback (most recent call last):\n  File "engine.py", line 1\nCaptchaRequired: checkpoint'
SNAPSHOT = '- heading "Security check" [level=1]\n- text: "<img src=x onerror=alert(1)>"\n- button "Continue"\n'


def trace_zip() -> bytes:
    """A small zip shaped like a Playwright trace."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("trace.trace", '{"type": "context-options"}\n')
        archive.writestr("trace.network", "")
    return buffer.getvalue()


TRACE = trace_zip()


def screenshot_url(log) -> str:
    return f"/api/posts/error-logs/{log.pk}/screenshot/"


def page_url(log) -> str:
    return f"/api/posts/error-logs/{log.pk}/page/"


def snapshot_url(log) -> str:
    return f"/api/posts/error-logs/{log.pk}/snapshot/"


def trace_url(log) -> str:
    return f"/api/posts/error-logs/{log.pk}/trace/"


def evidence() -> Evidence:
    return Evidence(page_url=PAGE_URL, screenshot_png=PNG, html=HTML, aria_snapshot=SNAPSHOT, trace_zip=TRACE)


def fail(post=None, job=None, *, error_type=ErrorLog.ErrorType.CAPTCHA, message="Facebook asked for a CAPTCHA",
         with_evidence=True) -> ErrorLog:
    """A failure recorded the way the posting engine records it."""
    return services.post_mark_failed(
        job=job, post=post, error_type=error_type, message=message, stack_trace=TRACEBACK,
        evidence=evidence() if with_evidence else None,
    )


def listed_ids(response) -> list[int]:
    return [item["id"] for item in response.json()["error_logs"]]


def cookie_client(user) -> APIClient:
    """A browser's <img>: only the access cookie, no Authorization header."""
    client = APIClient()
    client.cookies["mp_access"] = str(RefreshToken.for_user(user).access_token)
    return client


@pytest.fixture
def account(operator):
    return AccountFactory(owner=operator)


@pytest.fixture
def post(account):
    return PostFactory(account=account, title="iPhone 13 Pro")


@pytest.fixture
def job(operator):
    return PostingJob.objects.create(owner=operator, status=PostingJob.Status.RUNNING)


@pytest.fixture
def log(post, job):
    return fail(post, job)


# The answer's shape


def test_a_failure_with_evidence_is_listed_whole_with_links_to_its_screenshot_page_snapshot_and_trace(
    api, post, job, account
):
    log = fail(post, job)

    response = api.get(LIST_URL)

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert parse_datetime(body["error_logs"][0].pop("created_at")) == log.created_at
    assert body == {
        "count": 1,
        "error_logs": [
            {
                "id": log.pk,
                "post": post.pk,
                "post_title": "iPhone 13 Pro",
                "error_type": "captcha",
                "error_message": "Facebook asked for a CAPTCHA",
                "stack_trace": TRACEBACK,
                "screenshot": screenshot_url(log),
                "page_url": PAGE_URL,
                "job_id": str(job.job_id),
                "account_id": account.pk,
                "page_html": page_url(log),
                "page_snapshot": snapshot_url(log),
                "trace": trace_url(log),
            }
        ],
    }


def test_a_failure_without_evidence_has_null_screenshot_and_page_links(api, post, job, account):
    log = fail(post, job, error_type=ErrorLog.ErrorType.NETWORK_ERROR, message="net::ERR_CONNECTION_RESET",
               with_evidence=False)

    body = api.get(LIST_URL).json()

    assert parse_datetime(body["error_logs"][0].pop("created_at")) == log.created_at
    assert body == {
        "count": 1,
        "error_logs": [
            {
                "id": log.pk,
                "post": post.pk,
                "post_title": "iPhone 13 Pro",
                "error_type": "network_error",
                "error_message": "net::ERR_CONNECTION_RESET",
                "stack_trace": TRACEBACK,
                "screenshot": None,
                "page_url": "",
                "job_id": str(job.job_id),
                "account_id": account.pk,
                "page_html": None,
                "page_snapshot": None,
                "trace": None,
            }
        ],
    }


def test_a_job_level_failure_has_no_post_no_title_and_no_account(api, job):
    log = services.post_mark_failed(
        job=job, post=None, error_type=ErrorLog.ErrorType.UNKNOWN, message="The browser would not start"
    )

    body = api.get(LIST_URL).json()

    assert parse_datetime(body["error_logs"][0].pop("created_at")) == log.created_at
    assert body == {
        "count": 1,
        "error_logs": [
            {
                "id": log.pk,
                "post": None,
                "post_title": None,
                "error_type": "unknown",
                "error_message": "The browser would not start",
                "stack_trace": "",
                "screenshot": None,
                "page_url": "",
                "job_id": str(job.job_id),
                "account_id": None,
                "page_html": None,
                "page_snapshot": None,
                "trace": None,
            }
        ],
    }


def test_a_failure_outside_any_job_has_a_null_job_id(api, post):
    fail(post, None, with_evidence=False)

    [item] = api.get(LIST_URL).json()["error_logs"]

    assert item["job_id"] is None
    assert item["post"] == post.pk


def test_a_screenshot_captured_without_html_offers_no_page_link(api, post, job):
    # Every link the listing gives must lead somewhere: no HTML was captured, so no page link.
    log = services.post_mark_failed(
        job=job, post=post, error_type=ErrorLog.ErrorType.TIMEOUT, message="Publish did not come",
        evidence=Evidence(page_url=PAGE_URL, screenshot_png=PNG, html=None),
    )

    [item] = api.get(LIST_URL).json()["error_logs"]

    assert item["screenshot"] == screenshot_url(log)
    assert item["page_html"] is None, (
        f"page_html links to {item['page_html']}, which answers {api.get(page_url(log)).status_code}"
    )


# Order, count, limit and filters


def test_logs_are_listed_newest_first_by_creation_time(api, operator):
    first, second, third = (
        ErrorLog.objects.create(owner=operator, error_type=ErrorLog.ErrorType.UNKNOWN, error_message=str(n))
        for n in range(3)
    )
    now = timezone.now()
    # Creation times in an order that differs from the ids', so that ordering by id would show.
    ErrorLog.objects.filter(pk=first.pk).update(created_at=now - timedelta(minutes=1))
    ErrorLog.objects.filter(pk=second.pk).update(created_at=now - timedelta(minutes=3))
    ErrorLog.objects.filter(pk=third.pk).update(created_at=now - timedelta(minutes=2))

    response = api.get(LIST_URL)

    assert listed_ids(response) == [first.pk, third.pk, second.pk]


def _bulk_logs(owner, count: int) -> list[ErrorLog]:
    ErrorLog.objects.bulk_create(
        ErrorLog(owner=owner, error_type=ErrorLog.ErrorType.RATE_LIMIT, error_message=f"slow down {n}")
        for n in range(count)
    )
    return list(ErrorLog.objects.filter(owner=owner).order_by("-created_at", "-id"))


def test_the_default_limit_is_50_and_count_still_counts_all_matching_logs(api, operator):
    newest_first = _bulk_logs(operator, 55)

    response = api.get(LIST_URL)

    assert response.status_code == HTTPStatus.OK
    assert response.json()["count"] == 55
    assert listed_ids(response) == [log.pk for log in newest_first[:50]]


def test_a_limit_cuts_the_list_to_the_newest_but_not_the_count(api, operator):
    newest_first = _bulk_logs(operator, 55)

    response = api.get(LIST_URL, {"limit": 3})

    assert response.json()["count"] == 55
    assert listed_ids(response) == [log.pk for log in newest_first[:3]]


def test_a_limit_of_500_is_allowed(api, operator):
    newest_first = _bulk_logs(operator, 55)

    response = api.get(LIST_URL, {"limit": 500})

    assert response.status_code == HTTPStatus.OK
    assert response.json()["count"] == 55
    assert listed_ids(response) == [log.pk for log in newest_first]


@pytest.fixture
def matrix(operator):
    """Four logs over two accounts, two posts, two jobs and three error types; newest last."""
    account_a, account_b = AccountFactory(owner=operator), AccountFactory(owner=operator)
    post_a, post_b = PostFactory(account=account_a), PostFactory(account=account_b)
    job_1 = PostingJob.objects.create(owner=operator, status=PostingJob.Status.RUNNING)
    job_2 = PostingJob.objects.create(owner=operator, status=PostingJob.Status.RUNNING)
    Type = ErrorLog.ErrorType
    logs = {
        "a1_captcha": fail(post_a, job_1, error_type=Type.CAPTCHA, with_evidence=False),
        "a2_network": fail(post_a, job_2, error_type=Type.NETWORK_ERROR, with_evidence=False),
        "b1_captcha": fail(post_b, job_1, error_type=Type.CAPTCHA, with_evidence=False),
        "job2_timeout": fail(None, job_2, error_type=Type.TIMEOUT, with_evidence=False),
    }
    return {
        "post_a": post_a.pk, "account_a": account_a.pk, "account_b": account_b.pk,
        "job_1": str(job_1.job_id), "job_2": str(job_2.job_id),
        "logs": {name: log.pk for name, log in logs.items()},
    }


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["job2_timeout", "b1_captcha", "a2_network", "a1_captcha"]),
        ({"post_id": "post_a"}, ["a2_network", "a1_captcha"]),
        ({"error_type": "captcha"}, ["b1_captcha", "a1_captcha"]),
        ({"job_id": "job_1"}, ["b1_captcha", "a1_captcha"]),
        ({"job_id": "job_2"}, ["job2_timeout", "a2_network"]),
        ({"account_id": "account_a"}, ["a2_network", "a1_captcha"]),
        ({"account_id": "account_b"}, ["b1_captcha"]),
        ({"post_id": "post_a", "error_type": "captcha"}, ["a1_captcha"]),
        ({"job_id": "job_2", "error_type": "timeout"}, ["job2_timeout"]),
        ({"account_id": "account_a", "job_id": "job_2"}, ["a2_network"]),
        ({"account_id": "account_b", "error_type": "network_error"}, []),
    ],
)
def test_each_filter_narrows_the_list_and_they_combine(api, matrix, filters, expected):
    # Values naming a fixture object ("post_a", "job_1") are replaced by its id; others are sent as they are.
    params = {name: matrix.get(value, value) for name, value in filters.items()}

    response = api.get(LIST_URL, params)

    assert response.status_code == HTTPStatus.OK
    assert response.json()["count"] == len(expected)
    assert listed_ids(response) == [matrix["logs"][name] for name in expected]


def test_the_limit_applies_after_the_filters(api, matrix):
    response = api.get(LIST_URL, {"error_type": "captcha", "limit": 1})

    assert response.json()["count"] == 2
    assert listed_ids(response) == [matrix["logs"]["b1_captcha"]]


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("post_id", "abc"),
        ("post_id", "-1"),
        ("post_id", "0"),
        ("post_id", "99999999999999999999999"),
        ("error_type", "bogus"),
        ("job_id", "not-a-uuid"),
        ("account_id", "x"),
        ("account_id", "99999999999999999999999"),
        ("limit", "0"),
        ("limit", "-5"),
        ("limit", "501"),
        ("limit", "abc"),
    ],
)
def test_a_bad_filter_value_is_a_400_naming_the_parameter(api, log, parameter, value):
    response = api.get(LIST_URL, {parameter: value})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()) == [parameter]


# Each operator sees only their own


def test_another_operators_list_is_empty(other_api, log):
    response = other_api.get(LIST_URL)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"count": 0, "error_logs": []}


def test_each_operator_lists_only_their_own_logs(api, other_api, other_operator, log):
    foreign_post = PostFactory(account=AccountFactory(owner=other_operator))
    foreign_log = fail(foreign_post, None, with_evidence=False)

    mine, theirs = api.get(LIST_URL).json(), other_api.get(LIST_URL).json()

    assert (mine["count"], [item["id"] for item in mine["error_logs"]]) == (1, [log.pk])
    assert (theirs["count"], [item["id"] for item in theirs["error_logs"]]) == (1, [foreign_log.pk])


@pytest.mark.parametrize("parameter", ["post_id", "account_id", "job_id"])
def test_filtering_by_another_operators_object_finds_nothing(other_api, log, parameter):
    value = {"post_id": log.post_id, "account_id": log.post.account_id, "job_id": str(log.job.job_id)}[parameter]

    response = other_api.get(LIST_URL, {parameter: value})

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"count": 0, "error_logs": []}


EVIDENCE_URLS = [screenshot_url, page_url, snapshot_url, trace_url]
EVIDENCE_IDS = ["screenshot", "page", "snapshot", "trace"]


@pytest.mark.parametrize("url", EVIDENCE_URLS, ids=EVIDENCE_IDS)
def test_another_operator_gets_404_for_the_screenshot_page_snapshot_and_trace(other_api, other_operator, log, url):
    assert other_api.get(url(log)).status_code == HTTPStatus.NOT_FOUND
    assert other_api.get(url(log), HTTP_ACCEPT="image/*").status_code == HTTPStatus.NOT_FOUND
    response = cookie_client(other_operator).get(url(log))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.content == cookie_client(other_operator).get(url(ErrorLog(pk=log.pk + 1000))).content
    assert TRACE not in response.content and b"Security check" not in response.content


@pytest.mark.parametrize("url", [lambda log: LIST_URL, *EVIDENCE_URLS], ids=["list", *EVIDENCE_IDS])
def test_without_credentials_every_error_log_endpoint_is_401(log, url):
    response = APIClient().get(url(log))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert b"\x89PNG" not in response.content
    assert b"alert(1)" not in response.content
    assert TRACE not in response.content


# The screenshot


def test_the_owner_gets_exactly_the_screenshot_png(api, log):
    response = api.get(screenshot_url(log))

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "image/png"
    assert response.content == PNG


def test_an_img_tag_asking_for_image_star_gets_the_screenshot(api, log):
    response = api.get(screenshot_url(log), HTTP_ACCEPT="image/avif,image/webp,image/apng,image/*,*/*;q=0.8")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "image/png"
    assert response.content == PNG


def test_the_access_cookie_alone_is_enough_to_get_the_screenshot(operator, log):
    client = cookie_client(operator)

    response = client.get(screenshot_url(log), HTTP_ACCEPT="image/*")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "image/png"
    assert response.content == PNG


@pytest.mark.parametrize("url", EVIDENCE_URLS, ids=EVIDENCE_IDS)
def test_a_log_without_evidence_answers_404_for_each_piece_of_it(api, post, job, url):
    log = fail(post, job, with_evidence=False)

    assert api.get(url(log)).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("url", EVIDENCE_URLS, ids=EVIDENCE_IDS)
def test_an_unknown_log_id_is_404(api, log, url):
    assert api.get(url(ErrorLog(pk=log.pk + 1000))).status_code == HTTPStatus.NOT_FOUND


# The captured page


def test_the_page_is_answered_as_sandboxed_plain_text_with_exactly_the_captured_html(api, log):
    response = api.get(page_url(log))

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/plain")
    assert "html" not in response["Content-Type"]
    assert response["Content-Security-Policy"] == "sandbox"
    assert response.content == HTML.encode()


def test_a_browser_navigating_to_the_page_still_gets_plain_text(operator, log):
    response = cookie_client(operator).get(page_url(log), HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/plain")
    assert response["Content-Security-Policy"] == "sandbox"
    assert response.content == HTML.encode()


# The accessibility snapshot


def test_the_snapshot_is_sandboxed_plain_text_with_exactly_the_captured_yaml(operator, log):
    response = cookie_client(operator).get(snapshot_url(log), HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response.content.decode() == SNAPSHOT


def test_a_snapshot_alone_is_kept_and_linked_without_a_screenshot(api, post, job):
    log = services.post_mark_failed(
        job=job, post=post, error_type=ErrorLog.ErrorType.LAYOUT_CHANGED, message="No 'Title' field",
        evidence=Evidence(page_url=PAGE_URL, aria_snapshot=SNAPSHOT),
    )

    [item] = api.get(LIST_URL).json()["error_logs"]

    assert (item["screenshot"], item["page_html"], item["page_snapshot"], item["trace"]) == (
        None, None, snapshot_url(log), None,
    )
    assert api.get(snapshot_url(log)).content.decode() == SNAPSHOT


# The trace


def test_the_owner_downloads_the_trace_as_a_zip_attachment_named_for_the_log(api, log):
    response = api.get(trace_url(log))

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="trace_{log.pk}.zip"'
    assert response.content == TRACE
    assert zipfile.ZipFile(io.BytesIO(response.content)).namelist() == ["trace.trace", "trace.network"]


def test_the_access_cookie_alone_is_enough_to_download_the_trace(operator, log):
    response = cookie_client(operator).get(trace_url(log), HTTP_ACCEPT="text/html,*/*;q=0.8")

    assert response.status_code == HTTPStatus.OK
    assert response.content == TRACE


def test_a_trace_alone_is_kept_and_linked_without_a_screenshot(api, post, job, settings):
    log = services.post_mark_failed(
        job=job, post=post, error_type=ErrorLog.ErrorType.TIMEOUT, message="Publish did not come",
        evidence=Evidence(trace_zip=TRACE),
    )

    [item] = api.get(LIST_URL).json()["error_logs"]

    assert (item["screenshot"], item["page_snapshot"], item["trace"]) == (None, None, trace_url(log))
    assert (Path(settings.MEDIA_ROOT) / log.trace.name).read_bytes() == TRACE


def test_a_trace_that_cannot_be_written_still_logs_the_failure_with_the_rest_of_its_evidence(
    api, monkeypatch, settings, post, job, caplog
):
    real_save = FileSystemStorage._save

    def zip_disk_full(self, name, content):
        if name.endswith(".zip"):
            raise OSError(28, "No space left on device")
        return real_save(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", zip_disk_full)

    log = fail(post, job)

    stored = ErrorLog.objects.get()
    assert stored.pk == log.pk and not stored.trace
    assert "trace of a failure could not be written" in caplog.text
    [item] = api.get(LIST_URL).json()["error_logs"]
    assert (item["screenshot"], item["page_html"], item["page_snapshot"], item["trace"]) == (
        screenshot_url(log), page_url(log), snapshot_url(log), None,
    )
    assert api.get(trace_url(log)).status_code == HTTPStatus.NOT_FOUND
    folder = Path(settings.MEDIA_ROOT) / "error_traces"
    assert not folder.exists() or not any(folder.iterdir())
    post.refresh_from_db()
    assert post.status == MarketplacePost.Status.FAILED


def test_a_log_row_that_cannot_be_saved_leaves_no_evidence_files_behind(monkeypatch, settings, post, job):
    def database_gone(self, *args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(ErrorLog, "save", database_gone)

    with pytest.raises(RuntimeError):
        fail(post, job)

    for folder in ("error_screenshots", "error_traces"):
        path = Path(settings.MEDIA_ROOT) / folder
        assert not path.exists() or not any(path.iterdir()), folder


# Where the files live


def test_the_screenshot_and_its_html_are_stored_side_by_side_under_error_screenshots(settings, log):
    media = Path(settings.MEDIA_ROOT)
    png = media / log.screenshot.name

    assert png.parent == media / "error_screenshots"
    assert png.suffix == ".png"
    assert png.read_bytes() == PNG
    assert png.with_suffix(".html").read_text() == HTML


def test_the_trace_is_stored_under_error_traces_and_the_snapshot_in_the_row(settings, log):
    media = Path(settings.MEDIA_ROOT)
    trace = media / log.trace.name

    assert trace.parent == media / "error_traces"
    assert (trace.suffix, trace.stem) == (".zip", Path(log.screenshot.name).stem)
    assert trace.read_bytes() == TRACE
    assert ErrorLog.objects.get(pk=log.pk).page_snapshot == SNAPSHOT


def test_deleting_a_listing_deletes_its_logs_screenshot_page_and_trace_files(
    api, settings, post, log, django_capture_on_commit_callbacks
):
    media = Path(settings.MEDIA_ROOT)
    files = [media / log.screenshot.name, media / error_page_name(log), media / log.trace.name]
    assert all(path.is_file() for path in files)

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/posts/{post.pk}/").status_code == HTTPStatus.NO_CONTENT

    assert not ErrorLog.objects.exists()
    assert [path for path in files if path.exists()] == []


def test_two_failures_of_the_same_post_keep_two_different_screenshots(settings, post, job):
    first, second = fail(post, job), fail(post, job)

    assert first.screenshot.name != second.screenshot.name
    files = sorted(path.name for path in (Path(settings.MEDIA_ROOT) / "error_screenshots").iterdir())
    names = [Path(log.screenshot.name) for log in (first, second)]
    assert files == sorted(f"{name.stem}{suffix}" for name in names for suffix in (".html", ".png"))


@pytest.mark.parametrize(
    "make_client", [Client, APIClient, "owner"], ids=["django_client", "api_client", "owner_cookie"]
)
def test_media_is_not_served_publicly(settings, operator, log, make_client):
    client = cookie_client(operator) if make_client == "owner" else make_client()
    assert (Path(settings.MEDIA_ROOT) / log.screenshot.name).is_file()  # it exists: only the URL is closed

    for name in (log.screenshot.name, log.screenshot.name.rsplit(".", 1)[0] + ".html", log.trace.name):
        response = client.get(f"{settings.MEDIA_URL}{name}")

        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response.content not in (PNG, HTML.encode(), TRACE)


# Queries


def _logs_with_posts_and_jobs(owner, count: int) -> None:
    for n in range(count):
        post = PostFactory(account=AccountFactory(owner=owner))
        job = PostingJob.objects.create(owner=owner)
        ErrorLog.objects.create(
            owner=owner, post=post, job=job, error_type=ErrorLog.ErrorType.CAPTCHA, error_message="CAPTCHA",
            screenshot=f"error_screenshots/job{job.pk}_post{post.pk}_{n}.png", page_url=PAGE_URL,
        )


def test_listing_runs_the_same_queries_for_3_or_30_logs_with_posts_and_jobs(api, operator):
    _logs_with_posts_and_jobs(operator, 3)
    with CaptureQueriesContext(connection) as few:
        assert api.get(LIST_URL).json()["count"] == 3
    _logs_with_posts_and_jobs(operator, 27)
    with CaptureQueriesContext(connection) as many:
        response = api.get(LIST_URL)

    body = response.json()
    assert body["count"] == 30
    assert all(item["post_title"] and item["job_id"] and item["account_id"] for item in body["error_logs"])
    assert len(many) == len(few)


def test_listing_30_logs_takes_at_most_3_queries(api, operator, django_assert_max_num_queries):
    _logs_with_posts_and_jobs(operator, 30)

    # The operator (JWT), the count, and the logs joined with their posts and jobs.
    with django_assert_max_num_queries(3):
        response = api.get(LIST_URL, {"limit": 500})

    assert len(response.json()["error_logs"]) == 30


# The listing and its failures


def test_a_listing_failed_twice_shows_the_latest_failure_and_links_to_both_logs(api, post, operator):
    first_job = PostingJob.objects.create(owner=operator, status=PostingJob.Status.RUNNING)
    second_job = PostingJob.objects.create(owner=operator, status=PostingJob.Status.RUNNING)
    first = fail(post, first_job, error_type=ErrorLog.ErrorType.NETWORK_ERROR, message="net::ERR_TIMED_OUT")
    second = fail(post, second_job, error_type=ErrorLog.ErrorType.CAPTCHA, message="Facebook asked for a CAPTCHA")

    detail = api.get(f"/api/posts/{post.pk}/")

    assert detail.status_code == HTTPStatus.OK
    body = detail.json()
    assert (body["status"], body["error_message"], body["retry_count"]) == (
        "failed", "Facebook asked for a CAPTCHA", 2,
    )
    assert body["error_logs_url"] == f"/api/posts/error-logs/?post_id={post.pk}"
    history = api.get(body["error_logs_url"])
    assert history.status_code == HTTPStatus.OK
    assert history.json()["count"] == 2
    assert listed_ids(history) == [second.pk, first.pk]
    assert [item["error_message"] for item in history.json()["error_logs"]] == [
        "Facebook asked for a CAPTCHA", "net::ERR_TIMED_OUT",
    ]


# A screenshot that cannot be written


def test_a_screenshot_that_cannot_be_written_still_logs_the_failure_without_it(
    api, monkeypatch, settings, post, job
):
    def disk_full(self, name, content):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(FileSystemStorage, "_save", disk_full)

    log = fail(post, job, message="Facebook asked for a CAPTCHA")

    stored = ErrorLog.objects.get()
    assert stored.pk == log.pk
    assert not stored.screenshot
    assert (stored.error_type, stored.error_message, stored.page_url) == (
        "captcha", "Facebook asked for a CAPTCHA", PAGE_URL,
    )
    post.refresh_from_db()
    assert (post.status, post.error_message, post.retry_count) == (
        MarketplacePost.Status.FAILED, "Facebook asked for a CAPTCHA", 1,
    )
    job.refresh_from_db()
    assert job.failed_posts == 1
    [item] = api.get(LIST_URL).json()["error_logs"]
    assert (item["id"], item["screenshot"], item["page_html"], item["trace"]) == (log.pk, None, None, None)
    assert item["page_snapshot"] == snapshot_url(log)  # in the row, not a file: kept
    assert api.get(screenshot_url(log)).status_code == HTTPStatus.NOT_FOUND
    for name in ("error_screenshots", "error_traces"):
        folder = Path(settings.MEDIA_ROOT) / name
        assert not folder.exists() or not any(folder.iterdir())


def test_a_page_that_cannot_be_written_still_logs_the_failure_with_no_dead_link(api, monkeypatch, post, job):
    real_save = FileSystemStorage._save

    def html_disk_full(self, name, content):
        if name.endswith(".html"):
            raise OSError(28, "No space left on device")
        return real_save(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", html_disk_full)

    log = fail(post, job)

    [item] = api.get(LIST_URL).json()["error_logs"]
    assert item["id"] == log.pk
    for link in (item["screenshot"], item["page_html"], item["page_snapshot"], item["trace"]):
        if link is not None:
            assert api.get(link).status_code == HTTPStatus.OK, link
    post.refresh_from_db()
    assert post.status == MarketplacePost.Status.FAILED
