"""Starting an import and waiting for it: StartImport, the busy account, polling, and the
hand-over to a fresh asynchronous invocation of this function.

``start`` calls StartImport (or retries an import) and adopts our own running import when the
account is busy or a retry's answer was lost. ``wait`` checks the import every
POLL_INTERVAL_SECONDS (or tries StartImport again while the account is busy) until it is
COMPLETED, FAILED or STOPPED, the deadline passes, or it is time to hand over.

The hand-over covers crhelper's polling gaps (docs/DESIGN.md, "Waiting"): the deadline travels
in the payload so the chain always ends, nothing depends on the LogicalResourceId's length, and
the state is updated at every hand-over.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

# explain is imported where a failure needs it: most requests never do (cold start).
from import_handler import aws, clock, cloudtrail, lookup
from import_handler.answer import Outcome, success
from import_handler.decisions import (
    MAX_WAIT_SECONDS,
    Next,
    choose_earlier,
    decide_busy,
    decide_create,
    decide_poll,
    is_import_id,
    refuse_overlap,
)
from import_handler.invocation import HANDOVER_RESERVE_SECONDS, Invocation
from import_handler.model import (
    RETRYABLE,
    Action,
    Adopt,
    Fail,
    ImportFailed,
    ImportRecord,
    Keep,
    KeepTrying,
    Retry,
    Start,
)
from import_handler.properties import ImportProperties

logger = logging.getLogger(__name__)

KEY = "CtLakeImportContinuation"
# Invoke is sent once (see ``aws.Clients.lambda_``), and again only when Lambda cannot have
# acted on it (``aws.safe_to_resend``).
HAND_OVER_ATTEMPTS = 3


@dataclass(frozen=True)
class State:
    """What one invocation hands over to the next."""

    import_id: str | None  # None while another import holds the account
    deadline: float
    attempt: int = 0
    retry_import_id: str | None = None  # when not started yet: retry this import, not a new one
    estimated_gb: str | None = None  # the cost guard's figure, answered at the end

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ImportId": self.import_id,
            "DeadlineEpoch": self.deadline,
            "Attempt": self.attempt,
        }
        if self.retry_import_id:
            out["RetryImportId"] = self.retry_import_id
        if self.estimated_gb is not None:
            out["EstimatedGB"] = self.estimated_gb
        return out


def read_state(event: Mapping[str, Any]) -> State | None:
    """The continuation state of this event, None for a request from CloudFormation."""
    raw = event.get(KEY)
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ImportFailed(f"InvalidContinuation: {KEY} must be an object")
    import_id = raw.get("ImportId")
    deadline = raw.get("DeadlineEpoch")
    attempt = raw.get("Attempt", 0)
    retry = raw.get("RetryImportId")
    estimated = raw.get("EstimatedGB")
    problem = None
    if import_id is not None and not isinstance(import_id, str):
        problem = "ImportId must be a string or null"
    elif isinstance(deadline, bool) or not isinstance(deadline, int | float):
        problem = "DeadlineEpoch must be a number"
    elif isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 0:
        problem = "Attempt must be a non-negative integer"
    elif retry is not None and not isinstance(retry, str):
        problem = "RetryImportId must be a string"
    elif estimated is not None and not isinstance(estimated, str):
        problem = "EstimatedGB must be a string"
    if problem or not isinstance(deadline, int | float):
        raise ImportFailed(f"InvalidContinuation: {KEY}.{problem}")
    return State(import_id, float(deadline), attempt, retry, estimated)


def payload(event: Mapping[str, Any], state: State) -> bytes:
    body = {key: value for key, value in event.items() if key != KEY}
    body[KEY] = state.to_json()
    return json.dumps(body).encode()


# --- Starting --------------------------------------------------------------------------------


def start(
    inv: Invocation, props: ImportProperties, state: State, *, looked_up: bool = False
) -> ImportRecord | KeepTrying:
    """StartImport (or the retry of ``state.retry_import_id``); adopt our own running import.

    Unless the caller has just ``looked_up`` the store's imports (and decided on them), they
    are read first (rules 1, 2 and 6 of docs/DESIGN.md, "Exactly once"): an import with this
    identity is kept, adopted or retried instead, an overlap refused.
    """
    retry_id = state.retry_import_id
    if not looked_up:
        history = lookup.store_history(inv, props.identity, HANDOVER_RESERVE_SECONDS)
        action = refuse_overlap(props, _again(props, retry_id, history), history)
        if isinstance(action, Fail):
            raise ImportFailed(action.reason)
        if isinstance(action, Keep):
            inv.log(type(action).__name__.lower(), import_id=action.record.import_id)
            if isinstance(action, Adopt):
                inv.started_import(action.record)
            return action.record
        retry_id = action.import_id if isinstance(action, Retry) else None
    try:
        if retry_id:
            record = cloudtrail.retry_import(inv.ct(), retry_id)
        else:
            record = cloudtrail.start_import(inv.ct(), props.identity)
    except aws.ERRORS as error:
        unknown = retry_id is None and aws.outcome_unknown(error)
        if unknown:
            return _after_unknown_start(inv, props, error)
        if aws.error_code(error) == "AccountHasOngoingImportException":
            return _when_busy(inv, props, retry_id)
        adopted = _running_after_refused_retry(inv, retry_id) if retry_id else None
        if adopted is None:
            raise _start_failed(props, error, retry_id or "") from error
        record = adopted
    inv.log("retry-import" if retry_id else "start-import", import_id=record.import_id)
    return inv.started_import(record)


def _again(props: ImportProperties, retry_id: str | None, history: list[ImportRecord]) -> Action:
    """What to start now that the store's imports are read again (the account was busy)."""
    earlier = choose_earlier(lookup.matching(props.identity, history))
    if earlier is None:
        return Retry(retry_id) if retry_id else Start()
    if retry_id and earlier.import_id == retry_id and earlier.status in RETRYABLE:
        return Retry(retry_id)
    return decide_create(earlier)


def _start_failed(props: ImportProperties, error: BaseException, import_id: str) -> ImportFailed:
    from import_handler import explain

    return ImportFailed(
        explain.for_error(
            error,
            operation="StartImport",
            identity=props.identity,
            import_id=import_id,
            source_owner=props.source_owner,
        )
    )


def _after_unknown_start(
    inv: Invocation, props: ImportProperties, error: BaseException
) -> ImportRecord:
    """A new StartImport whose outcome is unknown: the import it may have started is found
    by the look-up and adopted; when it is not there, nothing else is sent (rule 2)."""
    code = aws.error_code(error) or type(error).__name__
    inv.log("start-outcome-unknown", error=code)
    inv.start_unconfirmed = True
    history = lookup.store_history(inv, props.identity, HANDOVER_RESERVE_SECONDS)
    earlier = choose_earlier(lookup.matching(props.identity, history))
    if earlier is not None:
        inv.start_unconfirmed = False
        inv.log("adopt", import_id=earlier.import_id, status=earlier.status)
        return inv.started_import(earlier) if earlier.running else earlier
    raise ImportFailed(
        f"StartImportUnconfirmed: StartImport's answer was lost ({code}) and no import with "
        "these properties is listed yet, so no other was started. Check aws cloudtrail "
        f"list-imports --destination {props.identity.destination}, then deploy again"
    ) from error


def _running_after_refused_retry(inv: Invocation, import_id: str) -> ImportRecord | None:
    """A retry is not idempotent: when botocore resends one whose answer was lost, CloudTrail
    refuses it because the import runs again. Read the import: running means it was ours."""
    try:
        record = cloudtrail.get_import(inv.ct(), import_id)
    except aws.ERRORS as error:
        logger.warning("GetImport after a refused retry failed: %s", aws.error_code(error))
        return None
    if record is None or not record.running:
        return None
    inv.log("adopt-retried", import_id=import_id, status=record.status)
    return record


def _when_busy(
    inv: Invocation, props: ImportProperties, retry_id: str | None
) -> ImportRecord | KeepTrying:
    """Another import holds the account: adopt it when it is ours, else wait or fail."""
    unlisted = None  # why the running imports could not be listed
    try:
        ongoing = cloudtrail.running_imports(inv.ct, props.identity.destination)
    except aws.ERRORS as list_error:
        unlisted = aws.error_code(list_error) or type(list_error).__name__
        logger.warning("cannot list the running imports (%s); reading the known ones", unlisted)
        ongoing = _running_known_imports(inv, retry_id)
    busy = decide_busy(props.identity, ongoing, props.wait_for_completion)
    if isinstance(busy, Adopt):
        inv.log("adopt", import_id=busy.record.import_id, status=busy.record.status)
        return inv.started_import(busy.record)
    if isinstance(busy, KeepTrying):
        inv.log("wait-for-account", blocker=busy.blocker_id)
        return busy
    if unlisted is not None:
        raise ImportFailed(_unseen_reason(unlisted, props))
    raise ImportFailed(busy.reason if isinstance(busy, Fail) else str(busy))


def _running_known_imports(inv: Invocation, retry_id: str | None) -> list[ImportRecord]:
    """When ListImports is refused: the imports this request can name (the one it retries, the
    ones it started, the current one), as GetImport reads them now; those still running."""
    known = [retry_id, *(r.import_id for r in inv.started), inv.physical_id]
    found: list[ImportRecord] = []
    for import_id in dict.fromkeys(i for i in known if i and is_import_id(i)):
        try:
            record = cloudtrail.get_import(inv.ct(), import_id)
        except aws.ERRORS as error:
            logger.warning("GetImport of %s failed: %s", import_id, aws.error_code(error))
            continue
        if record is not None and record.running:
            found.append(record)
    return found


def _unseen_reason(list_error: str, props: ImportProperties) -> str:
    """A busy account whose imports cannot be listed: the import holding it may be one this
    request started whose answer was lost; say how to find it (the reason has 256 characters)."""
    return (
        f"AccountHasOngoingImportException: ListImports refused ({list_error}); the running "
        "import may be this request's: aws cloudtrail list-imports --destination "
        f"{props.identity.destination}"
    )


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
            started = start(inv, props, state)
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
