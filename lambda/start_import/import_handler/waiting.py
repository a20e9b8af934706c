"""Waiting for an import: polling, the busy account, and the hand-over to a fresh asynchronous
invocation of this function.

``wait`` checks the import every POLL_INTERVAL_SECONDS (or, while the account is busy, tries
again to start it: ``starting.start``, which looks the store up first) until it is COMPLETED,
FAILED or STOPPED, the deadline passes, or it is time to hand over.

The hand-over covers crhelper's polling gaps (docs/DESIGN.md, "Waiting"): the deadline travels
in the payload so the chain always ends, nothing depends on the LogicalResourceId's length, and
the state is updated at every hand-over.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

# explain is imported where a failure needs it: most requests never do (cold start).
from import_handler import aws, clock, cloudtrail
from import_handler.answer import Outcome, success
from import_handler.continuation import KEY, State
from import_handler.decisions import (
    MAX_WAIT_SECONDS,
    Next,
    decide_poll,
)
from import_handler.frozen import replace
from import_handler.invocation import HANDOVER_RESERVE_SECONDS, Invocation
from import_handler.model import (
    ImportFailed,
    ImportRecord,
    KeepTrying,
)
from import_handler.properties import ImportProperties

logger = logging.getLogger(__name__)

# Invoke is sent once (see ``aws.Clients.lambda_``), and again only when Lambda cannot have
# acted on it (``aws.safe_to_resend``).
HAND_OVER_ATTEMPTS = 3


def payload(event: Mapping[str, Any], state: State) -> bytes:
    body = {key: value for key, value in event.items() if key != KEY}
    body[KEY] = state.to_json()
    return json.dumps(body).encode()


# --- Waiting ---------------------------------------------------------------------------------


def wait(
    inv: Invocation,
    props: ImportProperties,
    state: State,
    known: ImportRecord | None = None,
    blocker: str | None = None,
) -> Outcome | None:
    """Check every POLL_INTERVAL_SECONDS until done, the deadline, or time to hand over.

    ``known`` is a record just read; ``blocker`` says the account was just found busy.
    Returns the answer, or None after handing over (the continuation answers).
    """
    record = known
    checked = blocker is not None
    while True:
        if checked:
            checked = False
        elif record is None and state.import_id is None:
            from import_handler import starting  # a continuation that only polls never needs it

            started = starting.start(inv, props, state.retry_import_id)
            if isinstance(started, KeepTrying):
                blocker = started.blocker_id
            else:
                record = started
                state = replace(state, import_id=started.import_id, retry_import_id=None)
        elif record is None and state.import_id is not None:
            record = _poll(inv, state.import_id)
        status = record.status if record else None
        decision = decide_poll(
            status,
            now=clock.now(),
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
            _hand_over(inv, replace(state, attempt=state.attempt + 1))
            return None
        return _finish(inv, props, decision.next, record, blocker)


def _poll(inv: Invocation, import_id: str) -> ImportRecord:
    """GetImport; a transient error counts as still running (the next poll asks again)."""
    try:
        record = cloudtrail.get_import(inv.ct(HANDOVER_RESERVE_SECONDS), import_id)
    except aws.ERRORS as error:
        if not aws.is_transient(error):
            from import_handler import explain

            raise ImportFailed(
                explain.for_error(error, operation="GetImport", import_id=import_id)
            ) from error
        logger.warning("GetImport failed for now (%s); next poll", aws.error_code(error))
        return ImportRecord(import_id, "IN_PROGRESS")
    if record is None:
        raise ImportFailed(
            f"ImportNotFoundException: import {import_id} disappeared while "
            "waiting; deploy again to start a new import"
        )
    return inv.started_import(record)


def _finish(
    inv: Invocation,
    props: ImportProperties,
    next_step: Next,
    record: ImportRecord | None,
    blocker: str | None,
) -> Outcome:
    if next_step is Next.SUCCEED and record is not None:
        return success(inv, record)
    from import_handler import explain

    if next_step is Next.IMPORT_FAILED and record is not None:
        try:
            failures = cloudtrail.import_failures(inv.ct(), record.import_id)
        except aws.ERRORS as error:
            logger.warning("ListImportFailures failed: %s", aws.error_code(error))
            failures = []
        reason = explain.import_failed(
            record.import_id,
            record.statistics,
            failures,
            identity=props.identity,
            source_owner=props.source_owner,
        )
        raise ImportFailed(reason, record)
    if next_step is Next.IMPORT_STOPPED and record is not None:
        raise ImportFailed(explain.import_stopped(record.import_id), record)
    seconds = min(props.completion_timeout_seconds, MAX_WAIT_SECONDS)
    reason = explain.timed_out(record.import_id if record else None, blocker, seconds)
    if next_step is Next.GIVE_UP:
        reason = "TooManyContinuations: " + reason
    raise ImportFailed(reason, record)


def _hand_over(inv: Invocation, state: State) -> None:
    """Invoke this function asynchronously with the event and the new state.

    An Invoke that Lambda may have queued (a 5xx, a timeout, a lost connection) counts as
    handed over: this invocation does not answer, since the continuation may (rule 5 of
    docs/DESIGN.md, "Exactly once"). Only a refusal answers FAILED here.
    """
    body = payload(inv.event, state)
    for attempt in range(1, HAND_OVER_ATTEMPTS + 1):
        try:
            inv.lambda_().invoke(
                FunctionName=inv.context.invoked_function_arn, InvocationType="Event", Payload=body
            )
            break
        except aws.ERRORS as error:
            code = aws.error_code(error) or type(error).__name__
            if aws.safe_to_resend(error) and attempt < HAND_OVER_ATTEMPTS:
                logger.warning("Invoke was not made (%s); trying again", code)
                clock.sleep(attempt)
                continue
            if aws.outcome_unknown(error) and not aws.safe_to_resend(error):
                logger.warning(
                    "Invoke's outcome is unknown (%s): Lambda may have queued the continuation, "
                    "which answers; this invocation does not",
                    code,
                )
                inv.log("hand-over-unconfirmed", import_id=state.import_id, error=code)
                return
            from import_handler import explain

            raise ImportFailed(explain.for_error(error, operation="Invoke")) from error
    inv.log("hand-over", import_id=state.import_id, attempt=state.attempt)
