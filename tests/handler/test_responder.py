"""The answer to CloudFormation: shape, size, reason cut, crhelper wiring, and the logs."""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

import pytest

import import_handler.lifecycle
from import_handler import continuation
from import_handler.answer import MAX_BODY_BYTES, cut_reason, response_body
from import_handler.invocation import Invocation
from import_handler.model import ImportRecord

from .conftest import FakeContext, Stubs
from .helpers import (
    IMPORT_ID,
    RESPONSE_URL,
    STATS,
    create_event,
    delete_event,
    import_response,
    properties,
)


def test_reason_keeps_its_start_where_the_error_name_and_advice_are() -> None:
    reason = "InvalidImportSourceException: advice first. " + "x" * 1000
    cut = cut_reason(reason)
    assert len(cut) == 256
    assert cut.startswith("InvalidImportSourceException: advice first.")
    assert cut.endswith("...")


def test_an_oversized_failure_list_still_yields_a_response_under_4096_bytes(
    stubs: Stubs, run: Any
) -> None:
    stubs.preflight()
    stubs.start_import()
    stubs.get_import(status="FAILED", statistics={**STATS, "FailedEntries": 1000})
    failures = [
        {
            "Location": "s3://trail-archive/"
            + "AWSLogs/123456789012/CloudTrail/" * 30
            + f"{i}.json",
            "Status": "FAILED",
            "ErrorType": "InvalidFileFormat" * 10,
            "ErrorMessage": "the file is not a gzip archive " * 50,
        }
        for i in range(1000)
    ]
    stubs.cloudtrail.add_response(
        "list_import_failures", {"Failures": failures}, {"ImportId": IMPORT_ID, "MaxResults": 50}
    )

    response = run(create_event(properties(WaitForCompletion="true")))

    body = {k: v for k, v in response.items() if k not in ("url", "ca_bundle")}
    assert len(json.dumps(body).encode()) < MAX_BODY_BYTES
    assert len(response["Reason"]) <= 256
    assert response["Reason"].startswith("ImportFailed: 1000 failed entries")
    assert response["Data"]["FailedEntries"] == "1000"


def test_the_body_shrinks_to_fit_4096_bytes_whatever_the_event_holds() -> None:
    event = create_event()
    event["LogicalResourceId"] = "L" * 255
    event["StackId"] = "arn:aws:cloudformation:us-east-1:123456789012:stack/" + "s" * 128 + "/id"
    data = {
        "ImportId": IMPORT_ID,
        "ImportStatus": "FAILED",
        **{f"K{i}": "v" * 500 for i in range(20)},
    }

    body = response_body(
        status="FAILED", reason="R" * 5000, physical_id="p" * 5000, event=event, data=data
    )

    assert len(json.dumps(body).encode()) <= MAX_BODY_BYTES
    assert body["Data"]["ImportId"] == IMPORT_ID
    assert len(body["PhysicalResourceId"]) == 1024


def test_the_response_goes_to_the_response_url_with_the_ca_bundle(
    stubs: Stubs, run: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))

    response = run(delete_event(physical_id="failed-create-x"))

    assert response["url"] == RESPONSE_URL
    assert response["ca_bundle"] == str(bundle)


def test_without_aws_ca_bundle_the_system_trust_store_is_used(stubs: Stubs, run: Any) -> None:
    response = run(delete_event(physical_id="failed-create-x"))

    assert response["ca_bundle"] is None


def test_an_unexpected_crash_still_answers_failed(
    stubs: Stubs, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(inv: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(import_handler.lifecycle, "handle", crash)

    response = run(create_event())

    assert response["Status"] == "FAILED"
    assert response["Reason"] == "boom"
    assert response["PhysicalResourceId"] == "failed-create-6b3c2f1e-1111-4222-8333-944455556666"


def test_a_crash_after_starting_an_import_answers_with_its_id(
    stubs: Stubs, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash_after_start(inv: Invocation) -> None:
        inv.started_import(ImportRecord(IMPORT_ID, "INITIALIZING"))
        raise RuntimeError("boom")

    monkeypatch.setattr(import_handler.lifecycle, "handle", crash_after_start)

    response = run(create_event())

    assert response["Status"] == "FAILED"
    # The Delete that follows the failed Create stops the import by this id.
    assert response["PhysicalResourceId"] == IMPORT_ID


def test_an_unexpected_error_inside_the_lifecycle_answers_failed_with_its_name(
    stubs: Stubs, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr(import_handler.preflight, "check", broken)
    stubs.store_imports()

    response = run(create_event())

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("KeyError: Create failed")


def test_crhelpers_timer_answers_failed_just_before_the_lambda_times_out(
    stubs: Stubs, responses: list[dict[str, Any]], clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import index

    def hang(inv: Any) -> None:
        time.sleep(0.4)  # real time: crhelper's timer is a real thread

    monkeypatch.setattr(import_handler.lifecycle, "handle", hang)

    index.handler(create_event(), FakeContext(clock, timeout_seconds=0.6))

    assert responses[0]["Status"] == "FAILED"
    assert responses[0]["Reason"] == "Execution timed out"
    assert responses[0]["PhysicalResourceId"].startswith("failed-create-")


def test_a_hand_over_does_not_answer(
    stubs: Stubs, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_handler.lifecycle, "handle", lambda inv: None)

    assert run(create_event()) is None


# --- Logs ------------------------------------------------------------------------------------


def test_the_response_url_never_appears_in_the_logs(
    stubs: Stubs, run: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    # Make crhelper log the whole event, as it would at its default level.
    monkeypatch.setattr(logging.getLogger("crhelper.resource_helper"), "level", logging.DEBUG)
    stubs.preflight()
    stubs.start_import()
    event = create_event(properties(WaitForCompletion="true"))
    stubs.hand_over(event, continuation.State(IMPORT_ID, 1_717_200_000.0 + 3000, 1))
    clock_context = FakeContext(import_handler.clock.CLOCK, timeout_seconds=65)  # type: ignore[arg-type]

    run(event, clock_context)

    assert "ResponseURL" in caplog.text  # crhelper did log the event...
    assert "X-Amz-Signature" not in caplog.text  # ...without the URL
    assert "cloudformation-custom-resource-response" not in caplog.text


def test_an_unsigned_response_url_is_redacted_too(
    stubs: Stubs, run: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(logging.getLogger("crhelper.resource_helper"), "level", logging.DEBUG)
    event = delete_event(physical_id="failed-create-x")
    event["ResponseURL"] = "https://127.0.0.1:8443/responses/stack-123/Import"

    run(event)

    assert "ResponseURL" in caplog.text
    assert "/responses/stack-123/Import" not in caplog.text


def test_each_decision_is_one_json_line(
    stubs: Stubs, run: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    stubs.get_import(status="IN_PROGRESS")
    stubs.cloudtrail.add_response(
        "stop_import", import_response(status="STOPPED"), {"ImportId": IMPORT_ID}
    )

    run(delete_event())

    lines = [
        json.loads(r.getMessage()) for r in caplog.records if r.name == "import_handler.decision"
    ]
    assert lines == [
        {
            "decision": "stop",
            "RequestType": "Delete",
            "RequestId": "6b3c2f1e-1111-4222-8333-944455556666",
            "LogicalResourceId": "Import",
            "import_id": IMPORT_ID,
            "status": "STOPPED",
        },
        {
            "decision": "respond-success",
            "RequestType": "Delete",
            "RequestId": "6b3c2f1e-1111-4222-8333-944455556666",
            "LogicalResourceId": "Import",
            "import_id": IMPORT_ID,
        },
    ]


def test_crhelper_builds_none_of_its_unused_polling_clients(monkeypatch: Any) -> None:
    import boto3

    from import_handler.responder import ImportResource

    built: list[str] = []
    monkeypatch.setattr(boto3, "client", lambda service, *_a, **_k: built.append(service))
    monkeypatch.delenv("AWS_SAM_LOCAL", raising=False)

    resource = ImportResource(lambda _inv: None)

    assert built == []
    assert "AWS_SAM_LOCAL" not in os.environ
    assert resource._sam_local is None
