"""`manage.py ensure_operator`: someone can always log in, and nothing is overwritten."""
import io
import re

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

SUPERUSER_VARS = ("DJANGO_SUPERUSER_USERNAME", "DJANGO_SUPERUSER_PASSWORD", "DJANGO_SUPERUSER_EMAIL")


@pytest.fixture
def no_superuser_env(monkeypatch):
    for name in SUPERUSER_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def superuser_env(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "boss")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-chosen-passphrase-42")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "boss@example.com")


def ensure_operator() -> str:
    out = io.StringIO()
    call_command("ensure_operator", stdout=out)
    return out.getvalue()


def printed_password(output: str) -> str | None:
    match = re.search(r"^\s*password:\s*(\S+)\s*$", output, re.MULTILINE)
    return match.group(1) if match else None


def test_first_run_creates_an_operator_superuser_whose_printed_password_logs_in(db, no_superuser_env):
    output = ensure_operator()

    user = get_user_model().objects.get()
    assert user.username == "operator"
    assert user.is_superuser and user.is_staff
    password = printed_password(output)
    assert password
    assert authenticate(username="operator", password=password) == user


def test_second_run_creates_no_user_and_prints_no_password(db, no_superuser_env):
    first = ensure_operator()

    second = ensure_operator()

    assert get_user_model().objects.count() == 1
    assert printed_password(second) is None
    assert printed_password(first) not in second


def test_an_existing_operator_means_nothing_is_created(operator, no_superuser_env):
    output = ensure_operator()

    assert list(get_user_model().objects.all()) == [operator]
    assert printed_password(output) is None


def test_configured_superuser_is_created_and_logs_in_with_the_configured_password(db, superuser_env):
    output = ensure_operator()

    user = get_user_model().objects.get()
    assert (user.username, user.email) == ("boss", "boss@example.com")
    assert user.is_superuser and user.is_staff
    assert authenticate(username="boss", password="a-chosen-passphrase-42") == user
    assert "a-chosen-passphrase-42" not in output


def test_configured_superuser_is_created_even_when_another_operator_exists(operator, superuser_env):
    ensure_operator()

    assert get_user_model().objects.filter(username="boss", is_superuser=True).exists()


def test_running_again_with_a_configured_superuser_neither_duplicates_it_nor_resets_its_password(db, superuser_env):
    ensure_operator()
    hashed = get_user_model().objects.get(username="boss").password

    ensure_operator()

    user = get_user_model().objects.get()
    assert user.password == hashed
    assert authenticate(username="boss", password="a-chosen-passphrase-42") == user
