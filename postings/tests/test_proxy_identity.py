"""Each account's browser leaves through its own proxy, with its own identity: posting, the live
session check and save_session alike. Real parts: Chromium, the simulator, and a real forward
proxy (simulator.proxy) in this test process."""
import os
import socket
import subprocess
import sys
from http import HTTPStatus
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings

from accounts.models import FacebookAccount
from config.browsing import marketplace_target
from conftest import free_port
from driver.browser import AccountBrowser, launch, start_playwright
from postings import services, worker
from postings.models import ErrorLog, MarketplacePost
from postings.tests.conftest import published_titles
from simulator.proxy import ForwardProxy

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "Prx-s3cret-77"
CREATE = "/marketplace/create/item"


@pytest.fixture
def proxy():
    with ForwardProxy(username="alice", password=SECRET).start() as running:
        yield running


def with_credentials(proxy: ForwardProxy, password: str = SECRET) -> str:
    return f"http://alice:{password}@127.0.0.1:{proxy.port}"


def set_proxy(account, url: str) -> None:
    FacebookAccount.objects.filter(pk=account.pk).update(proxy=url)
    account.refresh_from_db()


def run(operator, posts):
    job, _ = services.posting_job_create(owner=operator, post_ids=[p.pk for p in posts])
    return worker.run_job(job_id=job.job_id)


def through(proxy: ForwardProxy, simulator, path: str) -> list[dict]:
    host = urlsplit(simulator.base_url).netloc
    return [r for r in proxy.requests if r["host"] == host and r["path"].split("?")[0] == path]


def visits(simulator, account, path: str) -> list[dict]:
    return [v for v in simulator.visits(account.c_user) if v["path"].split("?")[0] == path]


def test_an_accounts_browser_posts_through_its_proxy_and_another_accounts_does_not(
    simulator, settings, proxy, operator, make_account, make_post
):
    settings.POSTING_CONCURRENCY = 2  # both accounts at once, in one Chromium: contexts keep their own proxy
    proxied, direct = make_account("proxied@example.com"), make_account("direct@example.com")
    set_proxy(proxied, with_credentials(proxy))
    posts = [make_post(proxied, "Via proxy 1"), make_post(direct, "Direct 1"), make_post(proxied, "Via proxy 2")]

    job = run(operator, posts)

    assert (job.status, job.completed_posts) == ("completed", 3)
    assert published_titles(simulator) == ["Direct 1", "Via proxy 1", "Via proxy 2"]
    assert len(through(proxy, simulator, CREATE)) == len(visits(simulator, proxied, CREATE)) == 2
    assert all(r["authenticated"] for r in proxy.requests)
    assert len(visits(simulator, direct, CREATE)) == 1

    proxy.clear()
    run(operator, [make_post(direct, "Direct 2")])  # an account without a proxy: nothing through it
    assert published_titles(simulator) == ["Direct 1", "Direct 2", "Via proxy 1", "Via proxy 2"]
    assert proxy.requests == []


def test_every_page_of_a_post_shows_the_accounts_own_identity(simulator, operator, make_account, make_post):
    first, second = make_account("one@example.com"), make_account("two@example.com")
    FacebookAccount.objects.filter(pk=second.pk).update(
        user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
    )
    first.refresh_from_db(), second.refresh_from_db()

    run(operator, [make_post(first, "A"), make_post(second, "B"), make_post(first, "C")])

    for account in (first, second):
        seen = simulator.visits(account.c_user)
        assert seen and {v["user_agent"] for v in seen} == {account.user_agent}
        assert all(v["accept_language"].startswith("en-US") for v in seen)


def test_the_browser_context_has_the_accounts_time_zone_window_and_language(simulator, make_account):
    account = make_account()
    FacebookAccount.objects.filter(pk=account.pk).update(timezone="America/Phoenix", viewport={"width": 1366, "height": 641})
    account.refresh_from_db()
    state = {"cookies": [], "origins": []}

    with start_playwright() as playwright:
        browser = launch(playwright, executable=django_settings.BROWSER_EXECUTABLE)
        try:
            context = AccountBrowser(browser, state=state, target=marketplace_target(), profile=account.browser_profile())
            page = context.page()
            page.goto(simulator.base_url + "/login/")
            seen = page.evaluate("""() => ({
                ua: navigator.userAgent, language: navigator.language, width: innerWidth, height: innerHeight,
                zone: Intl.DateTimeFormat().resolvedOptions().timeZone })""")
        finally:
            browser.close()

    assert seen == {"ua": account.user_agent, "language": "en-US", "width": 1366, "height": 641, "zone": "America/Phoenix"}


def test_the_live_check_goes_through_the_proxy_with_the_accounts_identity(simulator, api, proxy, make_account):
    account = make_account()
    set_proxy(account, with_credentials(proxy))

    response = api.get(f"/api/accounts/{account.pk}/validate-session/?live=true")

    assert (response.status_code, response.json()["valid"]) == (HTTPStatus.OK, True)
    assert len(through(proxy, simulator, CREATE)) == 1
    assert {v["user_agent"] for v in simulator.visits(account.c_user)} == {account.user_agent}


def test_a_live_check_through_a_proxy_that_refuses_is_503_naming_it_without_its_password(simulator, api, make_account):
    account = make_account()
    set_proxy(account, f"http://alice:{SECRET}@127.0.0.1:{free_port()}")  # nothing listens there

    response = api.get(f"/api/accounts/{account.pk}/validate-session/?live=true")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    detail = response.json()["detail"]
    assert f"The proxy http://alice:***@127.0.0.1:" in detail and "refused" in detail
    assert SECRET not in response.content.decode()
    assert simulator.visits(account.c_user) == []


def test_save_session_logs_in_through_the_accounts_proxy_with_its_identity(simulator, live_server_env, proxy, operator):
    account = FacebookAccount.objects.create(owner=operator, email="new@example.com", proxy=with_credentials(proxy))

    result = subprocess.run(
        [sys.executable, "manage.py", "save_session", str(account.pk), "--headless", "--timeout", "60"],
        cwd=django_settings.BASE_DIR, input="new@example.com\npassword\n", capture_output=True, text=True,
        env={**os.environ, **live_server_env, "MARKETPLACE_BASE_URL": simulator.base_url}, timeout=180,
    )

    assert result.returncode == 0, result.stderr
    assert through(proxy, simulator, "/login/")
    assert SECRET not in result.stdout + result.stderr
    login = [v for v in simulator.visits() if v["path"].startswith("/login")]
    assert login and {v["user_agent"] for v in login} == {account.user_agent}


def test_save_session_through_a_refusing_proxy_says_so_and_writes_nothing(simulator, live_server_env, operator):
    account = FacebookAccount.objects.create(
        owner=operator, email="new@example.com", proxy=f"http://alice:{SECRET}@127.0.0.1:{free_port()}"
    )

    result = subprocess.run(
        [sys.executable, "manage.py", "save_session", str(account.pk), "--headless", "--timeout", "30"],
        cwd=django_settings.BASE_DIR, input="new@example.com\npassword\n", capture_output=True, text=True,
        env={**os.environ, **live_server_env, "MARKETPLACE_BASE_URL": simulator.base_url}, timeout=120,
    )

    assert result.returncode != 0
    assert "The proxy http://alice:***@127.0.0.1:" in result.stderr and "refused" in result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert not account.session_path.exists()


@pytest.fixture
def silent_proxy():
    """A proxy that takes the connection and never says a word."""
    server = socket.create_server(("127.0.0.1", 0))
    yield server.getsockname()[1]
    server.close()


@pytest.mark.parametrize("kind", ["refuses", "is silent", "rejects the password"])
def test_a_proxy_that_does_not_work_is_a_network_error_naming_it_and_stops_only_that_account(
    simulator, settings, proxy, silent_proxy, operator, make_account, make_post, kind
):
    settings.BROWSER_TIMEOUT_SECONDS = 3  # how long a silent proxy is given
    broken, fine = make_account("broken@example.com"), make_account("fine@example.com")
    port = {"refuses": free_port(), "is silent": silent_proxy, "rejects the password": proxy.port}[kind]
    password = "wrong-password" if kind == "rejects the password" else SECRET
    set_proxy(broken, f"http://alice:{password}@127.0.0.1:{port}")
    posts = [make_post(broken, "B1"), make_post(broken, "B2"), make_post(fine, "F1")]

    job = run(operator, posts)

    assert (job.status, job.completed_posts, job.failed_posts) == ("completed", 1, 2)
    assert published_titles(simulator) == ["F1"]
    first, second = ErrorLog.objects.order_by("id")
    assert (first.error_type, second.error_type) == ("network_error", "network_error")
    assert first.error_message.startswith(f"The proxy http://alice:***@127.0.0.1:{port} does not work: ")
    assert {"refuses": "refused", "is silent": "no answer within 3 s",
            "rejects the password": "refused the account's user name and password (407)"}[kind] in first.error_message
    assert second.error_message.startswith("Skipped: account broken@example.com stopped earlier")
    for log in (first, second):
        assert SECRET not in log.error_message + log.stack_trace and "wrong-password" not in log.error_message
    assert simulator.visits(broken.c_user) == []
    assert MarketplacePost.objects.get(title="B1").status == "failed"


def test_a_proxy_that_fails_once_the_browser_uses_it_is_blamed_by_name(
    simulator, settings, proxy, operator, make_account, make_post, monkeypatch
):
    """The proxy answered the check, then went away: Chromium's net::ERR_PROXY_CONNECTION_FAILED."""
    account = make_account()
    set_proxy(account, with_credentials(proxy))
    monkeypatch.setattr("driver.browser.probe", lambda *args, **kwargs: None)  # it answered the check
    proxy.close()

    run(operator, [make_post(account, "Lost")])

    log = ErrorLog.objects.get()
    assert log.error_type == "network_error"
    assert log.error_message.startswith(f"The proxy http://alice:***@127.0.0.1:{proxy.port} failed: ")
    assert "ERR_PROXY_CONNECTION_FAILED" in log.error_message
