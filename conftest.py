"""Fixtures shared by every app's tests."""
import io

import pytest
from django.contrib.auth import get_user_model
from PIL import Image
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken


@pytest.fixture(autouse=True)
def isolated_files(settings, tmp_path):
    """Every test writes media, logs and sessions under its own temporary directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LOG_DIR = tmp_path / "logs"
    settings.SESSIONS_DIR = tmp_path / "sessions"
    return tmp_path


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The default hasher takes ~0.4 s per password by design; tests need no such strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_operator(db):
    def make(username: str = "alice"):
        return get_user_model().objects.create_user(username, f"{username}@example.com", "correct-horse-9")

    return make


@pytest.fixture
def operator(make_operator):
    return make_operator("alice")


@pytest.fixture
def other_operator(make_operator):
    return make_operator("mallory")


def bearer_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def api(operator) -> APIClient:
    """A client authenticated as `operator` with a bearer token, as curl would be."""
    return bearer_client(operator)


@pytest.fixture
def other_api(other_operator) -> APIClient:
    return bearer_client(other_operator)


def image_bytes(fmt: str = "PNG", size=(64, 48), color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()
