"""The response PUT to CloudFormation's presigned URL.

Replaces crhelper's sender, which logs the URL, ignores the HTTP status and retries a connection
failure forever: this one verifies TLS (against ``AWS_CA_BUNDLE`` when set), retries connection
errors and 5xx a bounded number of times with backoff, within the time the invocation has
left, and never logs the URL.
"""

from __future__ import annotations

import http.client
import json
import logging
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from import_handler import clock

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
TIMEOUT_SECONDS = 30.0
FIRST_BACKOFF_SECONDS = 1.0


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """The system trust store, or only the given CA bundle when one is set."""
    if ca_bundle:
        return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_bundle)
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH)


def send(
    response_url: str,
    body: Mapping[str, Any],
    ca_bundle: str | None,
    budget_seconds: float | None = None,
) -> bool:
    """PUT ``body`` to ``response_url``; True once CloudFormation's store accepted it.

    With ``budget_seconds`` (the invocation's time left), no attempt, back-off included, is
    allowed to run past it.
    """
    end = None if budget_seconds is None else clock.now() + budget_seconds
    data = json.dumps(body).encode()
    parts = urlsplit(response_url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    host = parts.hostname or ""
    headers = {"content-type": "", "content-length": str(len(data))}
    backoff = FIRST_BACKOFF_SECONDS
    for attempt in range(1, MAX_ATTEMPTS + 1):
        problem = ""
        timeout = TIMEOUT_SECONDS if end is None else min(TIMEOUT_SECONDS, end - clock.now())
        if timeout < 0.1:
            logger.error("no time left to answer CloudFormation (%s)", body.get("Status"))
            return False
        try:
            connection = _connection(parts.scheme, parts.netloc, ca_bundle, timeout)
            try:
                connection.request("PUT", target, body=data, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            finally:
                connection.close()
        except (OSError, http.client.HTTPException) as error:
            problem = f"{type(error).__name__}: {_without(str(error), response_url)}"
        else:
            if 200 <= status < 300:
                logger.info("answered CloudFormation (%s, HTTP %d)", body.get("Status"), status)
                return True
            if status < 500:
                # A 4xx does not get better: the URL expired or was already used.
                logger.error("CloudFormation's response URL refused the answer: HTTP %d", status)
                return False
            problem = f"HTTP {status}"
        if attempt < MAX_ATTEMPTS and (end is None or clock.now() + backoff + 1.0 < end):
            logger.warning(
                "sending the response to %s failed (%s), attempt %d of %d; retrying in %.0f s",
                host,
                problem,
                attempt,
                MAX_ATTEMPTS,
                backoff,
            )
            clock.sleep(backoff)
            backoff *= 2
        else:
            logger.error(
                "giving up sending the %s response to %s after %d attempts (%s); CloudFormation "
                "will time the resource out",
                body.get("Status"),
                host,
                attempt,
                problem,
            )
            return False
    return False


def _connection(
    scheme: str, netloc: str, ca_bundle: str | None, timeout: float
) -> http.client.HTTPConnection:
    if scheme == "http":  # only for local emulators; CloudFormation's URLs are https
        return http.client.HTTPConnection(netloc, timeout=timeout)
    return http.client.HTTPSConnection(netloc, context=tls_context(ca_bundle), timeout=timeout)


def _without(text: str, url: str) -> str:
    return text.replace(url, "<response-url>")
