"""The plan's state machine: segments one at a time, each StartImport → Wait/GetImport → done.

No Lambda in the loop: every CloudTrail call is a Step Functions AWS SDK integration. The
execution input and output are the contract with the custom resource handler
(``lambda/start_plan``) and with ``cloudtrail-lake-import status``; docs/DESIGN.md describes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from cloudtrail_lake_import.plan import continuation, lookup
from constructs import Construct

EVENT_SOURCE = "cloudtrail-lake-import"
SEGMENT_DETAIL_TYPE = "CloudTrail Lake Import Plan Segment Finished"
PLAN_DETAIL_TYPE = "CloudTrail Lake Import Plan Finished"
SEGMENT_FAILED_ERROR = "CloudTrailLakeImportPlan.SegmentFailed"
SEGMENTS_FAILED_ERROR = "CloudTrailLakeImportPlan.SegmentsFailed"
PLAN_STOPPED_ERROR = "CloudTrailLakeImportPlan.Stopped"
BUSY_ERROR = "CloudTrail.AccountHasOngoingImportException"
# Back-off while another import holds the account: 1 min, doubling, at most an hour apart.
BUSY_FIRST_INTERVAL = Duration.minutes(1)
BUSY_MAX_INTERVAL = Duration.hours(1)
BUSY_BACKOFF_RATE = 2.0
FAILURES_SHOWN = 5
NOTIFY_RETRY_INTERVAL = Duration.seconds(2)
NOTIFY_RETRY_ATTEMPTS = 3


@dataclass(frozen=True)
class PlanBehaviour:
    """The choices of the definition that are fixed at synth time."""

    plan_name: str
    continue_on_failure: bool
    busy_account_wait: Duration
    notify: sns.ITopic | None
    #: (has a start, has an end) of the segments' windows; one StartImport state for each.
    window_shapes: frozenset[tuple[bool, bool]]
    #: The function that signals the plan's WaitCondition at the end, if it has one.
    signal: lambda_.IFunction | None = None


def busy_retry_attempts(wait: Duration) -> int:
    """How many StartImport retries cover ``wait`` with the busy back-off."""
    total, interval, attempts = 0.0, BUSY_FIRST_INTERVAL.to_seconds(), 0
    while total < wait.to_seconds():
        total += interval
        attempts += 1
        interval = min(interval * BUSY_BACKOFF_RATE, BUSY_MAX_INTERVAL.to_seconds())
    return max(attempts, 1)


#: The StartImport state for each window shape (start bound given, end bound given).
_START_STATES = {
    (True, True): "StartImport",
    (True, False): "StartImportFromStart",
    (False, True): "StartImportUntilEnd",
    (False, False): "StartImportWholeSource",
}


def _start_import(scope: Construct, id: str, parameters: dict[str, str]) -> tasks.CallAwsService:
    return _sdk(
        scope,
        id,
        "startImport",
        parameters=parameters,
        result_selector={"ImportId.$": "$.ImportId"},
        result_path="$.Import",
    )


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
    return _start_import(scope, _START_STATES[shape], parameters)


def _with_busy_retry(state: tasks.CallAwsService, behaviour: PlanBehaviour) -> tasks.CallAwsService:
    lookup.retry_throttling(state)
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
    scope: Construct,
    id: str,
    behaviour: PlanBehaviour,
    detail_type: str,
    detail: dict[str, object],
    then: sfn.IChainable,
) -> sfn.IChainable:
    """An EventBridge event on the default bus, and the same detail to ``notify`` if given, then
    ``then``. A notification is retried, then given up: it never stops the plan."""
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
        return _best_effort(put, then)
    publish = tasks.SnsPublish(
        scope,
        f"{id}Notification",
        topic=behaviour.notify,
        subject=detail_type,
        message=sfn.TaskInput.from_object(detail),
        result_path=sfn.JsonPath.DISCARD,
    )
    return _best_effort(put, _best_effort(publish, then))


def _best_effort(task: sfn.TaskStateBase, then: sfn.IChainable) -> sfn.TaskStateBase:
    task.add_retry(
        errors=["States.ALL"],
        interval=NOTIFY_RETRY_INTERVAL,
        backoff_rate=2,
        max_attempts=NOTIFY_RETRY_ATTEMPTS,
    )
    task.add_catch(then, errors=["States.ALL"], result_path=sfn.JsonPath.DISCARD)
    task.next(then)
    return task


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
            "Chain.$": "$.Chain",
            "Retries": 0,
            "Polls": {"Count": 0},
        },
        max_concurrency=1,
        result_path="$.Results",
    )
    each.item_processor(segment)
    stopped = _stopped(scope, behaviour)
    # Before Step Functions' history limit: the next link of the chain goes on.
    each.add_catch(
        continuation.continuation(scope, not_continued=stopped),
        errors=[continuation.CONTINUED_ERROR],
        result_path="$.Failure",
    )
    # Stopping at a failed segment: the Map fails with SegmentFailed and the cause (the segment).
    each.add_catch(stopped, errors=["States.ALL"], result_path="$.Failure")
    # A JSONPath filter that matches nothing is an error, so presence is asked first.
    summarize = sfn.Pass(
        scope,
        "Summarize",
        parameters={
            "Segments.$": "$.Results",
            "AnyFailed.$": "States.ArrayContains($.Results[*].Failed, true)",
        },
    )
    each.next(summarize).next(
        sfn.Choice(scope, "AnySegmentFailed")
        .when(sfn.Condition.boolean_equals("$.AnyFailed", True), _some_failed(scope, behaviour))
        .otherwise(_succeeded(scope, behaviour))
    )
    return continuation.start_chain(scope, each)


def _outcome(behaviour: PlanBehaviour) -> dict[str, object]:
    return {
        "Plan": behaviour.plan_name,
        "ExecutionArn.$": "$$.Execution.Id",
        "Segments.$": "$.Segments",
    }


def _succeeded(scope: Construct, behaviour: PlanBehaviour) -> sfn.IChainable:
    done = sfn.Succeed(scope, "Done")
    return _notify(
        scope,
        "PlanSucceeded",
        behaviour,
        PLAN_DETAIL_TYPE,
        {**_status("SUCCEEDED"), **_outcome(behaviour)},
        then=_signal(scope, "SignalSuccess", behaviour, "SUCCESS", done),
    )


def _some_failed(scope: Construct, behaviour: PlanBehaviour) -> sfn.IChainable:
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
        _notify(
            scope,
            "PlanFinishedWithFailures",
            behaviour,
            PLAN_DETAIL_TYPE,
            {**_status("FAILED"), **_outcome(behaviour), "FailedSegments.$": "$.FailedSegments"},
            then=_signal(scope, "SignalSegmentsFailed", behaviour, "FAILURE", fail),
        )
    )


def _stopped(scope: Construct, behaviour: PlanBehaviour) -> sfn.IChainable:
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
    notify = _notify(
        scope,
        "PlanFailed",
        behaviour,
        PLAN_DETAIL_TYPE,
        {
            **_status("FAILED"),
            **_outcome(behaviour),
            "Error.$": "$.Failure.Error",
            "Cause.$": "$.Failure.Cause",
        },
        then=_signal(scope, "SignalStopped", behaviour, "FAILURE", fail),
    )
    listed = _segment_list(scope).next(summarize).next(notify)
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
    return _best_effort(invoke, then)


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
            "Failed": False,
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
    starts = {
        shape: _with_busy_retry(_new_import(scope, shape), behaviour)
        for shape in sorted(behaviour.window_shapes, reverse=True)
    }
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
        # The whole response: a ResultSelector naming ImportStatistics fails with States.Runtime
        # (which no Retry or Catch handles) while an INITIALIZING import has none yet.
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
            "Chain.$": "$.Chain",
            "Import.$": "$.Import",
            "Retries.$": "States.MathAdd($.Retries, 1)",
            "Polls": {
                "Count.$": f"States.MathAdd($.Polls.Count, {continuation.RETRY_POLL_WEIGHT})"
            },
        },
    )
    completed = _result(scope, "CompletedResult", failed=False)
    failures = _sdk(
        scope,
        "ListImportFailures",
        "listImportFailures",
        parameters={"ImportId.$": "$.Import.ImportId", "MaxResults": FAILURES_SHOWN},
        # Not the whole entries: their LastUpdatedTime adds nothing to "which files, why".
        result_selector={
            "Locations.$": "$.Failures[*].Location",
            "ErrorTypes.$": "$.Failures[*].ErrorType",
            "ErrorMessages.$": "$.Failures[*].ErrorMessage",
        },
        result_path="$.Failures",
    )
    failed = _result(scope, "FailedResult", failed=True, failures=True)
    # Without the list the segment's outcome is still known: the error takes its place.
    failures.add_catch(failed, errors=["States.ALL"], result_path="$.Failures")
    failures.next(failed)
    stopped = _result(scope, "StoppedResult", failed=True)
    not_started = sfn.Pass(
        scope,
        "NotStartedResult",
        parameters={
            "Index.$": "$.Segment.Index",
            "ImportStatus": "NOT_STARTED",
            "Retries.$": "$.Retries",
            "Skipped": False,
            "Failed": True,
            "Error.$": "$.Error.Error",
            "Cause.$": "$.Error.Cause",
        },
        result_path="$.Result",
    )
    poll_failed = sfn.Pass(
        scope,
        "PollFailedResult",
        parameters={
            "Index.$": "$.Segment.Index",
            "ImportId.$": "$.Import.ImportId",
            "ImportStatus": "UNKNOWN",
            "Retries.$": "$.Retries",
            "Skipped": False,
            "Failed": True,
            "Error.$": "$.Error.Error",
            "Cause.$": "$.Error.Cause",
        },
        result_path="$.Result",
    )
    get.add_catch(poll_failed, errors=["States.ALL"], result_path="$.Error")
    lookup_failed = sfn.Pass(
        scope,
        "LookupFailedResult",
        comment="StartImport's answer was lost and the look-up failed: it may have started",
        parameters={
            "Index.$": "$.Segment.Index",
            "ImportStatus": "UNKNOWN",
            "Retries.$": "$.Retries",
            "Skipped": False,
            "Failed": True,
            "Error.$": "$.Error.Error",
            "Cause.$": "States.Format('StartImport: {}; looking for the import it may have "
            "started: {}: {}. Check ListImports for this store.', $.Error.Cause, "
            "$.LookupError.Error, $.LookupError.Cause)",
        },
        result_path="$.Result",
    )
    look_up = lookup.look_for_started_import(
        scope, found=wait, not_found=not_started, lookup_failed=lookup_failed
    )
    for start in starts.values():
        start.add_catch(not_started, errors=lookup.REFUSED_ERRORS, result_path="$.Error")
        start.add_catch(look_up, errors=["States.ALL"], result_path="$.Error")
        start.next(wait)
    # A refused or lost retry: the import's own status tells whether it runs again.
    recheck = _sdk(
        scope,
        "GetImportAfterRetry",
        "getImport",
        parameters={"ImportId.$": "$.Import.ImportId"},
        result_path="$.Import",
    )
    recheck.add_retry(
        errors=["States.ALL"], interval=Duration.seconds(10), backoff_rate=2, max_attempts=5
    )
    recheck.add_catch(poll_failed, errors=["States.ALL"], result_path="$.Error")
    retry.add_catch(recheck, errors=["States.ALL"], result_path="$.Error")
    retry_refused = sfn.Pass(
        scope,
        "RetryRefusedResult",
        comment="the retry was refused: the import keeps its own status",
        parameters={
            "Index.$": "$.Segment.Index",
            "ImportId.$": "$.Import.ImportId",
            "ImportStatus.$": "$.Import.ImportStatus",
            "Retries.$": "$.Retries",
            "Skipped": False,
            "Failed": True,
            "Error.$": "$.Error.Error",
            "Cause.$": "$.Error.Cause",
        },
        result_path="$.Result",
    )

    finished_ok = _segment_finished(
        scope,
        "SegmentCompleted",
        behaviour,
        sfn.Pass(scope, "SegmentOutput", output_path="$.Result"),
    )
    finished_bad = _segment_finished(
        scope,
        "SegmentFailed",
        behaviour,
        continuation.hand_over(
            scope,
            "AfterFailure",
            {
                "From.$": "States.MathAdd($.Segment.Index, 1)",
                "Failed.$": "States.Format('{}{}|', $.Chain.Failed, $.Segment.Index)",
            },
        )
        if behaviour.continue_on_failure
        else sfn.Fail(
            scope,
            "StopPlan",
            error=SEGMENT_FAILED_ERROR,
            cause_path="States.JsonToString($.Result)",
        ),
    )
    skip.next(finished_ok)
    completed.next(finished_ok)
    for bad in (failed, stopped, not_started, poll_failed, lookup_failed, retry_refused):
        bad.next(finished_bad)
    running = sfn.Condition.or_(
        sfn.Condition.string_equals("$.Import.ImportStatus", "INITIALIZING"),
        sfn.Condition.string_equals("$.Import.ImportStatus", "IN_PROGRESS"),
    )

    retry.next(count_retry)
    recheck.next(
        sfn.Choice(scope, "RunsAfterRetry").when(running, count_retry).otherwise(retry_refused)
    )
    count_poll = sfn.Pass(
        scope,
        "CountPoll",
        parameters={"Count.$": "States.MathAdd($.Polls.Count, 1)"},
        result_path="$.Polls",
    )
    count_poll.next(
        sfn.Choice(scope, "PollsLeft")
        .when(
            sfn.Condition.number_greater_than_equals(
                "$.Polls.Count", continuation.POLLS_BEFORE_CONTINUING
            ),
            continuation.hand_over(
                scope,
                "MidImport",
                {
                    "From.$": "$.Segment.Index",
                    "ImportId.$": "$.Import.ImportId",
                    "Retries.$": "$.Retries",
                },
            ),
        )
        .otherwise(wait)
    )
    count_retry.next(wait)
    may_retry = (
        sfn.Choice(scope, "RetryLeft")
        .when(
            sfn.Condition.number_less_than_json_path("$.Retries", "$.Settings.MaxRetries"),
            retry,
        )
        .otherwise(failures)
    )
    status = (
        sfn.Choice(scope, "ImportStatus")
        .when(sfn.Condition.string_equals("$.Import.ImportStatus", "COMPLETED"), completed)
        .when(sfn.Condition.string_equals("$.Import.ImportStatus", "FAILED"), may_retry)
        # STOPPED is someone's decision (StopImport, or the plan's own Delete): not retried.
        .when(sfn.Condition.string_equals("$.Import.ImportStatus", "STOPPED"), stopped)
        .otherwise(count_poll)
    )
    no_statistics = sfn.Pass(
        scope,
        "NoStatisticsYet",
        result=sfn.Result.from_object({}),
        result_path="$.Import.ImportStatistics",
    )
    wait.next(get).next(
        sfn.Choice(scope, "HasStatistics")
        .when(
            sfn.Condition.is_not_present("$.Import.ImportStatistics"),
            no_statistics.next(status),
        )
        .otherwise(status)
    )
    follow_handed_over = sfn.Pass(
        scope,
        "FollowHandedOverImport",
        comment="the previous link of the chain handed this segment's running import over",
        parameters={
            "Segment.$": "$.Segment",
            "Settings.$": "$.Settings",
            "Chain.$": "$.Chain",
            "Import": {"ImportId.$": "$.Chain.Resume.ImportId"},
            "Retries.$": "$.Chain.Resume.Retries",
            "Polls": {"Count": 0},
        },
    )
    follow_handed_over.next(wait)
    return (
        sfn.Choice(scope, "SegmentKind")
        .when(
            sfn.Condition.number_less_than_json_path("$.Segment.Index", "$.Chain.From"),
            continuation.earlier_result(scope),
        )
        .when(
            sfn.Condition.number_greater_than_equals_json_path(
                "$.Segment.Index", "$.Chain.Horizon"
            ),
            continuation.hand_over(scope, "AtStart", {"From.$": "$.Segment.Index"}),
        )
        .when(
            sfn.Condition.and_(
                sfn.Condition.number_equals_json_path("$.Segment.Index", "$.Chain.From"),
                sfn.Condition.is_present("$.Chain.Resume.ImportId"),
            ),
            follow_handed_over,
        )
        .when(sfn.Condition.is_present("$.Segment.Completed"), skip)
        .when(sfn.Condition.is_present("$.Segment.Adopt.Resume"), resume.next(retry))
        .when(sfn.Condition.is_present("$.Segment.Adopt"), follow.next(wait))
        .otherwise(_by_window_shape(scope, starts))
    )


def _result(scope: Construct, id: str, *, failed: bool, failures: bool = False) -> sfn.Pass:
    parameters: dict[str, object] = {
        "Index.$": "$.Segment.Index",
        "ImportId.$": "$.Import.ImportId",
        "ImportStatus.$": "$.Import.ImportStatus",
        "ImportStatistics.$": "$.Import.ImportStatistics",
        "Retries.$": "$.Retries",
        "Skipped": False,
        "Failed": failed,
    }
    if failures:
        parameters["FirstFailures.$"] = "$.Failures"
    return sfn.Pass(scope, id, parameters=parameters, result_path="$.Result")


def _segment_finished(
    scope: Construct, id: str, behaviour: PlanBehaviour, then: sfn.IChainable
) -> sfn.IChainable:
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
        then=then,
    )


def _by_window_shape(
    scope: Construct, starts: dict[tuple[bool, bool], tasks.CallAwsService]
) -> sfn.IChainable:
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
