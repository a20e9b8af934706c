"""Create, Update and Delete of the plan's custom resource: a thin layer over AWS.

Create starts one execution of the plan's state machine (adopting a running or succeeded one of
the same identity); Update stops the previous execution and starts the new plan; Delete stops
the execution and, with StopOnDelete, the plan's running import. The handler never waits for
imports: the state machine does.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

from import_handler import aws, cloudtrail, sender
from import_handler.model import ImportRecord
from import_handler.properties import ImportIdentity, PropertyError
from plan_handler import plan_decisions, plan_properties, waiting
from plan_handler.plan_properties import PlanProperties

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

# Kept back from the invocation's time to answer CloudFormation.
ANSWER_RESERVE_SECONDS = 15.0
LIST_IMPORTS_PAGE = 50
LIST_IMPORTS_PAGES = 20
NOT_STARTED = "plan-not-started"


class Budget:
    """The seconds this invocation may still spend on AWS calls."""

    def __init__(self, context: Any) -> None:
        self._context = context

    def __call__(self) -> float:
        remaining = float(self._context.get_remaining_time_in_millis()) / 1000.0
        return max(remaining - ANSWER_RESERVE_SECONDS, 0.0)


def handle(event: Mapping[str, Any], context: Any) -> None:
    budget = Budget(context)
    clients = aws.Clients()
    body: dict[str, Any] = {
        "StackId": event.get("StackId"),
        "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
    }
    request_type = event.get("RequestType")
    physical_id = str(event.get("PhysicalResourceId") or NOT_STARTED)
    answer: Mapping[str, Any] | None
    try:
        continued = waiting.read(event)
        if continued is not None:
            physical_id = continued.execution_arn
            answer = _wait(event, context, clients, budget, continued)
        elif request_type == "Delete":
            delete(event, clients, budget)
            answer = {}
        elif request_type in ("Create", "Update"):
            physical_id, data = start(event, clients, budget)
            answer = data
            if _waits(event):
                answer = _wait(event, context, clients, budget, waiting.begin(physical_id, data))
        else:
            raise PropertyError(
                "RequestType", f"must be Create, Update or Delete, got {request_type!r}"
            )
        if answer is None:
            return  # handed over: the continuation answers
        body.update(Status="SUCCESS", PhysicalResourceId=physical_id, Data=dict(answer))
    except waiting.ExecutionFailedError as error:
        body.update(Status="FAILED", PhysicalResourceId=physical_id, Reason=str(error)[:1000])
    except PropertyError as error:
        body.update(Status="FAILED", PhysicalResourceId=physical_id, Reason=str(error))
    except aws.ERRORS as error:
        code = aws.error_code(error) or type(error).__name__
        reason = f"{request_type} of the import plan failed: {code}: {aws.error_message(error)}"
        body.update(Status="FAILED", PhysicalResourceId=physical_id, Reason=reason[:1000])
    except Exception as error:  # the stack must get an answer, whatever happened
        logger.exception("unexpected error")
        reason = f"{request_type} of the import plan failed: {type(error).__name__}: {error}"
        body.update(Status="FAILED", PhysicalResourceId=physical_id, Reason=reason[:1000])
    logger.info(
        "answer %s %s %s",
        body["Status"],
        body["PhysicalResourceId"],
        body.get("Reason", json.dumps(body.get("Data"))),
    )
    seconds_left = float(context.get_remaining_time_in_millis()) / 1000.0
    sender.send(str(event["ResponseURL"]), body, os.environ.get("AWS_CA_BUNDLE"), seconds_left)


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
        described: Mapping[str, Any] = clients.get(
            "stepfunctions", None, budget()
        ).describe_execution(executionArn=arn)
        return described

    return waiting.wait(
        state,
        describe=describe,
        hand_over=waiting.hand_over(clients, budget, context, event),
        remaining=budget,
        poll_seconds=props.poll_interval_seconds,
    )


def start(
    event: Mapping[str, Any], clients: aws.Clients, budget: Callable[[], float]
) -> tuple[str, dict[str, Any]]:
    raw = event.get("ResourceProperties") or {}
    props = plan_properties.parse(raw)
    identity = plan_decisions.plan_identity(
        str(event.get("StackId")), str(event.get("LogicalResourceId")), raw
    )
    if event.get("RequestType") == "Update":
        previous = str(event.get("PhysicalResourceId") or "")
        if plan_decisions.is_execution_of(identity, previous):
            status = _execution_status(clients, budget, previous)
            if status is not None:
                # Only ServiceToken, ServiceTimeout, StopOnDelete or WaitForCompletion changed:
                # the plan is the same, whatever its state; a FAILED one runs again only with a
                # new RetryToken (which changes the identity).
                logger.info("keeping execution %s (%s): the plan is unchanged", previous, status)
                return previous, _data(previous, props, None)
        _end_previous(event, props, clients, budget)
    states = clients.get("stepfunctions", None, budget())
    for generation in range(plan_decisions.MAX_GENERATIONS):
        name = plan_decisions.execution_name(identity, generation)
        arn = plan_decisions.execution_arn(props.state_machine_arn, name)
        status = _execution_status(clients, budget, arn)
        if status in plan_decisions.ADOPTABLE:
            logger.info("adopting execution %s (%s)", name, status)
            return arn, _data(arn, props, None)
        if status is not None:
            continue  # ABORTED, FAILED or TIMED_OUT: this plan runs again under the next name
        execution_input = plan_decisions.execution_input(
            props, _earlier_imports(clients, budget, props)
        )
        empty = _segments_without_source_files(clients, budget, props)
        try:
            states.start_execution(
                stateMachineArn=props.state_machine_arn,
                name=name,
                input=json.dumps(execution_input),
            )
        except aws.ERRORS as error:
            if aws.error_code(error) != "ExecutionAlreadyExists":
                raise
            # Started by a concurrent request of the same plan since we looked: adopt it.
            logger.info("execution %s was started concurrently; adopting it", name)
            return arn, _data(arn, props, None)
        logger.info("started execution %s", name)
        return arn, {**_data(arn, props, execution_input), "SegmentsWithoutSourceFiles": len(empty)}
    raise PropertyError(
        "RetryToken",
        f"must change: this plan already ran {plan_decisions.MAX_GENERATIONS} times "
        "without succeeding",
    )


def delete(event: Mapping[str, Any], clients: aws.Clients, budget: Callable[[], float]) -> None:
    arn = str(event.get("PhysicalResourceId") or "")
    raw = event.get("ResourceProperties")
    state_machine = plan_decisions.state_machine_of(arn)
    if state_machine is None:
        logger.info("no execution was started (%s): nothing to stop", arn or "no id")
        return
    _stop_execution(clients, budget, arn)
    if not plan_properties.stop_on_delete_leniently(raw):
        return
    try:
        props = plan_properties.parse(raw)
    except PropertyError as error:
        # A bad property must not block a stack deletion: the execution is stopped already.
        logger.warning("cannot tell the plan's imports (%s): none is stopped", error)
        return
    if _other_running_executions(clients, budget, state_machine, arn):
        # A newer execution of this plan (after an Update) carries on with its imports.
        return
    _stop_imports(clients, budget, props, (s.identity for s in props.segments), ())


def _end_previous(
    event: Mapping[str, Any],
    props: PlanProperties,
    clients: aws.Clients,
    budget: Callable[[], float],
) -> None:
    """Stop the previous plan's execution; with the previous plan's StopOnDelete, stop the
    import of a segment that the new plan no longer has (an identical one is adopted by the new
    execution instead). The old value decides: it is what the running plan was deployed with."""
    previous = str(event.get("PhysicalResourceId") or "")
    if plan_decisions.state_machine_of(previous) is None:
        return
    _stop_execution(clients, budget, previous)
    try:
        old = plan_properties.parse(event.get("OldResourceProperties"))
    except PropertyError:
        return
    if old.stop_on_delete:
        _stop_imports(
            clients,
            budget,
            old,
            (s.identity for s in old.segments),
            [s.identity for s in props.segments],
        )


def _stop_imports(
    clients: aws.Clients,
    budget: Callable[[], float],
    props: PlanProperties,
    leaving: Any,
    staying: Any,
) -> None:
    client = clients.cloudtrail(None, budget())
    running = cloudtrail.ongoing_imports(client, props.destination)
    for record in plan_decisions.imports_to_stop(running, leaving, staying):
        logger.info("stopping import %s", record.import_id)
        cloudtrail.stop_import(clients.cloudtrail(None, budget()), record.import_id)


def _execution_status(clients: aws.Clients, budget: Callable[[], float], arn: str) -> str | None:
    try:
        response = clients.get("stepfunctions", None, budget()).describe_execution(executionArn=arn)
    except aws.ERRORS as error:
        if aws.error_code(error) == "ExecutionDoesNotExist":
            return None
        raise
    return str(response["status"])


def _stop_execution(clients: aws.Clients, budget: Callable[[], float], arn: str) -> None:
    status = _execution_status(clients, budget, arn)
    if status != "RUNNING":
        logger.info("execution %s is %s: nothing to stop", arn, status or "unknown")
        return
    try:
        clients.get("stepfunctions", None, budget()).stop_execution(
            executionArn=arn,
            error="CloudTrailLakeImportPlan.Stopped",
            cause="the plan's custom resource was updated or deleted",
        )
    except aws.ERRORS as error:
        if aws.error_code(error) != "ExecutionDoesNotExist":
            raise
    logger.info("stopped execution %s", arn)


def _other_running_executions(
    clients: aws.Clients, budget: Callable[[], float], state_machine: str, arn: str
) -> bool:
    try:
        response = clients.get("stepfunctions", None, budget()).list_executions(
            stateMachineArn=state_machine, statusFilter="RUNNING", maxResults=10
        )
    except aws.ERRORS as error:
        if aws.error_code(error) == "StateMachineDoesNotExist":
            return False
        raise
    return any(item["executionArn"] != arn for item in response.get("executions", []))


def _earlier_imports(
    clients: aws.Clients, budget: Callable[[], float], props: PlanProperties
) -> dict[ImportIdentity, list[ImportRecord]]:
    """Imports into the store whose source and window equal a segment's, newest first.

    ListImports returns no source or window: the newest imports are read with GetImport, as
    many as three per segment plus ten (CloudTrail's quota for these APIs is about 1 TPS).
    """
    wanted = {plan_decisions.source_key(s.identity) for s in props.segments}
    to_read = min(3 * len(props.segments) + 10, 100)
    found: dict[ImportIdentity, list[ImportRecord]] = {}
    for import_id in _recent_import_ids(clients, budget, props.destination)[:to_read]:
        record = cloudtrail.get_import(clients.cloudtrail(None, budget()), import_id)
        if record is None or record.identity is None:
            continue
        key = plan_decisions.source_key(record.identity)
        if key in wanted:
            found.setdefault(key, []).append(record)
    return found


def _segments_without_source_files(
    clients: aws.Clients, budget: Callable[[], float], props: PlanProperties
) -> list[int]:
    """The segments whose prefix holds no object yet (one ListObjectsV2 of one key per prefix).

    They still run (the Lake completes them with nothing, and a later deploy imports them
    again, see ``plan_decisions.imported_nothing``); the answer and the log name them.
    """
    empty_at: dict[tuple[str, str, str], bool] = {}
    empty: list[int] = []
    for index, segment in enumerate(props.segments):
        identity = segment.identity
        where = (identity.s3_bucket_region, identity.bucket, identity.prefix)
        if where not in empty_at:
            empty_at[where] = _prefix_is_empty(clients, budget, *where)
        if empty_at[where]:
            logger.warning(
                "NO_SOURCE_FILES: segment %d (%s) has no object under its prefix yet",
                index,
                identity.s3_location_uri,
            )
            empty.append(index)
    return empty


def _prefix_is_empty(
    clients: aws.Clients, budget: Callable[[], float], region: str, bucket: str, prefix: str
) -> bool:
    """False when S3 will not say (another account's bucket, say): the import judges."""
    try:
        listed = clients.s3(region, budget()).list_objects_v2(
            Bucket=bucket, Prefix=prefix, MaxKeys=1
        )
    except aws.ERRORS as error:
        logger.warning(
            "cannot list s3://%s/%s (%s): the import judges",
            bucket,
            prefix,
            aws.error_code(error) or type(error).__name__,
        )
        return False
    return not listed.get("Contents")


def _recent_import_ids(
    clients: aws.Clients, budget: Callable[[], float], destination: str
) -> list[str]:
    listed: list[Mapping[str, Any]] = []
    kwargs: dict[str, Any] = {"Destination": destination, "MaxResults": LIST_IMPORTS_PAGE}
    for _ in range(LIST_IMPORTS_PAGES):
        response = clients.cloudtrail(None, budget()).list_imports(**kwargs)
        listed.extend(item for item in response.get("Imports", []) if item.get("ImportId"))
        token = response.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
    listed.sort(key=lambda item: str(item.get("CreatedTimestamp", "")), reverse=True)
    return [str(item["ImportId"]) for item in listed]


def _data(
    arn: str, props: PlanProperties, execution_input: Mapping[str, Any] | None
) -> dict[str, Any]:
    data: dict[str, Any] = {"ExecutionArn": arn, "SegmentCount": len(props.segments)}
    if execution_input is not None:
        data["SkippedSegments"] = sum(1 for s in execution_input["Segments"] if "Completed" in s)
    return data
