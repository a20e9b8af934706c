"""The CloudTrail calls of a segment as Step Functions AWS SDK tasks, and its StartImport
states: one per window shape, retried while another import holds the account."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from cloudtrail_lake_import.plan import lookup
from constructs import Construct

if TYPE_CHECKING:
    from cloudtrail_lake_import.plan.definition import PlanBehaviour

BUSY_ERROR = "CloudTrail.AccountHasOngoingImportException"
# Back-off while another import holds the account: 1 min, doubling, at most an hour apart.
BUSY_FIRST_INTERVAL = Duration.minutes(1)
BUSY_MAX_INTERVAL = Duration.hours(1)
BUSY_BACKOFF_RATE = 2.0

#: The StartImport state for each window shape (start bound given, end bound given).
_START_STATES = {
    (True, True): "StartImport",
    (True, False): "StartImportFromStart",
    (False, True): "StartImportUntilEnd",
    (False, False): "StartImportWholeSource",
}


def busy_retry_attempts(wait: Duration) -> int:
    """How many StartImport retries cover ``wait`` with the busy back-off."""
    total, interval, attempts = 0.0, BUSY_FIRST_INTERVAL.to_seconds(), 0
    while total < wait.to_seconds():
        total += interval
        attempts += 1
        interval = min(interval * BUSY_BACKOFF_RATE, BUSY_MAX_INTERVAL.to_seconds())
    return max(attempts, 1)


def sdk(scope: Construct, id: str, action: str, **props: object) -> tasks.CallAwsService:
    """A CloudTrail call (``action`` in the SDK's camelCase) as a Step Functions task."""
    return tasks.CallAwsService(
        scope,
        id,
        service="cloudtrail",
        action=action,
        iam_action=f"cloudtrail:{action[0].upper()}{action[1:]}",
        # The CloudTrail import actions have no resource type: IAM accepts only "*".
        iam_resources=["*"],
        **props,  # type: ignore[arg-type]
    )


def start_import(scope: Construct, id: str, parameters: dict[str, str]) -> tasks.CallAwsService:
    return sdk(
        scope,
        id,
        "startImport",
        parameters=parameters,
        result_selector={"ImportId.$": "$.ImportId"},
        result_path="$.Import",
    )


def new_imports(
    scope: Construct, behaviour: PlanBehaviour
) -> dict[tuple[bool, bool], tasks.CallAwsService]:
    """A StartImport state for each window shape the plan's segments have."""
    return {
        shape: with_busy_retry(_new_import(scope, shape), behaviour)
        for shape in sorted(behaviour.window_shapes, reverse=True)
    }


def _new_import(scope: Construct, shape: tuple[bool, bool]) -> tasks.CallAwsService:
    """StartImport of a segment's request; an absent bound must stay absent (no window), and
    Parameters cannot leave out a missing key, so there is one state per window shape."""
    parameters = {
        "Destinations.$": "$.Segment.Request.Destinations",
        "ImportSource.$": "$.Segment.Request.ImportSource",
    }
    has_start, has_end = shape
    if has_start:
        parameters["StartEventTime.$"] = "$.Segment.Request.StartEventTime"
    if has_end:
        parameters["EndEventTime.$"] = "$.Segment.Request.EndEventTime"
    return start_import(scope, _START_STATES[shape], parameters)


def with_busy_retry(state: tasks.CallAwsService, behaviour: PlanBehaviour) -> tasks.CallAwsService:
    lookup.retry_throttling(state)
    state.add_retry(
        errors=[BUSY_ERROR],
        interval=BUSY_FIRST_INTERVAL,
        backoff_rate=BUSY_BACKOFF_RATE,
        max_delay=BUSY_MAX_INTERVAL,
        max_attempts=busy_retry_attempts(behaviour.busy_account_wait),
    )
    return state


def by_window_shape(
    scope: Construct, starts: dict[tuple[bool, bool], tasks.CallAwsService]
) -> sfn.IChainable:
    """The StartImport state of the segment's window shape (no choice when there is one)."""
    if len(starts) == 1:
        return next(iter(starts.values()))
    choice = sfn.Choice(scope, "WindowShape")
    for (has_start, has_end), state in starts.items():
        choice.when(
            sfn.Condition.and_(
                _presence("$.Segment.Request.StartEventTime", present=has_start),
                _presence("$.Segment.Request.EndEventTime", present=has_end),
            ),
            state,
        )
    return choice


def _presence(path: str, *, present: bool) -> sfn.Condition:
    return sfn.Condition.is_present(path) if present else sfn.Condition.is_not_present(path)
