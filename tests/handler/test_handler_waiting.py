"""WaitForCompletion: polling inside the invocation, continuations, the deadline."""

from __future__ import annotations

import json
from typing import Any

from import_handler import continuation, waiting

from .conftest import START_EPOCH, FakeContext, Stubs
from .helpers import IMPORT_ID, STATS, create_event, properties

WAIT = properties(WaitForCompletion="true")


def start(stubs: Stubs) -> None:
    stubs.preflight()
    stubs.start_import()


def continued(import_id: str | None, deadline: float, attempt: int) -> dict[str, Any]:
    """The event a continuation receives: the Create, plus the state handed over to it."""
    event = create_event(WAIT)
    event[continuation.KEY] = {"ImportId": import_id, "DeadlineEpoch": deadline, "Attempt": attempt}
    return event


def test_waiting_answers_success_with_the_statistics_once_completed(
    stubs: Stubs, run: Any, clock: Any
) -> None:
    start(stubs)
    stubs.get_import(status="IN_PROGRESS", statistics={**STATS, "EventsCompleted": 10})
    stubs.get_import(status="COMPLETED", statistics=STATS)

    response = run(create_event(WAIT))

    assert response["Status"] == "SUCCESS"
    assert response["Data"] == {
        "ImportId": IMPORT_ID,
        "ImportStatus": "COMPLETED",
        "PrefixesFound": "12",
        "PrefixesCompleted": "12",
        "FilesCompleted": "480",
        "EventsCompleted": "125000",
        "FailedEntries": "0",
    }
    assert clock.sleeps == [10.0, 10.0]


def test_waiting_reports_a_failed_import_with_its_first_failures(stubs: Stubs, run: Any) -> None:
    start(stubs)
    stubs.get_import(status="FAILED", statistics={**STATS, "FailedEntries": 2})
    stubs.cloudtrail.add_response(
        "list_import_failures",
        {
            "Failures": [
                {
                    "Location": "s3://trail-archive/AWSLogs/x/ok.json.gz",
                    "Status": "SUCCEEDED",
                    "ErrorType": "",
                    "ErrorMessage": "",
                },
                {
                    "Location": "s3://trail-archive/AWSLogs/x/a.json",
                    "Status": "FAILED",
                    "ErrorType": "InvalidFileFormat",
                    "ErrorMessage": "not gzip",
                },
                {
                    "Location": "s3://trail-archive/AWSLogs/x/b.json.gz",
                    "Status": "FAILED",
                    "ErrorType": "AccessDenied",
                    "ErrorMessage": "Access Denied",
                },
            ]
        },
        {"ImportId": IMPORT_ID, "MaxResults": 50},
    )

    response = run(create_event(WAIT))

    assert response["Status"] == "FAILED"
    reason = response["Reason"]
    assert reason.startswith("ImportFailed: 2 failed entries; fix them")
    assert "InvalidFileFormat at AWSLogs/x/a.json" in reason
    assert "AccessDenied at AWSLogs/x/b.json.gz" in reason
    assert "ok.json.gz" not in reason
    # The Delete that follows a failed Create finds the import by its id.
    assert response["PhysicalResourceId"] == IMPORT_ID
    assert response["Data"]["FailedEntries"] == "2"


def test_waiting_reports_an_import_stopped_by_someone_else(stubs: Stubs, run: Any) -> None:
    start(stubs)
    stubs.get_import(status="STOPPED")

    response = run(create_event(WAIT))

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(f"ImportStopped: import {IMPORT_ID}")


def test_waiting_fails_at_the_deadline_saying_the_import_still_runs(
    stubs: Stubs, run: Any, clock: Any
) -> None:
    start(stubs)
    for _ in range(3):
        stubs.get_import(status="IN_PROGRESS")

    response = run(
        create_event(properties(WaitForCompletion="true", CompletionTimeoutSeconds="30"))
    )

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(f"Timeout: import {IMPORT_ID} is still running after 30 s")
    assert response["PhysicalResourceId"] == IMPORT_ID
    assert clock.time == START_EPOCH + 30


def test_waiting_tolerates_throttling_between_polls(stubs: Stubs, run: Any) -> None:
    start(stubs)
    for _ in range(4):  # botocore's retries and ours gave up: try at the next poll
        stubs.error(stubs.cloudtrail, "get_import", "ThrottlingException", {"ImportId": IMPORT_ID})
    stubs.get_import(status="COMPLETED", statistics=STATS)

    response = run(create_event(WAIT))

    assert response["Status"] == "SUCCESS"


def test_waiting_hands_over_to_a_continuation_before_the_invocation_ends(
    stubs: Stubs, run: Any, clock: Any
) -> None:
    event = create_event(WAIT)
    short = FakeContext(clock, timeout_seconds=100)
    start(stubs)
    stubs.get_import(status="IN_PROGRESS")
    stubs.get_import(status="IN_PROGRESS")
    stubs.get_import(status="IN_PROGRESS")
    deadline = START_EPOCH + 3000
    state = continuation.State(IMPORT_ID, deadline, 1)
    stubs.hand_over(event, state)

    response = run(event, short)

    assert response is None  # the continuation answers
    sent = json.loads(waiting.payload(event, state))
    assert sent["CtLakeImportContinuation"] == {
        "ImportId": IMPORT_ID,
        "DeadlineEpoch": deadline,
        "Attempt": 1,
    }
    assert {k: v for k, v in sent.items() if k != "CtLakeImportContinuation"} == event


def test_a_continuation_answers_when_the_import_completes(stubs: Stubs, run: Any) -> None:
    event = continued(IMPORT_ID, START_EPOCH + 600, attempt=1)
    stubs.get_import(status="COMPLETED", statistics=STATS)

    response = run(event)

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID


def test_a_continuation_past_its_deadline_answers_failed(stubs: Stubs, run: Any) -> None:
    event = continued(IMPORT_ID, START_EPOCH - 1, attempt=3)
    stubs.get_import(status="IN_PROGRESS")

    response = run(event)

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("Timeout")


def test_a_continuation_for_a_busy_account_tries_to_start_again(stubs: Stubs, run: Any) -> None:
    event = continued(None, START_EPOCH + 600, attempt=1)
    stubs.store_imports()  # the look-up before any new StartImport
    stubs.start_import()
    stubs.get_import(status="COMPLETED", statistics=STATS)

    response = run(event)

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID


def test_a_malformed_continuation_answers_failed(stubs: Stubs, run: Any) -> None:
    event = create_event(WAIT)
    event[continuation.KEY] = {"ImportId": IMPORT_ID, "DeadlineEpoch": "soon"}

    response = run(event)

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("InvalidContinuation")


def test_a_failed_hand_over_answers_failed_saying_what_permission_is_missing(
    stubs: Stubs, run: Any, clock: Any
) -> None:
    start(stubs)
    stubs.error(
        stubs.lambda_,
        "invoke",
        "AccessDeniedException",
        None,
        status=403,
        message="not authorized to perform: lambda:InvokeFunction",
    )

    response = run(create_event(WAIT), FakeContext(clock, timeout_seconds=65))

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(
        "AccessDeniedException: the handler's role may not lambda:InvokeFunction"
    )
