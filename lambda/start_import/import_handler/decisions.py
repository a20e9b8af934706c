"""The handler's decisions, as pure functions of what it knows; no AWS call happens here.

The imperative shell (``lifecycle.py`` with ``update.py`` and ``waiting.py``) observes
(GetImport, StartImport's outcome, the clock), asks one of these functions what to do, and
does it. The types they take and return are in ``model.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from enum import StrEnum

from import_handler.frozen import frozen
from import_handler.model import (
    RETRYABLE,
    Action,
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
from import_handler.properties import ImportIdentity, ImportProperties

# Check GetImport this often while waiting (CloudTrail's quota for these APIs is about 1 TPS).
POLL_INTERVAL_SECONDS = 10.0
# Hand over to a fresh invocation while this much of the current one is left.
HANDOVER_MARGIN_SECONDS = 60.0
# Answer at the latest 58 minutes after the request: CloudFormation gives up after 60.
MAX_WAIT_SECONDS = 3480
# A safety net against a chain of continuations that makes no progress (each polls once at least).
MAX_CONTINUATIONS = 200
_IMPORT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def is_import_id(value: object) -> bool:
    """CloudTrail ImportIds are 36-character UUIDs; a failed Create answers with something else."""
    return isinstance(value, str) and bool(_IMPORT_ID.match(value))


def deadline_for(first_invocation_epoch: float, completion_timeout_seconds: int) -> float:
    return first_invocation_epoch + min(completion_timeout_seconds, MAX_WAIT_SECONDS)


def decide_create(earlier: ImportRecord | None) -> Action:
    """A Create keeps, adopts or retries an import that already has its identity (a Create
    delivered twice, or a stack created again); only with none does it start one."""
    if earlier is None:
        return Start()
    if earlier.running:
        return Adopt(earlier)
    if earlier.status in RETRYABLE:
        return Retry(earlier.import_id)
    return Keep(earlier)


def refuse_overlap(
    props: ImportProperties, action: Action, history: Sequence[ImportRecord]
) -> Action:
    """A Start or Retry whose source and window overlap an import that holds events in the
    same store fails before it starts, unless ``AllowOverlap`` (rule 6); other actions pass."""
    if props.allow_overlap or not isinstance(action, Start | Retry):
        return action
    exclude = [action.import_id] if isinstance(action, Retry) else []
    from import_handler import overlap  # only a request about to start an import needs it

    found = overlap.overlapping(props.identity, history, exclude)
    return Fail(overlap.reason(found)) if found else action


def is_replacement(props: ImportProperties, current: ImportRecord | None) -> bool:
    """The import the PhysicalResourceId points at is not the one the new properties describe.

    Only then is an earlier import worth looking for (ListImports + GetImport, against a quota
    of about 1 TPS): not on Create, not when the identity is unchanged.
    """
    return current is not None and current.identity != props.identity


def choose_earlier(matches: Iterable[ImportRecord]) -> ImportRecord | None:
    """Of the earlier imports whose identity equals the new properties (newest first), the one
    to go back to: the first running or COMPLETED one, else the newest FAILED or STOPPED one.

    A running or COMPLETED import already holds (or is bringing) the events, so it wins over a
    newer retryable one, whose retry could copy them a second time. Consumption stops at the
    first running or COMPLETED import, so a lazy ``matches`` reads no more than it must.
    """
    retryable: ImportRecord | None = None
    for record in matches:
        if record.running or record.status == "COMPLETED":
            return record
        if record.status in RETRYABLE and retryable is None:
            retryable = record
    return retryable


def decide_update(
    props: ImportProperties,
    old_stop_on_delete: bool,
    record: ImportRecord | None,
    earlier: ImportRecord | None = None,
    *,
    retry_requested: bool = False,
) -> Action:
    """Compare the new properties with the import the PhysicalResourceId points at.

    Comparing with the import itself, not with OldResourceProperties, makes a rollback Update
    (old and new properties swapped) keep or retry the import it already points at. A FAILED
    or STOPPED import is retried only when ``retry_requested`` (see ``wants_retry``): an Update
    that changes only StopOnDelete, CompletionTimeoutSeconds or WaitForCompletion keeps it.

    ``earlier`` is, for a replacement (see ``is_replacement``), an earlier import on the same
    store whose destination, source and window equal the new properties (see
    ``choose_earlier``). The replacement goes back to it instead of starting a new import:
    running → adopt it; COMPLETED → keep it; FAILED or STOPPED → retry it. Why: a rollback
    after a successful replacement (id B, properties back to import A's) must return to A, not
    start a third import that copies A's events into the store again; likewise a user who
    reverts the properties to an import that already ran gets that import back, not a second
    copy. With no such import, a replacement starts a new one as before. ``earlier`` counts
    too when the current import cannot be read (``record`` is None).
    """
    if record is None:
        if earlier is not None and earlier.identity == props.identity:
            return _go_back_to(earlier, None, props, old_stop_on_delete)
        return Start()
    if record.identity != props.identity:
        if earlier is not None and earlier.identity == props.identity:
            return _go_back_to(earlier, record, props, old_stop_on_delete)
        return _replace(record, props, old_stop_on_delete, retry_id=None)
    if record.status in RETRYABLE and retry_requested:
        return Retry(record.import_id)
    return Keep(record)


def wants_retry(
    props: ImportProperties, old: ImportProperties | None, current: ImportRecord | None
) -> bool:
    """An Update asks for a retry of the ``current`` import when it is FAILED or STOPPED and
    the Update changes RetryToken. One more case: a STOPPED import the Update comes back to
    from other properties (the rollback of a replacement, which stopped it). A FAILED import
    is retried only for a new RetryToken: it failed by itself, and coming back to it does not
    ask for it again. Unreadable old properties count as unchanged but for the RetryToken."""
    if current is None or current.status not in RETRYABLE:
        return False
    if old is None:
        return props.retry_token is not None
    if props.retry_token != old.retry_token:
        return True
    return current.status == "STOPPED" and props.identity != old.identity


def _go_back_to(
    earlier: ImportRecord, current: ImportRecord | None, props: ImportProperties, old_stop: bool
) -> Action:
    if earlier.running:
        return Adopt(earlier)
    if earlier.status in RETRYABLE:
        if current is None:
            return Retry(earlier.import_id)
        return _replace(current, props, old_stop, retry_id=earlier.import_id)
    return Keep(earlier)


def _replace(
    current: ImportRecord, props: ImportProperties, old_stop_on_delete: bool, retry_id: str | None
) -> Action:
    """Start a new import, or retry ``retry_id``, in place of ``current``."""

    def start(stop_first: str | None = None) -> Start | Retry:
        return Retry(retry_id, stop_first) if retry_id else Start(stop_first)

    if not current.running:
        return start()
    # The old import holds the account (one import at a time). CloudFormation would stop it
    # at clean-up when StopOnDelete is true, so stopping it now changes nothing but the order.
    if old_stop_on_delete:
        return start(stop_first=current.import_id)
    if props.wait_for_completion:
        return start()
    return Fail(
        f"AccountHasOngoingImportException: the import being replaced ({current.import_id}) "
        "is still running and StopOnDelete is false, so it is not stopped; CloudTrail runs "
        "one import per account. Wait for it to finish, or set WaitForCompletion (or "
        "StopOnDelete) to true, then deploy again"
    )


def decide_delete(physical_id: str, record: ImportRecord | None, stop_on_delete: bool) -> Action:
    if not is_import_id(physical_id):
        return Done("not an import id (a failed Create, or no source files): nothing to clean up")
    if record is None:
        return Done("the import no longer exists")
    if record.running and stop_on_delete:
        return Stop(record.import_id)
    if record.running:
        return Done("StopOnDelete is false: the import keeps running")
    return Done(f"the import is {record.status}: nothing to stop; imported events are kept")


def decide_busy(identity: ImportIdentity, ongoing: Sequence[ImportRecord], waiting: bool) -> Action:
    """StartImport said another import holds the account: adopt ours, wait, or fail."""
    for record in ongoing:
        if record.running and record.identity == identity:
            return Adopt(record)
    blocker = next((r.import_id for r in ongoing if r.running), None)
    if waiting:
        return KeepTrying(blocker)
    return Fail(busy_reason(blocker))


def busy_reason(blocker: str | None) -> str:
    name = f"import {blocker}" if blocker else "another import"
    stop = f"aws cloudtrail stop-import --import-id {blocker}" if blocker else "StopImport"
    return (
        f"AccountHasOngoingImportException: {name} is running in this account and CloudTrail "
        f"runs one import at a time. Wait for it to finish or stop it ({stop}), or set "
        "WaitForCompletion to true, then deploy again"
    )


# --- Waiting ---------------------------------------------------------------------------------


class Next(StrEnum):
    SUCCEED = "succeed"
    IMPORT_FAILED = "import-failed"
    IMPORT_STOPPED = "import-stopped"
    TIMED_OUT = "timed-out"
    SLEEP = "sleep"
    HAND_OVER = "hand-over"
    GIVE_UP = "give-up"


@frozen
class PollDecision:
    next: Next
    sleep_seconds: float = 0.0


def decide_poll(
    status: str | None, *, now: float, deadline: float, remaining_seconds: float, attempt: int
) -> PollDecision:
    """After one check: ``status`` is the import's status, None while the account is busy."""
    if status == "COMPLETED":
        return PollDecision(Next.SUCCEED)
    if status == "FAILED":
        return PollDecision(Next.IMPORT_FAILED)
    if status == "STOPPED":
        return PollDecision(Next.IMPORT_STOPPED)
    if now >= deadline:
        return PollDecision(Next.TIMED_OUT)
    wait = min(POLL_INTERVAL_SECONDS, deadline - now)
    if remaining_seconds - wait > HANDOVER_MARGIN_SECONDS:
        return PollDecision(Next.SLEEP, wait)
    if attempt >= MAX_CONTINUATIONS:
        return PollDecision(Next.GIVE_UP)
    return PollDecision(Next.HAND_OVER)
