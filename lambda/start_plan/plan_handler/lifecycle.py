"""Create, Update and Delete of the plan's custom resource: a thin layer over AWS.

Create starts one execution of the plan's state machine (keeping one of the same identity in
any status) once the store's imports say that no segment overlaps one; Update stops the
previous execution and starts the new plan; Delete stops the execution and, with
StopOnDelete, the plan's running import. The handler never waits for imports: the state
machine does. docs/DESIGN.md ("Exactly once — plans") lists the rules and
where each is enforced.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

from import_handler import aws, clock, sender
from import_handler.properties import PropertyError
from plan_handler import executions, plan_decisions, plan_properties, request_time, store, waiting
from plan_handler.executions import PlanRequestError
from plan_handler.plan_properties import PlanProperties

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

# Kept back from the invocation's time to answer CloudFormation.
ANSWER_RESERVE_SECONDS = 15.0
NOT_STARTED = "plan-not-started"
STOPPED_BY_UPDATE = "replaced by an Update of the plan's custom resource"
STOPPED_BY_FAILED_UPDATE = "the Update of the plan's custom resource that started it failed"
STOPPED_BY_DELETE = "the plan's custom resource was deleted"


class Budget:
    """The seconds this invocation may still spend on AWS calls."""

    def __init__(self, context: Any) -> None:
        self._context = context

    def __call__(self) -> float:
        remaining = float(self._context.get_remaining_time_in_millis()) / 1000.0
        return max(remaining - ANSWER_RESERVE_SECONDS, 0.0)


class Outcome:
    """What the request has done so far, as its answer must say whatever happens next."""

    def __init__(self, physical_id: str) -> None:
        self.physical_id = physical_id
        #: The execution this request (or its continuation) sent StartExecution for.
        self.started: str | None = None


def handle(event: Mapping[str, Any], context: Any) -> None:
    received = clock.now()
    signed = request_time.request_signed_at(str(event.get("ResponseURL") or ""))
    requested_at = received if signed is None else min(signed, received)
    budget = Budget(context)
    clients = aws.Clients()
    body: dict[str, Any] = {
        "StackId": event.get("StackId"),
        "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
    }
    request_type = event.get("RequestType")
    outcome = Outcome(str(event.get("PhysicalResourceId") or NOT_STARTED))
    answer: Mapping[str, Any] | None
    try:
        continued = waiting.read(event)
        if continued is not None:
            # A continuation only waits: it never starts an execution or an import.
            outcome.physical_id = continued.execution_arn
            outcome.started = continued.execution_arn if continued.started else None
            answer = _wait(event, context, clients, budget, continued)
        elif request_type == "Delete":
            delete(event, clients, budget)
            answer = {}
        elif request_type in ("Create", "Update"):
            data = start(event, clients, budget, outcome)
            answer = data
            if _waits(event):
                state = waiting.begin(
                    outcome.physical_id, data, requested_at, started=outcome.started is not None
                )
                answer = _wait(event, context, clients, budget, state)
        else:
            raise PropertyError(
                "RequestType", f"must be Create, Update or Delete, got {request_type!r}"
            )
        if answer is None:
            return  # handed over: the continuation answers
        body.update(Status="SUCCESS", PhysicalResourceId=outcome.physical_id, Data=dict(answer))
    except Exception as error:  # the stack must get an answer, whatever happened
        reason = _reason(request_type, error)
        if request_type == "Update" and outcome.started is not None:
            reason += _stop_what_the_update_started(event, clients, budget, outcome.started)
        body.update(Status="FAILED", PhysicalResourceId=outcome.physical_id, Reason=reason[:1000])
    logger.info(
        "answer %s %s %s",
        body["Status"],
        body["PhysicalResourceId"],
        body.get("Reason", json.dumps(body.get("Data"))),
    )
    seconds_left = float(context.get_remaining_time_in_millis()) / 1000.0
    sender.send(str(event["ResponseURL"]), body, os.environ.get("AWS_CA_BUNDLE"), seconds_left)


def _reason(request_type: object, error: Exception) -> str:
    if isinstance(error, waiting.ExecutionFailedError | PlanRequestError | PropertyError):
        return str(error)
    if isinstance(error, aws.ERRORS):
        code = aws.error_code(error) or type(error).__name__
        return f"{request_type} of the import plan failed: {code}: {aws.error_message(error)}"
    logger.exception("unexpected error")
    return f"{request_type} of the import plan failed: {type(error).__name__}: {error}"


def _stop_what_the_update_started(
    event: Mapping[str, Any], clients: aws.Clients, budget: Callable[[], float], arn: str
) -> str:
    """A failed Update leaves nothing running that the rollback would not know: it stops the
    execution it started and, as the old StopOnDelete allows, that execution's imports of
    segments the old plan does not have (the rollback's plan adopts the ones it shares)."""
    stopped: list[str] = []
    try:
        if executions.stop(clients, budget, arn, STOPPED_BY_FAILED_UPDATE):
            stopped.append(f"stopped execution {arn}")
        old_raw = event.get("OldResourceProperties")
        if plan_properties.stop_on_delete_leniently(old_raw):
            new = plan_properties.parse(event.get("ResourceProperties"))
            old = plan_properties.parse(old_raw)
            imports = store.stop_imports(
                clients,
                budget,
                new,
                (s.identity for s in new.segments),
                [s.identity for s in old.segments],
            )
            stopped.extend(f"stopped import {i}" for i in imports)
    except Exception as error:
        code = aws.error_code(error) or type(error).__name__
        return (
            f"; execution {arn} was started and could not be stopped ({code}): the rollback "
            "stops it"
        )
    return "; " + ", ".join(stopped) if stopped else f"; execution {arn} is not running"


def _waits(event: Mapping[str, Any]) -> bool:
    return plan_properties.parse(event.get("ResourceProperties")).wait_for_completion


def _wait(
    event: Mapping[str, Any],
    context: Any,
    clients: aws.Clients,
    budget: Callable[[], float],
    state: waiting.Waiting,
) -> Mapping[str, Any] | None:
    props = plan_properties.parse(event.get("ResourceProperties"))

    def describe(arn: str) -> Mapping[str, Any]:
        current = executions.current_execution(clients, budget, arn)
        described: Mapping[str, Any] = clients.get(
            "stepfunctions", None, budget()
        ).describe_execution(executionArn=current)
        return described

    return waiting.wait(
        state,
        describe=describe,
        hand_over=waiting.hand_over(clients, budget, context, event),
        remaining=budget,
        poll_seconds=props.poll_interval_seconds,
    )


def start(
    event: Mapping[str, Any],
    clients: aws.Clients,
    budget: Callable[[], float],
    outcome: Outcome,
) -> dict[str, Any]:
    """Create or Update: keep, adopt or start the plan's execution; its answer's Data."""
    raw = event.get("ResourceProperties") or {}
    props = plan_properties.parse(raw)
    problem = plan_decisions.region_problem(props)
    if problem is not None:
        raise PropertyError("Segments[0].Destinations", problem)
    stack_id, logical_id = str(event.get("StackId")), str(event.get("LogicalResourceId"))
    identity = plan_decisions.plan_identity(stack_id, logical_id, raw)
    machine = props.state_machine_arn
    create = event.get("RequestType") == "Create"
    # An Update that leaves the previous plan stops its executions first (none may start an
    # import while this request looks), and its imports only once the new plan may start.
    leaving = False
    stopped: list[str] = []
    if create:
        # A failed Create names this plan's first execution from the start: the Delete that
        # follows stops it even when another delivery of this Create started it.
        first = plan_decisions.execution_name(identity, 0)
        outcome.physical_id = plan_decisions.execution_arn(machine, first)
    else:
        kept = _update_keeps(event, clients, budget, identity)
        leaving = kept is None or _old_identity(event) != identity
        if leaving:
            stopped = _stop_previous_executions(event, props, clients, budget, keep=kept)
        if kept is not None:
            if leaving:
                _stop_leaving_imports(event, props, clients, budget)
            return _data(kept, props, None)
    statuses = executions.generations(clients, budget, machine, identity)
    generation, must_start = plan_decisions.choose_generation(statuses, create=create)
    name = plan_decisions.execution_name(identity, generation)
    arn = plan_decisions.execution_arn(machine, name)
    if not must_start:
        if leaving:
            _stop_leaving_imports(event, props, clients, budget)
        logger.info("keeping execution %s (%s)", name, statuses[generation])
        outcome.physical_id = arn
        return _data(arn, props, None)
    # Rules 1, 2 and 6 of docs/DESIGN.md, "Exactly once", for every segment: the whole history
    # of the store is read (or nothing starts), identical imports are skipped, followed or
    # resumed, and a segment that overlaps another import refuses the plan.
    history = store.store_history(clients, budget, props)
    execution_input = plan_decisions.execution_input(props, plan_decisions.by_source(history))
    refusal = plan_decisions.overlap_refusal(props, execution_input, history)
    if refusal is not None:
        also = (
            f"; stopped execution {', '.join(stopped)}, which the rollback runs again"
            if stopped
            else ""
        )
        raise PlanRequestError(f"{refusal}. Nothing was started{also}")
    if leaving:
        _stop_leaving_imports(event, props, clients, budget)
    empty = store.segments_without_source_files(clients, budget, props)
    # From here StartExecution may have been sent: every answer names the execution.
    outcome.physical_id = outcome.started = arn
    executions.start(clients, budget, machine, name, json.dumps(execution_input))
    logger.info("started execution %s", name)
    return {**_data(arn, props, execution_input), "SegmentsWithoutSourceFiles": len(empty)}


def _update_keeps(
    event: Mapping[str, Any],
    clients: aws.Clients,
    budget: Callable[[], float],
    identity: str,
) -> str | None:
    """The previous execution, when the Update keeps it (``plan_decisions.keeps_previous``)."""
    previous = str(event.get("PhysicalResourceId") or "")
    if not plan_decisions.is_execution_of(identity, previous):
        return None
    current = executions.current_execution(clients, budget, previous)
    status = executions.status(clients, budget, current)
    if status is None:
        return None
    rollback = _old_identity(event) != identity
    if not plan_decisions.keeps_previous(status, rollback=rollback):
        logger.info("execution %s was stopped by the failed Update: it runs again", previous)
        return None
    logger.info("keeping execution %s (%s): the plan is unchanged", previous, status)
    return previous


def _old_identity(event: Mapping[str, Any]) -> str | None:
    old = event.get("OldResourceProperties")
    if not isinstance(old, Mapping):
        return None
    return plan_decisions.plan_identity(
        str(event.get("StackId")), str(event.get("LogicalResourceId")), old
    )


def delete(event: Mapping[str, Any], clients: aws.Clients, budget: Callable[[], float]) -> None:
    arn = str(event.get("PhysicalResourceId") or "")
    raw = event.get("ResourceProperties")
    state_machine = plan_decisions.state_machine_of(arn)
    if state_machine is None:
        logger.info("no execution was started (%s): nothing to stop", arn or "no id")
        return
    current = executions.current_execution(clients, budget, arn)
    executions.stop(clients, budget, current, STOPPED_BY_DELETE)
    if not plan_properties.stop_on_delete_leniently(raw):
        return
    try:
        props = plan_properties.parse(raw)
    except PropertyError as error:
        # A bad property must not block a stack deletion: the execution is stopped already.
        logger.warning("cannot tell the plan's imports (%s): none is stopped", error)
        return
    if executions.others_running(clients, budget, state_machine, current):
        # A newer execution of this plan (after an Update) carries on with its imports.
        return
    store.stop_imports(clients, budget, props, (s.identity for s in props.segments))


def _stop_previous_executions(
    event: Mapping[str, Any],
    props: PlanProperties,
    clients: aws.Clients,
    budget: Callable[[], float],
    *,
    keep: str | None = None,
) -> list[str]:
    """Stop the previous plan's executions: the one CloudFormation names and any running
    generation of the old properties' plan (after a failed Update, a rollback finds the
    execution that Update started even when CloudFormation names the older one). ``keep``:
    the previous execution, which a rollback keeps. The executions that ran and were stopped."""
    previous = str(event.get("PhysicalResourceId") or "")
    ending = [previous] if plan_decisions.state_machine_of(previous) and previous != keep else []
    old_identity = _old_identity(event)
    if old_identity is not None:
        statuses = executions.generations(clients, budget, props.state_machine_arn, old_identity)
        for generation, status in enumerate(statuses):
            name = plan_decisions.execution_name(old_identity, generation)
            arn = plan_decisions.execution_arn(props.state_machine_arn, name)
            if status == "RUNNING" and arn not in ending and arn != keep:
                ending.append(arn)
    return [arn for arn in ending if executions.stop(clients, budget, arn, STOPPED_BY_UPDATE)]


def _stop_leaving_imports(
    event: Mapping[str, Any],
    props: PlanProperties,
    clients: aws.Clients,
    budget: Callable[[], float],
) -> None:
    """With the previous plan's StopOnDelete, stop the import of a segment that the new plan
    no longer has (an identical one is adopted by the new execution instead). The old value
    decides: it is what the running plan was deployed with."""
    try:
        old = plan_properties.parse(event.get("OldResourceProperties"))
    except PropertyError:
        return
    if old.stop_on_delete:
        store.stop_imports(
            clients,
            budget,
            old,
            (s.identity for s in old.segments),
            [s.identity for s in props.segments],
        )


def _data(
    arn: str, props: PlanProperties, execution_input: Mapping[str, Any] | None
) -> dict[str, Any]:
    data: dict[str, Any] = {"ExecutionArn": arn, "SegmentCount": len(props.segments)}
    if execution_input is not None:
        data["SkippedSegments"] = sum(1 for s in execution_input["Segments"] if "Completed" in s)
    return data
