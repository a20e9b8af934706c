"""The plan's state machine: segments one at a time, each StartImport → Wait/GetImport → done.

No Lambda in the loop: every CloudTrail call is a Step Functions AWS SDK integration. The
execution input and output are the contract with the custom resource handler
(``lambda/start_plan``) and with ``cloudtrail-lake-import status``; docs/DESIGN.md describes them.
Its parts: one segment's states (``segment_states.py`` and ``segment_results.py``, with the
StartImport states of ``starting.py``), the plan's last states (``end_states.py``), the events
and notifications (``notifications.py``), the look-up after a lost StartImport answer
(``lookup.py``) and the continuation chain (``continuation.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn

from cloudtrail_lake_import.plan import continuation
from cloudtrail_lake_import.plan.end_states import some_failed, stopped, succeeded
from cloudtrail_lake_import.plan.segment_states import segment_states
from constructs import Construct


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


def plan_definition(scope: Construct, behaviour: PlanBehaviour) -> sfn.IChainable:
    """The whole definition; its states are children of ``scope``."""
    segment = segment_states(scope, behaviour)
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
    plan_stopped = stopped(scope, behaviour)
    # Before Step Functions' history limit: the next link of the chain goes on.
    each.add_catch(
        continuation.continuation(scope, not_continued=plan_stopped),
        errors=[continuation.CONTINUED_ERROR],
        result_path="$.Failure",
    )
    # Stopping at a failed segment: the Map fails with SegmentFailed and the cause (the segment).
    each.add_catch(plan_stopped, errors=["States.ALL"], result_path="$.Failure")
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
        .when(sfn.Condition.boolean_equals("$.AnyFailed", True), some_failed(scope, behaviour))
        .otherwise(succeeded(scope, behaviour))
    )
    return continuation.start_chain(scope, each)
