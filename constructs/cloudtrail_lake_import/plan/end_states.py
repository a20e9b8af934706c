"""The plan's last states: every segment ran (succeeded, or some failed with
``continue_on_failure``), or the plan stopped early. Each reports the outcome, signals the
plan's WaitCondition if it has one, then ends the execution."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from cloudtrail_lake_import.plan.notifications import PLAN_DETAIL_TYPE, best_effort, notify
from constructs import Construct

if TYPE_CHECKING:
    from cloudtrail_lake_import.plan.definition import PlanBehaviour

SEGMENT_FAILED_ERROR = "CloudTrailLakeImportPlan.SegmentFailed"
SEGMENTS_FAILED_ERROR = "CloudTrailLakeImportPlan.SegmentsFailed"
PLAN_STOPPED_ERROR = "CloudTrailLakeImportPlan.Stopped"


def _outcome(behaviour: PlanBehaviour) -> dict[str, object]:
    return {
        "Plan": behaviour.plan_name,
        "ExecutionArn.$": "$$.Execution.Id",
        "Segments.$": "$.Segments",
    }


def succeeded(scope: Construct, behaviour: PlanBehaviour) -> sfn.IChainable:
    done = sfn.Succeed(scope, "Done")
    return notify(
        scope,
        "PlanSucceeded",
        behaviour.notify,
        PLAN_DETAIL_TYPE,
        {**_status("SUCCEEDED"), **_outcome(behaviour)},
        then=_signal(scope, "SignalSuccess", behaviour, "SUCCESS", done),
    )


def some_failed(scope: Construct, behaviour: PlanBehaviour) -> sfn.IChainable:
    """With continue_on_failure: every segment ran; the plan ends FAILED naming the failed ones."""
    list_failed = sfn.Pass(
        scope,
        "ListFailedSegments",
        parameters={
            "Segments.$": "$.Segments",
            "FailedSegments.$": "$.Segments[?(@.Failed == true)].Index",
            "FailCause": {
                "FailedSegments.$": "$.Segments[?(@.Failed == true)].Index",
                # Every segment's status, by index: short enough for the Fail cause's 32 KiB.
                "SegmentStatuses.$": "$.Segments[*].ImportStatus",
            },
        },
    )
    fail = sfn.Fail(
        scope,
        "SomeSegmentsFailed",
        error=SEGMENTS_FAILED_ERROR,
        cause_path="States.JsonToString($.FailCause)",
    )
    return list_failed.next(
        notify(
            scope,
            "PlanFinishedWithFailures",
            behaviour.notify,
            PLAN_DETAIL_TYPE,
            {**_status("FAILED"), **_outcome(behaviour), "FailedSegments.$": "$.FailedSegments"},
            then=_signal(scope, "SignalSegmentsFailed", behaviour, "FAILURE", fail),
        )
    )


def stopped(scope: Construct, behaviour: PlanBehaviour) -> sfn.IChainable:
    """The plan stopped (a failed segment, or an error of the engine): the Map's results are
    lost, so every segment's status is rebuilt from the failed one's index."""
    read_failed = sfn.Pass(
        scope,
        "ReadFailedSegment",
        parameters={
            "Segments.$": "$.Segments",
            "Failure.$": "$.Failure",
            "Stop.$": "States.StringToJson($.Failure.Cause)",
        },
    )
    unknown = sfn.Pass(
        scope,
        "NoFailedSegment",
        comment="not a segment's failure: which segments ran is unknown",
        parameters={"Segments.$": "$.Segments", "Failure.$": "$.Failure", "Stop": {"Index": -1}},
    )
    summarize = sfn.Pass(
        scope,
        "SummarizeStop",
        parameters={
            "Segments.$": "$.Results",
            "Failure": {
                "Error.$": "$.Failure.Error",
                "Cause.$": "$.Failure.Cause",
                "SegmentStatuses.$": "$.Results[*].ImportStatus",
            },
        },
    )
    # A fixed error name: the caught one may be reserved (States.*), which Fail cannot raise.
    fail = sfn.Fail(
        scope, "PlanStopped", error=PLAN_STOPPED_ERROR, cause_path="States.JsonToString($.Failure)"
    )
    report = notify(
        scope,
        "PlanFailed",
        behaviour.notify,
        PLAN_DETAIL_TYPE,
        {
            **_status("FAILED"),
            **_outcome(behaviour),
            "Error.$": "$.Failure.Error",
            "Cause.$": "$.Failure.Cause",
        },
        then=_signal(scope, "SignalStopped", behaviour, "FAILURE", fail),
    )
    listed = _segment_list(scope).next(summarize).next(report)
    read_failed.next(listed)
    unknown.next(listed)
    return (
        sfn.Choice(scope, "WhyStopped")
        .when(sfn.Condition.string_equals("$.Failure.Error", SEGMENT_FAILED_ERROR), read_failed)
        .otherwise(unknown)
    )


def _segment_list(scope: Construct) -> sfn.Map:
    """Every segment's status after a stop: the ones before the failed one COMPLETED (the plan
    goes on only past a completed segment), the failed one itself, the rest NOT_RUN."""
    each = sfn.Map(
        scope,
        "ListSegments",
        items_path="$.Segments",
        item_selector={"Index.$": "$$.Map.Item.Value.Index", "Stop.$": "$.Stop"},
        result_path="$.Results",
    )

    def status(id: str, value: str) -> sfn.Pass:
        return sfn.Pass(scope, id, parameters={"Index.$": "$.Index", "ImportStatus": value})

    each.item_processor(
        sfn.Choice(scope, "SegmentStatus")
        .when(sfn.Condition.number_equals("$.Stop.Index", -1), status("StatusUnknown", "UNKNOWN"))
        .when(
            sfn.Condition.number_equals_json_path("$.Index", "$.Stop.Index"),
            sfn.Pass(scope, "StatusOfFailed", output_path="$.Stop"),
        )
        .when(
            sfn.Condition.number_less_than_json_path("$.Index", "$.Stop.Index"),
            status("StatusCompleted", "COMPLETED"),
        )
        .otherwise(status("StatusNotRun", "NOT_RUN"))
    )
    return each


def _signal(
    scope: Construct, id: str, behaviour: PlanBehaviour, status: str, then: sfn.IChainable
) -> sfn.IChainable:
    """Signal the plan's WaitCondition (when it has one), then ``then``; never fails the plan."""
    if behaviour.signal is None:
        return then
    invoke = tasks.LambdaInvoke(
        scope,
        id,
        lambda_function=behaviour.signal,
        payload=sfn.TaskInput.from_object(
            {
                "Status": status,
                "UniqueId.$": "$$.Execution.Name",
                "Reason": f"import plan {behaviour.plan_name}: {status}",
                "Data.$": "$$.Execution.Id",
            }
        ),
        result_path=sfn.JsonPath.DISCARD,
    )
    return best_effort(invoke, then)


def _status(status: str) -> dict[str, object]:
    return {"Status": status}
