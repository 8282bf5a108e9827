from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import FacebookAccount
from postings.models import MarketplacePost

TIMESTAMPS = ("created_at", "updated_at")


def without_timestamps(body: dict) -> dict:
    assert all(body[name] for name in TIMESTAMPS)
    return {key: value for key, value in body.items() if key not in TIMESTAMPS}


@pytest.fixture
def account(operator):
    return FacebookAccount.objects.create(owner=operator, email="seller@example.com", name="Seller")


def test_creating_an_account_answers_it_whole_with_a_lowercased_email(api, operator):
    response = api.post("/api/accounts/", {"email": "Seller@Example.COM", "name": "Seller"}, format="json")

    assert response.status_code == HTTPStatus.CREATED
    account = FacebookAccount.objects.get()
    assert account.owner == operator
    assert without_timestamps(response.json()) == {
        "id": account.pk,
        "email": "seller@example.com",
        "name": "Seller",
        "session_exists": False,
        "proxy": None,
        "user_agent": account.user_agent,
        "timezone": account.timezone,
        "viewport": account.viewport,
        "daily_post_limit": None,
        "hourly_post_limit": None,
        "paused_until": None,
        "pause_reason": "",
    }
    assert account.user_agent.startswith("Mozilla/5.0 (") and "HeadlessChrome" not in account.user_agent


def test_name_is_optional(api):
    response = api.post("/api/accounts/", {"email": "a@example.com"}, format="json")

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["name"] == ""


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"email": 42}, "email"),
        ({"email": "b@example.com", "name": "x" * 151}, "name"),
        ({"email": "b@example.com", "owner": 2}, "owner"),
        ({"email": "b@example.com", "session_exists": True}, "session_exists"),
    ],
)
def test_bad_account_bodies_are_400_naming_the_field_and_store_nothing(api, body, field):
    response = api.post("/api/accounts/", body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()
    assert not FacebookAccount.objects.exists()


@pytest.mark.parametrize("body", ["{oops", "[1, 2]", '"seller@example.com"'])
def test_malformed_or_wrongly_shaped_json_is_400(api, body):
    response = api.post("/api/accounts/", body, content_type="application/json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not FacebookAccount.objects.exists()


def test_the_same_email_twice_is_400_for_one_operator(api, account):
    response = api.post("/api/accounts/", {"email": "SELLER@example.com"}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"email": ["You already have an account with this email."]}
    assert FacebookAccount.objects.count() == 1


def test_two_operators_may_each_have_the_same_email(other_api, account):
    response = other_api.post("/api/accounts/", {"email": account.email}, format="json")

    assert response.status_code == HTTPStatus.CREATED


def test_list_is_paginated_and_holds_only_the_operators_accounts(api, operator, other_operator):
    mine = [FacebookAccount.objects.create(owner=operator, email=f"m{i}@example.com") for i in range(3)]
    FacebookAccount.objects.create(owner=other_operator, email="theirs@example.com")

    response = api.get("/api/accounts/")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (3, None, None)
    assert [item["id"] for item in body["results"]] == [account.pk for account in mine]


def test_listing_accounts_runs_the_same_queries_for_3_or_30(api, operator, django_assert_max_num_queries):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert api.get("/api/accounts/?page_size=100").status_code == HTTPStatus.OK
        return len(context.captured_queries)

    for i in range(3):
        FacebookAccount.objects.create(owner=operator, email=f"few{i}@example.com")
    few = count_queries()
    for i in range(27):
        FacebookAccount.objects.create(owner=operator, email=f"many{i}@example.com")

    # the operator (token), the count, the page
    with django_assert_max_num_queries(3):
        assert api.get("/api/accounts/?page_size=100").json()["count"] == 30
    assert count_queries() == few


def test_patch_changes_the_name(api, account):
    response = api.patch(f"/api/accounts/{account.pk}/", {"name": "Renamed"}, format="json")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["name"] == "Renamed"
    account.refresh_from_db()
    assert account.name == "Renamed"


def test_patch_to_an_email_already_used_is_400_and_changes_nothing(api, operator, account):
    other = FacebookAccount.objects.create(owner=operator, email="other@example.com")

    response = api.patch(f"/api/accounts/{other.pk}/", {"email": account.email}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    other.refresh_from_db()
    assert other.email == "other@example.com"


def test_put_on_an_account_is_not_allowed(api, account):
    response = api.put(f"/api/accounts/{account.pk}/", {"email": "x@example.com"}, format="json")

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_delete_removes_the_account_its_listings_and_its_session_file(
    api, account, django_capture_on_commit_callbacks
):
    MarketplacePost.objects.create(account=account, title="Lamp", price=5, category="Home")
    account.session_path.parent.mkdir(parents=True)
    account.session_path.write_text("{}")

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(f"/api/accounts/{account.pk}/")

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert not FacebookAccount.objects.exists()
    assert not MarketplacePost.objects.exists()
    assert not account.session_path.exists()


def test_delete_while_a_listing_is_being_posted_is_409_and_keeps_everything(api, account):
    MarketplacePost.objects.create(
        account=account, title="Lamp", price=5, category="Home", status=MarketplacePost.Status.POSTING
    )

    response = api.delete(f"/api/accounts/{account.pk}/")

    assert response.status_code == HTTPStatus.CONFLICT
    assert FacebookAccount.objects.filter(pk=account.pk).exists()
    assert MarketplacePost.objects.count() == 1


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("get", "/api/accounts/{id}/", None),
        ("patch", "/api/accounts/{id}/", {"name": "Stolen"}),
        ("delete", "/api/accounts/{id}/", None),
        ("put", "/api/accounts/{id}/session/", {"cookies": []}),
        ("delete", "/api/accounts/{id}/session/", None),
    ],
)
def test_another_operators_account_is_404_and_untouched(other_api, account, method, path, body):
    account.session_path.parent.mkdir(parents=True)
    account.session_path.write_text('{"cookies": []}')

    response = getattr(other_api, method)(path.format(id=account.pk), body, format="json")

    assert response.status_code == HTTPStatus.NOT_FOUND
    account.refresh_from_db()
    assert account.name == "Seller"
    assert account.session_path.read_text() == '{"cookies": []}'


def test_another_operators_list_does_not_show_the_account(other_api, account):
    assert other_api.get("/api/accounts/").json()["count"] == 0


def test_an_unknown_account_id_is_404(api):
    assert api.get("/api/accounts/999/").status_code == HTTPStatus.NOT_FOUND
