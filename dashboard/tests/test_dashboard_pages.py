"""The dashboard's pages through Django's test client: login, ownership, what each page shows."""
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import FacebookAccount
from conftest import image_bytes
from dashboard import services as demo
from postings import services
from postings.models import ErrorLog, MarketplacePost, PostingJob

pytestmark = pytest.mark.django_db

PAGES = ["/", "/listings/", "/listings/new/", "/accounts/", "/jobs/", "/errors/"]


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owned(operator):
    """An account of `operator` with a listing that failed once in a job, with its error log."""
    account = FacebookAccount.objects.create(owner=operator, email="seller@example.com", name="Main seller")
    post = MarketplacePost.objects.create(
        account=account, title="Oak dining table", price=120, category="Furniture", location="Austin, TX",
    )
    services.post_image_add(post=post, upload=SimpleUploadedFile("p.png", image_bytes(), "image/png"))
    job, _ = services.posting_job_create(owner=operator, post_ids=[post.pk])
    log = services.post_mark_failed(
        job=job, post=post, error_type=ErrorLog.ErrorType.POLICY_REJECTED, message="Facebook refused the listing",
        stack_trace="Traceback (most recent call last): ...",
        evidence=services.Evidence(page_url="http://sim/x", screenshot_png=image_bytes(), html="<p>refused</p>"),
    )
    services.job_finish(job=job, status=PostingJob.Status.COMPLETED)
    return {"account": account, "post": post, "job": job, "log": log}


@pytest.fixture
def foreign(other_operator):
    """The same, for another operator."""
    account = FacebookAccount.objects.create(owner=other_operator, email="rival@example.com")
    post = MarketplacePost.objects.create(account=account, title="Rival's secret sofa", price=10, category="Furniture")
    job, _ = services.posting_job_create(owner=other_operator, post_ids=[post.pk])
    services.post_mark_failed(job=job, post=post, error_type=ErrorLog.ErrorType.CAPTCHA, message="Rival's captcha")
    return {"account": account, "post": post, "job": job}


@pytest.mark.parametrize("path", [*PAGES, "/listings/1/edit/", "/jobs/7a6b0a52-6f0e-4a55-9f8e-0d8b8f2b8a11/"])
def test_every_page_sends_a_visitor_who_is_not_logged_in_to_the_login_page(client, path):
    response = client.get(path)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/login/?next={path}"


def test_the_login_page_logs_an_operator_in_and_the_logout_form_logs_out(client, operator):
    assert client.get("/login/").status_code == HTTPStatus.OK

    response = client.post("/login/", {"username": "alice", "password": "correct-horse-9", "next": "/jobs/"})
    assert (response.status_code, response["Location"]) == (HTTPStatus.FOUND, "/jobs/")
    assert client.get("/jobs/").status_code == HTTPStatus.OK

    assert client.get("/logout/").status_code == HTTPStatus.METHOD_NOT_ALLOWED  # a link cannot log out
    response = client.post("/logout/")
    assert (response.status_code, response["Location"]) == (HTTPStatus.FOUND, "/login/")
    assert client.get("/jobs/").status_code == HTTPStatus.FOUND


def test_a_wrong_password_is_refused_on_the_login_page(client, operator):
    response = client.post("/login/", {"username": "alice", "password": "wrong"})

    assert response.status_code == HTTPStatus.OK
    assert b"Please enter a correct username and password" in response.content


@pytest.mark.parametrize("path", PAGES)
def test_each_page_renders_for_its_owner_and_sets_the_csrf_cookie_for_the_api_calls(operator, owned, path):
    response = page_client(operator).get(path)

    assert response.status_code == HTTPStatus.OK
    assert "csrftoken" in response.cookies
    assert b"/static/dashboard/app.js" in response.content


@pytest.mark.parametrize("path", PAGES)
def test_no_page_shows_another_operators_objects(operator, owned, foreign, path):
    content = page_client(operator).get(path).content.decode()

    assert "Rival" not in content and "rival@example.com" not in content
    assert str(foreign["job"].job_id) not in content


def test_the_listings_page_shows_status_badge_photo_last_error_and_retry(operator, owned):
    post, image = owned["post"], owned["post"].images.get()

    content = page_client(operator).get("/").content.decode()

    assert '<span class="badge status-failed">failed</span>' in content
    assert f'src="/api/posts/{post.pk}/images/{image.pk}/"' in content
    assert "Facebook refused the listing" in content
    assert f'class="button small retry" data-post-id="{post.pk}"' in content


def test_the_job_page_shows_the_jobs_state_and_its_stream(operator, owned):
    job = owned["job"]

    response = page_client(operator).get(f"/jobs/{job.job_id}/")

    content = response.content.decode()
    assert f'data-stream-url="/api/posts/status-stream/{job.job_id}/"' in content
    assert response.context["state"]["final"] is True
    assert '<span class="badge job-completed" data-field="status">completed</span>' in content
    assert f'href="/errors/?job={job.job_id}"' in content


def test_another_operators_job_page_is_not_found(operator, foreign):
    response = page_client(operator).get(f"/jobs/{foreign['job'].job_id}/")

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_another_operators_listing_cannot_be_opened_for_editing(operator, foreign):
    response = page_client(operator).get(f"/listings/{foreign['post'].pk}/edit/")

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_the_edit_page_fills_the_form_with_the_listing(operator, owned):
    post = owned["post"]

    content = page_client(operator).get(f"/listings/{post.pk}/edit/").content.decode()

    assert f'data-post-id="{post.pk}"' in content
    assert 'value="Oak dining table"' in content
    assert '<option value="Used - Good"' in content and 'value="New" selected' in content


def test_the_errors_page_shows_the_screenshot_the_folded_trace_and_the_page_text(operator, owned):
    log = owned["log"]

    content = page_client(operator).get("/errors/").content.decode()

    assert f'<img src="/api/posts/error-logs/{log.pk}/screenshot/"' in content
    assert "<details class=\"trace\"><summary>Stack trace</summary><pre>Traceback" in content
    assert f'href="/api/posts/error-logs/{log.pk}/page/"' in content
    assert '<span class="badge type-policy_rejected">policy_rejected</span>' in content


def test_the_errors_page_filters_by_listing_type_and_job(operator, owned):
    client, post, job = page_client(operator), owned["post"], owned["job"]
    other = MarketplacePost.objects.create(account=owned["account"], title="Lamp", price=5, category="Household")
    services.post_mark_failed(job=None, post=other, error_type=ErrorLog.ErrorType.TIMEOUT, message="Too slow")

    def shown(query):
        return [row["log"].error_message for row in client.get(f"/errors/{query}").context["rows"]]

    assert shown("") == ["Too slow", "Facebook refused the listing"]
    assert shown(f"?listing={post.pk}") == ["Facebook refused the listing"]
    assert shown("?type=timeout") == ["Too slow"]
    assert shown(f"?job={job.job_id}") == ["Facebook refused the listing"]
    assert shown("?type=captcha") == []
    assert shown("?type=nonsense") == ["Too slow", "Facebook refused the listing"]  # ignored, and said so


def test_demo_setup_against_the_simulator_is_idempotent(simulator):
    first = demo.demo_setup(base_url=simulator.base_url, timeout=5)
    second = demo.demo_setup(base_url=simulator.base_url, timeout=5)

    assert first.operator.pk == second.operator.pk and first.operator.check_password(demo.DEMO_PASSWORD)
    assert sorted(FacebookAccount.objects.values_list("email", flat=True)) == [demo.EXPIRED_EMAIL, demo.SELLER_EMAIL]
    titles = sorted(MarketplacePost.objects.values_list("title", flat=True))
    assert titles == sorted(spec.title for spec in demo.DEMO_LISTINGS)
    assert set(MarketplacePost.objects.values_list("status", flat=True)) == {"pending"}
    assert MarketplacePost.objects.filter(images__isnull=True).get().title == "Vintage camera"
    assert all(account.session_path.is_file() for account in second.accounts.values())


def test_demo_setup_refuses_to_run_against_facebook():
    with pytest.raises(demo.DemoSetupError, match="only runs against the local simulator"):
        demo.demo_setup(base_url="https://www.facebook.com")
