"""One segment's states, the Map's item processor: skip it, adopt its running import, or start
it; then poll until it ends, retrying a FAILED import by its ImportId; then report it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from cloudtrail_lake_import.plan import continuation, lookup
from cloudtrail_lake_import.plan.end_states import SEGMENT_FAILED_ERROR
from cloudtrail_lake_import.plan.notifications import SEGMENT_DETAIL_TYPE, notify
from cloudtrail_lake_import.plan.segment_results import SegmentResults
from cloudtrail_lake_import.plan.starting import (
    by_window_shape,
    new_imports,
    sdk,
    start_import,
    with_busy_retry,
)
from constructs import Construct

if TYPE_CHECKING:
    from cloudtrail_lake_import.plan.definition import PlanBehaviour

FAILURES_SHOWN = 5


def segment_states(scope: Construct, behaviour: PlanBehaviour) -> sfn.IChainable:
    """One segment: skip it, adopt its running import, or start it; then wait for the end."""
    results = SegmentResults.new(scope)
    starts = new_imports(scope, behaviour)
    wait = sfn.Wait(
        scope,
        "WaitForImport",
        time=sfn.WaitTime.seconds_path("$.Settings.PollIntervalSeconds"),
    )
    retry = with_busy_retry(
        start_import(scope, "RetryImport", {"ImportId.$": "$.Import.ImportId"}), behaviour
    )
    count_retry = _count_retry(scope)
    failures = _list_failures(scope, results.failed)
    _catch_start_errors(scope, starts, wait=wait, results=results)
    _recheck_after_retry(scope, retry, count_retry, results)
    _report(scope, behaviour, results)
    count_retry.next(wait)
    _poll(scope, wait, retry=retry, failures=failures, results=results)
    return _by_segment_kind(scope, starts, wait=wait, retry=retry, skip=results.skip)


def _count_retry(scope: Construct) -> sfn.Pass:
    return sfn.Pass(
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


def _list_failures(scope: Construct, failed: sfn.Pass) -> tasks.CallAwsService:
    """The first files of a failed import and why, then ``failed``."""
    failures = sdk(
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
    # Without the list the segment's outcome is still known: the error takes its place.
    failures.add_catch(failed, errors=["States.ALL"], result_path="$.Failures")
    failures.next(failed)
    return failures


def _catch_start_errors(
    scope: Construct,
    starts: dict[tuple[bool, bool], tasks.CallAwsService],
    *,
    wait: sfn.Wait,
    results: SegmentResults,
) -> None:
    """A refused StartImport did not start; after any other error the import is looked for
    before the segment is declared not started."""
    look_up = lookup.look_for_started_import(
        scope, found=wait, not_found=results.not_started, lookup_failed=results.lookup_failed
    )
    for start in starts.values():
        start.add_catch(results.not_started, errors=lookup.REFUSED_ERRORS, result_path="$.Error")
        start.add_catch(look_up, errors=["States.ALL"], result_path="$.Error")
        start.next(wait)


def _running() -> sfn.Condition:
    return sfn.Condition.or_(
        sfn.Condition.string_equals("$.Import.ImportStatus", "INITIALIZING"),
        sfn.Condition.string_equals("$.Import.ImportStatus", "IN_PROGRESS"),
    )


def _recheck_after_retry(
    scope: Construct, retry: tasks.CallAwsService, count_retry: sfn.Pass, results: SegmentResults
) -> None:
    """A refused or lost retry: the import's own status tells whether it runs again."""
    recheck = sdk(
        scope,
        "GetImportAfterRetry",
        "getImport",
        parameters={"ImportId.$": "$.Import.ImportId"},
        result_path="$.Import",
    )
    recheck.add_retry(
        errors=["States.ALL"], interval=Duration.seconds(10), backoff_rate=2, max_attempts=5
    )
    recheck.add_catch(results.poll_failed, errors=["States.ALL"], result_path="$.Error")
    retry.add_catch(recheck, errors=["States.ALL"], result_path="$.Error")
    retry.next(count_retry)
    recheck.next(
        sfn.Choice(scope, "RunsAfterRetry")
        .when(_running(), count_retry)
        .otherwise(results.retry_refused)
    )


def _report(scope: Construct, behaviour: PlanBehaviour, results: SegmentResults) -> None:
    """Every result is reported; a failure then stops the plan, or with
    ``continue_on_failure`` hands the rest over to the next link."""
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
    results.skip.next(finished_ok)
    results.completed.next(finished_ok)
    for bad in results.failures():
        bad.next(finished_bad)


def _segment_finished(
    scope: Construct, id: str, behaviour: PlanBehaviour, then: sfn.IChainable
) -> sfn.IChainable:
    return notify(
        scope,
        id,
        behaviour.notify,
        SEGMENT_DETAIL_TYPE,
        {
            "Plan": behaviour.plan_name,
            "ExecutionArn.$": "$$.Execution.Id",
            "Segment.$": "$.Result",
        },
        then=then,
    )


def _poll(
    scope: Construct,
    wait: sfn.Wait,
    *,
    retry: tasks.CallAwsService,
    failures: tasks.CallAwsService,
    results: SegmentResults,
) -> None:
    """Wait, GetImport, and act on its status: done, retry a FAILED import, or poll again (or
    hand over to the next link before the execution's history fills up)."""
    get = sdk(
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
    get.add_catch(results.poll_failed, errors=["States.ALL"], result_path="$.Error")
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
        .when(sfn.Condition.string_equals("$.Import.ImportStatus", "COMPLETED"), results.completed)
        .when(sfn.Condition.string_equals("$.Import.ImportStatus", "FAILED"), may_retry)
        # STOPPED is someone's decision (StopImport, or the plan's own Delete): not retried.
        .when(sfn.Condition.string_equals("$.Import.ImportStatus", "STOPPED"), results.stopped)
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


def _by_segment_kind(
    scope: Construct,
    starts: dict[tuple[bool, bool], tasks.CallAwsService],
    *,
    wait: sfn.Wait,
    retry: tasks.CallAwsService,
    skip: sfn.Pass,
) -> sfn.IChainable:
    """The segment's first state: one an earlier link ran, one beyond this link's horizon, the
    import the previous link handed over, an identical import found on the store (completed,
    to resume, or running), or a new StartImport."""
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
        .otherwise(by_window_shape(scope, starts))
    )
