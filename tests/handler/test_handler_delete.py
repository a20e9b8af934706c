"""Delete: stop a running import (never delete data), tolerate what is already gone, no stall."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Stubs
from .helpers import (
    IMPORT_ID,
    OTHER_IMPORT_ID,
    OTHER_URI,
    delete_event,
    listed_import,
    properties,
)


@pytest.mark.parametrize(
    "physical_id",
    ["failed-create-6b3c2f1e-1111-4222-8333-944455556666", "demo_Import_K3J4H5G6", ""],
)
def test_delete_after_a_failed_create_succeeds_without_calls(
    stubs: Stubs, run: Any, physical_id: str
) -> None:
    response = run(delete_event(physical_id=physical_id))

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == (
        physical_id or "failed-create-6b3c2f1e-1111-4222-8333-944455556666"
    )


@pytest.mark.parametrize("status", ["INITIALIZING", "IN_PROGRESS"])
def test_delete_stops_a_running_import(stubs: Stubs, run: Any, status: str) -> None:
    stubs.get_import(status=status)
    stubs.stop_import()

    response = run(delete_event())

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID
    assert response["Data"]["ImportStatus"] == "STOPPED"


def test_delete_leaves_a_running_import_when_stop_on_delete_is_false(
    stubs: Stubs, run: Any
) -> None:
    stubs.get_import(status="IN_PROGRESS")

    response = run(delete_event(properties(StopOnDelete="false")))

    assert response["Status"] == "SUCCESS"


@pytest.mark.parametrize("status", ["COMPLETED", "FAILED", "STOPPED"])
def test_delete_of_a_finished_import_changes_nothing(stubs: Stubs, run: Any, status: str) -> None:
    stubs.get_import(status=status)

    response = run(delete_event())

    assert response["Status"] == "SUCCESS"


def test_delete_of_an_import_cloudtrail_no_longer_knows_succeeds(stubs: Stubs, run: Any) -> None:
    stubs.error(stubs.cloudtrail, "get_import", "ImportNotFoundException", {"ImportId": IMPORT_ID})

    response = run(delete_event())

    assert response["Status"] == "SUCCESS"


def test_delete_succeeds_when_the_import_vanishes_while_stopping(stubs: Stubs, run: Any) -> None:
    stubs.get_import(status="IN_PROGRESS")
    stubs.error(stubs.cloudtrail, "stop_import", "ImportNotFoundException", {"ImportId": IMPORT_ID})

    response = run(delete_event())

    assert response["Status"] == "SUCCESS"


def test_delete_with_malformed_properties_still_cleans_up(stubs: Stubs, run: Any) -> None:
    stubs.get_import(status="IN_PROGRESS")
    stubs.stop_import()

    response = run(delete_event(properties(Destinations=[], StopOnDelete="perhaps")))

    assert response["Status"] == "SUCCESS"


def test_delete_does_not_stall(
    stubs: Stubs, run: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import crhelper.resource_helper

    real_sleeps: list[float] = []
    monkeypatch.setattr(crhelper.resource_helper, "sleep", real_sleeps.append)
    stubs.get_import(status="COMPLETED")

    run(delete_event())

    assert real_sleeps == []
    assert clock.sleeps == []


def test_delete_fails_explaining_a_missing_stop_permission(stubs: Stubs, run: Any) -> None:
    stubs.get_import(status="IN_PROGRESS")
    stubs.error(
        stubs.cloudtrail,
        "stop_import",
        "AccessDeniedException",
        {"ImportId": IMPORT_ID},
        status=403,
        message="User is not authorized to perform: cloudtrail:StopImport",
    )

    response = run(delete_event())

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(
        "AccessDeniedException: the handler's role may not cloudtrail:StopImport"
    )


def test_a_delete_that_cannot_read_the_import_stops_it_without_reading(
    stubs: Stubs, run: Any
) -> None:
    """CloudFormation does not retry a clean-up Delete that fails: a refused GetImport must not
    leave a running import that no stack names."""
    stubs.error(stubs.cloudtrail, "get_import", "AccessDeniedException", {"ImportId": IMPORT_ID})
    stubs.stop_import()

    response = run(delete_event())

    assert response["Status"] == "SUCCESS"
    assert response["Data"]["ImportStatus"] == "STOPPED"


def test_a_delete_that_can_neither_read_nor_stop_the_import_fails_naming_the_read(
    stubs: Stubs, run: Any
) -> None:
    stubs.error(stubs.cloudtrail, "get_import", "AccessDeniedException", {"ImportId": IMPORT_ID})
    stubs.error(stubs.cloudtrail, "stop_import", "AccessDeniedException", {"ImportId": IMPORT_ID})

    response = run(delete_event())

    assert response["Status"] == "FAILED"
    assert "GetImport" in response["Reason"]


def test_a_delete_with_stop_on_delete_false_needs_no_read(stubs: Stubs, run: Any) -> None:
    stubs.error(stubs.cloudtrail, "get_import", "ThrottlingException", {"ImportId": IMPORT_ID})

    response = run(delete_event(properties(StopOnDelete="false")))

    assert response["Status"] == "SUCCESS"


UNCONFIRMED = "unconfirmed-start-6b3c2f1e-1111-4222-8333-944455556666"


def test_the_delete_after_an_unconfirmed_start_stops_the_running_import_with_its_properties(
    stubs: Stubs, run: Any
) -> None:
    """The failed Create could not name the import its StartImport may have started: the
    Delete finds it by its properties and stops it, and only it (rule 3)."""
    stubs.running_imports("INITIALIZING")
    stubs.running_imports(
        "IN_PROGRESS", listed_import(OTHER_IMPORT_ID), listed_import(IMPORT_ID, day=2)
    )
    stubs.get_import(OTHER_IMPORT_ID, uri=OTHER_URI)  # another window's: left alone
    stubs.get_import(IMPORT_ID)
    stubs.stop_import(IMPORT_ID)

    response = run(delete_event(physical_id=UNCONFIRMED))

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == UNCONFIRMED
    assert response["Data"]["ImportId"] == IMPORT_ID


def test_the_delete_after_an_unconfirmed_start_fails_when_it_cannot_look(
    stubs: Stubs, run: Any
) -> None:
    stubs.error(
        stubs.cloudtrail,
        "list_imports",
        "AccessDeniedException",
        {"ImportStatus": "INITIALIZING", "MaxResults": 10},
    )

    response = run(delete_event(physical_id=UNCONFIRMED))

    assert response["Status"] == "FAILED"
    assert response["PhysicalResourceId"] == UNCONFIRMED


def test_the_delete_after_an_unconfirmed_start_needs_nothing_without_stop_on_delete(
    stubs: Stubs, run: Any
) -> None:
    response = run(delete_event(properties(StopOnDelete="false"), physical_id=UNCONFIRMED))

    assert response["Status"] == "SUCCESS"
