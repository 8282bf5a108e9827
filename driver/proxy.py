"""An account's proxy: parsed and checked once, shown only with its password masked.

`Proxy.parse` is the one place a proxy URL is read (the API validates with it, the browser is
given `playwright_settings()`); `str(proxy)` never holds the password, so a proxy can be put in a
message or a log as it is.
"""
import base64
import socket
import ssl
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

SCHEMES = ("http", "https", "socks5")
MASK = "***"
PROBE_TIMEOUT_SECONDS = 15.0


class ProxyFormatError(ValueError):
    """The proxy URL cannot be used; the message says why (and never holds the password)."""


@dataclass(frozen=True)
class Proxy:
    scheme: str
    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)

    @classmethod
    def parse(cls, url: str) -> "Proxy":
        """`scheme://[user:password@]host:port`, scheme http, https or socks5."""
        url = url.strip()
        if "://" not in url:
            raise ProxyFormatError("Give the scheme: http://, https:// or socks5://, then host:port")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise ProxyFormatError("The port must be a number from 1 to 65535") from None
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            raise ProxyFormatError(f"Unsupported scheme {scheme!r}: use http://, https:// or socks5://")
        if not parts.hostname:
            raise ProxyFormatError("The proxy has no host")
        if port is None or port == 0:
            raise ProxyFormatError("The proxy has no port (host:port)")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ProxyFormatError("A proxy is scheme://[user:password@]host:port, with no path, query or fragment")
        username, password = unquote(parts.username or ""), unquote(parts.password or "")
        if password and not username:
            raise ProxyFormatError("The proxy has a password but no user name")
        if scheme == "socks5" and username:
            # Playwright refuses it: Chromium cannot authenticate to a SOCKS proxy.
            raise ProxyFormatError(
                "Chromium cannot log in to a SOCKS5 proxy: use its http:// or https:// address for "
                "user:password, or a socks5:// proxy that needs none"
            )
        host = parts.hostname
        return cls(scheme=scheme, host=host, port=port, username=username, password=password)

    @property
    def server(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def url(self) -> str:
        """The full URL, password included: for storing, never for showing."""
        return self._with_password(quote(self.password, safe=""))

    def masked(self) -> str:
        """As an answer or a message may show it: `http://user:***@host:3128`."""
        return self._with_password(MASK if self.password else "")

    def _with_password(self, password: str) -> str:
        if not self.username:
            return self.server
        credentials = quote(self.username, safe="") + (f":{password}" if password else "")
        return self.server.replace("://", f"://{credentials}@", 1)

    def __str__(self) -> str:
        return self.masked()

    def playwright_settings(self) -> dict:
        """Playwright's `proxy` option for a browser context."""
        settings = {"server": self.server}
        if self.username:
            settings |= {"username": self.username, "password": self.password}
        return settings


def masked(url: str) -> str | None:
    """A stored proxy URL as it may be shown (None when there is none or it cannot be read)."""
    if not url:
        return None
    try:
        return Proxy.parse(url).masked()
    except ProxyFormatError:
        return None


def to_store(text: str | None, stored: str = "") -> str:
    """The URL to store for a proxy a client wrote (`""`: none), given the `stored` one.

    The masked form an answer showed (`user:***@`) keeps the stored password when it names the
    same proxy and user; anywhere else `***` is refused. Raises ProxyFormatError.
    """
    if not text or not text.strip():
        return ""
    proxy = Proxy.parse(text)
    if proxy.password != MASK:
        return proxy.url()
    try:
        kept = Proxy.parse(stored) if stored else None
    except ProxyFormatError:
        kept = None
    if kept is None or (kept.scheme, kept.host, kept.port, kept.username) != (proxy.scheme, proxy.host, proxy.port, proxy.username):
        raise ProxyFormatError(f'Give the proxy\'s password: "{MASK}" only stands for the one stored')
    return kept.url()


class ProxyUnreachable(OSError):
    """The proxy refused, did not answer, or refused to carry the browser's traffic."""


def probe(proxy: Proxy, *, destination: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> None:
    """Check that `proxy` answers before a browser is sent through it; raise ProxyUnreachable.

    Connects to the proxy and, for an http(s) proxy, asks it for a tunnel to `destination`
    (host:port) with the account's credentials; for a SOCKS5 proxy, only its greeting. Nothing is
    sent through the tunnel. A proxy that accepts the connection and then says nothing within
    `timeout` counts as not answering: Chromium would wait as long on every page.
    """
    try:
        with socket.create_connection((proxy.host, proxy.port), timeout=timeout) as raw:
            raw.settimeout(timeout)
            if proxy.scheme == "socks5":
                raw.sendall(b"\x05\x01\x00")
                if raw.recv(2) != b"\x05\x00":
                    raise ProxyUnreachable("it did not accept a SOCKS5 connection without a password")
                return
            sock = ssl.create_default_context().wrap_socket(raw, server_hostname=proxy.host) if proxy.scheme == "https" else raw
            request = f"CONNECT {destination} HTTP/1.1\r\nHost: {destination}\r\n"
            if proxy.username:
                token = base64.b64encode(f"{proxy.username}:{proxy.password}".encode()).decode()
                request += f"Proxy-Authorization: Basic {token}\r\n"
            sock.sendall((request + "\r\n").encode())
            status_line = sock.makefile("rb").readline(512).decode("latin-1").strip()
    except TimeoutError:
        raise ProxyUnreachable(f"no answer within {timeout:g} s") from None
    except ConnectionRefusedError:
        raise ProxyUnreachable("the connection was refused") from None
    except ssl.SSLError as exc:
        raise ProxyUnreachable(f"its TLS failed ({exc.reason or exc})") from None
    except OSError as exc:
        raise ProxyUnreachable(exc.strerror or str(exc)) from None
    code = status_line.split(" ")[1] if status_line.count(" ") >= 1 else ""
    if code == "407":
        raise ProxyUnreachable("it refused the account's user name and password (407)")
    if not code.startswith("2"):
        raise ProxyUnreachable(f"it refused to connect to {destination} ({status_line or 'no answer'})")
