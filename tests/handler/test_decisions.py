"""The pure decisions, every branch, without any AWS stub."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from import_handler import properties
from import_handler.decisions import (
    HANDOVER_MARGIN_SECONDS,
    MAX_CONTINUATIONS,
    MAX_WAIT_SECONDS,
    POLL_INTERVAL_SECONDS,
    Next,
    busy_reason,
    choose_earlier,
    deadline_for,
    decide_busy,
    decide_create,
    decide_delete,
    decide_poll,
    decide_update,
    is_import_id,
    is_replacement,
    wants_retry,
)
from import_handler.frozen import replace
from import_handler.model import (
    Adopt,
    Done,
    Fail,
    ImportRecord,
    Keep,
    KeepTrying,
    Retry,
    Start,
    Stop,
)

from .helpers import IMPORT_ID, NEW_IMPORT_ID, OTHER_IMPORT_ID, OTHER_URI
from .helpers import properties as raw_properties

PROPS = properties.parse(raw_properties())
WAITING = properties.parse(raw_properties(WaitForCompletion="true"))
SAME = PROPS.identity
OTHER = replace(SAME, s3_location_uri=OTHER_URI)
STATUSES = ["INITIALIZING", "IN_PROGRESS", "COMPLETED", "FAILED", "STOPPED"]


def record(
    status: str, identity: properties.ImportIdentity | None = SAME, import_id: str = IMPORT_ID
) -> ImportRecord:
    return ImportRecord(import_id, status, identity)


def test_create_starts_a_new_import_when_the_store_holds_none_with_its_identity() -> None:
    assert decide_create(None) == Start()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("INITIALIZING", Adopt),
        ("IN_PROGRESS", Adopt),
        ("COMPLETED", Keep),
        ("FAILED", Retry),
        ("STOPPED", Retry),
    ],
)
def test_a_create_keeps_adopts_or_retries_the_import_that_already_has_its_identity(
    status: str, expected: type
) -> None:
    """A Create delivered twice, or a stack created again: never a second copy."""
    action = decide_create(record(status))
    assert type(action) is expected
    if expected is Retry:
        assert action == Retry(IMPORT_ID)


# --- Update ----------------------------------------------------------------------------------


def test_update_starts_a_new_import_when_the_physical_id_points_at_no_import() -> None:
    assert decide_update(PROPS, True, None) == Start()


@pytest.mark.parametrize("status", ["FAILED", "STOPPED"])
def test_update_retries_a_failed_or_stopped_import_when_asked(status: str) -> None:
    action = decide_update(PROPS, True, record(status), retry_requested=True)
    assert action == Retry(IMPORT_ID)


@pytest.mark.parametrize("status", ["FAILED", "STOPPED"])
def test_update_that_does_not_ask_for_a_retry_keeps_a_failed_or_stopped_import(
    status: str,
) -> None:
    assert decide_update(PROPS, True, record(status)) == Keep(record(status))


@pytest.mark.parametrize(
    ("old", "asks"),
    [
        ({}, False),
        ({"RetryToken": "1"}, True),
        ({"StopOnDelete": "false"}, False),
        ({"CompletionTimeoutSeconds": "60"}, False),
        ({"WaitForCompletion": "true"}, False),
        (
            {
                "ImportSource": {
                    "S3": {**raw_properties()["ImportSource"]["S3"], "S3LocationUri": OTHER_URI}
                }
            },
            True,
        ),
    ],
    ids=["unchanged", "retry-token", "stop-on-delete", "timeout", "wait", "rollback"],
)
def test_only_a_new_retry_token_or_a_return_from_other_properties_asks_for_a_retry(
    old: dict[str, Any], asks: bool
) -> None:
    old_props = properties.parse(raw_properties(**old))
    assert wants_retry(PROPS, old_props, record("STOPPED")) is asks


def test_coming_back_to_a_failed_import_does_not_ask_for_a_retry() -> None:
    """It failed by itself (not stopped by a replacement): only a new RetryToken retries it."""
    other_source = {"S3": {**raw_properties()["ImportSource"]["S3"], "S3LocationUri": OTHER_URI}}
    old_props = properties.parse(raw_properties(ImportSource=other_source))
    assert wants_retry(PROPS, old_props, record("FAILED")) is False
    with_token = properties.parse(raw_properties(RetryToken="2"))
    assert wants_retry(with_token, old_props, record("FAILED")) is True


@pytest.mark.parametrize("status", ["COMPLETED", "IN_PROGRESS"])
def test_an_import_that_is_not_failed_or_stopped_is_never_retried(status: str) -> None:
    assert (
        wants_retry(properties.parse(raw_properties(RetryToken="2")), None, record(status)) is False
    )


def test_unreadable_old_properties_ask_for_a_retry_only_with_a_retry_token() -> None:
    assert wants_retry(PROPS, None, record("FAILED")) is False
    with_token = properties.parse(raw_properties(RetryToken="1"))
    assert wants_retry(with_token, None, record("FAILED")) is True


@pytest.mark.parametrize("status", ["COMPLETED", "IN_PROGRESS", "INITIALIZING"])
def test_update_keeps_a_completed_or_running_import(status: str) -> None:
    assert decide_update(PROPS, True, record(status)) == Keep(record(status))


@pytest.mark.parametrize("status", ["COMPLETED", "FAILED", "STOPPED"])
def test_update_with_a_new_source_or_window_starts_a_new_import(status: str) -> None:
    changed = replace(PROPS, identity=OTHER)
    assert decide_update(changed, True, record(status)) == Start()


@pytest.mark.parametrize(
    "field",
    [
        "destination",
        "s3_location_uri",
        "s3_bucket_region",
        "s3_bucket_access_role_arn",
        "start_event_time",
        "end_event_time",
    ],
)
def test_update_compares_every_identity_field_with_the_import(field: str) -> None:
    value: Any = None if field.endswith("_time") else "changed"
    changed = replace(PROPS, identity=replace(SAME, **{field: value}))
    assert decide_update(changed, True, record("COMPLETED")) == Start()


@pytest.mark.parametrize("status", ["INITIALIZING", "IN_PROGRESS"])
def test_replacing_a_running_import_stops_it_first_when_stop_on_delete_allows(status: str) -> None:
    changed = replace(PROPS, identity=OTHER)
    assert decide_update(changed, True, record(status)) == Start(stop_first=IMPORT_ID)


def test_replacing_a_running_import_without_stop_on_delete_waits_for_it_when_waiting() -> None:
    changed = replace(WAITING, identity=OTHER)
    assert decide_update(changed, False, record("IN_PROGRESS")) == Start()


def test_replacing_a_running_import_without_stop_on_delete_or_waiting_fails_saying_why() -> None:
    changed = replace(PROPS, identity=OTHER)
    action = decide_update(changed, False, record("IN_PROGRESS"))
    assert isinstance(action, Fail)
    assert action.reason.startswith("AccountHasOngoingImportException")
    assert IMPORT_ID in action.reason
    assert "StopOnDelete" in action.reason


def test_rollback_update_back_to_the_import_the_id_points_at_keeps_it() -> None:
    # Forward update failed, so the physical id still points at the original import; the
    # rollback delivers the original properties as the new ones.
    assert decide_update(PROPS, True, record("COMPLETED")) == Keep(record("COMPLETED"))


def test_rollback_update_back_to_a_stopped_original_import_retries_it() -> None:
    # A rollback comes back from other properties: wants_retry asks for the retry.
    action = decide_update(PROPS, True, record("STOPPED"), retry_requested=True)
    assert action == Retry(IMPORT_ID)


def test_update_with_an_import_record_missing_its_source_starts_a_new_import() -> None:
    assert decide_update(PROPS, True, record("COMPLETED", identity=None)) == Start()


# --- Update that replaces the import: going back to an earlier one ---------------------------
# The current import (NEW_IMPORT_ID) has another identity than the new properties; ``earlier``
# (IMPORT_ID) is an earlier import on the same store whose identity equals them.

RUNNING_STATUSES = ["INITIALIZING", "IN_PROGRESS"]
FINISHED_STATUSES = ["COMPLETED", "FAILED", "STOPPED"]


def current(status: str) -> ImportRecord:
    return record(status, identity=OTHER, import_id=NEW_IMPORT_ID)


def earlier(status: str) -> ImportRecord:
    return record(status, import_id=IMPORT_ID)


def test_only_an_import_with_another_identity_is_a_replacement() -> None:
    assert is_replacement(PROPS, current("COMPLETED"))
    assert is_replacement(PROPS, record("COMPLETED", identity=None))
    assert not is_replacement(PROPS, record("COMPLETED"))
    assert not is_replacement(PROPS, None)


@pytest.mark.parametrize("status", RUNNING_STATUSES)
@pytest.mark.parametrize("current_status", FINISHED_STATUSES)
def test_a_replacement_adopts_a_running_earlier_import(status: str, current_status: str) -> None:
    action = decide_update(PROPS, True, current(current_status), earlier(status))
    assert action == Adopt(earlier(status))


@pytest.mark.parametrize("current_status", STATUSES)
@pytest.mark.parametrize("old_stop", [True, False])
def test_a_replacement_keeps_a_completed_earlier_import_whatever_the_current_one_does(
    current_status: str, old_stop: bool
) -> None:
    # Even a running current import without StopOnDelete does not matter: nothing starts.
    action = decide_update(PROPS, old_stop, current(current_status), earlier("COMPLETED"))
    assert action == Keep(earlier("COMPLETED"))


@pytest.mark.parametrize("status", ["FAILED", "STOPPED"])
@pytest.mark.parametrize("current_status", FINISHED_STATUSES)
def test_a_replacement_retries_a_failed_or_stopped_earlier_import(
    status: str, current_status: str
) -> None:
    action = decide_update(PROPS, True, current(current_status), earlier(status))
    assert action == Retry(IMPORT_ID)


@pytest.mark.parametrize("current_status", RUNNING_STATUSES)
def test_retrying_an_earlier_import_stops_the_running_current_one_first_when_allowed(
    current_status: str,
) -> None:
    action = decide_update(PROPS, True, current(current_status), earlier("STOPPED"))
    assert action == Retry(IMPORT_ID, stop_first=NEW_IMPORT_ID)


def test_retrying_an_earlier_import_waits_for_the_current_one_without_stop_on_delete() -> None:
    action = decide_update(WAITING, False, current("IN_PROGRESS"), earlier("STOPPED"))
    assert action == Retry(IMPORT_ID)


def test_retrying_an_earlier_import_fails_saying_why_without_stop_on_delete_or_waiting() -> None:
    action = decide_update(PROPS, False, current("IN_PROGRESS"), earlier("STOPPED"))
    assert isinstance(action, Fail)
    assert action.reason.startswith("AccountHasOngoingImportException")
    assert NEW_IMPORT_ID in action.reason


def test_an_earlier_import_with_another_identity_is_ignored() -> None:
    other = record("COMPLETED", identity=OTHER, import_id=OTHER_IMPORT_ID)
    changed = replace(PROPS, identity=OTHER)
    assert decide_update(changed, True, record("COMPLETED"), earlier("STOPPED")) == Start()
    assert decide_update(PROPS, True, current("COMPLETED"), other) == Start()


@pytest.mark.parametrize("status", STATUSES)
def test_an_earlier_import_does_not_matter_when_the_identity_is_unchanged(status: str) -> None:
    same = record(status, import_id=NEW_IMPORT_ID)
    assert decide_update(PROPS, True, same, earlier("COMPLETED")) == decide_update(
        PROPS, True, same
    )


def test_no_earlier_import_means_a_replacement_as_before() -> None:
    assert decide_update(PROPS, True, current("COMPLETED"), None) == Start()
    assert decide_update(PROPS, True, current("IN_PROGRESS"), None) == Start(NEW_IMPORT_ID)


def test_choosing_among_no_earlier_imports_finds_none() -> None:
    assert choose_earlier([]) is None


@pytest.mark.parametrize("decisive", ["INITIALIZING", "IN_PROGRESS", "COMPLETED"])
def test_a_running_or_completed_earlier_import_wins_over_a_newer_retryable_one(
    decisive: str,
) -> None:
    newer = record("STOPPED", import_id=NEW_IMPORT_ID)
    older = record(decisive, import_id=OTHER_IMPORT_ID)
    assert choose_earlier([newer, record("FAILED"), older]) == older


def test_the_newest_retryable_earlier_import_is_chosen_when_none_completed() -> None:
    newest = record("FAILED", import_id=NEW_IMPORT_ID)
    assert choose_earlier([newest, record("STOPPED")]) == newest


def test_an_earlier_import_in_an_unknown_status_is_not_chosen() -> None:
    assert choose_earlier([record("SOMETHING_NEW")]) is None


def test_choosing_reads_no_further_than_the_first_running_or_completed_import() -> None:
    read: list[str] = []

    def lazily() -> Iterator[ImportRecord]:
        for item in (record("STOPPED"), record("COMPLETED", import_id=OTHER_IMPORT_ID)):
            read.append(item.status)
            yield item
        raise AssertionError("read past the completed import")

    assert choose_earlier(lazily()) == record("COMPLETED", import_id=OTHER_IMPORT_ID)
    assert read == ["STOPPED", "COMPLETED"]


# --- Delete ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "physical_id",
    ["", "failed-create-6b3c2f1e", "demo_Import_ABCDEFGH", IMPORT_ID.upper(), IMPORT_ID + "x"],
)
def test_delete_of_something_that_is_not_an_import_id_does_nothing(physical_id: str) -> None:
    assert isinstance(decide_delete(physical_id, None, True), Done)


def test_delete_of_an_import_that_no_longer_exists_does_nothing() -> None:
    assert isinstance(decide_delete(IMPORT_ID, None, True), Done)


@pytest.mark.parametrize("status", ["INITIALIZING", "IN_PROGRESS"])
def test_delete_stops_a_running_import(status: str) -> None:
    assert decide_delete(IMPORT_ID, record(status), True) == Stop(IMPORT_ID)


@pytest.mark.parametrize("status", ["INITIALIZING", "IN_PROGRESS"])
def test_delete_leaves_a_running_import_when_stop_on_delete_is_false(status: str) -> None:
    assert isinstance(decide_delete(IMPORT_ID, record(status), False), Done)


@pytest.mark.parametrize("status", ["COMPLETED", "FAILED", "STOPPED"])
@pytest.mark.parametrize("stop", [True, False])
def test_delete_of_a_finished_import_does_nothing(status: str, stop: bool) -> None:
    assert isinstance(decide_delete(IMPORT_ID, record(status), stop), Done)


# --- Busy account ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["INITIALIZING", "IN_PROGRESS"])
@pytest.mark.parametrize("waiting", [True, False])
def test_busy_account_adopts_the_running_import_for_the_same_source_and_window(
    status: str, waiting: bool
) -> None:
    ours = record(status, import_id=OTHER_IMPORT_ID)
    assert decide_busy(SAME, [ours], waiting) == Adopt(ours)


def test_busy_account_keeps_trying_when_waiting() -> None:
    theirs = record("IN_PROGRESS", identity=OTHER, import_id=OTHER_IMPORT_ID)
    assert decide_busy(SAME, [theirs], True) == KeepTrying(OTHER_IMPORT_ID)


def test_busy_account_fails_naming_the_ongoing_import_when_not_waiting() -> None:
    theirs = record("IN_PROGRESS", identity=None, import_id=OTHER_IMPORT_ID)
    action = decide_busy(SAME, [theirs], False)
    assert action == Fail(busy_reason(OTHER_IMPORT_ID))
    assert isinstance(action, Fail)
    assert OTHER_IMPORT_ID in action.reason
    assert action.reason.startswith("AccountHasOngoingImportException")


def test_busy_account_with_an_unknown_blocker_still_says_what_to_do() -> None:
    action = decide_busy(SAME, [], False)
    assert isinstance(action, Fail)
    assert "another import" in action.reason
    assert decide_busy(SAME, [], True) == KeepTrying(None)


def test_busy_account_does_not_adopt_a_finished_import() -> None:
    assert decide_busy(SAME, [record("COMPLETED")], True) == KeepTrying(None)


# --- Waiting ---------------------------------------------------------------------------------

NOW = 1_000_000.0


def poll(
    status: str | None, *, deadline: float = NOW + 3000, remaining: float = 900, attempt: int = 0
) -> tuple[Next, float]:
    d = decide_poll(
        status, now=NOW, deadline=deadline, remaining_seconds=remaining, attempt=attempt
    )
    return d.next, d.sleep_seconds


@pytest.mark.parametrize(
    ("status", "expected"),
    [("COMPLETED", Next.SUCCEED), ("FAILED", Next.IMPORT_FAILED), ("STOPPED", Next.IMPORT_STOPPED)],
)
def test_a_finished_import_ends_the_wait_even_after_the_deadline(
    status: str, expected: Next
) -> None:
    assert poll(status)[0] is expected
    assert poll(status, deadline=NOW - 1)[0] is expected


@pytest.mark.parametrize("status", ["INITIALIZING", "IN_PROGRESS", None])
def test_a_running_import_is_checked_again_within_ten_seconds(status: str | None) -> None:
    assert poll(status) == (Next.SLEEP, POLL_INTERVAL_SECONDS)
    assert POLL_INTERVAL_SECONDS <= 10


def test_the_last_sleep_ends_at_the_deadline() -> None:
    assert poll("IN_PROGRESS", deadline=NOW + 3) == (Next.SLEEP, 3)


@pytest.mark.parametrize("status", ["IN_PROGRESS", None])
def test_waiting_times_out_at_the_deadline(status: str | None) -> None:
    assert poll(status, deadline=NOW)[0] is Next.TIMED_OUT


def test_waiting_hands_over_when_the_invocation_runs_short() -> None:
    remaining = HANDOVER_MARGIN_SECONDS + POLL_INTERVAL_SECONDS
    assert poll("IN_PROGRESS", remaining=remaining)[0] is Next.HAND_OVER
    assert poll("IN_PROGRESS", remaining=remaining + 0.1)[0] is Next.SLEEP


def test_a_chain_of_continuations_is_bounded() -> None:
    assert poll("IN_PROGRESS", remaining=10, attempt=MAX_CONTINUATIONS)[0] is Next.GIVE_UP


def test_the_deadline_never_passes_58_minutes() -> None:
    assert deadline_for(NOW, 3600) == NOW + MAX_WAIT_SECONDS == NOW + 3480
    assert deadline_for(NOW, 300) == NOW + 300


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (IMPORT_ID, True),
        ("failed-create-6b3c2f1e-1111-4222-8333-944455556666", False),
        ("", False),
        (None, False),
        ("6b3c2f1e11114222833394445555666600", False),
    ],
)
def test_import_ids_are_recognised_by_their_shape(value: object, expected: bool) -> None:
    assert is_import_id(value) is expected


def test_every_status_has_a_decision() -> None:
    for status in STATUSES:
        assert decide_delete(IMPORT_ID, record(status), True) is not None
        assert decide_update(PROPS, True, record(status)) is not None
