"""Create: preflight, StartImport, adoption of our own running import, the busy account."""

from __future__ import annotations

from typing import Any

from .conftest import Stubs
from .helpers import (
    IMPORT_ID,
    OTHER_IMPORT_ID,
    OTHER_STORE_ARN,
    STORE_ARN,
    create_event,
    import_response,
    listed_import,
    properties,
    start_params,
)


def busy_with_another_store(stubs: Stubs) -> None:
    """StartImport is refused: an import into another store holds the account."""
    stubs.account_busy()
    stubs.running_imports("INITIALIZING")
    stubs.running_imports(
        "IN_PROGRESS", listed_import(OTHER_IMPORT_ID, destination=OTHER_STORE_ARN)
    )


def test_create_starts_an_import_and_answers_with_its_id(stubs: Stubs, run: Any) -> None:
    stubs.preflight()
    stubs.start_import()

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

    def spy(service: str, region: str | None, config: Any) -> Any:
        asked.append((service, region))
        return original(service, region, config)

    monkeypatch.setattr(import_handler.aws, "new_client", spy)
    stubs.preflight()
    stubs.start_import()

    run(create_event())

    assert ("s3", "us-east-1") in asked
    assert ("cloudtrail", STORE_ARN.split(":")[3]) in asked


def test_a_repeated_create_adopts_the_import_it_already_started(stubs: Stubs, run: Any) -> None:
    stubs.preflight()
    stubs.account_busy()
    stubs.running_imports("INITIALIZING")
    stubs.running_imports("IN_PROGRESS", listed_import(OTHER_IMPORT_ID))
    stubs.get_import(OTHER_IMPORT_ID, "IN_PROGRESS")

    response = run(create_event())

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == OTHER_IMPORT_ID
    assert response["Data"]["ImportStatus"] == "IN_PROGRESS"


def test_create_fails_naming_the_import_that_holds_the_account(stubs: Stubs, run: Any) -> None:
    stubs.preflight()
    busy_with_another_store(stubs)

    response = run(create_event())

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("AccountHasOngoingImportException")
    assert OTHER_IMPORT_ID in response["Reason"]
    assert response["PhysicalResourceId"] == "failed-create-6b3c2f1e-1111-4222-8333-944455556666"


def test_create_does_not_adopt_a_running_import_of_another_window(stubs: Stubs, run: Any) -> None:
    stubs.preflight()
    stubs.account_busy()
    stubs.running_imports("INITIALIZING", listed_import(OTHER_IMPORT_ID, "INITIALIZING"))
    stubs.get_import(OTHER_IMPORT_ID, "INITIALIZING", start=None)
    stubs.running_imports("IN_PROGRESS")

    response = run(create_event())

    assert response["Status"] == "FAILED"
    assert OTHER_IMPORT_ID in response["Reason"]


def test_create_waits_for_a_busy_account_then_starts(stubs: Stubs, run: Any, clock: Any) -> None:
    stubs.preflight()
    busy_with_another_store(stubs)
    stubs.store_imports()  # every new StartImport is preceded by a look-up
    stubs.start_import()
    stubs.get_import(IMPORT_ID, "COMPLETED", statistics={"FailedEntries": 0, "EventsCompleted": 7})

    response = run(create_event(properties(WaitForCompletion="true")))

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID
    assert response["Data"]["EventsCompleted"] == "7"
    assert clock.sleeps == [10.0, 10.0]


def test_create_gives_up_waiting_for_a_busy_account_at_the_deadline(stubs: Stubs, run: Any) -> None:
    stubs.preflight()
    for attempt in range(3):  # at 0 s, 10 s, 20 s; the deadline is 20 s
        if attempt:
            stubs.store_imports()  # every new StartImport is preceded by a look-up
        busy_with_another_store(stubs)

    response = run(
        create_event(properties(WaitForCompletion="true", CompletionTimeoutSeconds="20"))
    )

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("Timeout")
    assert OTHER_IMPORT_ID in response["Reason"]
    assert response["PhysicalResourceId"].startswith("failed-create-")


def test_cloudtrail_is_called_in_the_store_region_not_the_function_region() -> None:
    from import_handler.invocation import store_region

    in_london = STORE_ARN.replace(":us-east-1:", ":eu-west-2:")
    assert store_region({"Destinations": [in_london]}) == "eu-west-2"
    assert store_region({"Destinations": ["not-an-arn"]}) is None
    assert store_region(None) is None
