"""The imperative shell: parse → decide → act → report, for every request type.

``handle`` returns the ``Outcome`` to answer CloudFormation with, or None after handing over to
a continuation (which answers later). Every failure below raises ``ImportFailed`` (or anything
else, unexpectedly); ``handle`` alone turns it into the answer, through ``answer.failure``.
The pieces it calls: ``update`` (what an Update observes before deciding, and stopping a
replaced import) and ``waiting`` (StartImport, the busy account, polling, hand-over).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

# The modules only some requests need (update, preflight, cost_guard, cross_account, explain;
# lookup and starting, for a request about to start an import; waiting, for one that waits)
# are imported where they are used: every cold start compiles the asset's modules
# (benchmarks/RESULTS.md, cold start), and a Delete needs none of them.
from import_handler import aws, clock, cloudtrail, continuation, request_time
from import_handler import properties as props_mod
from import_handler.answer import (
    UNCONFIRMED_START,
    Outcome,
    failure,
    nothing_imported,
    success,
)
from import_handler.decisions import (
    HANDOVER_MARGIN_SECONDS,
    MAX_WAIT_SECONDS,
    choose_earlier,
    deadline_for,
    decide_create,
    decide_delete,
    is_import_id,
    refuse_overlap,
)
from import_handler.frozen import replace
from import_handler.invocation import Invocation
from import_handler.model import (
    Action,
    Adopt,
    Done,
    Fail,
    ImportFailed,
    ImportRecord,
    Keep,
    KeepTrying,
    Retry,
    Start,
    Stop,
)
from import_handler.properties import ImportProperties, PropertyError

logger = logging.getLogger(__name__)

# cost_guard.ATTRIBUTE, without importing the cost guard (a test keeps the two equal).
ESTIMATED_GB = "ImportEstimatedGB"


def handle(inv: Invocation) -> Outcome | None:
    try:
        return _handle(inv)
    except ImportFailed as error:
        return failure(inv, error)
    except Exception as error:  # every error must become an answer, never a silent timeout
        logger.exception("unexpected error")
        from import_handler import explain

        return failure(inv, ImportFailed(explain.for_error(error, operation=inv.request_type)))


def _handle(inv: Invocation) -> Outcome | None:
    # Parse.
    state = continuation.read_state(inv.event)
    if inv.request_type == "Delete" and state is None:
        return _delete(inv)
    try:
        props = props_mod.parse(inv.event.get("ResourceProperties"))
    except PropertyError as error:
        inv.log("reject-properties", property=error.prop)
        raise ImportFailed(f"InvalidProperty: {error}") from None
    if state is not None:
        inv.log("continue-waiting", import_id=state.import_id, attempt=state.attempt)
        if state.import_id is not None:
            inv.started_import(ImportRecord(state.import_id, "IN_PROGRESS"))
        if state.estimated_gb is not None:
            inv.data[ESTIMATED_GB] = state.estimated_gb
        from import_handler import waiting

        return waiting.wait(inv, props, state)
    # Decide.
    requested = request_time.requested_at(inv.event.get("ResponseURL"), clock.now())
    if clock.now() >= requested + MAX_WAIT_SECONDS:
        # CloudFormation has given up on this request (or is about to): nothing may start.
        raise ImportFailed(
            "RequestExpired: this request was made over 58 minutes ago and CloudFormation "
            "stops waiting after 60; nothing was started. Deploy again"
        )
    deadline = deadline_for(requested, props.completion_timeout_seconds)
    current: ImportRecord | None = None
    history: list[ImportRecord] = []
    if inv.request_type == "Create":
        from import_handler import lookup

        history = lookup.store_history(inv, props.identity)
        action = decide_create(choose_earlier(lookup.matching(props.identity, history)))
    elif inv.request_type == "Update":
        from import_handler import update

        action, current, history = update.decide(inv, props)
    else:
        raise ImportFailed(f"UnknownRequestType: {inv.request_type!r}")
    action = refuse_overlap(props, action, history)
    inv.log(
        type(action).__name__.lower(),
        import_id=current.import_id if current else None,
        status=current.status if current else None,
    )
    # Act (and report).
    return _act(inv, props, action, deadline, current)


def _act(
    inv: Invocation,
    props: ImportProperties,
    action: Action,
    deadline: float,
    current: ImportRecord | None = None,
) -> Outcome | None:
    from import_handler import cost_guard, cross_account, preflight, starting, update, waiting

    if isinstance(action, Fail):
        raise ImportFailed(action.reason)
    if isinstance(action, Keep):  # an Adopt too
        record = action.record
        if isinstance(action, Adopt):
            inv.started_import(record)
        if _replaced_running(inv, current, record):
            assert current is not None
            update.stop_replaced_quietly(inv, current.import_id)
        cost_guard.note_kept(inv, props, inv.remaining() - HANDOVER_MARGIN_SECONDS)
        if props.wait_for_completion and record.running:
            state = continuation.State(record.import_id, deadline, estimated_gb=_estimated(inv))
            return waiting.wait(inv, props, state, record)
        return success(inv, record)
    if not isinstance(action, Start | Retry):
        raise ImportFailed(f"InternalError: unexpected action {action!r}")
    problem = preflight.check(
        inv,
        props.identity,
        inv.remaining() - HANDOVER_MARGIN_SECONDS,
        source_owner=props.source_owner,
        caller_account=cross_account.account_of(inv.context.invoked_function_arn),
        handler_reads_objects=props.max_ingest_gb is not None,
    )
    if problem:
        raise ImportFailed(problem)
    if preflight.source_is_empty(inv, props.identity):
        inv.log("no-source-files", uri=props.identity.s3_location_uri)
        if props.max_ingest_gb is not None:
            inv.data[ESTIMATED_GB] = "0.000000"
        return nothing_imported(inv, props.identity)
    # Before anything changes (stopping a replaced import, StartImport).
    cost_guard.check(inv, props, inv.remaining() - HANDOVER_MARGIN_SECONDS)
    if action.stop_first:
        update.stop_and_settle(inv, action.stop_first)
    retry_id = action.import_id if isinstance(action, Retry) else None
    state = continuation.State(None, deadline, 0, retry_id, _estimated(inv))
    started = starting.start(inv, props, retry_id, looked_up=True)
    if isinstance(started, KeepTrying):
        return waiting.wait(inv, props, state, blocker=started.blocker_id)
    if props.wait_for_completion:
        started_state = replace(state, import_id=started.import_id, retry_import_id=None)
        return waiting.wait(inv, props, started_state, started)
    return success(inv, started)


def _replaced_running(inv: Invocation, current: ImportRecord | None, kept: ImportRecord) -> bool:
    """An Update going back to another import while the current one still runs: CloudFormation
    deletes the current one at clean-up (stopping it when the old StopOnDelete allows); stopping
    it now leaves nothing running if that clean-up fails (CloudFormation does not retry it)."""
    if current is None or not current.running or current.import_id == kept.import_id:
        return False
    old = inv.event.get("OldResourceProperties")
    return props_mod.stop_on_delete_leniently(old if isinstance(old, Mapping) else None)


def _estimated(inv: Invocation) -> str | None:
    return inv.data.get(ESTIMATED_GB)


def _delete(inv: Invocation) -> Outcome:
    from import_handler import explain

    physical_id = inv.physical_id
    raw = inv.event.get("ResourceProperties")
    stop_on_delete = props_mod.stop_on_delete_leniently(raw if isinstance(raw, Mapping) else None)
    if physical_id.startswith(UNCONFIRMED_START) and stop_on_delete:
        return _delete_unconfirmed(inv, physical_id)
    record = None
    if is_import_id(physical_id):
        try:
            record = cloudtrail.get_import(inv.ct(), physical_id)
        except aws.ERRORS as error:
            return _delete_unread(inv, physical_id, stop_on_delete, error)
    action = decide_delete(physical_id, record, stop_on_delete)
    if isinstance(action, Stop):
        try:
            stopped = cloudtrail.stop_import(inv.ct(), action.import_id)
        except aws.ERRORS as error:
            raise ImportFailed(
                explain.for_error(error, operation="StopImport", import_id=action.import_id),
                record,
            ) from error
        inv.log("stop", import_id=action.import_id, status=stopped.status if stopped else None)
        return success(inv, stopped or record, physical_id)
    return success(inv, record, physical_id, action.why if isinstance(action, Done) else None)


def _delete_unread(
    inv: Invocation, physical_id: str, stop_on_delete: bool, read_error: BaseException
) -> Outcome:
    """The import cannot be read: with StopOnDelete it is stopped without reading it (StopImport
    returns an import that has ended as it is), so nothing is left running that no stack names
    (a clean-up Delete that fails is not retried by CloudFormation); without, nothing is to do."""
    from import_handler import explain

    if not stop_on_delete:
        return success(inv, None, physical_id, "StopOnDelete is false: the import keeps running")
    try:
        stopped = cloudtrail.stop_import(inv.ct(), physical_id)
    except aws.ERRORS:
        raise ImportFailed(
            explain.for_error(read_error, operation="GetImport", import_id=physical_id)
        ) from read_error
    inv.log("stop-unread", import_id=physical_id, status=stopped.status if stopped else None)
    return success(inv, stopped, physical_id)


def _delete_unconfirmed(inv: Invocation, physical_id: str) -> Outcome:
    """The Delete after a Create whose StartImport may have started an import it could not
    find: a running import with the Create's properties is that one (rule 1 would have adopted
    any other), so it is stopped; nothing else is touched (docs/DESIGN.md, "Exactly once")."""
    from import_handler import explain

    try:
        props = props_mod.parse(inv.event.get("ResourceProperties"))
    except PropertyError:
        return success(inv, None, physical_id, "no readable properties: nothing to look for")
    try:
        running = cloudtrail.running_imports(inv.ct, props.identity.destination)
        ours = [r for r in running if r.identity == props.identity]
        for record in ours:
            stopped = cloudtrail.stop_import(inv.ct(), record.import_id)
            inv.log("stop-unconfirmed", import_id=record.import_id, status=_status_of(stopped))
    except aws.ERRORS as error:
        operation = getattr(error, "operation_name", None) or "ListImports"
        raise ImportFailed(
            explain.for_error(error, operation=operation, identity=props.identity)
        ) from error
    return success(inv, ours[-1] if ours else None, physical_id)


def _status_of(record: ImportRecord | None) -> str | None:
    return record.status if record else None
