"""``WaitForCompletion``: the plan handler waits for the execution as the single import waits
for its import — DescribeExecution every few seconds, handing over to a fresh asynchronous
invocation of itself before its own timeout, and giving up 58 minutes after CloudFormation made
the request (``request_time``: it waits at most an hour for a custom resource, counted from
then, not from when this handler got round to it)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from import_handler import aws, clock
from import_handler.decisions import MAX_WAIT_SECONDS
from import_handler.frozen import frozen

logger = logging.getLogger(__name__)

KEY = "CtLakeImportPlanContinuation"
# Kept back from the invocation's time for the hand-over (or the answer) after the last poll.
HANDOVER_RESERVE_SECONDS = 35.0
#: Invoke is sent again only when Lambda cannot have received it (1 s, then 2 s apart).
HAND_OVER_ATTEMPTS = 3
MAX_POLL_SECONDS = 30
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


class ExecutionFailedError(Exception):
    """The execution ended without succeeding, or outlived the wait: the answer is FAILED."""


class HandOverFailedError(ExecutionFailedError):
    """The continuation could not be handed to Lambda, or may not have been: the answer is
    FAILED and names the execution (a continuation that did get through only waits and
    answers again, which CloudFormation ignores; it never starts anything)."""


@frozen
class Waiting:
    """What one invocation hands over to the next."""

    execution_arn: str
    deadline: float
    data: Mapping[str, Any]
    #: The request sent the StartExecution of ``execution_arn`` (rather than keeping or adopting
    #: an execution): a failed Update stops it before it answers.
    started: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "ExecutionArn": self.execution_arn,
            "DeadlineEpoch": self.deadline,
            "Data": dict(self.data),
            "Started": self.started,
        }


def begin(
    execution_arn: str, data: Mapping[str, Any], requested_at: float, *, started: bool = False
) -> Waiting:
    """The wait for a request CloudFormation made at ``requested_at`` (epoch seconds)."""
    return Waiting(execution_arn, requested_at + MAX_WAIT_SECONDS, data, started)


def read(event: Mapping[str, Any]) -> Waiting | None:
    """The continuation of this event, None for a request from CloudFormation."""
    raw = event.get(KEY)
    if raw is None:
        return None
    arn, deadline, data = (
        (raw.get("ExecutionArn"), raw.get("DeadlineEpoch"), raw.get("Data"))
        if isinstance(raw, Mapping)
        else (None, None, None)
    )
    if (
        not isinstance(arn, str)
        or isinstance(deadline, bool)
        or not isinstance(deadline, int | float)
        or not isinstance(data, Mapping)
    ):
        raise ExecutionFailedError(
            f"InvalidContinuation: {KEY} must hold ExecutionArn, DeadlineEpoch and Data"
        )
    return Waiting(arn, float(deadline), data, raw.get("Started") is True)


def wait(
    waiting: Waiting,
    *,
    describe: Callable[[str], Mapping[str, Any]],
    hand_over: Callable[[Waiting], None],
    remaining: Callable[[], float],
    poll_seconds: int,
) -> Mapping[str, Any] | None:
    """The answer's Data once the execution SUCCEEDED; None after handing over.

    Raises ExecutionFailedError when it ended otherwise or still runs at the deadline.
    """
    pause = min(max(poll_seconds, 1), MAX_POLL_SECONDS)
    while True:
        execution = describe(waiting.execution_arn)
        status = str(execution["status"])
        if status == "SUCCEEDED":
            return waiting.data
        if status in TERMINAL:
            raise ExecutionFailedError(ended(waiting.execution_arn, execution))
        if clock.now() >= waiting.deadline:
            raise ExecutionFailedError(
                f"PlanStillRunning: execution {waiting.execution_arn} still runs after "
                f"{MAX_WAIT_SECONDS // 60} minutes (CloudFormation waits at most an hour); it "
                "goes on. Deploy with wait_for_completion=False, or block on a "
                "wait_condition_timeout"
            )
        if remaining() < pause + HANDOVER_RESERVE_SECONDS:
            hand_over(waiting)
            return None
        clock.sleep(pause)


def ended(arn: str, execution: Mapping[str, Any]) -> str:
    """Why the plan failed, from the execution: its status, error and cause (the failed
    segment's import id and statistics are in the cause)."""
    error = execution.get("error") or "no error"
    cause = str(execution.get("cause") or "no cause")
    status = str(execution["status"]).replace("_", " ").title().replace(" ", "")
    return f"PlanExecution{status}: execution {arn}: {error}: {cause}"


def payload(event: Mapping[str, Any], waiting: Waiting) -> bytes:
    body = {key: value for key, value in event.items() if key != KEY}
    body[KEY] = waiting.to_json()
    return json.dumps(body).encode()


def hand_over(
    clients: aws.Clients, budget: Callable[[], float], context: Any, event: Mapping[str, Any]
) -> Callable[[Waiting], None]:
    """Invoke this function asynchronously with the event and the continuation."""

    def invoke(waiting: Waiting) -> None:
        body = payload(event, waiting)
        for attempt in range(1, HAND_OVER_ATTEMPTS + 1):
            try:
                clients.lambda_(budget()).invoke(
                    FunctionName=str(context.invoked_function_arn),
                    InvocationType="Event",
                    Payload=body,
                )
                break
            except aws.ERRORS as error:
                code = aws.error_code(error) or type(error).__name__
                if attempt == HAND_OVER_ATTEMPTS or not aws.safe_to_resend(error):
                    raise HandOverFailedError(
                        f"HandOverFailed: the wait for execution {waiting.execution_arn} could "
                        f"not be handed to a new invocation (Invoke: {code}: "
                        f"{aws.error_message(error)}). Check lambda:InvokeFunction on the "
                        "plan handler and its concurrency"
                    ) from error
                logger.warning("Invoke was not made (%s); trying again", code)
                clock.sleep(attempt)
        logger.info("handed over the wait for %s", waiting.execution_arn)

    return invoke
