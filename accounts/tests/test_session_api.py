import json
import os
import stat
import threading
from http import HTTPStatus

import pytest

from accounts import session_files
from accounts.models import FacebookAccount

FAR_FUTURE = 4102444800  # 2100-01-01
PAST = 946684800  # 2000-01-01
XS_SECRET = "42%3AsEcReT-xs-value"


@pytest.fixture
def account(operator):
    return FacebookAccount.objects.create(owner=operator, email="seller@example.com")


def url(account) -> str:
    return f"/api/accounts/{account.pk}/session/"


def storage_state(**overrides) -> dict:
    cookies = {
        "c_user": {
            "name": "c_user", "value": "100012345", "domain": ".facebook.com", "path": "/",
            "expires": FAR_FUTURE, "httpOnly": False, "secure": True, "sameSite": "None",
        },
        "xs": {
            "name": "xs", "value": XS_SECRET, "domain": ".facebook.com", "path": "/",
            "expires": FAR_FUTURE, "httpOnly": True, "secure": True, "sameSite": "None",
        },
        "datr": {
            "name": "datr", "value": "device", "domain": ".facebook.com", "path": "/",
            "expires": FAR_FUTURE, "httpOnly": True, "secure": True, "sameSite": "None",
        },
    }
    for name, cookie in overrides.items():
        if cookie is None:
            del cookies[name]
        else:
            cookies[name] = {**cookies[name], **cookie}
    return {"cookies": list(cookies.values()), "origins": []}


# What a cookie-export extension ("EditThisCookie", "Cookie-Editor") writes.
EXTENSION_EXPORT = [
    {
        "domain": ".facebook.com", "expirationDate": FAR_FUTURE + 0.5, "hostOnly": False,
        "httpOnly": False, "name": "c_user", "path": "/", "sameSite": "no_restriction",
        "secure": True, "session": False, "storeId": "0", "value": "100012345", "id": 1,
    },
    {
        "domain": ".facebook.com", "expirationDate": FAR_FUTURE, "hostOnly": False,
        "httpOnly": True, "name": "xs", "path": "/", "sameSite": "no_restriction",
        "secure": True, "session": False, "storeId": "0", "value": XS_SECRET, "id": 2,
    },
    {
        "domain": "www.facebook.com", "hostOnly": True, "httpOnly": False, "name": "wd",
        "path": "/", "sameSite": "lax", "secure": True, "session": True, "storeId": "0",
        "value": "1280x720", "id": 3,
    },
    {
        "domain": ".facebook.com", "hostOnly": False, "httpOnly": False, "name": "presence",
        "path": "/", "sameSite": "unspecified", "secure": True, "session": True, "storeId": "0",
        "value": "p", "id": 4,
    },
]


def test_a_storage_state_is_stored_and_answered_like_validate_session(api, account):
    response = api.put(url(account), storage_state(), format="json")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "valid": True,
        "session_age_days": 0.0,
        "message": "Session is valid",
        "action_required": None,
        "reasons": [],
    }
    assert json.loads(account.session_path.read_text()) == storage_state()


def test_a_cookie_extension_export_is_normalised_to_a_storage_state(api, account):
    response = api.put(url(account), EXTENSION_EXPORT, format="json")

    assert response.status_code == HTTPStatus.OK
    assert json.loads(account.session_path.read_text()) == {
        "cookies": [
            {
                "name": "c_user", "value": "100012345", "domain": ".facebook.com", "path": "/",
                "expires": FAR_FUTURE + 0.5, "httpOnly": False, "secure": True, "sameSite": "None",
            },
            {
                "name": "xs", "value": XS_SECRET, "domain": ".facebook.com", "path": "/",
                "expires": FAR_FUTURE, "httpOnly": True, "secure": True, "sameSite": "None",
            },
            {
                "name": "wd", "value": "1280x720", "domain": "www.facebook.com", "path": "/",
                "expires": -1, "httpOnly": False, "secure": True, "sameSite": "Lax",
            },
            {
                "name": "presence", "value": "p", "domain": ".facebook.com", "path": "/",
                "expires": -1, "httpOnly": False, "secure": True, "sameSite": "Lax",
            },
        ],
        "origins": [],
    }


def test_the_session_file_is_owner_only_in_an_owner_only_directory(api, account):
    api.put(url(account), storage_state(), format="json")

    assert stat.S_IMODE(account.session_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(account.session_path.parent.stat().st_mode) == 0o700


def test_the_session_lives_outside_media_root(api, account, settings):
    api.put(url(account), storage_state(), format="json")

    assert settings.MEDIA_ROOT not in account.session_path.parents


def test_no_answer_ever_contains_the_session_cookies(api, account):
    responses = [
        api.put(url(account), storage_state(), format="json"),
        api.get(f"/api/accounts/{account.pk}/"),
        api.get("/api/accounts/"),
    ]

    for response in responses:
        assert response.status_code == HTTPStatus.OK
        assert XS_SECRET not in response.content.decode()
        assert "100012345" not in response.content.decode()


def test_the_account_shows_that_a_session_exists(api, account):
    api.put(url(account), storage_state(), format="json")

    assert api.get(f"/api/accounts/{account.pk}/").json()["session_exists"] is True


@pytest.mark.parametrize(
    "body, expected",
    [
        (storage_state(c_user=None), "Missing facebook.com cookie(s): c_user."),
        (storage_state(xs=None), "Missing facebook.com cookie(s): xs."),
        (storage_state(c_user=None, xs=None), "Missing facebook.com cookie(s): c_user, xs."),
        (storage_state(xs={"domain": ".example.com"}), "Missing facebook.com cookie(s): xs."),
        (storage_state(xs={"domain": "notfacebook.com"}), "Missing facebook.com cookie(s): xs."),
        (storage_state(xs={"value": ""}), "Missing facebook.com cookie(s): xs."),
        (storage_state(xs={"expires": PAST}), "Cookie xs expired on 2000-01-01 00:00 UTC"),
        ({"cookies": "c_user=1; xs=2"}, "'cookies' must be a list"),
        ({"origins": []}, "Expected a Playwright storage state"),
        ("c_user=1; xs=2", "Expected a Playwright storage state"),
        (42, "Expected a Playwright storage state"),
        ([1, 2], "cookie 0: expected an object, got int"),
        ([{"value": "1", "domain": ".facebook.com"}], "cookie 0: 'name' must be a non-empty string"),
        ([{"name": "xs", "value": 1, "domain": ".facebook.com"}], "cookie 0 (xs): 'value' must be a string"),
        ([{"name": "xs", "value": "1"}], "cookie 0 (xs): 'domain' must be a string"),
        (storage_state(xs={"expires": "soon"}), "cookie 1 (xs): 'expires' must be a number"),
        (storage_state(xs={"expires": True}), "cookie 1 (xs): 'expires' must be a number"),
        (storage_state(xs={"expires": -5}), "cookie 1 (xs): 'expires' must be -1 or a time"),
        (storage_state(xs={"sameSite": "sometimes"}), "cookie 1 (xs): 'sameSite' must be one of"),
        (storage_state(xs={"httpOnly": "yes"}), "cookie 1 (xs): 'httpOnly' must be true or false"),
        (storage_state(xs={"path": "no-slash"}), "cookie 1 (xs): 'path' must be a string starting"),
        ({**storage_state(), "origins": {"a": 1}}, "'origins' must be a list"),
        ({**storage_state(), "origins": [{"origin": "https://www.facebook.com", "localStorage": [1]}]},
         "origin 0: 'localStorage' must be a list"),
    ],
)
def test_an_unusable_session_is_400_naming_the_problem_and_keeps_the_stored_one(api, account, body, expected):
    api.put(url(account), storage_state(), format="json")
    before = account.session_path.read_bytes()

    response = api.put(url(account), body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["detail"].startswith("Invalid session: ")
    assert expected in response.json()["detail"]
    assert account.session_path.read_bytes() == before


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("{not json", "application/json"),
        ("", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
    ],
)
def test_a_body_that_is_not_json_is_400_and_writes_nothing(api, account, body, content_type):
    response = api.put(url(account), body, content_type=content_type)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not account.session_path.exists()


def test_a_session_sent_as_a_form_is_415(api, account):
    response = api.put(url(account), "cookies=1", content_type="application/x-www-form-urlencoded")

    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert not account.session_path.exists()


def test_too_many_cookies_are_refused(api, account):
    body = storage_state()
    body["cookies"] += [
        {"name": f"n{i}", "value": "v", "domain": ".facebook.com"} for i in range(session_files.MAX_COOKIES)
    ]

    response = api.put(url(account), body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Too many cookies" in response.json()["detail"]


def test_a_new_session_replaces_the_file_by_renaming_a_new_one(api, account):
    api.put(url(account), storage_state(), format="json")
    first_inode = account.session_path.stat().st_ino

    api.put(url(account), storage_state(c_user={"value": "200"}), format="json")

    assert account.session_path.stat().st_ino != first_inode
    assert json.loads(account.session_path.read_text())["cookies"][0]["value"] == "200"
    assert [p.name for p in account.session_path.parent.iterdir()] == [account.session_path.name]


def test_a_write_that_fails_midway_leaves_the_old_file_whole_and_no_temporary_file(api, account, monkeypatch):
    api.put(url(account), storage_state(), format="json")
    before = account.session_path.read_bytes()

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(session_files.os, "replace", disk_full)
    with pytest.raises(OSError):
        session_files.write_atomic(account.session_path, storage_state(c_user={"value": "200"}))

    assert account.session_path.read_bytes() == before
    assert [p.name for p in account.session_path.parent.iterdir()] == [account.session_path.name]


def test_a_reader_never_sees_a_half_written_session(tmp_path):
    path = tmp_path / "sessions" / "account_1.json"
    big = storage_state()
    big["cookies"] += [{"name": f"n{i}", "value": "v" * 200, "domain": ".facebook.com",
                        "path": "/", "expires": -1, "httpOnly": False, "secure": True,
                        "sameSite": "Lax"} for i in range(300)]
    session_files.write_atomic(path, big)
    stop = threading.Event()
    torn = []

    def read_continuously():
        while not stop.is_set():
            try:
                session_files.read_state(path)
            except session_files.SessionFormatError as exc:
                torn.append(exc)

    reader = threading.Thread(target=read_continuously)
    reader.start()
    try:
        for i in range(200):
            big["cookies"][0]["value"] = str(i)
            session_files.write_atomic(path, big)
    finally:
        stop.set()
        reader.join()

    assert torn == []
    assert session_files.read_state(path)["cookies"][0]["value"] == "199"


def test_delete_removes_the_session_and_is_idempotent(api, account):
    api.put(url(account), storage_state(), format="json")

    first = api.delete(url(account))
    second = api.delete(url(account))

    assert (first.status_code, second.status_code) == (HTTPStatus.NO_CONTENT, HTTPStatus.NO_CONTENT)
    assert not account.session_path.exists()
    assert api.get(f"/api/accounts/{account.pk}/").json()["session_exists"] is False


def test_a_session_for_an_unknown_account_is_404(api):
    assert api.put("/api/accounts/999/session/", storage_state(), format="json").status_code == HTTPStatus.NOT_FOUND


def test_umask_does_not_loosen_the_file_mode(api, account):
    old = os.umask(0)
    try:
        api.put(url(account), storage_state(), format="json")
    finally:
        os.umask(old)

    assert stat.S_IMODE(account.session_path.stat().st_mode) == 0o600
