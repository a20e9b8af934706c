"""The plan's executions in Step Functions: thin calls, each with what its failure means.

Every request finds "the plan's execution" through ``current_execution``: Delete, Update, the
failed Update's clean-up and the wait. An execution's name is deterministic, so its ARN is
known before StartExecution is sent, and an answer that may follow a sent StartExecution names
it whatever happened to the call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from import_handler import aws
from plan_handler import chain, plan_decisions

logger = logging.getLogger(__name__)

Budget = Callable[[], float]
STOP_ERROR = "CloudTrailLakeImportPlan.Stopped"


class PlanRequestError(Exception):
    """The request fails with this reason (what happened and what to check)."""


#: A bound on the links followed: a plan of one-day segments over ten years, continued every
#: five segments, has about 730; a chain longer than this is not one this library starts.
MAX_LINKS = 1000


def current_execution(clients: aws.Clients, budget: Budget, arn: str) -> str:
    """The execution that carries on the plan whose first execution is ``arn``.

    The state machine continues a long plan in a fresh execution named ``<name>-cont-<N>``
    (``chain.py``) before Step Functions' history limit: this follows the chain, one
    DescribeExecution per link, to its newest link. Every caller that stops, waits for or keeps
    "the plan's execution" asks here. A failed DescribeExecution fails the request (the caller
    names the execution); it never guesses a link.
    """
    current = arn
    for _ in range(MAX_LINKS):
        following = chain.execution_arn(current, chain.number_of(current) + 1)
        if describe(clients, budget, following) is None:
            return current
        current = following
    return current


def describe(clients: aws.Clients, budget: Budget, arn: str) -> Mapping[str, Any] | None:
    """DescribeExecution; None when Step Functions does not know the execution."""
    try:
        described: Mapping[str, Any] = clients.get(
            "stepfunctions", None, budget()
        ).describe_execution(executionArn=arn)
    except aws.ERRORS as error:
        if aws.error_code(error) == "ExecutionDoesNotExist":
            return None
        raise
    return described


def status(clients: aws.Clients, budget: Budget, arn: str) -> str | None:
    described = describe(clients, budget, arn)
    return None if described is None else str(described["status"])


def generations(
    clients: aws.Clients, budget: Budget, state_machine: str, identity: str
) -> list[str]:
    """The statuses of the plan identity's executions that exist, generation 0 first."""
    found: list[str] = []
    for generation in range(plan_decisions.MAX_GENERATIONS):
        name = plan_decisions.execution_name(identity, generation)
        arn = plan_decisions.execution_arn(state_machine, name)
        seen = status(clients, budget, current_execution(clients, budget, arn))
        if seen is None:
            return found
        found.append(seen)
    return found


def start(
    clients: aws.Clients, budget: Budget, state_machine: str, name: str, execution_input: str
) -> None:
    """StartExecution; returns once the execution exists (started now, or before by another
    delivery of the same request). A call Step Functions may have acted on without our
    hearing the answer is settled by DescribeExecution of the name."""
    arn = plan_decisions.execution_arn(state_machine, name)
    try:
        clients.get("stepfunctions", None, budget()).start_execution(
            stateMachineArn=state_machine, name=name, input=execution_input
        )
        return
    except aws.ERRORS as error:
        code = aws.error_code(error) or type(error).__name__
        if code == "ExecutionAlreadyExists":
            logger.info("execution %s exists already; adopting it", name)
            return
        if not _may_have_acted(error):
            raise
        logger.warning("StartExecution of %s: %s; looking it up", name, code)
    if status(clients, budget, arn) is None:
        raise PlanRequestError(
            f"PlanNotStarted: StartExecution of {arn} got no answer and Step Functions does "
            "not know the execution: nothing was started. Deploy again"
        )
    logger.info("execution %s started although its answer was lost", name)


def stop(clients: aws.Clients, budget: Budget, arn: str, cause: str) -> bool:
    """Stop the plan's execution if it runs; True when it ran and was stopped."""
    current = current_execution(clients, budget, arn)
    seen = status(clients, budget, current)
    if seen != "RUNNING":
        logger.info("execution %s is %s: nothing to stop", current, seen or "unknown")
        return False
    try:
        clients.get("stepfunctions", None, budget()).stop_execution(
            executionArn=current, error=STOP_ERROR, cause=cause
        )
    except aws.ERRORS as error:
        if aws.error_code(error) == "ExecutionDoesNotExist":
            return False
        if not _may_have_acted(error) or status(clients, budget, current) == "RUNNING":
            raise
    logger.info("stopped execution %s", current)
    return True


def others_running(clients: aws.Clients, budget: Budget, state_machine: str, arn: str) -> bool:
    """Whether another execution of the plan's state machine runs (a newer plan after an
    Update, which adopted the imports it shares with this one)."""
    try:
        response = clients.get("stepfunctions", None, budget()).list_executions(
            stateMachineArn=state_machine, statusFilter="RUNNING", maxResults=10
        )
    except aws.ERRORS as error:
        if aws.error_code(error) == "StateMachineDoesNotExist":
            return False
        raise
    return any(item["executionArn"] != arn for item in response.get("executions", []))


def _may_have_acted(error: BaseException) -> bool:
    """The service may have done what was asked: the request was sent and no refusal came
    back (a lost or 5xx answer, a read timeout)."""
    if aws.safe_to_resend(error):
        return False
    if aws.error_code(error):
        status_code = getattr(error, "response", {}).get("ResponseMetadata", {})
        return int(status_code.get("HTTPStatusCode", 500) or 500) >= 500
    return True
