"""Update: keep, retry, replace (without deadlocking on one import per account), roll back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .conftest import Stubs
from .helpers import (
    IMPORT_ID,
    NEW_IMPORT_ID,
    OTHER_IMPORT_ID,
    OTHER_ROLE_ARN,
    OTHER_STORE_ARN,
    OTHER_URI,
    STATS,
    STORE_ARN,
    import_source,
    listed_import,
    properties,
    start_params,
    update_event,
)

CHANGED = properties(ImportSource=import_source(OTHER_URI))


def replacing(stubs: Stubs, status: str) -> None:
    """The id points at IMPORT_ID (``status``), which CHANGED replaces; the store holds no
    earlier import to go back to."""
    stubs.get_import(status=status)
    stubs.no_earlier_import()


def a_new_import_starts(stubs: Stubs) -> None:
    """Preflight, then StartImport with CHANGED's source: the new import is NEW_IMPORT_ID."""
    stubs.preflight()
    stubs.start_import(NEW_IMPORT_ID, uri=OTHER_URI)


def test_update_keeps_a_completed_import_when_nothing_identifying_changed(
    stubs: Stubs, run: Any
) -> None:
    stubs.get_import(status="COMPLETED", statistics=STATS)

    response = run(update_event(properties(RetryToken="2", CompletionTimeoutSeconds="600")))

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID
    assert response["Data"]["ImportStatus"] == "COMPLETED"
    assert response["Data"]["EventsCompleted"] == "125000"


def test_update_keeps_a_running_import_without_waiting(stubs: Stubs, run: Any) -> None:
    stubs.get_import(status="IN_PROGRESS")

    response = run(update_event())

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID


def test_update_waits_for_a_running_import_when_asked(stubs: Stubs, run: Any) -> None:
    stubs.get_import(status="IN_PROGRESS")
    stubs.get_import(status="COMPLETED", statistics=STATS)

    response = run(update_event(properties(WaitForCompletion="true")))

    assert response["Status"] == "SUCCESS"
    assert response["Data"]["ImportStatus"] == "COMPLETED"


def test_update_retries_a_failed_import(stubs: Stubs, run: Any) -> None:
    stubs.get_import(status="FAILED")
    stubs.preflight()
    stubs.retry_import()

    response = run(update_event(properties(RetryToken="2")))

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID
    assert response["Data"]["ImportStatus"] == "INITIALIZING"


def test_update_retries_a_stopped_import_and_waits_for_it(stubs: Stubs, run: Any) -> None:
    stubs.get_import(status="STOPPED")
    stubs.preflight()
    stubs.retry_import(status="IN_PROGRESS")
    stubs.get_import(status="COMPLETED", statistics=STATS)

    response = run(update_event(properties(WaitForCompletion="true", RetryToken="2")))

    assert response["Status"] == "SUCCESS"
    assert response["Data"]["ImportStatus"] == "COMPLETED"


def test_update_with_a_new_source_starts_a_new_import(stubs: Stubs, run: Any) -> None:
    replacing(stubs, "COMPLETED")
    a_new_import_starts(stubs)

    response = run(update_event(CHANGED))

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == NEW_IMPORT_ID


def test_update_replacing_a_running_import_stops_it_first(
    stubs: Stubs, run: Any, clock: Any
) -> None:
    replacing(stubs, "IN_PROGRESS")
    stubs.preflight()
    stubs.stop_import(status="IN_PROGRESS")
    stubs.get_import(status="STOPPED")
    stubs.start_import(NEW_IMPORT_ID, uri=OTHER_URI)

    response = run(update_event(CHANGED))

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == NEW_IMPORT_ID
    assert clock.sleeps == [5]


def test_update_replacing_a_running_import_without_stop_on_delete_fails_saying_why(
    stubs: Stubs, run: Any
) -> None:
    replacing(stubs, "IN_PROGRESS")

    response = run(update_event(CHANGED, old=properties(StopOnDelete="false")))

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("AccountHasOngoingImportException")
    assert "StopOnDelete is false" in response["Reason"]
    assert response["PhysicalResourceId"] == IMPORT_ID


def test_rollback_update_keeps_the_import_the_id_points_at(stubs: Stubs, run: Any) -> None:
    # The forward update (to CHANGED) failed; the rollback swaps old and new properties.
    stubs.get_import(status="COMPLETED")

    response = run(update_event(properties(), old=CHANGED))

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID


def test_rollback_update_retries_the_original_import_a_replacement_stopped(
    stubs: Stubs, run: Any
) -> None:
    stubs.get_import(status="STOPPED")
    stubs.preflight()
    stubs.retry_import()

    response = run(update_event(properties(), old=CHANGED))

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID


def test_rollback_update_keeps_an_original_import_that_had_failed_by_itself(
    stubs: Stubs, run: Any
) -> None:
    """The import was FAILED before the forward Update (which failed too): coming back to it
    is not a request to retry it; only a new RetryToken is."""
    stubs.get_import(status="FAILED")

    response = run(update_event(properties(), old=CHANGED))

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID
    assert response["Data"]["ImportStatus"] == "FAILED"


def test_update_of_a_resource_without_an_import_starts_one(stubs: Stubs, run: Any) -> None:
    stubs.preflight()
    stubs.start_import(NEW_IMPORT_ID)

    response = run(update_event(physical_id="failed-create-6b3c2f1e-1111-4222-8333-944455556666"))

    assert response["PhysicalResourceId"] == NEW_IMPORT_ID


def test_update_starts_a_new_import_when_cloudtrail_forgot_the_old_one(
    stubs: Stubs, run: Any
) -> None:
    stubs.error(stubs.cloudtrail, "get_import", "ImportNotFoundException", {"ImportId": IMPORT_ID})
    stubs.store_imports()  # nothing to go back to either
    stubs.preflight()
    stubs.start_import(NEW_IMPORT_ID)

    response = run(update_event())

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == NEW_IMPORT_ID


def test_a_failed_update_stops_the_new_import_it_cannot_report(stubs: Stubs, run: Any) -> None:
    replacing(stubs, "COMPLETED")
    a_new_import_starts(stubs)
    stubs.get_import(NEW_IMPORT_ID, "IN_PROGRESS", uri=OTHER_URI)
    stubs.stop_import(NEW_IMPORT_ID, uri=OTHER_URI)
    changed = {**CHANGED, "WaitForCompletion": "true", "CompletionTimeoutSeconds": "10"}

    response = run(update_event(changed))

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(f"Timeout: import {NEW_IMPORT_ID} is still running")
    # The update failed: CloudFormation keeps the old id and rolls back to it.
    assert response["PhysicalResourceId"] == IMPORT_ID


def test_update_with_malformed_properties_fails_without_calls_and_keeps_the_id(
    stubs: Stubs, run: Any
) -> None:
    response = run(update_event(properties(WaitForCompletion="maybe")))

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("InvalidProperty: WaitForCompletion")
    assert response["PhysicalResourceId"] == IMPORT_ID


def busy_with(
    stubs: Stubs, refused: dict[str, Any], running: str, destination: str = OTHER_STORE_ARN
) -> None:
    """StartImport (``refused``: its parameters) finds the account busy with ``running``, an
    import IN_PROGRESS on ``destination`` (read with GetImport when that is our store)."""
    stubs.account_busy(refused)
    stubs.running_imports("INITIALIZING")
    stubs.running_imports("IN_PROGRESS", listed_import(running, destination=destination))
    if destination == STORE_ARN:
        stubs.get_import(running, "IN_PROGRESS")


def test_a_retry_waits_for_a_busy_account_when_waiting(stubs: Stubs, run: Any, clock: Any) -> None:
    stubs.get_import(status="FAILED")
    stubs.preflight()
    busy_with(stubs, {"ImportId": IMPORT_ID}, running=NEW_IMPORT_ID)
    stubs.store_imports()  # the look-up before the next try
    stubs.retry_import(status="IN_PROGRESS")
    stubs.get_import(status="COMPLETED", statistics=STATS)

    response = run(update_event(properties(WaitForCompletion="true", RetryToken="3")))

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID
    assert clock.sleeps == [10.0, 10.0]


def test_a_busy_retry_is_carried_into_the_continuation(stubs: Stubs, run: Any, clock: Any) -> None:
    from import_handler import continuation

    from .conftest import START_EPOCH, FakeContext

    event = update_event(properties(WaitForCompletion="true", RetryToken="3"))
    stubs.get_import(status="FAILED")
    stubs.preflight()
    busy_with(stubs, {"ImportId": IMPORT_ID}, running=NEW_IMPORT_ID)
    state = continuation.State(None, START_EPOCH + 3000, 1, retry_import_id=IMPORT_ID)
    stubs.hand_over(event, state)

    assert run(event, FakeContext(clock, timeout_seconds=65)) is None

    # The continuation retries the same import, not a new one.
    event[continuation.KEY] = state.to_json()
    stubs.store_imports(listed_import(IMPORT_ID, "FAILED"))  # the look-up before the next try
    stubs.get_import(status="FAILED")
    stubs.retry_import(status="IN_PROGRESS")
    stubs.get_import(status="COMPLETED")

    response = run(event)

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID


def test_a_replacement_without_stop_on_delete_waits_for_the_old_import_when_waiting(
    stubs: Stubs, run: Any, clock: Any
) -> None:
    replacing(stubs, "IN_PROGRESS")
    stubs.preflight()
    busy_with(stubs, start_params(uri=OTHER_URI), running=IMPORT_ID, destination=STORE_ARN)
    stubs.store_imports(listed_import(IMPORT_ID))  # the look-up before the next try
    stubs.start_import(NEW_IMPORT_ID, uri=OTHER_URI)
    stubs.get_import(NEW_IMPORT_ID, "COMPLETED", uri=OTHER_URI)

    response = run(
        update_event({**CHANGED, "WaitForCompletion": "true"}, old=properties(StopOnDelete="false"))
    )

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == NEW_IMPORT_ID


# --- Going back to an earlier import instead of starting a new one ---------------------------
# The forward update replaced import A (IMPORT_ID, properties()) by B (NEW_IMPORT_ID, CHANGED)
# and succeeded; another resource failed, so CloudFormation rolls back: an Update with id B,
# B's properties as the old ones and A's as the new ones.


def rollback_after_replacement() -> dict[str, Any]:
    return update_event(properties(), old=CHANGED, physical_id=NEW_IMPORT_ID)


def replacement_b_is_running(stubs: Stubs) -> None:
    stubs.get_import(NEW_IMPORT_ID, "IN_PROGRESS", uri=OTHER_URI)


def test_rollback_after_a_replacement_retries_the_stopped_original_and_answers_its_id(
    stubs: Stubs, run: Any
) -> None:
    replacement_b_is_running(stubs)
    stubs.store_imports(
        listed_import(IMPORT_ID, "STOPPED", day=1), listed_import(NEW_IMPORT_ID, day=2)
    )
    stubs.get_import(IMPORT_ID, "STOPPED")
    stubs.preflight()
    stubs.stop_import(NEW_IMPORT_ID, uri=OTHER_URI)
    stubs.retry_import(IMPORT_ID)

    response = run(rollback_after_replacement())

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID
    assert response["Data"]["ImportStatus"] == "INITIALIZING"


def test_rollback_after_a_replacement_keeps_the_completed_original_and_stops_the_replacement(
    stubs: Stubs, run: Any
) -> None:
    replacement_b_is_running(stubs)
    stubs.store_imports(
        listed_import(IMPORT_ID, "COMPLETED", day=1), listed_import(NEW_IMPORT_ID, day=2)
    )
    stubs.get_import(IMPORT_ID, "COMPLETED", statistics=STATS)
    # B is stopped now (the old StopOnDelete allows): the clean-up Delete that follows would
    # stop it too, but CloudFormation does not retry a clean-up that fails.
    stubs.stop_import(NEW_IMPORT_ID, uri=OTHER_URI)

    response = run(rollback_after_replacement())

    # No StartImport: A's window is not copied again.
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID
    assert response["Data"]["ImportStatus"] == "COMPLETED"
    assert response["Data"]["EventsCompleted"] == "125000"


def test_a_completed_earlier_import_wins_over_a_newer_stopped_one(stubs: Stubs, run: Any) -> None:
    stopped_copy = "1a2b3c4d-0000-4000-8000-00000000000d"
    replacement_b_is_running(stubs)
    stubs.store_imports(
        listed_import(OTHER_IMPORT_ID, "COMPLETED", day=1),
        listed_import(IMPORT_ID, "COMPLETED", day=2),
        listed_import(stopped_copy, "STOPPED", day=3),
        listed_import(NEW_IMPORT_ID, day=4),
    )
    # Every import of the store is read (newest first; B is known already): rule 6 needs all.
    stubs.get_import(stopped_copy, "STOPPED")
    stubs.get_import(IMPORT_ID, "COMPLETED")
    stubs.get_import(OTHER_IMPORT_ID, "COMPLETED", start=None, end=None, uri=OTHER_URI)
    stubs.stop_import(NEW_IMPORT_ID, uri=OTHER_URI)  # B, which the rollback leaves

    response = run(rollback_after_replacement())

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID


def test_a_replacement_without_a_matching_earlier_import_starts_a_new_one_as_before(
    stubs: Stubs, run: Any
) -> None:
    stubs.get_import(status="COMPLETED")
    stubs.store_imports(
        listed_import(OTHER_IMPORT_ID, "COMPLETED", day=1), listed_import(IMPORT_ID, day=2)
    )
    stubs.get_import(
        OTHER_IMPORT_ID,
        "COMPLETED",
        uri=OTHER_URI,
        role=OTHER_ROLE_ARN,
        start=datetime(2020, 1, 1, tzinfo=UTC),  # another window: no overlap
        end=datetime(2020, 2, 1, tzinfo=UTC),
    )
    a_new_import_starts(stubs)

    response = run(update_event(CHANGED))

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == NEW_IMPORT_ID


def listed_at(import_id: str, hours: int) -> dict[str, Any]:
    """A listed COMPLETED import created ``hours`` after June 1st."""
    created = datetime(2024, 6, 1, tzinfo=UTC) + timedelta(hours=hours)
    return {**listed_import(import_id, "COMPLETED"), "CreatedTimestamp": created}


def test_the_look_up_reads_every_import_of_the_store_across_pages(stubs: Stubs, run: Any) -> None:
    """No cap: an import plan fills a store with imports, and an unread one could be the very
    window this Update would copy again (rules 1 and 6)."""
    others = [f"1a2b3c4d-0000-4000-8000-0000000001{n:02d}" for n in range(52)]
    stubs.get_import(status="COMPLETED")
    stubs.cloudtrail.add_response(
        "list_imports",
        {
            "Imports": [listed_import(IMPORT_ID, "COMPLETED", day=30)]
            + [listed_at(other, n) for n, other in enumerate(others[:30])],
            "NextToken": "page-2",
        },
        {"Destination": STORE_ARN, "MaxResults": 1000},
    )
    stubs.store_imports(
        *(listed_at(other, n + 30) for n, other in enumerate(others[30:])), token="page-2"
    )
    for other in reversed(others):  # newest first, every one of them
        stubs.get_import(other, "COMPLETED", start=None, uri=f"s3://other-bucket-{other[-3:]}/")
    a_new_import_starts(stubs)

    response = run(update_event(CHANGED))

    assert response["PhysicalResourceId"] == NEW_IMPORT_ID


@pytest.mark.parametrize("code", ["AccessDeniedException", "ThrottlingException"])
def test_a_failed_look_up_starts_nothing_and_says_what_to_check(
    stubs: Stubs, run: Any, code: str
) -> None:
    stubs.get_import(status="COMPLETED")
    stubs.error(
        stubs.cloudtrail, "list_imports", code, {"Destination": STORE_ARN, "MaxResults": 1000}
    )

    response = run(update_event(CHANGED))

    assert response["Status"] == "FAILED"
    assert response["PhysicalResourceId"] == IMPORT_ID
    assert response["Reason"].startswith(
        "ImportLookupFailed: the imports already in the event data store could not all be read "
        f"(ListImports: {code}), so nothing was started."
    )
    assert "cloudtrail:ListImports" in response["Reason"]


def test_a_failed_read_of_one_listed_import_starts_nothing(stubs: Stubs, run: Any) -> None:
    stubs.get_import(status="COMPLETED")
    stubs.store_imports(listed_import(OTHER_IMPORT_ID, "COMPLETED"), listed_import(IMPORT_ID))
    stubs.error(
        stubs.cloudtrail, "get_import", "AccessDeniedException", {"ImportId": OTHER_IMPORT_ID}
    )

    response = run(update_event(CHANGED))

    assert response["Status"] == "FAILED"
    assert "(GetImport: AccessDeniedException), so nothing was started" in response["Reason"]
