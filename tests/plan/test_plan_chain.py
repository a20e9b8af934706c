"""The continuation chain's names: one rule for the state machine, the handler and the CLI."""

from __future__ import annotations

from typing import cast

import pytest
from botocore.exceptions import ClientError

from import_handler import aws
from plan_handler import chain, executions, plan_decisions

ARN = "arn:aws:states:eu-west-1:123456789012:execution:PlanStateMachine-AbC123:"
ROOT = plan_decisions.execution_name("a" * 40, 7)


def test_continuations_are_numbered_after_the_root_and_parse_back() -> None:
    assert chain.continuation_name(ROOT, 0) == ROOT
    assert chain.continuation_name(ROOT, 1) == f"{ROOT}-cont-1"
    assert chain.next_name(ROOT) == f"{ROOT}-cont-1"
    assert chain.next_name(f"{ROOT}-cont-1") == f"{ROOT}-cont-2"
    assert chain.next_name(f"{ROOT}-cont-9") == f"{ROOT}-cont-10"
    assert chain.parse(f"{ROOT}-cont-12") == (ROOT, 12)
    assert chain.parse(ROOT) == (ROOT, 0)
    # A generation suffix of the handler (-7) is part of the root, not a link number.
    assert chain.parse(f"{ROOT}-cont-3")[0].endswith("-7")


def test_every_link_of_a_chain_is_recognised_and_nothing_else() -> None:
    assert chain.is_link_of(ROOT, ROOT)
    assert chain.is_link_of(ROOT, f"{ROOT}-cont-4")
    assert not chain.is_link_of(ROOT, f"{ROOT}-8")
    assert not chain.is_link_of(ROOT, f"{ROOT}-cont-0")
    assert not chain.is_link_of(ROOT, f"{ROOT}-cont-01")
    assert not chain.is_link_of(ROOT, "other-cont-1")
    assert not chain.is_link_of(ROOT, "not a name")


def test_the_arn_of_any_link_gives_every_other_link() -> None:
    third = chain.execution_arn(ARN + ROOT, 3)
    assert third == f"{ARN}{ROOT}-cont-3"
    assert chain.execution_arn(third, 0) == ARN + ROOT
    assert chain.number_of(third) == 3
    assert chain.number_of(ROOT) == 0
    with pytest.raises(chain.ChainNameError, match="not an execution ARN"):
        chain.execution_arn("arn:aws:states:eu-west-1:123456789012:stateMachine:M", 1)


def test_a_name_over_80_characters_is_refused_naming_the_limit() -> None:
    root = "r" * 73
    assert len(chain.continuation_name(root, 9)) == 80
    with pytest.raises(chain.ChainNameError, match="81 characters; Step Functions allows 80"):
        chain.continuation_name(root, 10)


def test_a_continuation_or_an_invalid_name_is_not_a_root() -> None:
    with pytest.raises(chain.ChainNameError, match="is a continuation"):
        chain.continuation_name(f"{ROOT}-cont-2", 1)
    with pytest.raises(chain.ChainNameError, match="A-Z, a-z, 0-9"):
        chain.continuation_name("plan name", 1)
    with pytest.raises(chain.ChainNameError, match="0 or more"):
        chain.continuation_name(ROOT, -1)


def test_the_handler_s_longest_names_leave_room_for_a_year_of_continuations() -> None:
    longest = plan_decisions.execution_name("f" * 40, plan_decisions.MAX_GENERATIONS - 1)
    assert len(chain.continuation_name(longest, 99_999)) <= chain.MAX_NAME_LENGTH


class _StepFunctions:
    """DescribeExecution over a set of executions that exist; ``refuse`` makes it fail."""

    def __init__(self, existing: set[str], refuse: bool = False) -> None:
        self.existing = existing
        self.refuse = refuse
        self.described: list[str] = []

    def describe_execution(self, executionArn: str) -> dict[str, str]:  # noqa: N803 (boto3)
        self.described.append(executionArn)
        code = "AccessDeniedException" if self.refuse else "ExecutionDoesNotExist"
        if self.refuse or executionArn not in self.existing:
            raise ClientError({"Error": {"Code": code, "Message": "no"}}, "DescribeExecution")
        return {"executionArn": executionArn, "status": "RUNNING"}


class _Clients:
    def __init__(self, states: _StepFunctions) -> None:
        self.states = states

    def get(self, service: str, region: str | None, budget: float) -> _StepFunctions:
        assert service == "stepfunctions"
        return self.states


def _current(states: _StepFunctions, arn: str) -> str:
    clients = cast(aws.Clients, _Clients(states))
    return executions.current_execution(clients, lambda: 60.0, arn)


def test_the_handler_follows_the_chain_to_its_newest_link() -> None:
    root = ARN + ROOT
    links = {root, f"{root}-cont-1", f"{root}-cont-2"}
    states = _StepFunctions(links)

    assert _current(states, root) == f"{root}-cont-2"
    assert states.described == [f"{root}-cont-1", f"{root}-cont-2", f"{root}-cont-3"]


def test_a_plan_never_continued_is_its_first_execution() -> None:
    root = ARN + ROOT
    assert _current(_StepFunctions({root}), root) == root


def test_a_refused_look_for_the_next_link_fails_rather_than_guess() -> None:
    root = ARN + ROOT
    with pytest.raises(ClientError):
        _current(_StepFunctions({root}, refuse=True), root)
