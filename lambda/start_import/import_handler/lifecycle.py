"""The imperative shell: parse → decide → act → report, for every request type.

Returns an ``Outcome`` to answer CloudFormation with, or None after handing over to a
continuation (which answers later). The pieces it calls: ``update`` (what an Update observes
before deciding, and stopping a replaced import), ``starting`` (StartImport and the busy
account) and ``waiting`` (polling, hand-over, reporting how the import ended).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from import_handler import aws, clock, cloudtrail, continuation, explain, preflight, update
from import_handler import properties as props_mod
from import_handler.decisions import (
    HANDOVER_MARGIN_SECONDS,
    Action,
    Done,
    Fail,
    ImportRecord,
    Keep,
    KeepTrying,
    Retry,
    Start,
    Stop,
    deadline_for,
    decide_create,
    decide_delete,
    is_import_id,
)
from import_handler.invocation import Invocation, LambdaContext
from import_handler.outcome import Outcome
from import_handler.properties import ImportProperties, PropertyError
from import_handler.starting import try_start
from import_handler.waiting import wait

logger = logging.getLogger(__name__)


def handle(event: Mapping[str, Any], context: LambdaContext) -> Outcome | None:
    invocation = Invocation(event, context)
    try:
        return _handle(invocation)
    except Exception as error:  # every error must become an answer, never a silent timeout
        logger.exception("unexpected error")
        return invocation.fail(explain.for_error(error, operation=invocation.request_type))


def _handle(inv: Invocation) -> Outcome | None:
    # Parse.
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
        return wait(inv, props, state)
    # Decide.
    deadline = deadline_for(clock.now(), props.completion_timeout_seconds)
    current: ImportRecord | None = None
    if inv.request_type == "Create":
        action = decide_create()
    elif inv.request_type == "Update":
        decided = update.decide(inv, props)
        if isinstance(decided, Outcome):
            return decided
        action, current = decided
    else:
        return inv.fail(f"UnknownRequestType: {inv.request_type!r}")
    inv.log(
        type(action).__name__.lower(),
        import_id=current.import_id if current else None,
        status=current.status if current else None,
    )
    # Act (and report).
    return _act(inv, props, action, deadline)


def _act(
    inv: Invocation, props: ImportProperties, action: Action, deadline: float
) -> Outcome | None:
    if isinstance(action, Fail):
        return inv.fail(action.reason)
    if isinstance(action, Keep):  # an Adopt too
        if props.wait_for_completion and action.record.status != "COMPLETED":
            return wait(
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
        stopped = update.stop_and_settle(inv, action.stop_first)
        if stopped is not None:
            return stopped
    retry_id = action.import_id if isinstance(action, Retry) else None
    return _start(inv, props, continuation.State(None, deadline, 0, retry_id))


def _start(inv: Invocation, props: ImportProperties, state: continuation.State) -> Outcome | None:
    started = try_start(inv, props, state)
    if isinstance(started, Outcome):
        return started
    if isinstance(started, KeepTrying):
        return wait(inv, props, state, blocker=started.blocker_id, checked=True)
    if props.wait_for_completion:
        started_state = replace(state, import_id=started.import_id, retry_import_id=None)
        return wait(inv, props, started_state, started)
    inv.log("respond-success", import_id=started.import_id, status=started.status)
    return inv.succeed(started)


def _delete(inv: Invocation) -> Outcome:
    physical_id = inv.physical_id
    raw = inv.event.get("ResourceProperties")
    stop_on_delete = props_mod.stop_on_delete_leniently(raw if isinstance(raw, Mapping) else None)
    record = None
    if is_import_id(physical_id):
        try:
            record = cloudtrail.get_import(inv.ct(), physical_id)
        except aws.ERRORS as error:
            return inv.fail(explain.for_error(error, operation="GetImport", import_id=physical_id))
    action = decide_delete(physical_id, record, stop_on_delete)
    if isinstance(action, Stop):
        try:
            stopped = cloudtrail.stop_import(inv.ct(), action.import_id)
        except aws.ERRORS as error:
            return inv.fail(
                explain.for_error(error, operation="StopImport", import_id=action.import_id), record
            )
        inv.log("stop", import_id=action.import_id, status=stopped.status if stopped else None)
        return inv.succeed(stopped or record, physical_id)
    why = action.why if isinstance(action, Done) else ""
    inv.log("respond-success", import_id=record.import_id if record else None, why=why)
    return inv.succeed(record, physical_id)
