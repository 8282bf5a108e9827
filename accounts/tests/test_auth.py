from http import HTTPStatus

import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import FacebookAccount

PASSWORD = "correct-horse-9"


@pytest.fixture
def client():
    return APIClient()


def login(client, username="alice", password=PASSWORD):
    return client.post("/api/auth/token/", {"username": username, "password": password}, format="json")


def test_token_endpoint_returns_a_pair_and_sets_an_httponly_lax_access_cookie(client, operator):
    response = login(client)

    assert response.status_code == HTTPStatus.OK
    assert set(response.json()) == {"access", "refresh"}
    cookie = response.cookies[settings.AUTH_COOKIE_NAME]
    assert cookie.value == response.json()["access"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert int(cookie["max-age"]) == settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
    assert AccessToken(response.json()["access"])["user_id"] == str(operator.pk)


def test_wrong_password_is_401_and_sets_no_cookie(client, operator):
    response = login(client, password="wrong")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert settings.AUTH_COOKIE_NAME not in response.cookies


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("{not json", "application/json"),
        ('["alice", "pw"]', "application/json"),
        ('{"username": "alice"}', "application/json"),
    ],
)
def test_token_endpoint_rejects_malformed_bodies_with_400(client, operator, body, content_type):
    response = client.post("/api/auth/token/", body, content_type=content_type)

    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_refresh_returns_a_new_access_token_and_refreshes_the_cookie(client, operator):
    refresh = str(RefreshToken.for_user(operator))

    response = client.post("/api/auth/token/refresh/", {"refresh": refresh}, format="json")

    assert response.status_code == HTTPStatus.OK
    assert response.cookies[settings.AUTH_COOKIE_NAME].value == response.json()["access"]


def test_refresh_with_a_garbage_token_is_401(client, operator):
    response = client.post("/api/auth/token/refresh/", {"refresh": "garbage"}, format="json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_me_describes_the_bearer_of_the_token(api, operator):
    response = api.get("/api/auth/me/")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"id": operator.pk, "username": "alice", "email": "alice@example.com"}


def test_without_credentials_the_api_answers_401_with_a_bearer_challenge(client, operator):
    response = client.get("/api/auth/me/")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_access_cookie_alone_authenticates_a_get(client, operator):
    login(client)  # the test client keeps the cookie, as a browser would
    client.credentials()  # and no Authorization header

    response = client.get("/api/auth/me/")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["username"] == "alice"


def test_the_access_cookie_alone_does_not_authenticate_a_write(client, operator):
    login(client)

    response = client.post("/api/accounts/", {"email": "seller@example.com"}, format="json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert not FacebookAccount.objects.exists()


def test_an_invalid_access_cookie_is_401_not_500(client, operator):
    client.cookies[settings.AUTH_COOKIE_NAME] = "not-a-jwt"

    response = client.get("/api/auth/me/")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_an_invalid_bearer_token_is_401(client, operator):
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")

    response = client.get("/api/auth/me/")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_a_django_session_authenticates_pages_the_project_serves(client, operator):
    client.force_login(operator)

    response = client.get("/api/auth/me/")

    assert response.status_code == HTTPStatus.OK
