"""An account's proxy, browser identity, budgets and pause through the API."""
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from accounts.models import FacebookAccount
from accounts.tests.test_session_api import storage_state
from driver import identity

SECRET = "pw-Zq81-secret"


@pytest.fixture
def account(operator):
    return FacebookAccount.objects.create(owner=operator, email="seller@example.com")


def url(account, suffix="") -> str:
    return f"/api/accounts/{account.pk}/{suffix}"


def test_a_proxy_is_stored_whole_and_answered_with_its_password_masked(api, account):
    response = api.patch(url(account), {"proxy": f"http://alice:{SECRET}@proxy.example.net:3128"}, format="json")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["proxy"] == "http://alice:***@proxy.example.net:3128"
    assert SECRET not in response.content.decode()
    account.refresh_from_db()
    assert account.proxy == f"http://alice:{SECRET}@proxy.example.net:3128"  # the browser needs it
    for answer in (api.get(url(account)), api.get("/api/accounts/")):
        assert SECRET not in answer.content.decode()
        assert "http://alice:***@proxy.example.net:3128" in answer.content.decode()


def test_writing_back_the_masked_proxy_keeps_the_stored_password(api, account):
    api.patch(url(account), {"proxy": f"http://alice:{SECRET}@proxy.example.net:3128"}, format="json")
    shown = api.get(url(account)).json()

    response = api.patch(url(account), {"proxy": shown["proxy"], "name": "Renamed"}, format="json")

    assert response.status_code == HTTPStatus.OK
    account.refresh_from_db()
    assert account.proxy == f"http://alice:{SECRET}@proxy.example.net:3128"


def test_the_mask_does_not_stand_for_a_password_on_another_proxy(api, account):
    api.patch(url(account), {"proxy": f"http://alice:{SECRET}@proxy.example.net:3128"}, format="json")

    response = api.patch(url(account), {"proxy": "http://alice:***@elsewhere.example.net:3128"}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "password" in response.json()["proxy"][0]
    account.refresh_from_db()
    assert "proxy.example.net" in account.proxy


@pytest.mark.parametrize("proxy", [None, ""])
def test_null_or_empty_removes_the_proxy(api, account, proxy):
    account.proxy = "socks5://10.0.0.2:1080"
    account.save()

    response = api.patch(url(account), {"proxy": proxy}, format="json")

    assert (response.status_code, response.json()["proxy"]) == (HTTPStatus.OK, None)
    account.refresh_from_db()
    assert account.proxy == ""


@pytest.mark.parametrize("proxy, accepted", [
    ("http://10.0.0.2:3128", "http://10.0.0.2:3128"),
    ("HTTPS://proxy.example.net:443", "https://proxy.example.net:443"),
    ("socks5://10.0.0.2:1080", "socks5://10.0.0.2:1080"),
    ("http://us%40er:p%3Ass@10.0.0.2:8080/", "http://us%40er:***@10.0.0.2:8080"),
    ("http://[2001:db8::1]:3128", "http://[2001:db8::1]:3128"),
])
def test_each_kind_of_proxy_is_accepted(api, account, proxy, accepted):
    response = api.patch(url(account), {"proxy": proxy}, format="json")

    assert (response.status_code, response.json()["proxy"]) == (HTTPStatus.OK, accepted)


@pytest.mark.parametrize("proxy, says", [
    ("ftp://10.0.0.2:21", "Unsupported scheme 'ftp'"),
    ("10.0.0.2:3128", "Give the scheme"),
    ("http://10.0.0.2", "no port"),
    ("http://10.0.0.2:99999", "port must be a number"),
    ("http://:3128", "no host"),
    ("http://10.0.0.2:3128/path?x=1", "no path"),
    (f"socks5://alice:{SECRET}@10.0.0.2:1080", "Chromium cannot log in to a SOCKS5 proxy"),
    (f"http://:{SECRET}@10.0.0.2:3128", "no user name"),
    ("http://alice:***@10.0.0.2:3128", "password"),  # nothing stored yet for the mask to stand for
])
def test_a_proxy_that_cannot_be_used_is_400_naming_why_and_never_echoing_the_password(api, account, proxy, says):
    response = api.patch(url(account), {"proxy": proxy}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert says in response.json()["proxy"][0]
    assert SECRET not in response.content.decode()
    account.refresh_from_db()
    assert account.proxy == ""


def test_a_new_account_gets_a_realistic_identity_of_its_own_and_keeps_it(api):
    created = [api.post("/api/accounts/", {"email": f"a{n}@example.com"}, format="json").json() for n in range(12)]

    for body in created:
        assert body["user_agent"] == identity.default_user_agent()
        assert "HeadlessChrome" not in body["user_agent"]
        assert body["timezone"] in identity.TIMEZONES
        assert (body["viewport"]["width"], body["viewport"]["height"]) in identity.VIEWPORTS
    assert len({(b["timezone"], b["viewport"]["width"]) for b in created}) > 1  # drawn, not one for all
    again = api.get(f"/api/accounts/{created[0]['id']}/").json()
    assert {k: again[k] for k in ("user_agent", "timezone", "viewport")} == {
        k: created[0][k] for k in ("user_agent", "timezone", "viewport")
    }


def test_an_identity_can_be_given_at_creation_and_edited(api):
    given = {"email": "given@example.com", "user_agent": identity.USER_AGENTS["win32"], "timezone": "Europe/Berlin",
             "viewport": {"width": 1600, "height": 900}}

    created = api.post("/api/accounts/", given, format="json")
    assert created.status_code == HTTPStatus.CREATED
    assert {k: created.json()[k] for k in given} == given

    edited = api.patch(f"/api/accounts/{created.json()['id']}/", {"timezone": "America/Denver"}, format="json")
    assert (edited.json()["timezone"], edited.json()["viewport"]) == ("America/Denver", {"width": 1600, "height": 900})


@pytest.mark.parametrize("field, value, says", [
    ("timezone", "Mars/Olympus", "not an IANA time zone"),
    ("user_agent", "curl/8.0", "user agent"),
    ("viewport", {"width": 640, "height": 480}, "Width 800-3840"),
    ("viewport", {"width": 1366}, "window size"),
    ("viewport", "1366x768", "window size"),
    ("viewport", {"width": 1366.5, "height": 700}, "whole pixels"),
    ("daily_post_limit", 0, "greater than or equal to 1"),
    ("hourly_post_limit", -1, "greater than or equal to 1"),
    ("hourly_post_limit", "many", "valid integer"),
])
def test_a_bad_identity_or_limit_is_400_naming_the_field(api, account, field, value, says):
    before = FacebookAccount.objects.values().get(pk=account.pk)

    response = api.patch(url(account), {field: value}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert says in str(response.json()[field])
    assert FacebookAccount.objects.values().get(pk=account.pk) == before


def test_budgets_are_set_and_unset_per_account(api, account):
    response = api.patch(url(account), {"daily_post_limit": 5, "hourly_post_limit": 2}, format="json")
    assert (response.json()["daily_post_limit"], response.json()["hourly_post_limit"]) == (5, 2)

    response = api.patch(url(account), {"daily_post_limit": None}, format="json")
    assert (response.json()["daily_post_limit"], response.json()["hourly_post_limit"]) == (None, 2)


@pytest.mark.parametrize("field", ["paused_until", "pause_reason"])
def test_the_pause_is_read_only(api, account, field):
    response = api.patch(url(account), {field: None}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()


def test_resume_lifts_a_pause_and_a_fresh_session_does_not(api, account):
    until = timezone.now() + timedelta(hours=20)
    FacebookAccount.objects.filter(pk=account.pk).update(paused_until=until, pause_reason="You're Temporarily Blocked")

    assert api.put(url(account, "session/"), storage_state(), format="json").status_code == HTTPStatus.OK
    account.refresh_from_db()
    assert account.paused_until == until  # a block is Facebook's on the account, not on its session
    assert api.get(url(account)).json()["pause_reason"] == "You're Temporarily Blocked"

    response = api.post(url(account, "resume/"))

    assert response.status_code == HTTPStatus.OK
    assert (response.json()["paused_until"], response.json()["pause_reason"]) == (None, "")
    account.refresh_from_db()
    assert account.paused_until is None
    assert api.post(url(account, "resume/")).status_code == HTTPStatus.OK  # not paused: nothing to lift, no error


def test_resume_is_404_for_another_operators_account(other_api, account):
    FacebookAccount.objects.filter(pk=account.pk).update(paused_until=timezone.now() + timedelta(hours=1))

    assert other_api.post(url(account, "resume/")).status_code == HTTPStatus.NOT_FOUND
    account.refresh_from_db()
    assert account.paused_until is not None


def test_resume_is_post_only(api, account):
    assert api.get(url(account, "resume/")).status_code == HTTPStatus.METHOD_NOT_ALLOWED
