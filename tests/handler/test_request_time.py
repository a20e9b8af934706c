"""Rule 4, the deadline is the request's: CloudFormation's hour counts from the request,
read from the presigned ResponseURL's signing time, not from when the handler got round to it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from import_handler import continuation, request_time
from import_handler.decisions import MAX_WAIT_SECONDS

from .conftest import START_EPOCH, FakeContext, Stubs
from .helpers import IMPORT_ID, create_event, properties

BASE = (
    "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/"
    "arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/demo/abc%7CImport%7Creq"
)


def sigv4_url(signed: float) -> str:
    stamp = datetime.fromtimestamp(signed, UTC).strftime("%Y%m%dT%H%M%SZ")
    return (
        f"{BASE}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20240101"
        f"&X-Amz-Date={stamp}&X-Amz-Expires=7200&X-Amz-Signature=deadbeef"
    )


def sigv2_url(expires: float) -> str:
    return f"{BASE}?AWSAccessKeyId=AKIAEXAMPLE&Expires={int(expires)}&Signature=abc%3D"


def test_a_sigv4_url_says_when_it_was_signed() -> None:
    assert request_time.signed_at(sigv4_url(START_EPOCH - 600)) == START_EPOCH - 600


def test_a_sigv2_url_says_when_it_expires_two_hours_after_signing() -> None:
    assert request_time.signed_at(sigv2_url(START_EPOCH + 7200)) == START_EPOCH


@pytest.mark.parametrize("url", ["", None, BASE, f"{BASE}?X-Amz-Date=garbage", "::not a url"])
def test_a_url_that_does_not_say_falls_back_to_the_receipt_time(url: Any) -> None:
    assert request_time.requested_at(url, START_EPOCH) == START_EPOCH


def test_a_signing_time_after_the_receipt_counts_as_the_receipt() -> None:
    assert request_time.requested_at(sigv4_url(START_EPOCH + 300), START_EPOCH) == START_EPOCH


def test_a_request_received_late_waits_only_until_its_own_deadline(
    stubs: Stubs, run: Any, clock: Any
) -> None:
    """Lambda held the request 20 minutes (a retry after a crash, a queue): the chain's
    deadline is the request's plus the timeout, not the receipt's."""
    signed = START_EPOCH - 1200
    event = create_event(properties(WaitForCompletion="true", CompletionTimeoutSeconds="3000"))
    event["ResponseURL"] = sigv4_url(signed)
    stubs.preflight()
    stubs.start_import()
    for _ in range(3):  # at 10, 20, 30 s; then the 65 s invocation hands over
        stubs.get_import(status="IN_PROGRESS")
    # The continuation's deadline: the request's time + 3000 s (the receipt's would be 1200 s on).
    stubs.hand_over(event, continuation.State(IMPORT_ID, signed + 3000, 1))

    assert run(event, FakeContext(clock, timeout_seconds=100)) is None


def test_a_request_older_than_cloudformation_waits_starts_nothing(stubs: Stubs, run: Any) -> None:
    event = create_event()
    event["ResponseURL"] = sigv4_url(START_EPOCH - MAX_WAIT_SECONDS - 1)

    response = run(event)

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("RequestExpired: ")
    assert "nothing was started" in response["Reason"]


def test_the_response_url_is_never_logged(
    stubs: Stubs, run: Any, caplog: pytest.LogCaptureFixture
) -> None:
    event = create_event()
    event["ResponseURL"] = sigv4_url(START_EPOCH - MAX_WAIT_SECONDS - 1)
    run(event)
    assert "X-Amz-Date" not in caplog.text
    assert "cloudformation-custom-resource-response" not in caplog.text
