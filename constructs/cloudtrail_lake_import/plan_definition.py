"""The plan's state machine: segments one at a time, each StartImport → Wait/GetImport → done.

No Lambda in the loop: every CloudTrail call is a Step Functions AWS SDK integration. The
execution input and output are the contract with the custom resource handler
(``lambda/start_plan``) and with ``cloudtrail-lake-import status``; docs/DESIGN.md describes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from constructs import Construct

EVENT_SOURCE = "cloudtrail-lake-import"
SEGMENT_DETAIL_TYPE = "CloudTrail Lake Import Plan Segment Finished"
PLAN_DETAIL_TYPE = "CloudTrail Lake Import Plan Finished"
SEGMENT_FAILED_ERROR = "CloudTrailLakeImportPlan.SegmentFailed"
SEGMENTS_FAILED_ERROR = "CloudTrailLakeImportPlan.SegmentsFailed"
BUSY_ERROR = "CloudTrail.AccountHasOngoingImportException"
# Back-off while another import holds the account: 1 min, doubling, at most an hour apart.
BUSY_FIRST_INTERVAL = Duration.minutes(1)
BUSY_MAX_INTERVAL = Duration.hours(1)
BUSY_BACKOFF_RATE = 2.0
FAILURES_SHOWN = 5


@dataclass(frozen=True)
class PlanBehaviour:
    """The choices of the definition that are fixed at synth time."""

    plan_name: str
    continue_on_failure: bool
    busy_account_wait: Duration
    notify: sns.ITopic | None


def busy_retry_attempts(wait: Duration) -> int:
    """How many StartImport retries cover ``wait`` with the busy back-off."""
    total, interval, attempts = 0.0, BUSY_FIRST_INTERVAL.to_seconds(), 0
    while total < wait.to_seconds():
        total += interval
        attempts += 1
        interval = min(interval * BUSY_BACKOFF_RATE, BUSY_MAX_INTERVAL.to_seconds())
    return max(attempts, 1)


def _start_import(scope: Construct, id: str, parameters: dict[str, str] | None) -> sfn.CustomState:
    # A CustomState because CallAwsService always renders Parameters: a new import passes the
    # segment's request as it is (InputPath), so that an absent window stays absent.
    state: dict[str, object] = {
        "Type": "Task",
        "Resource": f"arn:{Stack.of(scope).partition}:states:::aws-sdk:cloudtrail:startImport",
        "ResultSelector": {"ImportId.$": "$.ImportId"},
        "ResultPath": "$.Import",
    }
    if parameters is None:
        state["InputPath"] = "$.Segment.Request"
    else:
        state["Parameters"] = parameters
    return sfn.CustomState(scope, id, state_json=state)


def _with_busy_retry(state: sfn.CustomState, behaviour: PlanBehaviour) -> sfn.CustomState:
    state.add_retry(
        errors=[BUSY_ERROR],
        interval=BUSY_FIRST_INTERVAL,
        backoff_rate=BUSY_BACKOFF_RATE,
        max_delay=BUSY_MAX_INTERVAL,
        max_attempts=busy_retry_attempts(behaviour.busy_account_wait),
    )
    return state


def _sdk(scope: Construct, id: str, action: str, **props: object) -> tasks.CallAwsService:
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


def _notify(
    scope: Construct, id: str, behaviour: PlanBehaviour, detail_type: str, detail: dict[str, object]
) -> sfn.Chain:
    """An EventBridge event on the default bus, and the same detail to ``notify`` if given."""
    put = tasks.EventBridgePutEvents(
        scope,
        f"{id}Event",
        entries=[
            tasks.EventBridgePutEventsEntry(
                detail=sfn.TaskInput.from_object(detail),
                detail_type=detail_type,
                source=EVENT_SOURCE,
            )
        ],
        result_path=sfn.JsonPath.DISCARD,
    )
    if behaviour.notify is None:
        return sfn.Chain.start(put)
    publish = tasks.SnsPublish(
        scope,
        f"{id}Notification",
        topic=behaviour.notify,
        subject=detail_type,
        message=sfn.TaskInput.from_object(detail),
        result_path=sfn.JsonPath.DISCARD,
    )
    return sfn.Chain.start(put).next(publish)


def plan_definition(scope: Construct, behaviour: PlanBehaviour) -> sfn.IChainable:
    """The whole definition; its states are children of ``scope``."""
    segment = _segment_states(scope, behaviour)
    each = sfn.Map(
        scope,
        "EachSegment",
        comment="the segments in order, one at a time",
        items_path="$.Segments",
        item_selector={
            "Segment.$": "$$.Map.Item.Value",
            "Settings.$": "$.Settings",
            "Retries": 0,
        },
        max_concurrency=1,
        result_path="$.Results",
    )
    each.item_processor(segment)
    outcome = {
        "Plan": behaviour.plan_name,
        "ExecutionArn.$": "$$.Execution.Id",
        "Segments.$": "$.Results",
    }
    summarize = sfn.Pass(
        scope,
        "Summarize",
        parameters={
            "Segments.$": "$.Results",
            "FailedSegments.$": "$.Results[?(@.ImportStatus != 'COMPLETED')].Index",
        },
    )
    succeeded = _notify(
        scope, "PlanSucceeded", behaviour, PLAN_DETAIL_TYPE, {**_status("SUCCEEDED"), **outcome}
    ).next(sfn.Succeed(scope, "Done"))
    some_failed = _notify(
        scope,
        "PlanFinishedWithFailures",
        behaviour,
        PLAN_DETAIL_TYPE,
        {**_status("FAILED"), **outcome},
    ).next(
        sfn.Fail(
            scope,
            "SomeSegmentsFailed",
            error=SEGMENTS_FAILED_ERROR,
            cause_path="States.JsonToString($.FailedSegments)",
        )
    )
    # Stopping at a failed segment: the Map fails with SegmentFailed and the cause (the segment).
    stopped = _notify(
        scope,
        "PlanFailed",
        behaviour,
        PLAN_DETAIL_TYPE,
        {
            **_status("FAILED"),
            "Plan": behaviour.plan_name,
            "ExecutionArn.$": "$$.Execution.Id",
            "Error.$": "$.Failure.Error",
            "Cause.$": "$.Failure.Cause",
        },
    ).next(
        sfn.Fail(scope, "PlanStopped", error_path="$.Failure.Error", cause_path="$.Failure.Cause")
    )
    each.add_catch(stopped, errors=["States.ALL"], result_path="$.Failure")
    return each.next(summarize).next(
        sfn.Choice(scope, "AnySegmentFailed")
        .when(sfn.Condition.is_present("$.FailedSegments[0]"), some_failed)
        .otherwise(succeeded)
    )


def _status(status: str) -> dict[str, object]:
    return {"Status": status}


def _segment_states(scope: Construct, behaviour: PlanBehaviour) -> sfn.IChainable:
    """One segment: skip it, adopt its running import, or start it; then wait for the end."""
    skip = sfn.Pass(
        scope,
        "SkipCompletedSegment",
        comment="an identical import already COMPLETED on the store: not copied again",
        parameters={
            "Index.$": "$.Segment.Index",
            "ImportId.$": "$.Segment.Completed.ImportId",
            "ImportStatus": "COMPLETED",
            "ImportStatistics.$": "$.Segment.Completed.ImportStatistics",
            "Retries": 0,
            "Skipped": True,
        },
        result_path="$.Result",
    )
    follow = sfn.Pass(
        scope,
        "FollowRunningImport",
        comment="an identical import is running (an earlier execution's): wait for it",
        parameters={"ImportId.$": "$.Segment.Adopt.ImportId"},
        result_path="$.Import",
    )
    resume = sfn.Pass(
        scope,
        "ResumeEarlierImport",
        comment="an identical import FAILED or was STOPPED: retry it by ImportId, not copy anew",
        parameters={"ImportId.$": "$.Segment.Adopt.ImportId"},
        result_path="$.Import",
    )
    start = _with_busy_retry(_start_import(scope, "StartImport", None), behaviour)
    wait = sfn.Wait(
        scope,
        "WaitForImport",
        time=sfn.WaitTime.seconds_path("$.Settings.PollIntervalSeconds"),
    )
    get = _sdk(
        scope,
        "GetImport",
        "getImport",
        parameters={"ImportId.$": "$.Import.ImportId"},
        result_selector={
            "ImportId.$": "$.ImportId",
            "ImportStatus.$": "$.ImportStatus",
            "ImportStatistics.$": "$.ImportStatistics",
        },
        result_path="$.Import",
    )
    # A multi-day plan must not end on one failed poll: GetImport is retried generously.
    get.add_retry(
        errors=["States.ALL"],
        interval=Duration.seconds(10),
        backoff_rate=2,
        max_delay=Duration.minutes(10),
        max_attempts=10,
    )
    retry = _with_busy_retry(
        _start_import(scope, "RetryImport", {"ImportId.$": "$.Import.ImportId"}), behaviour
    )
    count_retry = sfn.Pass(
        scope,
        "CountRetry",
        parameters={
            "Segment.$": "$.Segment",
            "Settings.$": "$.Settings",
            "Import.$": "$.Import",
            "Retries.$": "States.MathAdd($.Retries, 1)",
        },
    )
    completed = _result(scope, "CompletedResult", failures=False)
    failures = _sdk(
        scope,
        "ListImportFailures",
        "listImportFailures",
        parameters={"ImportId.$": "$.Import.ImportId", "MaxResults": FAILURES_SHOWN},
        result_selector={"Failures.$": "$.Failures"},
        result_path="$.Failures",
    )
    failed = _result(scope, "FailedResult", failures=True)
    # Without the list the segment's outcome is still known: the error takes its place.
    failures.add_catch(failed, errors=["States.ALL"], result_path="$.Failures")
    failures.next(failed)
    stopped = _result(scope, "StoppedResult", failures=False)
    not_started = sfn.Pass(
        scope,
        "NotStartedResult",
        parameters={
            "Index.$": "$.Segment.Index",
            "ImportStatus": "NOT_STARTED",
            "Retries.$": "$.Retries",
            "Skipped": False,
            "Error.$": "$.Error.Error",
            "Cause.$": "$.Error.Cause",
        },
        result_path="$.Result",
    )
    start.add_catch(not_started, errors=["States.ALL"], result_path="$.Error")
    retry.add_catch(not_started, errors=["States.ALL"], result_path="$.Error")

    finished_ok = _segment_finished(scope, "SegmentCompleted", behaviour).next(
        sfn.Pass(scope, "SegmentOutput", output_path="$.Result")
    )
    if behaviour.continue_on_failure:
        finished_bad = _segment_finished(scope, "SegmentFailed", behaviour).next(
            sfn.Pass(scope, "FailedSegmentOutput", output_path="$.Result")
        )
    else:
        finished_bad = _segment_finished(scope, "SegmentFailed", behaviour).next(
            sfn.Fail(
                scope,
                "StopPlan",
                error=SEGMENT_FAILED_ERROR,
                cause_path="States.JsonToString($.Result)",
            )
        )
    skip.next(finished_ok)
    completed.next(finished_ok)
    for bad in (failed, stopped, not_started):
        bad.next(finished_bad)

    may_retry = (
        sfn.Choice(scope, "RetryLeft")
        .when(
            sfn.Condition.number_less_than_json_path("$.Retries", "$.Settings.MaxRetries"),
            retry.next(count_retry).next(wait),
        )
        .otherwise(failures)
    )
    status = (
        sfn.Choice(scope, "ImportStatus")
        .when(sfn.Condition.string_equals("$.Import.ImportStatus", "COMPLETED"), completed)
        .when(sfn.Condition.string_equals("$.Import.ImportStatus", "FAILED"), may_retry)
        # STOPPED is someone's decision (StopImport, or the plan's own Delete): not retried.
        .when(sfn.Condition.string_equals("$.Import.ImportStatus", "STOPPED"), stopped)
        .otherwise(wait)
    )
    wait.next(get).next(status)
    return (
        sfn.Choice(scope, "SegmentKind")
        .when(sfn.Condition.is_present("$.Segment.Completed"), skip)
        .when(sfn.Condition.is_present("$.Segment.Adopt.Resume"), resume.next(retry))
        .when(sfn.Condition.is_present("$.Segment.Adopt"), follow.next(wait))
        .otherwise(start.next(wait))
    )


def _result(scope: Construct, id: str, *, failures: bool) -> sfn.Pass:
    parameters: dict[str, object] = {
        "Index.$": "$.Segment.Index",
        "ImportId.$": "$.Import.ImportId",
        "ImportStatus.$": "$.Import.ImportStatus",
        "ImportStatistics.$": "$.Import.ImportStatistics",
        "Retries.$": "$.Retries",
        "Skipped": False,
    }
    if failures:
        parameters["FirstFailures.$"] = "$.Failures"
    return sfn.Pass(scope, id, parameters=parameters, result_path="$.Result")


def _segment_finished(scope: Construct, id: str, behaviour: PlanBehaviour) -> sfn.Chain:
    return _notify(
        scope,
        id,
        behaviour,
        SEGMENT_DETAIL_TYPE,
        {
            "Plan": behaviour.plan_name,
            "ExecutionArn.$": "$$.Execution.Id",
            "Segment.$": "$.Result",
        },
    )
