"""The plan's continuation chain: a fresh execution before Step Functions' 25,000 events.

A Standard execution fails at 25,000 history events (about a week of polling one segment every
5 minutes). Each segment counts its polls (a retry of its import counts as
``RETRY_POLL_WEIGHT`` polls); after ``POLLS_BEFORE_CONTINUING`` of them, or when this execution
has reached ``SEGMENTS_PER_EXECUTION`` segments, the segment fails the Map with
``CONTINUED_ERROR`` and its hand-over (where to go on, the import it follows), and the execution
starts its successor, ``<root name>-cont-<N>`` (``lambda/start_plan/plan_handler/chain.py``),
with the same ``Settings`` and ``Segments`` and a ``Chain``:

``{"Root", "Number", "From", "Horizon", "Failed": "|i|j|", "Resume": {hand-over}}``

then succeeds with ``{"ContinuedIn": {"ExecutionArn", "Name"}}``. Segments before ``From``
ran in earlier links: each is reported COMPLETED, or FAILED when its index is in ``Failed``
(with ``continue_on_failure`` a failed segment hands over too, so that a link only goes past
completed segments and ``Failed`` is the whole truth).

Budget: ``SEGMENTS_PER_EXECUTION`` x (``POLLS_BEFORE_CONTINUING`` x ~15 events per poll +
~300 for a start with busy back-off and the notifications) + the top-level states stays under
20,000 events, 5,000 below the limit.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_stepfunctions as sfn

from constructs import Construct

CONTINUED_ERROR = "CloudTrailLakeImportPlan.Continued"
ALREADY_EXISTS = "StepFunctions.ExecutionAlreadyExistsException"
NOT_CONTINUED_ERROR = "CloudTrailLakeImportPlan.NotContinued"
#: Polls of one segment in one execution before it continues in the next.
POLLS_BEFORE_CONTINUING = 240
#: Segments (skipped ones included) one execution runs before the next one takes over.
SEGMENTS_PER_EXECUTION = 5
#: A retry by ImportId may wait for a busy account with up to ~230 events: ~15 polls' worth.
RETRY_POLL_WEIGHT = 16
#: What ``States.Format`` builds; chain.py builds the same.
NAME_FORMAT = "{}-cont-{}"


def start_chain(scope: Construct, then: sfn.IChainable) -> sfn.IChainable:
    """The first execution of a plan has no ``Chain`` in its input: it is link 0."""
    root = sfn.Pass(
        scope,
        "StartChain",
        comment="link 0 of the continuation chain",
        parameters={
            "Root.$": "$$.Execution.Name",
            "Number": 0,
            "From": 0,
            "Horizon": SEGMENTS_PER_EXECUTION,
            "Failed": "|",
        },
        result_path="$.Chain",
    )
    root.next(then)
    return (
        sfn.Choice(scope, "IsContinuation")
        .when(sfn.Condition.is_present("$.Chain"), then)
        .otherwise(root)
    )


def hand_over(scope: Construct, id: str, fields: dict[str, object]) -> sfn.IChainable:
    """End this execution's Map here: the next link goes on with ``fields`` (at least From)."""
    build = sfn.Pass(
        scope,
        f"{id}HandOver",
        parameters={"HandOver": {"Failed.$": "$.Chain.Failed", **fields}},
    )
    return build.next(
        sfn.Fail(
            scope,
            f"{id}Continue",
            error=CONTINUED_ERROR,
            cause_path="States.JsonToString($.HandOver)",
        )
    )


def continuation(scope: Construct, not_continued: sfn.IChainable) -> sfn.IChainable:
    """After the Map ended with ``CONTINUED_ERROR``: start the next link, then succeed."""
    read = sfn.Pass(
        scope,
        "ReadHandOver",
        parameters={
            "Settings.$": "$.Settings",
            "Segments.$": "$.Segments",
            "Chain.$": "$.Chain",
            "HandOver.$": "States.StringToJson($.Failure.Cause)",
        },
    )
    link = sfn.Pass(
        scope,
        "NextLink",
        parameters={
            "Root.$": "$.Chain.Root",
            "Number.$": "States.MathAdd($.Chain.Number, 1)",
            "From.$": "$.HandOver.From",
            "Horizon.$": f"States.MathAdd($.HandOver.From, {SEGMENTS_PER_EXECUTION})",
            "Failed.$": "$.HandOver.Failed",
            "Resume.$": "$.HandOver",
        },
        result_path="$.Chain",
    )
    start = sfn.CustomState(
        scope,
        "StartNextLink",
        state_json={
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution",
            "Parameters": {
                "StateMachineArn.$": "$$.StateMachine.Id",
                "Name.$": f"States.Format('{NAME_FORMAT}', $.Chain.Root, $.Chain.Number)",
                "Input": {
                    "Settings.$": "$.Settings",
                    "Segments.$": "$.Segments",
                    "Chain.$": "$.Chain",
                },
            },
            "ResultSelector": {"ExecutionArn.$": "$.ExecutionArn"},
            "ResultPath": "$.Started",
        },
    )
    # Same name and input while it runs: Step Functions answers with the running execution, so
    # a retry after a lost answer cannot start a second link.
    start.add_retry(errors=[ALREADY_EXISTS], max_attempts=0)
    start.add_retry(
        errors=["States.ALL"],
        interval=Duration.seconds(2),
        backoff_rate=2,
        max_attempts=6,
    )
    # The name is this chain's own: a link of that name exists only because this execution
    # started it (an answer lost, then the retry refused as a duplicate).
    known = sfn.Pass(
        scope,
        "NextLinkExists",
        parameters={"Parts.$": "States.StringSplit($$.Execution.Id, ':')"},
        result_path="$.Started",
    )
    known_arn = sfn.Pass(
        scope,
        "NextLinkArn",
        parameters={
            "ExecutionArn.$": "States.Format('{}:{}:{}:{}:{}:{}:{}:{}', "
            + ", ".join(f"States.ArrayGetItem($.Started.Parts, {i})" for i in range(7))
            + f", States.Format('{NAME_FORMAT}', $.Chain.Root, $.Chain.Number))"
        },
        result_path="$.Started",
    )
    start.add_catch(
        known.next(known_arn),
        errors=[ALREADY_EXISTS],
        result_path="$.Failure",
    )
    # The plan stops; what the next link would have followed is named in the failure.
    not_started = sfn.Pass(
        scope,
        "NextLinkNotStarted",
        parameters={
            "Settings.$": "$.Settings",
            "Segments.$": "$.Segments",
            "Failure": {
                "Error": NOT_CONTINUED_ERROR,
                "Cause.$": "States.Format('the next link {} did not start ({}: {}); it would "
                "have gone on with {}', States.Format('"
                + NAME_FORMAT
                + "', $.Chain.Root, $.Chain.Number), $.Failure.Error, $.Failure.Cause, "
                "States.JsonToString($.HandOver))",
            },
        },
    )
    not_started.next(not_continued)
    start.add_catch(not_started, errors=["States.ALL"], result_path="$.Failure")
    done = sfn.Pass(
        scope,
        "ContinuedIn",
        parameters={
            "ContinuedIn": {
                "ExecutionArn.$": "$.Started.ExecutionArn",
                "Name.$": f"States.Format('{NAME_FORMAT}', $.Chain.Root, $.Chain.Number)",
            }
        },
    )
    known_arn.next(done)
    return read.next(link).next(start).next(done).next(sfn.Succeed(scope, "Continued"))


def earlier_result(scope: Construct) -> sfn.IChainable:
    """A segment an earlier link ran: COMPLETED, or FAILED when the chain lists it."""
    check = sfn.Pass(
        scope,
        "RanInEarlierLink",
        parameters={
            "Failed.$": "States.ArrayContains(States.StringSplit($.Chain.Failed, '|'), "
            "States.Format('{}', $.Segment.Index))"
        },
        result_path="$.Earlier",
    )

    def result(id: str, status: str, failed: bool) -> sfn.Pass:
        return sfn.Pass(
            scope,
            id,
            parameters={
                "Index.$": "$.Segment.Index",
                "ImportStatus": status,
                "Retries": 0,
                "Skipped": False,
                "Failed": failed,
                "EarlierExecution": True,
            },
        )

    return check.next(
        sfn.Choice(scope, "FailedInEarlierLink")
        .when(
            sfn.Condition.boolean_equals("$.Earlier.Failed", True),
            result("EarlierFailedResult", "FAILED", True),
        )
        .otherwise(result("EarlierCompletedResult", "COMPLETED", False))
    )
