"""A real webhook receiver (an HTTP server in the test, on 127.0.0.1), and the postings fixtures."""
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from postings.tests.conftest import (  # noqa: F401  (fixtures these tests use)
    make_account,
    make_post,
    simulator,
    simulator_process,
    worker_env,
)

SECRET = "a-secret-the-operator-chose-0123456789"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


def signed_by(secret: str, received: Received) -> bool:
    """What a receiver does: recompute the HMAC of the raw body and compare in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), received.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received.headers.get("X-Signature-256", ""))


class Receiver:
    """Records every request (path, headers, body) and answers the codes it is told, in order, then
    `then`; `hang()` makes it read requests and never answer (until the test ends)."""

    def __init__(self):
        self.requests: list[Received] = []
        self._codes: list[int] = []
        self._then = 200
        self._hanging = False
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                if receiver._hanging:
                    receiver.released.wait(timeout=120)
                    return
                code = receiver._codes.pop(0) if receiver._codes else receiver._then
                self.send_response(code)
                if 300 <= code < 400:
                    self.send_header("Location", "/redirected")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass  # quiet

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="webhook-receiver", daemon=True)
        self._thread.start()

    def answer(self, *codes: int, then: int = 200) -> None:
        self._codes, self._then = list(codes), then

    def hang(self) -> None:
        self._hanging = True

    def of(self, event: str) -> list[Received]:
        return [request for request in self.requests if request.headers.get("X-Webhook-Event") == event]

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def other_receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()
