"""Endpoints of the project itself: health, the API's description, errors, CORS and the admin."""
import re
from http import HTTPStatus

import pytest
import yaml
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import FacebookAccount
from postings.models import ErrorLog, MarketplacePost, PostingJob, PostingPreview

EXPECTED_PATHS = {
    "/api/auth/token/",
    "/api/auth/token/refresh/",
    "/api/auth/me/",
    "/api/accounts/",
    "/api/accounts/{id}/",
    "/api/accounts/{id}/resume/",
    "/api/accounts/{id}/session/",
    "/api/posts/",
    "/api/posts/{id}/",
    "/api/posts/{id}/images/",
    "/api/posts/{id}/images/{image_id}/",
    "/api/posts/{id}/retry/",
    "/api/posts/start-posting/",
    "/api/posts/jobs/",
    "/api/posts/jobs/{job_id}/cancel/",
    "/api/posts/jobs/{job_id}/previews/",
    "/api/posts/previews/{id}/screenshot/",
    "/api/posts/previews/{id}/snapshot/",
    "/api/posts/job-status/{job_id}/",
    "/api/posts/status-stream/{job_id}/",
    "/api/posts/error-logs/",
    "/api/posts/error-logs/{id}/screenshot/",
    "/api/posts/error-logs/{id}/page/",
    "/api/posts/error-logs/{id}/snapshot/",
    "/api/posts/error-logs/{id}/trace/",
    "/api/accounts/health-check/",
    "/api/accounts/{id}/validate-session/",
    "/api/health/",
    "/api/webhooks/",
    "/api/webhooks/{id}/",
    "/api/webhooks/{id}/deliveries/",
}
DASHBOARD = "http://localhost:3000"


@pytest.fixture
def schema(db):
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == HTTPStatus.OK
    return response.json()


def resolve(schema: dict, node: dict) -> dict:
    """Follow `$ref` (directly or through a one-item allOf) to the schema object it names."""
    while True:
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
        elif len(node.get("allOf", [])) == 1:
            node = node["allOf"][0]
        else:
            return node


def test_health_is_public_and_reports_the_database(db):
    response = APIClient().get("/api/health/")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok", "database": "ok"}


def test_schema_is_public_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Marketplace Poster API"


def test_schema_lists_every_endpoint(schema):
    assert set(schema["paths"]) == EXPECTED_PATHS


def test_schema_is_served_as_yaml_by_default(db):
    response = APIClient().get("/api/schema/")

    assert response.status_code == HTTPStatus.OK
    assert set(yaml.safe_load(response.content)["paths"]) == EXPECTED_PATHS


def test_schema_describes_the_post_a_client_creates(schema):
    body = schema["paths"]["/api/posts/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    post = resolve(schema, body)

    assert {"title", "price", "condition"} <= set(post["properties"])
    condition = resolve(schema, post["properties"]["condition"])
    assert condition["enum"] == ["New", "Used - Like New", "Used - Good", "Used - Fair"]


def test_schema_describes_an_accounts_proxy_identity_budgets_and_pause(schema):
    account = resolve(schema, schema["components"]["schemas"]["Account"])
    assert {"proxy", "user_agent", "timezone", "viewport", "daily_post_limit", "hourly_post_limit",
            "paused_until", "pause_reason"} <= set(account["properties"])
    assert account["properties"]["paused_until"]["readOnly"] is True
    assert "masked" in account["properties"]["proxy"]["description"]
    assert set(resolve(schema, account["properties"]["viewport"])["properties"]) == {"width", "height"}
    health = resolve(schema, schema["components"]["schemas"]["AccountHealth"])
    assert {"paused_until", "posts_last_24h", "daily_post_limit", "hold_reason"} <= set(health["properties"])
    assert "post" in schema["paths"]["/api/accounts/{id}/resume/"]


def test_docs_page_is_public_html(db):
    response = APIClient().get("/api/docs/")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/html")
    assert b"swagger-ui" in response.content.lower()


def test_unknown_api_url_answers_json_not_found(client, settings):
    settings.DEBUG = False

    response = client.get("/api/no-such-endpoint/")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_page_outside_the_api_answers_html_not_found(client, settings):
    settings.DEBUG = False

    response = client.get("/no-such-page/")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"].startswith("text/html")


def preflight(client, origin: str):
    return client.options(
        "/api/posts/",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )


def test_cors_preflight_from_the_dashboard_is_allowed_with_credentials(client, db):
    response = preflight(client, DASHBOARD)

    assert response.status_code == HTTPStatus.OK
    assert response.headers["Access-Control-Allow-Origin"] == DASHBOARD
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


def test_cors_preflight_from_another_origin_is_not_allowed(client, db):
    response = preflight(client, "https://evil.example")

    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.fixture
def admin_rows(django_user_model):
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "correct-horse-9")
    account = FacebookAccount.objects.create(owner=superuser, email="seller-one@example.com", name="Seller One")
    post = MarketplacePost.objects.create(
        account=account, title="Vintage road bike", price="120.00", category="Sports",
        condition=MarketplacePost.Condition.USED_GOOD,
    )
    job = PostingJob.objects.create(owner=superuser, total_posts=1, current_post_title="Vintage road bike")
    job.posts.add(post)
    error = ErrorLog.objects.create(
        owner=superuser, post=post, job=job, error_type=ErrorLog.ErrorType.CAPTCHA,
        error_message="A captcha stood in the way",
    )
    dry_run = PostingJob.objects.create(owner=superuser, total_posts=1, dry_run=True)
    preview = PostingPreview.objects.create(job=dry_run, post=post, page_url="http://sim/marketplace/create/item")
    return {"superuser": superuser, "account": account, "post": post, "job": job, "error": error, "preview": preview}


@pytest.mark.parametrize(
    ("model", "shown"),
    [
        ("accounts_facebookaccount", "seller-one@example.com"),
        ("postings_marketplacepost", "Vintage road bike"),
        ("postings_postingjob", "job_id"),
        ("postings_errorlog", "A captcha stood in the way"),
        ("postings_postingpreview", "http://sim/marketplace/create/item"),
    ],
)
def test_admin_lists_each_model_to_a_superuser(client, admin_rows, model, shown):
    client.force_login(admin_rows["superuser"])
    if shown == "job_id":
        shown = str(admin_rows["job"].job_id)

    response = client.get(reverse(f"admin:{model}_changelist"))

    assert response.status_code == HTTPStatus.OK
    assert shown in response.content.decode()


def test_admin_shows_a_post_change_page_to_a_superuser(client, admin_rows):
    client.force_login(admin_rows["superuser"])
    post = admin_rows["post"]

    response = client.get(reverse("admin:postings_marketplacepost_change", args=[post.pk]))

    assert response.status_code == HTTPStatus.OK
    assert "Vintage road bike" in response.content.decode()


def test_the_admin_edits_a_posts_delivery_options_as_checkboxes(client, admin_rows):
    client.force_login(admin_rows["superuser"])
    post = admin_rows["post"]
    MarketplacePost.objects.filter(pk=post.pk).update(delivery=["Door pickup", "Door drop-off"])

    content = client.get(reverse("admin:postings_marketplacepost_change", args=[post.pk])).content.decode()

    boxes = re.findall(r'<input type="checkbox" name="delivery" value="([^"]+)" id="[^"]+"( checked)?>', content)
    assert boxes == [("Public meetup", ""), ("Door pickup", " checked"), ("Door drop-off", " checked")]
    assert re.search(r'<input type="checkbox" name="hide_from_friends"', content)


def admin_change_form(post: MarketplacePost, **changes) -> dict:
    """A post's admin change form as the browser submits it, unchanged but for `changes`."""
    data = {
        "account": post.account_id, "title": post.title, "description": post.description, "price": str(post.price),
        "category": post.category, "condition": post.condition, "location": post.location, "delivery": post.delivery,
        "tags": ", ".join(post.tags), "sku": post.sku, "status": post.status, "error_message": post.error_message,
        "retry_count": post.retry_count, "listing_url": post.listing_url, "posted_at_0": "", "posted_at_1": "",
        "claimed_by": "", "images-TOTAL_FORMS": "0", "images-INITIAL_FORMS": "0", "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    return data | changes


def test_the_admin_shows_a_posts_tags_as_one_line_separated_by_commas_and_its_sku(client, admin_rows):
    client.force_login(admin_rows["superuser"])
    post = admin_rows["post"]
    MarketplacePost.objects.filter(pk=post.pk).update(tags=["road bike", "steel"], sku="BIKE-7")

    content = client.get(reverse("admin:postings_marketplacepost_change", args=[post.pk])).content.decode()

    assert re.search(r'<input type="text" name="tags" value="road bike, steel" class="vTextField"', content)
    assert re.search(r'<input type="text" name="sku" value="BIKE-7" class="vTextField" maxlength="50"', content)


def test_the_admin_change_form_saves_the_tags_and_the_sku(client, admin_rows):
    client.force_login(admin_rows["superuser"])
    post = admin_rows["post"]
    url = reverse("admin:postings_marketplacepost_change", args=[post.pk])

    response = client.post(url, admin_change_form(post, tags=" road bike,steel ,, vintage, ", sku="  BIKE-7 "))

    assert response.status_code == HTTPStatus.FOUND, response.context["adminform"].form.errors
    post.refresh_from_db()
    assert (post.tags, post.sku) == (["road bike", "steel", "vintage"], "BIKE-7")


@pytest.mark.parametrize(
    ("changes", "field", "errors"),
    [
        pytest.param(
            {"tags": "steel, Steel"}, "tags", ['Tag 2 ("Steel") repeats tag 1 ("steel"), ignoring case.'],
            id="a repeated tag",
        ),
        pytest.param(
            {"tags": "x" * 51}, "tags", [f'Tag 1 ("{"x" * 30}\u2026") is 51 characters; at most 50.'], id="a long tag",
        ),
        pytest.param(
            {"tags": ", ".join(f"t{n}" for n in range(21))}, "tags", ["At most 20 tags; 21 were given."],
            id="21 tags",
        ),
        pytest.param({"tags": "red\nblue"}, "tags", ['Tag 1 ("red\\nblue") holds a line break.'], id="a newline"),
        pytest.param(
            {"sku": "s" * 51}, "sku", ["Ensure this value has at most 50 characters (it has 51)."], id="a long sku",
        ),
        pytest.param(
            {"sku": "BIKE\n7"}, "sku", ["An SKU is one line: it may not hold a line break."], id="an sku of two lines",
        ),
    ],
)
def test_the_admin_refuses_bad_tags_or_a_bad_sku_and_keeps_the_post(client, admin_rows, changes, field, errors):
    client.force_login(admin_rows["superuser"])
    post = admin_rows["post"]
    MarketplacePost.objects.filter(pk=post.pk).update(tags=["steel"], sku="BIKE-7")
    post.refresh_from_db()
    url = reverse("admin:postings_marketplacepost_change", args=[post.pk])

    response = client.post(url, admin_change_form(post, title="Renamed", **changes))

    assert response.status_code == HTTPStatus.OK
    assert response.context["adminform"].form.errors == {field: errors}
    post.refresh_from_db()
    assert (post.title, post.tags, post.sku) == ("Vintage road bike", ["steel"], "BIKE-7")


def test_admin_is_closed_to_anonymous_visitors(client, admin_rows):
    response = client.get(reverse("admin:postings_marketplacepost_changelist"))

    assert response.status_code == HTTPStatus.FOUND
    assert reverse("admin:login") in response["Location"]
