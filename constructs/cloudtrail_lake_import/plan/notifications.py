"""The plan's reports from inside the state machine: an EventBridge event on the default bus,
and the same detail to the plan's SNS topic if it has one; best effort, never stopping it."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from constructs import Construct

EVENT_SOURCE = "cloudtrail-lake-import"
SEGMENT_DETAIL_TYPE = "CloudTrail Lake Import Plan Segment Finished"
PLAN_DETAIL_TYPE = "CloudTrail Lake Import Plan Finished"
NOTIFY_RETRY_INTERVAL = Duration.seconds(2)
NOTIFY_RETRY_ATTEMPTS = 3


def notify(
    scope: Construct,
    id: str,
    topic: sns.ITopic | None,
    detail_type: str,
    detail: dict[str, object],
    then: sfn.IChainable,
) -> sfn.IChainable:
    """An EventBridge event on the default bus, and the same detail to ``topic`` if given, then
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
    if topic is None:
        return best_effort(put, then)
    publish = tasks.SnsPublish(
        scope,
        f"{id}Notification",
        topic=topic,
        subject=detail_type,
        message=sfn.TaskInput.from_object(detail),
        result_path=sfn.JsonPath.DISCARD,
    )
    return best_effort(put, best_effort(publish, then))


def best_effort(task: sfn.TaskStateBase, then: sfn.IChainable) -> sfn.TaskStateBase:
    """``task``, retried a few times, then ``then`` whether it succeeded or not."""
    task.add_retry(
        errors=["States.ALL"],
        interval=NOTIFY_RETRY_INTERVAL,
        backoff_rate=2,
        max_attempts=NOTIFY_RETRY_ATTEMPTS,
    )
    task.add_catch(then, errors=["States.ALL"], result_path=sfn.JsonPath.DISCARD)
    task.next(then)
    return task
