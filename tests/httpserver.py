"""A real threaded HTTP server on 127.0.0.1 with a route table, recording every request it receives.

Tests use it instead of mocks so that sockets, headers, redirects, compression and timeouts are real::

    server.route("/feed.xml", 200, {"Content-Type": "application/rss+xml"}, b"<rss>...</rss>")
    server.route("/slow", lambda req: req.send(200, {}, b"late", delay=2.0))
    assert server.paths() == ["/feed.xml"]
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class RecordedRequest:
    """What the server saw: the method, the full path with query, and lower-cased headers."""

    method: str
    path: str
    headers: Mapping[str, str]
    at: float = field(default_factory=time.monotonic)


class Exchange:
    """One request being answered; handler callables receive this and write the response through it."""

    def __init__(self, handler: BaseHTTPRequestHandler, request: RecordedRequest) -> None:
        self.handler = handler
        self.request = request

    @property
    def headers(self) -> Mapping[str, str]:
        return self.request.headers

    def start(self, status: int, headers: Mapping[str, str] | None = None) -> None:
        """Send the status line and headers; the body is then written with :meth:`write`."""
        self.handler.send_response(status)
        for name, value in (headers or {}).items():
            self.handler.send_header(name, value)
        self.handler.end_headers()

    def write(self, data: bytes) -> bool:
        """Write body bytes; False once the client has gone away (so endless bodies can stop)."""
        try:
            self.handler.wfile.write(data)
            self.handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
            return False
        return True

    def send(
        self, status: int, headers: Mapping[str, str] | None, body: bytes, *, delay: float = 0.0
    ) -> None:
        """A complete response with Content-Length, optionally after ``delay`` seconds."""
        if delay:
            time.sleep(delay)
        all_headers = {"Content-Length": str(len(body)), **(headers or {})}
        self.start(status, all_headers)
        self.write(body)

    def stream(self, status: int, headers: Mapping[str, str] | None, chunks: Iterable[bytes]) -> None:
        """A response without Content-Length whose body ends when the connection closes."""
        self.handler.close_connection = True
        self.start(status, {"Connection": "close", **(headers or {})})
        for chunk in chunks:
            if not self.write(chunk):
                return


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up mid-response (byte caps, timeouts) are expected here, not errors to print."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


Handler = Callable[[Exchange], None]
Route = Handler | tuple[int, Mapping[str, str], bytes]


class HTTPTestServer:
    """ThreadingHTTPServer on an ephemeral 127.0.0.1 port; ``url(path)`` gives absolute URLs."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                outer._dispatch(self)

            def do_HEAD(self) -> None:
                outer._dispatch(self)

        self._server = _QuietServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> HTTPTestServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(
        self,
        path: str,
        status_or_handler: int | Handler,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> None:
        """Answer ``path`` (matched with its query, then without) with a fixed response or a callable."""
        if callable(status_or_handler):
            self.routes[path] = status_or_handler
        else:
            self.routes[path] = (status_or_handler, dict(headers or {}), body)

    def paths(self) -> list[str]:
        """Paths requested so far, in order (with query strings)."""
        with self._lock:
            return [r.path for r in self.requests]

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if urlsplit(r.path).path == path or r.path == path]

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        request = RecordedRequest(
            method=handler.command,
            path=handler.path,
            headers={k.lower(): v for k, v in handler.headers.items()},
        )
        with self._lock:
            self.requests.append(request)
        route = self.routes.get(handler.path) or self.routes.get(urlsplit(handler.path).path)
        exchange = Exchange(handler, request)
        if route is None:
            exchange.send(404, {"Content-Type": "text/plain"}, b"not found")
        elif callable(route):
            route(exchange)
        else:
            status, headers, body = route
            exchange.send(status, headers, body)
