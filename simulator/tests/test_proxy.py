"""The test forward proxy, through real sockets: urllib, http.client, raw sockets and Chromium."""
from __future__ import annotations

import base64
import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from hashlib import sha256
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect, sync_playwright

from driver.executable import find_chromium, launch_args
from simulator.client import SimulatorClient
from simulator.proxy import ForwardProxy
from simulator.server import run_in_thread
from simulator.state import solid_png

PROJECT_DIR = Path(__file__).resolve().parents[2]
TIMEOUT = 30  # seconds for any one socket operation: the machine is busy
AUTH = "Basic " + base64.b64encode(b"u:p").decode()


def authority(base_url: str) -> str:
    return urlsplit(base_url).netloc


@pytest.fixture(autouse=True)
def no_proxy_bypass(monkeypatch):
    # urllib skips a proxy for hosts named in no_proxy: these tests want every request proxied.
    for name in ("no_proxy", "NO_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def simulator():
    base_url, shutdown = run_in_thread(port=0)
    yield base_url
    shutdown()


@pytest.fixture
def sim(simulator) -> SimulatorClient:
    client = SimulatorClient(simulator)
    client.reset()
    return client


@pytest.fixture
def proxy():
    with ForwardProxy(username="u", password="p") as started:
        yield started


class EchoOrigin(BaseHTTPRequestHandler):
    """An origin answering what it received: /echo as JSON, /chunked in chunks, /drop nothing."""
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self.answer()

    def do_POST(self):
        self.answer()

    def answer(self):
        path = urlsplit(self.path).path
        if path == "/drop":
            self.close_connection = True
            return
        if path == "/chunked":
            self.send_response(HTTPStatus.OK)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            for part in (b"first,", b"second,", b"third"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = json.dumps({
            "request_line": self.requestline,
            "headers": [[name.lower(), value] for name, value in self.headers.items()],
            "body": self.rfile.read(length).decode("latin-1"),
        }).encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "a=1")
        self.send_header("Set-Cookie", "b=2")
        # Hop-by-hop: the proxy must not pass these on.
        self.send_header("Keep-Alive", "timeout=5")
        self.send_header("X-Hop", "only for the proxy")
        self.send_header("Connection", "close, X-Hop")
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def echo():
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoOrigin)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def closed_port():
    """A port that refuses connections: bound, never listening (so nothing else can take it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def through(proxy_url: str, credentials: str | None = "u:p") -> urllib.request.OpenerDirector:
    host = proxy_url.replace("http://", f"http://{credentials}@") if credentials else proxy_url
    return urllib.request.build_opener(urllib.request.ProxyHandler({"http": host}))


def to_proxy(proxy: ForwardProxy) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=TIMEOUT)


def raw_exchange(proxy: ForwardProxy, request: bytes) -> bytes:
    """Send raw bytes to the proxy; everything it answers until it closes the connection."""
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        answer = b""
        while data := sock.recv(65536):  # a proxy that kept the connection open would time out
            answer += data
    return answer


# -- absolute-URI requests ------------------------------------------------------------------------

def test_a_get_through_the_proxy_reaches_the_simulator_and_is_recorded(sim, proxy, capfd):
    with through(proxy.url).open(sim.base_url + "/login/?next=%2Fmarketplace%2F", timeout=TIMEOUT) as response:
        assert response.status == HTTPStatus.OK
        assert "Log in" in response.read().decode()
    assert proxy.requests == [{"method": "GET", "host": authority(sim.base_url),
                               "path": "/login/?next=%2Fmarketplace%2F", "authenticated": True}]
    assert proxy.refused == 0
    assert [v["path"] for v in sim.visits()] == ["/login/?next=%2Fmarketplace%2F"]
    assert capfd.readouterr() == ("", "")  # nothing written per request


def test_the_origin_gets_origin_form_without_hop_by_hop_or_proxy_headers(echo, proxy):
    connection = to_proxy(proxy)
    connection.request("GET", echo + "/echo?a=1", headers={
        "Host": "wrong.example", "Proxy-Authorization": AUTH, "Proxy-Connection": "keep-alive",
        "Connection": "keep-alive, X-Private", "X-Private": "hop", "Keep-Alive": "timeout=9",
        "TE": "trailers", "User-Agent": "Agent/1.0", "X-Custom": "kept"})
    response = connection.getresponse()
    seen = json.loads(response.read())
    assert seen["request_line"] == "GET /echo?a=1 HTTP/1.1"
    assert sorted(seen["headers"]) == sorted([
        ["host", authority(echo)], ["user-agent", "Agent/1.0"], ["x-custom", "kept"],
        ["accept-encoding", "identity"], ["connection", "close"]])
    # The origin's own hop-by-hop headers stay with the proxy; everything else comes through.
    assert response.getheader("Keep-Alive") is None and response.getheader("X-Hop") is None
    assert response.msg.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert response.getheader("Connection") == "close"
    assert response.getheader("Proxy-Connection") == "close"
    assert proxy.requests == [{"method": "GET", "host": authority(echo), "path": "/echo?a=1",
                               "authenticated": True}]


def test_request_bodies_reach_the_origin_whole_sent_with_a_length_or_in_chunks(echo, sim, proxy):
    posted = through(proxy.url).open(urllib.request.Request(
        echo + "/echo", data=b"x=1&y=2", method="POST"), timeout=TIMEOUT)
    assert json.loads(posted.read())["body"] == "x=1&y=2"

    connection = to_proxy(proxy)
    connection.request("POST", echo + "/echo", body=iter([b"part one, ", b"part two"]),
                       encode_chunked=True, headers={"Proxy-Authorization": AUTH})
    seen = json.loads(connection.getresponse().read())
    assert seen["body"] == "part one, part two"
    # The simulator reads Content-Length only: a chunked body arrives with one.
    assert ["content-length", "18"] in seen["headers"]
    assert not any(name == "transfer-encoding" for name, _ in seen["headers"])

    connection = to_proxy(proxy)
    connection.request("POST", sim.base_url + "/__sim__/sessions", encode_chunked=True,
                       body=iter([b'{"email": ', b'"chunked@example.com"}']),
                       headers={"Proxy-Authorization": AUTH, "Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == HTTPStatus.OK
    assert json.loads(response.read())["c_user"] == sim.mint_session("chunked@example.com")["c_user"]
    assert [r["method"] for r in proxy.requests] == ["POST", "POST", "POST"]


def test_a_chunked_answer_is_relayed_whole_and_the_connection_then_closes(echo, proxy):
    answer = raw_exchange(proxy, (f"GET {echo}/chunked HTTP/1.1\r\nHost: {authority(echo)}\r\n"
                                  f"Proxy-Authorization: {AUTH}\r\n\r\n").encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"transfer-encoding" not in head.lower()
    assert b"\r\nConnection: close" in head
    assert body == b"first,second,third"


def test_an_origin_closing_without_an_answer_closes_the_client_connection_too(echo, proxy):
    # As the browser would see it without the proxy (the simulator's drop_connection fault).
    answer = raw_exchange(proxy, (f"GET {echo}/drop HTTP/1.1\r\nHost: {authority(echo)}\r\n"
                                  f"Proxy-Authorization: {AUTH}\r\n\r\n").encode())
    assert answer == b""
    assert proxy.requests == [{"method": "GET", "host": authority(echo), "path": "/drop",
                               "authenticated": True}]


def test_an_unreachable_origin_answers_502(proxy, closed_port):
    with pytest.raises(urllib.error.HTTPError) as refused:
        through(proxy.url).open(f"http://127.0.0.1:{closed_port}/anything", timeout=TIMEOUT)
    assert refused.value.code == HTTPStatus.BAD_GATEWAY
    assert proxy.requests == [{"method": "GET", "host": f"127.0.0.1:{closed_port}",
                               "path": "/anything", "authenticated": True}]


# -- authentication -------------------------------------------------------------------------------

def test_without_the_right_credentials_the_proxy_answers_407_and_closes(sim, proxy):
    for credentials in ("", "Proxy-Authorization: Basic " + base64.b64encode(b"u:wrong").decode() + "\r\n"):
        answer = raw_exchange(proxy, (f"GET {sim.base_url}/login/ HTTP/1.1\r\n"
                                      f"Host: {authority(sim.base_url)}\r\n{credentials}\r\n").encode())
        head, _, body = answer.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        assert lines[0] == "HTTP/1.1 407 Proxy Authentication Required"
        assert 'Proxy-Authenticate: Basic realm="proxy"' in lines
        assert "Content-Length: 0" in lines
        assert body == b""  # and the connection closed: raw_exchange read to its end
    assert proxy.refused == 2
    assert proxy.requests == []
    assert sim.visits() == []  # nothing reached the origin

    proxy.clear()
    with through(proxy.url).open(sim.base_url + "/login/", timeout=TIMEOUT):
        pass
    assert (len(proxy.requests), proxy.refused) == (1, 0)
    proxy.clear()
    assert (proxy.requests, proxy.refused) == ([], 0)


def test_a_proxy_without_credentials_carries_everything_unauthenticated(sim):
    with ForwardProxy() as open_proxy:
        with through(open_proxy.url, credentials=None).open(sim.base_url + "/login/", timeout=TIMEOUT) as response:
            assert response.status == HTTPStatus.OK
        assert open_proxy.requests == [{"method": "GET", "host": authority(sim.base_url),
                                        "path": "/login/", "authenticated": False}]
        assert open_proxy.refused == 0


# -- CONNECT tunnels ------------------------------------------------------------------------------

def test_connect_tunnels_to_the_origin_both_ways(sim, proxy):
    host, port = authority(sim.base_url).split(":")
    connection = to_proxy(proxy)
    connection.set_tunnel(host, int(port), headers={"Proxy-Authorization": AUTH})
    connection.request("POST", "/__sim__/sessions", body=b'{"email": "tunnel@example.com"}',
                       headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == HTTPStatus.OK
    assert json.loads(response.read())["c_user"] == sim.mint_session("tunnel@example.com")["c_user"]
    assert proxy.requests == [{"method": "CONNECT", "host": f"{host}:{port}", "path": "",
                               "authenticated": True}]


def test_connect_without_credentials_is_refused_with_407(sim, proxy):
    host, port = authority(sim.base_url).split(":")
    connection = to_proxy(proxy)
    connection.set_tunnel(host, int(port))
    with pytest.raises(OSError, match="407"):
        connection.request("GET", "/__sim__/health")
    assert (proxy.requests, proxy.refused) == ([], 1)


def test_connect_to_an_unreachable_origin_answers_502(proxy, closed_port):
    answer = raw_exchange(proxy, (f"CONNECT 127.0.0.1:{closed_port} HTTP/1.1\r\n"
                                  f"Host: 127.0.0.1:{closed_port}\r\nProxy-Authorization: {AUTH}\r\n\r\n").encode())
    assert answer.startswith(b"HTTP/1.1 502 Bad Gateway\r\n")
    assert proxy.requests == [{"method": "CONNECT", "host": f"127.0.0.1:{closed_port}", "path": "",
                               "authenticated": True}]


# -- lifecycle and the command line ----------------------------------------------------------------

def test_close_ends_open_tunnels_frees_the_port_and_can_be_repeated(sim):
    proxy = ForwardProxy(username="u", password="p").start()
    assert proxy.url == f"http://127.0.0.1:{proxy.port}"
    tunnel = socket.create_connection(("127.0.0.1", proxy.port), timeout=TIMEOUT)
    try:
        target = authority(sim.base_url)
        tunnel.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: {AUTH}\r\n\r\n".encode())
        assert tunnel.recv(1024) == b"HTTP/1.1 200 Connection established\r\n\r\n"
        proxy.close()
        assert tunnel.recv(1024) == b""  # the proxy ended the idle tunnel
    finally:
        tunnel.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", proxy.port), timeout=TIMEOUT).close()
    proxy.close()


def test_the_command_line_prints_where_it_listens_and_never_the_password(sim):
    password = "s3cret-Pa55word"
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator.proxy", "--port", "0", "--user", "u", "--password", password],
        cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        match = re.fullmatch(r"proxy listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert match, f"unexpected first line {line!r}"
        opener = through(match.group(1), credentials=f"u:{password}")
        with opener.open(sim.base_url + "/login/", timeout=TIMEOUT) as response:
            assert response.status == HTTPStatus.OK
        with pytest.raises(urllib.error.HTTPError) as refused:
            through(match.group(1), credentials=None).open(sim.base_url + "/login/", timeout=TIMEOUT)
        assert refused.value.code == HTTPStatus.PROXY_AUTHENTICATION_REQUIRED
        process.send_signal(signal.SIGTERM)
        rest, errors = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert (rest, errors) == ("", "")  # quiet: nothing per request
    assert password not in line


# -- real Chromium --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    executable = str(find_chromium())  # before sync_playwright: it may start Playwright itself
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True,
                                              args=launch_args())
        yield launched
        launched.close()


PUBLISH_SCRIPT = """async ([bytes, title]) => {
    const form = new FormData();
    form.append("title", title);
    form.append("price", "15");
    form.append("photos", new Blob([new Uint8Array(bytes)], {type: "image/png"}), "lamp.png");
    const response = await fetch("/marketplace/create/item/publish", {method: "POST", body: form});
    return response.status;
}"""


def test_chromium_goes_through_the_proxy_with_credentials_and_a_plain_context_does_not(sim, proxy, browser):
    session = sim.mint_session("proxied@example.com")
    cookies = [{"name": "c_user", "value": session["c_user"], "url": sim.base_url},
               {"name": "xs", "value": session["xs"], "url": sim.base_url, "httpOnly": True}]
    target = authority(sim.base_url)

    proxied = browser.new_context(proxy={"server": proxy.url, "username": "u", "password": "p"})
    proxied.set_default_timeout(TIMEOUT * 1000)
    try:
        page = proxied.new_page()
        assert page.goto(sim.base_url + "/login/").status == HTTPStatus.OK
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
        assert {"method": "GET", "host": target, "path": "/login/", "authenticated": True} in proxy.requests
        assert proxy.refused >= 0  # Chromium may first ask without credentials, and then retry
        # A multipart POST from the page, photo bytes and all.
        proxied.add_cookies(cookies)
        photo = solid_png(7)
        assert page.evaluate(PUBLISH_SCRIPT, [list(photo), "Proxied lamp"]) == HTTPStatus.OK
        assert {"method": "POST", "host": target, "path": "/marketplace/create/item/publish",
                "authenticated": True} in proxy.requests
        [listing] = sim.listings(session["c_user"])
        assert (listing["title"], listing["photo_digests"]) == ("Proxied lamp", [sha256(photo).hexdigest()])
        user_agent = page.evaluate("navigator.userAgent")
    finally:
        proxied.close()
    assert [v["user_agent"] for v in sim.visits() if v["path"] == "/login/"] == [user_agent]

    carried = proxy.requests
    plain = browser.new_context()
    plain.set_default_timeout(TIMEOUT * 1000)
    try:
        assert plain.new_page().goto(sim.base_url + "/login/?plain=1").status == HTTPStatus.OK
    finally:
        plain.close()
    assert [v["path"] for v in sim.visits()][-1] == "/login/?plain=1"  # it did reach the simulator
    assert proxy.requests == carried
