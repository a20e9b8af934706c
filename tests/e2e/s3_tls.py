"""moto's S3 served over TLS on 127.0.0.1:0, with a certificate made by trustme.

``MotoS3Tls`` runs moto's werkzeug application (``DomainDispatcherApplication``) in a thread.
``ca_bundle`` is the PEM file to put in ``AWS_CA_BUNDLE``: the handler's clients and its
response PUT verify the server exactly as in production. A WSGI middleware records every
request to a watched key (the ResponseURL objects) and can fail the next N PUTs to a key with
a 503 ``SlowDown`` or a TCP reset; another (``gate``) answers AccessDenied to the requests a
test's rule refuses (moto does not enforce bucket policies).

Several accounts: ``client(account=...)`` sends moto's ``x-moto-account-id`` header, so what it
creates lives in that account's backend (the harness's own account is moto's default,
123456789012). Another account's bucket is still found by name (moto lets any account reach it);
``bucket_account`` tells which account moto holds it in.
"""

from __future__ import annotations

import io
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlsplit

import boto3
import trustme
from botocore.config import Config
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.s3.models import s3_backends
from werkzeug.serving import ThreadedWSGIServer

from tests.lake_emulator.local_http import TrackedConnectionsMixin, abort_with_rst

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

FAKE_KEY_ID = "testing"
FAKE_SECRET = "testing"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
#: A test's rule: True refuses the request (the WSGI environ) with 403 AccessDenied.
Refusal = Callable[[dict[str, Any]], bool]
ACCESS_DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
    b"<Message>Access Denied</Message></Error>"
)


@dataclass(frozen=True)
class ObservedPut:
    bucket: str
    key: str
    status: int  # 0 = connection reset by the fault hook
    body: bytes


class _PutRecorder:
    """WSGI middleware: records PUTs and serves injected faults before moto sees them."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._faults: dict[str, list[Literal["503", "reset"]]] = {}
        self.puts: list[ObservedPut] = []

    def fail_puts(self, key: str, count: int, kind: Literal["503", "reset"] = "503") -> None:
        with self._lock:
            self._faults.setdefault(key, []).extend([kind] * count)

    def has_reset(self, key: str) -> bool:
        with self._lock:
            queue = self._faults.get(key)
            return bool(queue) and queue[0] == "reset"  # type: ignore[index]

    def take_reset(self, key: str, body: bytes, bucket: str) -> bool:
        """Called by the request handler before WSGI: consume a pending reset for ``key``."""
        with self._lock:
            queue = self._faults.get(key)
            if not queue or queue[0] != "reset":
                return False
            queue.pop(0)
            self.puts.append(ObservedPut(bucket, key, 0, body))
            return True

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "PUT":
            return self._app(environ, start_response)
        bucket, _, key = unquote(environ.get("PATH_INFO", "")).lstrip("/").partition("/")
        body = b""
        if not environ.get("wsgi.input_terminated"):  # not chunked: safe to buffer
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
        with self._lock:
            queue = self._faults.get(key)
            fault = queue.pop(0) if queue else None
        if fault == "503":
            with self._lock:
                self.puts.append(ObservedPut(bucket, key, 503, body))
            payload = (
                b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
                b"<Message>Please reduce your request rate.</Message></Error>"
            )
            start_response(
                "503 Slow Down",
                [("Content-Type", "application/xml"), ("Content-Length", str(len(payload)))],
            )
            return [payload]
        status_holder: list[int] = []

        def recording_start(status: str, headers: Any, exc_info: Any = None) -> Any:
            status_holder.append(int(status.split()[0]))
            return (
                start_response(status, headers, exc_info)
                if exc_info
                else start_response(status, headers)
            )

        result = self._app(environ, recording_start)
        with self._lock:
            self.puts.append(
                ObservedPut(bucket, key, status_holder[0] if status_holder else 0, body)
            )
        return result


class _Gate:
    """WSGI middleware: 403 AccessDenied for the requests one of ``rules`` refuses."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self.rules: list[Refusal] = []

    @contextmanager
    def refusing(self, rule: Refusal) -> Iterator[None]:
        """Apply ``rule`` until exit (the server lives for the session)."""
        self.rules.append(rule)
        try:
            yield
        finally:
            self.rules.remove(rule)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if any(rule(environ) for rule in list(self.rules)):
            start_response(
                "403 Forbidden",
                [("Content-Type", "application/xml"), ("Content-Length", str(len(ACCESS_DENIED)))],
            )
            return [ACCESS_DENIED]
        return self._app(environ, start_response)


def _in_account(request: Any, account: str) -> None:
    request.headers["x-moto-account-id"] = account


class _Handler(MotoRequestHandler):
    """Serves ``reset`` faults at the socket level, before the WSGI app runs."""

    server: _Server

    def run_wsgi(self) -> None:
        if self.command == "PUT":
            bucket, _, key = unquote(urlsplit(self.path).path).lstrip("/").partition("/")
            length = int(self.headers.get("Content-Length") or 0)
            recorder = self.server.recorder
            if recorder.has_reset(key):
                body = self.rfile.read(length) if length else b""
                if recorder.take_reset(key, body, bucket):
                    self.close_connection = True
                    abort_with_rst(self.connection, self.rfile)
                    return
        super().run_wsgi()


class _Server(TrackedConnectionsMixin, ThreadedWSGIServer):
    recorder: _PutRecorder

    daemon_threads = False
    block_on_close = True


class MotoS3Tls:
    """moto S3 over HTTPS with a fresh CA; use as a context manager."""

    def __init__(self, workdir: Path, region: str = "us-east-1") -> None:
        self.region = region
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_bundle = workdir / "e2e-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_bundle))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(context)
        self.gate = _Gate(DomainDispatcherApplication(create_backend_app))
        self.recorder = _PutRecorder(self.gate)
        self._server = _Server("127.0.0.1", 0, self.recorder, handler=_Handler, ssl_context=context)
        self._server.recorder = self.recorder
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def client(self, account: str | None = None) -> S3Client:
        """A client of the harness's account, or of ``account`` (moto's ``x-moto-account-id``)."""
        client = boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id=FAKE_KEY_ID,
            aws_secret_access_key=FAKE_SECRET,
            verify=str(self.ca_bundle),
            config=Config(
                s3={"addressing_style": "path"},
                signature_version="s3v4",
                retries={"mode": "standard"},
            ),
        )
        if account is not None:
            client.meta.events.register(
                "before-sign.s3.*", lambda request, **_: _in_account(request, account)
            )
        return client

    @staticmethod
    def bucket_account(bucket: str) -> str | None:
        """The account moto holds ``bucket`` in (None: no such bucket)."""
        found = s3_backends.bucket_accounts.get(bucket)
        return found[1] if found else None

    def close(self) -> None:
        self._server.shutdown()
        self._server.close_open_connections()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MotoS3Tls:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
