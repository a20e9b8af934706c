"""The response PUT against a local HTTPS server: TLS checks, bounded retries, no URL in logs."""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme

import index
from import_handler import sender

from .conftest import FakeContext, Stubs
from .helpers import delete_event

SIGNED_PATH = "/stack%7CImport%7Creq?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=feedface"


@dataclass
class ResponseServer:
    url: str
    ca_path: Path
    statuses: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ResponseServer]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    state = ResponseServer(url="", ca_path=ca_path)

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            state.received.append(
                {"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)}
            )
            self.send_response(state.statuses.pop(0) if state.statuses else 200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    state.url = f"https://127.0.0.1:{httpd.server_address[1]}{SIGNED_PATH}"
    yield state
    httpd.shutdown()
    httpd.server_close()


BODY = {"Status": "SUCCESS", "PhysicalResourceId": "x", "Data": {}}


def test_the_response_is_put_over_tls_verified_against_the_ca_bundle(
    server: ResponseServer,
) -> None:
    assert sender.send(server.url, BODY, str(server.ca_path)) is True

    (request,) = server.received
    assert request["path"] == SIGNED_PATH
    assert json.loads(request["body"]) == BODY
    assert request["headers"]["content-type"] == ""


def test_a_server_the_system_trust_store_does_not_know_is_refused(
    server: ResponseServer, clock: Any
) -> None:
    assert sender.send(server.url, BODY, None) is False
    assert server.received == []


def test_5xx_answers_are_retried_with_backoff(server: ResponseServer, clock: Any) -> None:
    server.statuses = [500, 503]

    assert sender.send(server.url, BODY, str(server.ca_path)) is True

    assert len(server.received) == 3
    assert clock.sleeps == [1.0, 2.0]


def test_sending_gives_up_after_a_bound(server: ResponseServer, clock: Any) -> None:
    server.statuses = [502] * 10

    assert sender.send(server.url, BODY, str(server.ca_path)) is False

    assert len(server.received) == sender.MAX_ATTEMPTS
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0]


def test_a_4xx_answer_is_not_retried(server: ResponseServer, clock: Any) -> None:
    server.statuses = [403]

    assert sender.send(server.url, BODY, str(server.ca_path)) is False

    assert len(server.received) == 1
    assert clock.sleeps == []


def test_connection_errors_are_retried_then_given_up(clock: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    url = f"https://127.0.0.1:{port}{SIGNED_PATH}"

    assert sender.send(url, BODY, None) is False

    assert len(clock.sleeps) == sender.MAX_ATTEMPTS - 1


def test_the_url_is_never_logged(
    server: ResponseServer, clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.statuses = [500, 404]

    sender.send(server.url, BODY, str(server.ca_path))
    sender.send(server.url, BODY, None)

    assert "giving up" in caplog.text or "refused" in caplog.text
    assert "X-Amz-Signature" not in caplog.text
    assert "Import%7Creq" not in caplog.text


def test_the_handler_answers_over_tls_honouring_aws_ca_bundle(
    server: ResponseServer, stubs: Stubs, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", str(server.ca_path))
    event = delete_event(physical_id="failed-create-abc")
    event["ResponseURL"] = server.url

    index.handler(event, FakeContext(clock))

    (request,) = server.received
    body = json.loads(request["body"])
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == "failed-create-abc"
