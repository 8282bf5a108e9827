"""The Facebook account's admin pages: the proxy is shown masked, and saving keeps its password.

(Here with the dashboard's tests: the admin is the other page an operator edits accounts on.)
"""
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import FacebookAccount

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-Pa55word"
STORED = f"http://bob:{PASSWORD}@proxy.example:3128"
MASKED = "http://bob:***@proxy.example:3128"


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "correct-horse-9")


@pytest.fixture
def account(superuser):
    return FacebookAccount.objects.create(
        owner=superuser, email="proxied@example.com", proxy=STORED, timezone="America/Denver",
        viewport={"width": 1366, "height": 641}, paused_until=timezone.now() + timedelta(hours=3),
        pause_reason="rate_limit: blocked",
    )


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def change_url(account) -> str:
    return reverse("admin:accounts_facebookaccount_change", args=[account.pk])


def submitted(account, **changes) -> dict:
    """The change form as the browser submits it, unchanged but for `changes`."""
    data = {
        "owner": account.owner_id, "email": account.email, "name": account.name, "proxy": MASKED,
        "user_agent": account.user_agent, "timezone": account.timezone, "viewport": '{"width": 1366, "height": 641}',
        "daily_post_limit": "", "hourly_post_limit": "",
    }
    return {**data, **changes}


def test_the_changelist_shows_the_masked_proxy_the_identity_and_the_pause(admin_client, account):
    response = admin_client.get(reverse("admin:accounts_facebookaccount_changelist"))

    content = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert MASKED in content and PASSWORD not in content
    assert "America/Denver" in content and "1366 × 641" in content
    assert f'{account.paused_until:%Y}' in content and "field-paused_until" in content


def test_the_change_page_shows_the_proxy_masked_and_never_its_password(admin_client, account):
    response = admin_client.get(change_url(account))

    content = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert PASSWORD not in content
    assert f'name="proxy" value="{MASKED}"' in content
    assert "the stored password is kept" in content  # the help text
    assert 'name="timezone"' in content and 'name="user_agent"' in content and 'name="viewport"' in content
    assert 'name="paused_until"' not in content and "rate_limit: blocked" in content  # read-only


def test_saving_the_masked_proxy_back_keeps_the_stored_password(admin_client, account):
    response = admin_client.post(change_url(account), submitted(account, timezone="America/Chicago", daily_post_limit="9"))

    assert response.status_code == HTTPStatus.FOUND, response.content.decode()
    account.refresh_from_db()
    assert (account.proxy, account.timezone, account.daily_post_limit) == (STORED, "America/Chicago", 9)


def test_the_masked_password_with_another_host_is_refused_and_a_new_url_is_stored(admin_client, account):
    moved = admin_client.post(change_url(account), submitted(account, proxy="http://bob:***@elsewhere.example:3128"))

    assert moved.status_code == HTTPStatus.OK
    assert "only stands for the one stored" in moved.content.decode() and PASSWORD not in moved.content.decode()

    changed = admin_client.post(change_url(account), submitted(account, proxy="socks5://10.0.0.9:1080"))
    assert changed.status_code == HTTPStatus.FOUND
    account.refresh_from_db()
    assert account.proxy == "socks5://10.0.0.9:1080"

    admin_client.post(change_url(account), submitted(account, proxy=""))
    account.refresh_from_db()
    assert account.proxy == ""


@pytest.mark.parametrize("field, value, error", [
    ("proxy", "ftp://x:1", "Unsupported scheme"),
    ("timezone", "Mars/Olympus", "is not an IANA time zone"),
    ("viewport", '{"width": 10, "height": 10}', "Width 800-3840"),
    ("user_agent", "curl/8", "A browser&#x27;s user agent"),
    ("daily_post_limit", "0", "At least 1"),
])
def test_the_change_form_checks_what_the_api_checks(admin_client, account, field, value, error):
    response = admin_client.post(change_url(account), submitted(account, **{field: value}))

    assert response.status_code == HTTPStatus.OK
    assert error in response.content.decode()
    account.refresh_from_db()
    assert account.proxy == STORED and account.timezone == "America/Denver"
