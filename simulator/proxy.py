"""A small HTTP forward proxy standing in for an operator's proxy provider in tests.

Standard library only, one thread per connection. It carries absolute-URI requests
(`GET http://host:port/path HTTP/1.1`, any method, bodies sent with Content-Length or chunked)
and `CONNECT host:port` tunnels, optionally behind Basic proxy authentication, and remembers what
it carried so a test can see which traffic went through it. One request per client connection:
every relayed answer says `Connection: close`, which Chromium copes with.

    with ForwardProxy(username="u", password="p").start() as proxy:
        ...  # browser.new_context(proxy={"server": proxy.url, "username": "u", "password": "p"})
        proxy.requests  # [{"method", "host", "path", "authenticated"}, ...]

`python -m simulator.proxy --port 0 [--user U --password P]` serves until SIGTERM/SIGINT.
Nothing is written per request (a pipe nobody reads must not fill up), and never the password.
"""
from __future__ import annotations

import argparse
import base64
import binascii
import hmac
import http.client
import signal
import socket
import socketserver
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

CONNECT_TIMEOUT = 10.0  # seconds to reach an origin before answering 502
ORIGIN_TIMEOUT = 120.0  # seconds an origin may stay silent (simulator faults delay on purpose)
CLIENT_TIMEOUT = 60.0  # seconds a client may take to send its request
MAX_BODY_BYTES = 256 * 1024 * 1024
CHUNK = 64 * 1024
# Headers that concern one connection only, never forwarded (RFC 9110 section 7.6.1), plus the
# ones the proxy sets itself.
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade",
})


class BadRequest(Exception):
    """The client's request cannot be carried; the message says why."""


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _connection_tokens(headers) -> set[str]:
    """Header names a Connection (or Proxy-Connection) header declares hop-by-hop."""
    tokens = set()
    for name in ("Connection", "Proxy-Connection"):
        for value in headers.get_all(name) or ():
            tokens.update(t.strip().lower() for t in value.split(",") if t.strip())
    return tokens


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed or never connected: nothing left to shut


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"
    server_version = "ForwardProxy/1.0"
    sys_version = ""
    timeout = CLIENT_TIMEOUT

    def log_message(self, format, *args):
        pass  # quiet by design: nothing per request

    def handle(self):
        self.server.track(self.connection)
        try:
            self.handle_one_request()
        except OSError:
            # The client or the origin went away (or close() shut the connection): nobody is
            # left to answer.
            pass
        finally:
            self.close_connection = True
            self.server.untrack(self.connection)

    def handle_one_request(self):
        self.close_connection = True  # one request per client connection
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            return  # a connection opened and closed unused (Chromium preconnects)
        if len(self.raw_requestline) > 65536:
            return self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
        if not self.parse_request():
            return  # parse_request has answered 400 itself
        proxy = self.server.proxy
        authenticated = proxy._credentials_match(self.headers.get("Proxy-Authorization"))
        if proxy._requires_auth and not authenticated:
            proxy._count_refusal()
            self._drain_body()
            return self.answer(HTTPStatus.PROXY_AUTHENTICATION_REQUIRED,
                               [("Proxy-Authenticate", 'Basic realm="proxy"')])
        try:
            if self.command == "CONNECT":
                self.tunnel(authenticated)
            else:
                self.forward(authenticated)
        except BadRequest as error:
            self.answer(HTTPStatus.BAD_REQUEST, body=str(error))

    def answer(self, status: HTTPStatus, headers=(), body: str = "") -> None:
        """The proxy's own answer, after which the connection closes."""
        data = body.encode()
        lines = [f"HTTP/1.1 {status.value} {status.phrase}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if data:
            lines.append("Content-Type: text/plain; charset=utf-8")
        lines += [f"Content-Length: {len(data)}", "Connection: close", "Proxy-Connection: close"]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)

    # -- CONNECT host:port -------------------------------------------------------------------
    def tunnel(self, authenticated: bool) -> None:
        try:
            target = urlsplit("//" + self.path)
            host, port = target.hostname, target.port
        except ValueError:
            host = port = None
        if not host or not port:
            raise BadRequest("CONNECT needs host:port")
        self.server.proxy._record(self.command, _authority(host, port), "", authenticated)
        try:
            upstream = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
        except OSError as error:
            return self.answer(HTTPStatus.BAD_GATEWAY, body=f"cannot reach {host}:{port}: {error}")
        upstream.settimeout(None)  # an idle tunnel lasts until a side (or close()) ends it
        self.connection.settimeout(None)
        self.server.track(upstream)
        try:
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            back = threading.Thread(target=self._pump_back, args=(upstream,), daemon=True,
                                    name="forward-proxy-tunnel")
            back.start()
            try:
                # read1 hands over what the client sent right after CONNECT (already buffered).
                while data := self.rfile.read1(CHUNK):
                    upstream.sendall(data)
            except OSError:
                pass  # the client side ended; the finally ends the other direction
            finally:
                _shut(upstream)
                _shut(self.connection)
                back.join()
        finally:
            self.server.untrack(upstream)
            upstream.close()

    def _pump_back(self, upstream: socket.socket) -> None:
        try:
            while data := upstream.recv(CHUNK):
                self.connection.sendall(data)
        except OSError:
            pass  # the origin side ended; the finally ends the other direction
        finally:
            _shut(upstream)
            _shut(self.connection)

    # -- absolute-URI requests ---------------------------------------------------------------
    def forward(self, authenticated: bool) -> None:
        try:
            url = urlsplit(self.path)
            host, port = url.hostname, url.port or 80
        except ValueError:
            raise BadRequest("bad port in the request's URL") from None
        if url.scheme.lower() != "http" or not host:
            raise BadRequest("a proxy request names an absolute http:// URL (CONNECT for https)")
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        authority = _authority(host, port)
        # RFC 9112 section 3.2.2: the Host an origin sees is the URL's, whatever the client sent.
        host_header = url.netloc.rpartition("@")[2]
        body = self.read_body()
        self.server.proxy._record(self.command, authority, path, authenticated)
        origin = http.client.HTTPConnection(host, port, timeout=CONNECT_TIMEOUT)
        try:
            try:
                origin.connect()
            except OSError as error:
                return self.answer(HTTPStatus.BAD_GATEWAY, body=f"cannot reach {authority}: {error}")
            origin.sock.settimeout(ORIGIN_TIMEOUT)
            self.server.track(origin.sock)
            try:
                response = self._send_to_origin(origin, path, host_header, body)
            except TimeoutError:
                return self.answer(HTTPStatus.GATEWAY_TIMEOUT, body=f"{authority} did not answer")
            except http.client.RemoteDisconnected:
                # The origin closed without a word: so does the proxy, as the browser would have
                # seen it without one (the simulator's drop_connection fault).
                return
            except (OSError, http.client.HTTPException) as error:
                return self.answer(HTTPStatus.BAD_GATEWAY, body=f"{authority} failed: {error!r}")
            self._relay(response)
        finally:
            if origin.sock is not None:
                self.server.untrack(origin.sock)
            origin.close()

    def read_body(self) -> bytes | None:
        """The request's body, de-chunked; None when it has none."""
        encoding = self.headers.get("Transfer-Encoding")
        if encoding is not None:
            if encoding.split(",")[-1].strip().lower() != "chunked":
                raise BadRequest(f"unsupported Transfer-Encoding: {encoding}")
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return None
        if not length.strip().isdigit():
            raise BadRequest("bad Content-Length")
        size = int(length)
        if size > MAX_BODY_BYTES:
            raise BadRequest("body too large")
        data = self.rfile.read(size)
        if len(data) != size:
            raise ConnectionError("the client closed before sending its whole body")
        return data

    def _drain_body(self) -> None:
        """Read and forget the body of a request refused unread: closing with bytes unread would
        reset the connection, and the client would never see the answer."""
        try:
            self.read_body()
        except BadRequest:
            pass  # a malformed or oversized body: the refusal goes out all the same

    def _read_chunked(self) -> bytes:
        parts, total = [], 0
        while True:
            line = self.rfile.readline(65537)
            if not line:
                raise ConnectionError("the client closed inside a chunked body")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadRequest("bad chunk size") from None
            if size == 0:
                break
            total += size
            if total > MAX_BODY_BYTES:
                raise BadRequest("body too large")
            parts.append(self.rfile.read(size))
            self.rfile.readline(65537)  # the CRLF after the chunk's data
        while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
            pass  # trailer fields: dropped, as hop-by-hop
        return b"".join(parts)

    def _send_to_origin(self, origin, path: str, host_header: str, body: bytes | None):
        """The request in origin form, hop-by-hop headers dropped; the origin's response."""
        origin.putrequest(self.command, path, skip_host=True, skip_accept_encoding=True)
        # Expect: parse_request has answered "100 Continue" already and the body is read.
        dropped = HOP_BY_HOP | _connection_tokens(self.headers) | {"host", "content-length", "expect"}
        origin.putheader("Host", host_header)
        for name, value in self.headers.items():
            if name.lower() not in dropped:
                origin.putheader(name, value)
        if body is not None:
            origin.putheader("Content-Length", str(len(body)))
        origin.putheader("Connection", "close")
        origin.endheaders(body)
        return origin.getresponse()

    def _relay(self, response: http.client.HTTPResponse) -> None:
        dropped = HOP_BY_HOP | _connection_tokens(response.msg)
        lines = [f"HTTP/1.1 {response.status} {response.reason}"]
        lines += [f"{name}: {value}" for name, value in response.msg.items()
                  if name.lower() not in dropped]
        # A chunked body arrives de-chunked and goes on delimited by the connection's close.
        lines += ["Connection: close", "Proxy-Connection: close"]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        while data := response.read1(CHUNK):
            self.wfile.write(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, proxy: "ForwardProxy", address: tuple[str, int]):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.proxy = proxy
        self._live: set[socket.socket] = set()
        self._live_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, sock: socket.socket) -> None:
        with self._live_lock:
            self._live.add(sock)

    def untrack(self, sock: socket.socket) -> None:
        with self._live_lock:
            self._live.discard(sock)

    def shut_live_connections(self) -> None:
        with self._live_lock:
            live, self._live = self._live, set()
        for sock in live:
            _shut(sock)


class ForwardProxy:
    """An HTTP forward proxy on `host:port` (0: a free port), with Basic auth when given
    `username`/`password`. `start()` serves in a daemon thread; `close()` stops and frees it."""

    def __init__(self, *, username: str | None = None, password: str | None = None,
                 host: str = "127.0.0.1", port: int = 0):
        self._host, self._requested_port = host, port
        self._requires_auth = username is not None or password is not None
        self._expected = f"{username or ''}:{password or ''}".encode()
        self._lock = threading.Lock()
        self._requests: list[dict] = []
        self._refused = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    def __repr__(self) -> str:  # never the password
        where = self.url if self._server is not None else "not started"
        return f"<ForwardProxy {where} auth={'basic' if self._requires_auth else 'none'}>"

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "ForwardProxy":
        """Bind and serve in a daemon thread; returns self."""
        if self._closed:
            raise RuntimeError("this proxy was closed; make a new one")
        if self._server is None:
            self._server = _Server(self, (self._host, self._requested_port))
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.1},
                                            name="forward-proxy", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, end open connections and tunnels, free the port. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server.shut_live_connections()
        self._thread.join()

    def __enter__(self) -> "ForwardProxy":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the proxy is not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """`http://host:port`, without credentials (Playwright takes those separately)."""
        return f"http://{_authority(self._host, self.port)}"

    # -- what it carried ---------------------------------------------------------------------
    @property
    def requests(self) -> list[dict]:
        """Every request it took on, oldest first: {"method", "host" (host:port of the
        destination), "path" (origin form with the query; "" for CONNECT), "authenticated"
        (it carried this proxy's credentials)}. Refused (407) ones are not in it."""
        with self._lock:
            return [dict(r) for r in self._requests]

    @property
    def refused(self) -> int:
        """How many requests were answered 407 Proxy Authentication Required."""
        with self._lock:
            return self._refused

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._refused = 0

    def _record(self, method: str, host: str, path: str, authenticated: bool) -> None:
        with self._lock:
            self._requests.append({"method": method, "host": host, "path": path,
                                   "authenticated": authenticated})

    def _count_refusal(self) -> None:
        with self._lock:
            self._refused += 1

    def _credentials_match(self, header: str | None) -> bool:
        if not self._requires_auth or not header:
            return False
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(given, self._expected)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulator.proxy",
        description="An HTTP forward proxy for tests: serves until SIGTERM/SIGINT.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=3128, help="port to bind; 0 picks a free one")
    parser.add_argument("--user", help="require Basic proxy authentication with this user name")
    parser.add_argument("--password", help="... and this password (never printed)")
    args = parser.parse_args(argv)
    if (args.user is None) != (args.password is None):
        parser.error("give --user and --password together")
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with ForwardProxy(username=args.user, password=args.password, host=args.host,
                      port=args.port) as proxy:
        # The socket listens once start() returned: connections are accepted from now on.
        print(f"proxy listening on {proxy.url}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
