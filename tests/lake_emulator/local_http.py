"""A tiny threaded HTTP/1.1 server on 127.0.0.1:0 for the emulated AWS endpoints.

Apps are plain callables ``HttpRequest -> HttpResponse | RESET``; ``RESET`` aborts the
connection with a TCP RST (SO_LINGER 0), which botocore sees as a connection error.
``close()`` shuts down the listener *and* every open keep-alive connection and joins the
handler threads, so no thread outlives a fixture.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: Mapping[str, str]  # lower-cased names
    body: bytes


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


class _Reset:
    def __repr__(self) -> str:
        return "RESET"


RESET: Final = _Reset()

App = Callable[[HttpRequest], "HttpResponse | _Reset"]


def abort_with_rst(sock: socket.socket, rfile: Any) -> None:
    """Close ``sock`` so that the peer gets a TCP reset instead of a FIN.

    ``rfile`` (the handler's ``makefile``) must be closed too, or the descriptor stays open.
    """
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        rfile.close()
        sock.close()
    except OSError:
        pass


class TrackedConnectionsMixin:
    """socketserver mix-in: remembers open connections so that close() can end them."""

    def _tracked(self) -> set[Any]:
        conns: set[Any] | None = getattr(self, "_open_conns", None)
        if conns is None:
            conns = set()
            self._open_conns = conns
        return conns

    def process_request(self, request: Any, client_address: Any) -> None:
        with _TRACK_LOCK:
            self._tracked().add(request)
        super().process_request(request, client_address)  # type: ignore[misc]

    def shutdown_request(self, request: Any) -> None:
        with _TRACK_LOCK:
            self._tracked().discard(request)
        super().shutdown_request(request)  # type: ignore[misc]

    def close_open_connections(self) -> None:
        with _TRACK_LOCK:
            conns = list(self._tracked())
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


_TRACK_LOCK = threading.Lock()


class _Server(TrackedConnectionsMixin, ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True
    app: App


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 30  # safety net for idle keep-alive connections

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = HttpRequest(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            result = self.server.app(request)
        except Exception as exc:  # an emulator bug must not hang the client
            result = HttpResponse(500, f"emulator error: {exc!r}".encode())
        if isinstance(result, _Reset):
            self.close_connection = True
            abort_with_rst(self.connection, self.rfile)
            return
        self.send_response(result.status)
        for name, value in result.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(result.body)))
        self.end_headers()
        if result.body:
            self.wfile.write(result.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _dispatch  # noqa: N815


class LocalHttpServer:
    """Serves ``app`` on 127.0.0.1 at a free port in a background thread."""

    def __init__(self, app: App) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.app = app
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.close_open_connections()
        self._server.server_close()  # joins the handler threads
        self._thread.join(timeout=5)

    def __enter__(self) -> LocalHttpServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "RESET",
    "App",
    "HttpRequest",
    "HttpResponse",
    "LocalHttpServer",
    "TrackedConnectionsMixin",
    "abort_with_rst",
]
