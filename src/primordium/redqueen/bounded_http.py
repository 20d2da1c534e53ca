"""One HTTP request that a server cannot stretch or flood: a wall-clock deadline and a size cap.

A socket timeout only limits each read, so a server that trickles a byte at
a time can hold a request for ever, and a client that reads until the
server stops can be made to hold any number of bytes. Here every read and
write of the request is given only the time left before one deadline
(connect, send, headers and body alike), and reading stops, failing the
request, as soon as the reply passes ``max_bytes``. Two steps are bounded
more loosely: the name lookup (the system resolver takes no timeout) and
the TLS handshake, each of whose reads gets the time left when it began.
"""

from __future__ import annotations

import base64
import http.client
import io
import socket
import ssl
import time
import urllib.request
from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit


class HTTPFailure(Exception):
    """The request got no usable answer. ``connected``: the server took the connection first."""

    def __init__(self, message: str, connected: bool):
        super().__init__(message)
        self.connected = connected


class DeadlinePassed(HTTPFailure):
    pass


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


class _Budget:
    """The deadline and the bytes still allowed, shared by every read of one request."""

    def __init__(self, seconds: float, max_bytes: int):
        self.end = time.monotonic() + seconds
        self.max_bytes = max_bytes
        self.read = 0

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left


class _Reader(io.RawIOBase):
    """The socket's bytes, each read given only the time left, all of them counted against the cap."""

    def __init__(self, sock: socket.socket, budget: _Budget):
        self.sock, self.budget = sock, budget

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        self.sock.settimeout(self.budget.left())
        # Never ask for more than one byte past the cap: that byte proves the reply too big.
        view = memoryview(b)[: max(1, self.budget.max_bytes + 1 - self.budget.read)]
        n = self.sock.recv_into(view)
        self.budget.read += n
        if self.budget.read > self.budget.max_bytes:
            raise _TooLarge
        return n


class _TooLarge(Exception):
    pass


class _Socket:
    """What http.client needs of a socket, with the deadline applied to sends and reads."""

    def __init__(self, sock: socket.socket, budget: _Budget):
        self._sock, self._budget = sock, budget

    def sendall(self, data) -> None:
        # Since Python 3.5 a socket timeout bounds the whole sendall, not each chunk.
        self._sock.settimeout(self._budget.left())
        self._sock.sendall(data)

    def makefile(self, mode: str, *args, **kw):
        return io.BufferedReader(_Reader(self._sock, self._budget))

    def close(self) -> None:
        # http.client closes the connection while its response still reads from it (as a real
        # socket's makefile would allow): ``request`` closes the socket itself, when done.
        pass

    def __getattr__(self, name):
        return getattr(self._sock, name)


def _proxy(scheme: str, host: str) -> SplitResult | None:
    """The proxy the environment names for this URL (``https_proxy``, ``no_proxy``...), as curl would use it."""
    proxy = urllib.request.getproxies().get(scheme)
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    return urlsplit(proxy if "://" in proxy else "http://" + proxy)


def _connection(
    url: str, budget: _Budget
) -> tuple[http.client.HTTPConnection, str, dict[str, str]]:
    """A connection for ``url`` (through a proxy where the environment names one), its target and headers."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    host, port = parts.hostname or "", parts.port or (443 if https else 80)
    target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    proxy = _proxy(parts.scheme, host)
    extra: dict[str, str] = {}
    if proxy is not None:
        if proxy.scheme != "http" or not proxy.hostname:
            raise HTTPFailure(f"proxy {proxy.geturl()!r} is not an http:// proxy", False)
        if proxy.username is not None:
            pair = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}"
            extra["Proxy-Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()

    class Connection(http.client.HTTPSConnection if https else http.client.HTTPConnection):
        def connect(self):
            self.timeout = budget.left()  # the connect and TLS handshake get what is left
            super().connect()
            budget.left()  # a slow handshake may have used it all
            self.raw = self.sock
            self.sock = _Socket(self.sock, budget)

    # Explicit ports: a host such as "::1" has colons of its own.
    kw = {"context": ssl.create_default_context()} if https else {}
    if proxy is None:
        return Connection(host, port, **kw), target, {}
    conn = Connection(proxy.hostname, proxy.port or 80, **kw)
    if https:
        conn.set_tunnel(host, port, headers=extra)  # CONNECT, then TLS with the server itself
        return conn, target, {}
    return conn, f"http://{parts.netloc.rpartition('@')[2]}{target}", extra


def request(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    seconds: float,
    max_bytes: int,
    read_body: bool = True,
) -> Answer:
    """Send one request and read its whole answer, within ``seconds`` and ``max_bytes`` (headers included).

    Raises ``HTTPFailure`` for anything short of a complete answer: no
    connection, the deadline passed, the reply too big, a broken or
    truncated reply. ``read_body=False``: the status alone is wanted.
    """
    budget = _Budget(seconds, max_bytes)
    conn, target, extra = _connection(url, budget)
    connected = False
    try:
        try:
            conn.connect()
        except TimeoutError:
            raise DeadlinePassed(f"timeout after {seconds:g}s (no connection)", False) from None
        except OSError as e:
            raise HTTPFailure(f"connection failed ({_why(e)})", False) from None
        connected = True
        conn.request(method, target, body=body, headers=headers | extra)
        resp = conn.getresponse()
        length = resp.getheader("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) > max_bytes:
            raise _TooLarge
        data = resp.read() if read_body else b""
        return Answer(resp.status, resp.getheader("Content-Type") or "", data)
    except _TooLarge:
        raise HTTPFailure(f"reply larger than {max_bytes} bytes", True) from None
    except TimeoutError:
        raise DeadlinePassed(f"timeout after {seconds:g}s (no complete reply)", connected) from None
    except (OSError, http.client.HTTPException, ValueError) as e:
        # A dropped connection, a reply cut short, a status line or headers that are not HTTP.
        raise HTTPFailure(f"broken reply ({_why(e)})", connected) from None
    finally:
        conn.close()
        raw = getattr(conn, "raw", None)
        if raw is not None:
            raw.close()


def _why(e: BaseException) -> str:
    text = str(e).splitlines()[0] if str(e) else ""
    return (f"{type(e).__name__}: {text}" if text else type(e).__name__)[:200]
