"""Create: preflight, StartImport, adoption of our own running import, the busy account."""

from __future__ import annotations

from typing import Any

from .conftest import Stubs
from .helpers import (
    IMPORT_ID,
    OTHER_IMPORT_ID,
    STORE_ARN,
    create_event,
    import_response,
    properties,
    start_params,
)


def list_imports(stubs: Stubs, status: str, imports: list[dict[str, Any]]) -> None:
    stubs.cloudtrail.add_response(
        "list_imports", {"Imports": imports}, {"ImportStatus": status, "MaxResults": 10}
    )


def listed(
    import_id: str, status: str = "IN_PROGRESS", destination: str = STORE_ARN
) -> dict[str, Any]:
    return {"ImportId": import_id, "ImportStatus": status, "Destinations": [destination]}


def test_create_starts_an_import_and_answers_with_its_id(stubs: Stubs, run: Any) -> None:
    stubs.preflight()
    stubs.cloudtrail.add_response(
        "start_import", import_response(status="INITIALIZING"), start_params()
    )

    response = run(create_event())

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID
    assert response["Data"] == {"ImportId": IMPORT_ID, "ImportStatus": "INITIALIZING"}
    assert response["Reason"] == ""


def test_create_without_a_window_sends_no_event_times(stubs: Stubs, run: Any) -> None:
    stubs.preflight()
    params = start_params()
    del params["StartEventTime"], params["EndEventTime"]
    stubs.cloudtrail.add_response(
        "start_import", import_response(status="INITIALIZING", start=None, end=None), params
    )

    response = run(create_event(properties(StartEventTime=None, EndEventTime=None)))

    assert response["Status"] == "SUCCESS"


def test_create_builds_clients_in_the_bucket_and_store_regions(
    stubs: Stubs, run: Any, monkeypatch: Any
) -> None:
    import import_handler.aws

    asked: list[tuple[str, str | None]] = []
    original = import_handler.aws.new_client

    def spy(service: str, region: str | None = None) -> Any:
        asked.append((service, region))
        return original(service, region)

    monkeypatch.setattr(import_handler.aws, "new_client", spy)
    stubs.preflight()
    stubs.cloudtrail.add_response(
        "start_import", import_response(status="INITIALIZING"), start_params()
    )

    run(create_event())

    assert ("s3", "us-east-1") in asked
    assert ("cloudtrail", STORE_ARN.split(":")[3]) in asked


def test_a_repeated_create_adopts_the_import_it_already_started(stubs: Stubs, run: Any) -> None:
    stubs.preflight()
    stubs.error(
        stubs.cloudtrail, "start_import", "AccountHasOngoingImportException", start_params()
    )
    list_imports(stubs, "INITIALIZING", [])
    list_imports(stubs, "IN_PROGRESS", [listed(OTHER_IMPORT_ID)])
    stubs.get_import(OTHER_IMPORT_ID, "IN_PROGRESS")

    response = run(create_event())

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == OTHER_IMPORT_ID
    assert response["Data"]["ImportStatus"] == "IN_PROGRESS"


def test_create_fails_naming_the_import_that_holds_the_account(stubs: Stubs, run: Any) -> None:
    other_store = STORE_ARN.replace("EXAMPLE-f852", "OTHERS-f852")
    stubs.preflight()
    stubs.error(
        stubs.cloudtrail, "start_import", "AccountHasOngoingImportException", start_params()
    )
    list_imports(stubs, "INITIALIZING", [])
    list_imports(stubs, "IN_PROGRESS", [listed(OTHER_IMPORT_ID, destination=other_store)])

    response = run(create_event())

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("AccountHasOngoingImportException")
    assert OTHER_IMPORT_ID in response["Reason"]
    assert response["PhysicalResourceId"] == "failed-create-6b3c2f1e-1111-4222-8333-944455556666"


def test_create_does_not_adopt_a_running_import_of_another_window(stubs: Stubs, run: Any) -> None:
    stubs.preflight()
    stubs.error(
        stubs.cloudtrail, "start_import", "AccountHasOngoingImportException", start_params()
    )
    list_imports(stubs, "INITIALIZING", [listed(OTHER_IMPORT_ID, "INITIALIZING")])
    stubs.get_import(OTHER_IMPORT_ID, "INITIALIZING", start=None)
    list_imports(stubs, "IN_PROGRESS", [])

    response = run(create_event())

    assert response["Status"] == "FAILED"
    assert OTHER_IMPORT_ID in response["Reason"]


def test_create_waits_for_a_busy_account_then_starts(stubs: Stubs, run: Any, clock: Any) -> None:
    other_store = STORE_ARN.replace("EXAMPLE-f852", "OTHERS-f852")
    stubs.preflight()
    stubs.error(
        stubs.cloudtrail, "start_import", "AccountHasOngoingImportException", start_params()
    )
    list_imports(stubs, "INITIALIZING", [])
    list_imports(stubs, "IN_PROGRESS", [listed(OTHER_IMPORT_ID, destination=other_store)])
    stubs.cloudtrail.add_response(
        "start_import", import_response(status="INITIALIZING"), start_params()
    )
    stubs.get_import(IMPORT_ID, "COMPLETED", statistics={"FailedEntries": 0, "EventsCompleted": 7})

    response = run(create_event(properties(WaitForCompletion="true")))

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID
    assert response["Data"]["EventsCompleted"] == "7"
    assert clock.sleeps == [10.0, 10.0]


def test_create_gives_up_waiting_for_a_busy_account_at_the_deadline(stubs: Stubs, run: Any) -> None:
    stubs.preflight()
    for _ in range(3):  # at 0 s, 10 s, 20 s; the deadline is 20 s
        stubs.error(
            stubs.cloudtrail, "start_import", "AccountHasOngoingImportException", start_params()
        )
        list_imports(stubs, "INITIALIZING", [])
        list_imports(
            stubs,
            "IN_PROGRESS",
            [
                listed(
                    OTHER_IMPORT_ID,
                    destination="arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/other-store",
                )
            ],
        )

    response = run(
        create_event(properties(WaitForCompletion="true", CompletionTimeoutSeconds="20"))
    )

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("Timeout")
    assert OTHER_IMPORT_ID in response["Reason"]
    assert response["PhysicalResourceId"].startswith("failed-create-")


def test_cloudtrail_is_called_in_the_store_region_not_the_function_region() -> None:
    from import_handler.lifecycle import _store_region

    in_london = STORE_ARN.replace(":us-east-1:", ":eu-west-2:")
    assert _store_region({"ResourceProperties": {"Destinations": [in_london]}}) == "eu-west-2"
    assert _store_region({"ResourceProperties": {"Destinations": ["not-an-arn"]}}) is None
    assert _store_region({"RequestType": "Delete"}) is None
