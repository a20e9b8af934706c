"""The imperative shell: parse → decide → act → report, for every request type.

Returns an ``Outcome`` to answer CloudFormation with, or None after handing over to a
continuation (which answers later).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from import_handler import aws, clock, cloudtrail, continuation, explain, logs, preflight
from import_handler import properties as props_mod
from import_handler.decisions import (
    HANDOVER_MARGIN_SECONDS,
    MAX_WAIT_SECONDS,
    Action,
    Adopt,
    Done,
    Fail,
    ImportRecord,
    Keep,
    KeepTrying,
    Next,
    Retry,
    Start,
    Stop,
    choose_earlier,
    deadline_for,
    decide_busy,
    decide_create,
    decide_delete,
    decide_poll,
    decide_update,
    is_import_id,
    is_replacement,
)
from import_handler.outcome import Outcome, data_for
from import_handler.properties import ImportProperties, PropertyError
from import_handler.responder import failed_create_id

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient

logger = logging.getLogger(__name__)

# How long a replacement waits for the import it stopped to leave the running states.
STOP_SETTLE_SECONDS = 120.0
_AWS_ERRORS = (ClientError, BotoCoreError)


class LambdaContext(Protocol):
    @property
    def invoked_function_arn(self) -> str: ...

    def get_remaining_time_in_millis(self) -> int: ...


@dataclass
class Invocation:
    event: Mapping[str, Any]
    context: LambdaContext
    cloudtrail: CloudTrailClient | None = None

    @property
    def request_type(self) -> str:
        return str(self.event.get("RequestType", ""))

    @property
    def physical_id(self) -> str:
        return str(self.event.get("PhysicalResourceId") or "")

    def remaining(self) -> float:
        return self.context.get_remaining_time_in_millis() / 1000.0

    def ct(self) -> CloudTrailClient:
        if self.cloudtrail is None:
            self.cloudtrail = aws.cloudtrail(_store_region(self.event))
        return self.cloudtrail

    def log(self, action: str, **fields: Any) -> None:
        logs.decision(self.event, action, **fields)

    def succeed(self, record: ImportRecord | None, physical_id: str | None = None) -> Outcome:
        pid = physical_id or (record.import_id if record else self.physical_id)
        return Outcome(True, pid, "", data_for(record))

    def fail(self, reason: str, record: ImportRecord | None = None) -> Outcome:
        """FAILED. A Create answers with the import's id when one exists (so the Delete that
        follows can stop it), else with an id that is recognisably not an import id; an Update
        keeps the id it had."""
        if self.request_type == "Create":
            pid = record.import_id if record and record.import_id else failed_create_id(self.event)
        else:
            pid = self.physical_id or failed_create_id(self.event)
        self.log("respond-failed", import_id=record.import_id if record else None, reason=reason)
        return Outcome(False, pid, reason, data_for(record))


def _store_region(event: Mapping[str, Any]) -> str | None:
    """The region in the destination store's ARN: imports live in the store's region, which may
    differ from the function's. Read leniently (Delete does not validate properties)."""
    properties = event.get("ResourceProperties")
    destinations = properties.get("Destinations") if isinstance(properties, Mapping) else None
    if isinstance(destinations, list) and len(destinations) == 1:
        parts = str(destinations[0]).split(":")
        if len(parts) >= 6 and parts[0] == "arn" and parts[2] == "cloudtrail" and parts[3]:
            return parts[3]
    return None


def handle(event: Mapping[str, Any], context: LambdaContext) -> Outcome | None:
    invocation = Invocation(event, context)
    try:
        return _handle(invocation)
    except Exception as error:  # every error must become an answer, never a silent timeout
        logger.exception("unexpected error")
        return invocation.fail(explain.for_error(error, operation=invocation.request_type))


def _handle(inv: Invocation) -> Outcome | None:
    try:
        state = continuation.read(inv.event)
    except ValueError as error:
        return inv.fail(f"InvalidContinuation: {error}")
    if inv.request_type == "Delete" and state is None:
        return _delete(inv)
    try:
        props = props_mod.parse(inv.event.get("ResourceProperties"))
    except PropertyError as error:
        inv.log("reject-properties", property=error.prop)
        return inv.fail(f"InvalidProperty: {error}")
    if state is not None:
        inv.log("continue-waiting", import_id=state.import_id, attempt=state.attempt)
        return _wait(inv, props, state)
    deadline = deadline_for(clock.now(), props.completion_timeout_seconds)
    current: ImportRecord | None = None
    if inv.request_type == "Create":
        action = decide_create()
    elif inv.request_type == "Update":
        looked_up = _current_import(inv, props)
        if isinstance(looked_up, Outcome):
            return looked_up
        current = looked_up
        earlier = _earlier_import(inv, props) if is_replacement(props, current) else None
        old_stop = props_mod.stop_on_delete_leniently(inv.event.get("OldResourceProperties"))
        action = decide_update(props, old_stop, current, earlier)
    else:
        return inv.fail(f"UnknownRequestType: {inv.request_type!r}")
    inv.log(
        type(action).__name__.lower(),
        import_id=current.import_id if current else None,
        status=current.status if current else None,
    )
    return _act(inv, props, action, deadline)


def _current_import(inv: Invocation, props: ImportProperties) -> ImportRecord | Outcome | None:
    if not is_import_id(inv.physical_id):
        return None
    try:
        return cloudtrail.get_import(inv.ct(), inv.physical_id)
    except _AWS_ERRORS as error:
        return inv.fail(explain.for_error(error, operation="GetImport", identity=props.identity))


def _earlier_import(inv: Invocation, props: ImportProperties) -> ImportRecord | None:
    """An earlier import to go back to instead of starting a new one (see ``decide_update``).

    Best effort: when the lookup fails, the update decides as if there were none.
    """
    matches = cloudtrail.earlier_imports(inv.ct(), props.identity, exclude=inv.physical_id)
    try:
        earlier = choose_earlier(matches)
    except _AWS_ERRORS as error:
        logger.warning(
            "cannot look for an earlier import with these properties (%s); deciding without",
            aws.error_code(error) or type(error).__name__,
        )
        return None
    if earlier is not None:
        inv.log("found-earlier-import", import_id=earlier.import_id, status=earlier.status)
    return earlier


def _act(
    inv: Invocation, props: ImportProperties, action: Action, deadline: float
) -> Outcome | None:
    if isinstance(action, Fail):
        return inv.fail(action.reason)
    if isinstance(action, Adopt):
        action = Keep(action.record)
    if isinstance(action, Keep):
        if props.wait_for_completion and action.record.status != "COMPLETED":
            return _wait(
                inv, props, continuation.State(action.record.import_id, deadline), action.record
            )
        inv.log("respond-success", import_id=action.record.import_id, status=action.record.status)
        return inv.succeed(action.record)
    if not isinstance(action, Start | Retry):
        return inv.fail(f"InternalError: unexpected action {action!r}")
    problem = preflight.check(inv.ct(), props.identity, inv.remaining() - HANDOVER_MARGIN_SECONDS)
    if problem:
        return inv.fail(problem)
    if action.stop_first:
        stopped = _stop_and_settle(inv, props, action.stop_first)
        if stopped is not None:
            return stopped
    retry_id = action.import_id if isinstance(action, Retry) else None
    return _start(inv, props, continuation.State(None, deadline, 0, retry_id))


def _start(inv: Invocation, props: ImportProperties, state: continuation.State) -> Outcome | None:
    started = _try_start(inv, props, state)
    if isinstance(started, Outcome):
        return started
    if isinstance(started, KeepTrying):
        return _wait(inv, props, state, blocker=started.blocker_id, checked=True)
    if props.wait_for_completion:
        started_state = replace(state, import_id=started.import_id, retry_import_id=None)
        return _wait(inv, props, started_state, started)
    inv.log("respond-success", import_id=started.import_id, status=started.status)
    return inv.succeed(started)


def _try_start(
    inv: Invocation, props: ImportProperties, state: continuation.State
) -> ImportRecord | KeepTrying | Outcome:
    """StartImport (or the retry of ``state.retry_import_id``); adopt our own running import."""
    operation = "retry-import" if state.retry_import_id else "start-import"
    try:
        if state.retry_import_id:
            record = cloudtrail.retry_import(inv.ct(), state.retry_import_id)
        else:
            record = cloudtrail.start_import(inv.ct(), props.identity)
    except _AWS_ERRORS as error:
        if aws.error_code(error) != "AccountHasOngoingImportException":
            return inv.fail(
                explain.for_error(
                    error,
                    operation="StartImport",
                    identity=props.identity,
                    import_id=state.retry_import_id or "",
                )
            )
        try:
            ongoing = cloudtrail.ongoing_imports(inv.ct(), props.identity.destination)
        except _AWS_ERRORS as list_error:
            logger.warning("cannot list the running imports: %s", aws.error_code(list_error))
            ongoing = []
        busy = decide_busy(props.identity, ongoing, props.wait_for_completion)
        if isinstance(busy, Adopt):
            inv.log("adopt", import_id=busy.record.import_id, status=busy.record.status)
            return busy.record
        if isinstance(busy, KeepTrying):
            inv.log("wait-for-account", blocker=busy.blocker_id)
            return busy
        return inv.fail(busy.reason if isinstance(busy, Fail) else str(busy))
    inv.log(operation, import_id=record.import_id, status=record.status)
    return record


def _stop_and_settle(inv: Invocation, props: ImportProperties, import_id: str) -> Outcome | None:
    """Stop the replaced import and wait (bounded) until it no longer holds the account."""
    try:
        record = cloudtrail.stop_import(inv.ct(), import_id)
    except _AWS_ERRORS as error:
        return inv.fail(explain.for_error(error, operation="StopImport", import_id=import_id))
    inv.log("stop-replaced", import_id=import_id, status=record.status if record else None)
    give_up_at = clock.now() + min(STOP_SETTLE_SECONDS, inv.remaining() - HANDOVER_MARGIN_SECONDS)
    while record is not None and record.running and clock.now() + 5 <= give_up_at:
        clock.sleep(5)
        try:
            record = cloudtrail.get_import(inv.ct(), import_id)
        except _AWS_ERRORS as error:
            logger.warning("GetImport of the stopped import failed: %s", aws.error_code(error))
    return None


def _wait(
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
            started = _try_start(inv, props, state)
            if isinstance(started, Outcome):
                return started
            if isinstance(started, KeepTrying):
                blocker = started.blocker_id
            else:
                record = started
                state = replace(state, import_id=started.import_id, retry_import_id=None)
        elif record is None and state.import_id is not None:
            try:
                record = cloudtrail.get_import(inv.ct(), state.import_id)
            except _AWS_ERRORS as error:
                if not aws.is_transient(error):
                    return inv.fail(explain.for_error(error, operation="GetImport"))
                logger.warning("GetImport failed for now (%s); next poll", aws.error_code(error))
                record = ImportRecord(state.import_id, "IN_PROGRESS")
            if record is None:
                return inv.fail(
                    f"ImportNotFoundException: import {state.import_id} disappeared while "
                    "waiting; deploy again to start a new import"
                )
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
        except _AWS_ERRORS as error:
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
    except _AWS_ERRORS as error:
        logger.warning("could not stop import %s: %s", record.import_id, aws.error_code(error))


def _hand_over(
    inv: Invocation, state: continuation.State, record: ImportRecord | None
) -> Outcome | None:
    try:
        continuation.hand_over(inv.context.invoked_function_arn, inv.event, state)
    except _AWS_ERRORS as error:
        return inv.fail(explain.for_error(error, operation="Invoke"), record)
    inv.log("hand-over", import_id=state.import_id, attempt=state.attempt)
    return None


def _delete(inv: Invocation) -> Outcome:
    physical_id = inv.physical_id
    raw = inv.event.get("ResourceProperties")
    stop_on_delete = props_mod.stop_on_delete_leniently(raw if isinstance(raw, Mapping) else None)
    record = None
    if is_import_id(physical_id):
        try:
            record = cloudtrail.get_import(inv.ct(), physical_id)
        except _AWS_ERRORS as error:
            return inv.fail(explain.for_error(error, operation="GetImport", import_id=physical_id))
    action = decide_delete(physical_id, record, stop_on_delete)
    if isinstance(action, Stop):
        try:
            stopped = cloudtrail.stop_import(inv.ct(), action.import_id)
        except _AWS_ERRORS as error:
            return inv.fail(
                explain.for_error(error, operation="StopImport", import_id=action.import_id), record
            )
        inv.log("stop", import_id=action.import_id, status=stopped.status if stopped else None)
        return inv.succeed(stopped or record, physical_id)
    why = action.why if isinstance(action, Done) else ""
    inv.log("respond-success", import_id=record.import_id if record else None, why=why)
    return inv.succeed(record, physical_id)
