"""WaitForCompletion: poll, hand over to a continuation, and report how the import ended.

``wait`` checks the import every POLL_INTERVAL_SECONDS (or tries StartImport again while the
account is busy) until it is COMPLETED, FAILED or STOPPED, the deadline passes, or it is time
to hand over to a fresh invocation (docs/DESIGN.md, "Waiting").
"""

from __future__ import annotations

import logging
from dataclasses import replace

from import_handler import aws, clock, cloudtrail, continuation, explain
from import_handler.decisions import MAX_WAIT_SECONDS, ImportRecord, KeepTrying, Next, decide_poll
from import_handler.invocation import Invocation
from import_handler.outcome import Outcome
from import_handler.properties import ImportProperties
from import_handler.starting import try_start

logger = logging.getLogger(__name__)


def wait(
    inv: Invocation,
    props: ImportProperties,
    state: continuation.State,
    known: ImportRecord | None = None,
    blocker: str | None = None,
    checked: bool = False,
) -> Outcome | None:
    """Check every POLL_INTERVAL_SECONDS until done, the deadline, or time to hand over.

    ``known`` is a record just read; ``checked`` says the account was just found busy.
    """
    record = known
    while True:
        if checked:
            checked = False
        elif record is None and state.import_id is None:
            started = try_start(inv, props, state)
            if isinstance(started, Outcome):
                return started
            if isinstance(started, KeepTrying):
                blocker = started.blocker_id
            else:
                record = started
                state = replace(state, import_id=started.import_id, retry_import_id=None)
        elif record is None and state.import_id is not None:
            polled = _poll(inv, state.import_id)
            if isinstance(polled, Outcome):
                return polled
            record = polled
        status = record.status if record else None
        now = clock.now()
        decision = decide_poll(
            status,
            now=now,
            deadline=state.deadline,
            remaining_seconds=inv.remaining(),
            attempt=state.attempt,
        )
        inv.log(
            f"poll-{decision.next}",
            import_id=state.import_id,
            status=status,
            blocker=None if record else blocker,
        )
        if decision.next is Next.SLEEP:
            clock.sleep(decision.sleep_seconds)
            record = None
            continue
        if decision.next is Next.HAND_OVER:
            return _hand_over(inv, replace(state, attempt=state.attempt + 1), record)
        return _finish(inv, props, decision.next, record, blocker)


def _poll(inv: Invocation, import_id: str) -> ImportRecord | Outcome:
    """GetImport; a transient error counts as still running (the next poll asks again)."""
    try:
        record = cloudtrail.get_import(inv.ct(), import_id)
    except aws.ERRORS as error:
        if not aws.is_transient(error):
            return inv.fail(explain.for_error(error, operation="GetImport"))
        logger.warning("GetImport failed for now (%s); next poll", aws.error_code(error))
        return ImportRecord(import_id, "IN_PROGRESS")
    if record is None:
        return inv.fail(
            f"ImportNotFoundException: import {import_id} disappeared while "
            "waiting; deploy again to start a new import"
        )
    return record


def _finish(
    inv: Invocation,
    props: ImportProperties,
    next_step: Next,
    record: ImportRecord | None,
    blocker: str | None,
) -> Outcome:
    if next_step is Next.SUCCEED and record is not None:
        return inv.succeed(record)
    if next_step is Next.IMPORT_FAILED and record is not None:
        try:
            failures = cloudtrail.import_failures(inv.ct(), record.import_id)
        except aws.ERRORS as error:
            logger.warning("ListImportFailures failed: %s", aws.error_code(error))
            failures = []
        return inv.fail(
            explain.import_failed(record.import_id, record.statistics, failures), record
        )
    if next_step is Next.IMPORT_STOPPED and record is not None:
        return inv.fail(explain.import_stopped(record.import_id), record)
    seconds = min(props.completion_timeout_seconds, MAX_WAIT_SECONDS)
    reason = explain.timed_out(record.import_id if record else None, blocker, seconds)
    if next_step is Next.GIVE_UP:
        reason = "TooManyContinuations: " + reason
    _stop_orphan(inv, props, record)
    return inv.fail(reason, record)


def _stop_orphan(inv: Invocation, props: ImportProperties, record: ImportRecord | None) -> None:
    """A failed Update keeps the old id, so CloudFormation never deletes a new import it started.

    Stop such an import (when StopOnDelete allows) instead of leaving it to hold the account,
    which would make the rollback Update fail on the one-import-per-account rule.
    """
    if (
        inv.request_type != "Update"
        or record is None
        or not record.running
        or record.import_id == inv.physical_id
        or not props.stop_on_delete
    ):
        return
    try:
        cloudtrail.stop_import(inv.ct(), record.import_id)
        inv.log("stop-unreported-import", import_id=record.import_id)
    except aws.ERRORS as error:
        logger.warning("could not stop import %s: %s", record.import_id, aws.error_code(error))


def _hand_over(
    inv: Invocation, state: continuation.State, record: ImportRecord | None
) -> Outcome | None:
    try:
        continuation.hand_over(inv.context.invoked_function_arn, inv.event, state)
    except aws.ERRORS as error:
        return inv.fail(explain.for_error(error, operation="Invoke"), record)
    inv.log("hand-over", import_id=state.import_id, attempt=state.attempt)
    return None
