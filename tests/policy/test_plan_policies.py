"""The plan's state machine role under AWS's evaluation logic: it may make the calls its tasks
make, where they make them, and nothing beyond."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk.assertions import Template

from tests.construct.conftest import STORE_ARN
from tests.plan.conftest import definition, plan_stack
from tests.policy.simulator import Request, Stack, allowed, granted_actions, roles_assumed_by

ACCOUNT = "123456789012"  # the account of the plan's store, STORE_ARN
REGION = "eu-west-1"
#: What Step Functions does with the role to deliver the execution logs to CloudWatch Logs
#: (documented on "*": the log delivery APIs take no resource).
LOG_DELIVERY = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}
#: Optimized integrations: the IAM action behind each task resource.
INTEGRATIONS = {
    "arn:aws:states:::events:putEvents": "events:PutEvents",
    "arn:aws:states:::sns:publish": "sns:Publish",
    "arn:aws:states:::lambda:invoke": "lambda:InvokeFunction",
    "arn:aws:states:::states:startExecution": "states:StartExecution",
}
VARIANTS: dict[str, dict[str, Any]] = {
    "notifications": {"with_topic": True},
    "going on after a failed segment": {"with_topic": True, "continue_on_failure": True},
    "a wait condition": {"wait_condition_timeout_hours": 6},
    "no notification": {},
}


def task_resources(states: dict[str, Any]) -> Iterator[str]:
    for state in states.values():
        if "Resource" in state:
            yield state["Resource"]
        if "ItemProcessor" in state:
            yield from task_resources(state["ItemProcessor"]["States"])
        for branch in state.get("Branches", []):
            yield from task_resources(branch["States"])


def iam_action(task_resource: str) -> str:
    """arn:aws:states:::aws-sdk:cloudtrail:startImport is cloudtrail:StartImport."""
    if task_resource in INTEGRATIONS:
        return INTEGRATIONS[task_resource]
    prefix = "arn:aws:states:::aws-sdk:"
    assert task_resource.startswith(prefix), f"an integration to map here: {task_resource}"
    service, api = task_resource.removeprefix(prefix).split(":")
    return f"{service}:{api[0].upper()}{api[1:]}"


class Plan:
    def __init__(self, **props: Any) -> None:
        import aws_cdk as cdk

        if "wait_condition_timeout_hours" in props:
            props["wait_condition_timeout"] = cdk.Duration.hours(
                props.pop("wait_condition_timeout_hours")
            )
        _, stack, _ = plan_stack(**props)
        template = dict(Template.from_stack(stack).to_json())
        self.stack = Stack(template, ACCOUNT, REGION)
        self.asl = definition(template)
        (self.role,) = roles_assumed_by(self.stack, "states.amazonaws.com")
        self.policies = self.stack.identity_policies(self.role)
        self.access_roles = [
            self.stack.role_arn(r) for r in roles_assumed_by(self.stack, "cloudtrail.amazonaws.com")
        ]

    def tasks_actions(self) -> set[str]:
        return {iam_action(r) for r in task_resources(self.asl["States"])}

    def resolved(self, type_: str) -> list[str]:
        return [
            str(self.stack.resolve({"Fn::GetAtt": [logical, "Arn"]}))
            for logical in self.stack.of_type(type_)
        ]

    def request(self, action: str, resource: str, **context: str) -> Request:
        role_arn = self.stack.role_arn(self.role)
        return Request(
            principal=f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_arn.rsplit('/', 1)[1]}/x",
            action=action,
            resource=resource,
            resource_account=ACCOUNT,
            identity_policies=self.policies,
            context={"aws:PrincipalArn": role_arn, "aws:PrincipalAccount": ACCOUNT, **context},
        )


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def plan(request: pytest.FixtureRequest) -> Plan:
    return Plan(**VARIANTS[request.param])


def test_the_state_machine_role_is_granted_exactly_what_its_tasks_call(plan: Plan) -> None:
    expected = plan.tasks_actions() | LOG_DELIVERY
    if "cloudtrail:StartImport" in expected:
        expected.add("iam:PassRole")  # StartImport hands CloudTrail the access role

    assert granted_actions(plan.policies) == expected


def test_each_task_of_the_state_machine_is_allowed_where_it_calls(plan: Plan) -> None:
    default_bus = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    by_action: dict[str, list[Request]] = {
        "cloudtrail:StartImport": [plan.request("cloudtrail:StartImport", "*")],
        "cloudtrail:GetImport": [plan.request("cloudtrail:GetImport", "*")],
        "cloudtrail:ListImportFailures": [plan.request("cloudtrail:ListImportFailures", "*")],
        "cloudtrail:ListImports": [plan.request("cloudtrail:ListImports", "*")],
        # The next link of a long plan: an execution of this very state machine.
        "states:StartExecution": [
            plan.request("states:StartExecution", m)
            for m in plan.resolved("AWS::StepFunctions::StateMachine")
        ],
        "events:PutEvents": [plan.request("events:PutEvents", default_bus)],
        "sns:Publish": [plan.request("sns:Publish", t) for t in plan.resolved("AWS::SNS::Topic")],
        "lambda:InvokeFunction": [
            plan.request("lambda:InvokeFunction", f)
            for f in plan.resolved("AWS::Lambda::Function")
            if "Finish" in f
        ],
    }
    requests = [r for action in sorted(plan.tasks_actions()) for r in by_action[action]]
    requests += [
        plan.request("iam:PassRole", role, **{"iam:PassedToService": "cloudtrail.amazonaws.com"})
        for role in plan.access_roles
    ]

    assert len(plan.access_roles) == 2
    assert allowed(requests) == [True] * len(requests)


def test_the_state_machine_role_may_do_nothing_beyond_its_tasks(plan: Plan) -> None:
    other = f"{REGION}:{ACCOUNT}"
    requests = [
        plan.request("cloudtrail:StopImport", "*"),
        plan.request("cloudtrail:DeleteEventDataStore", STORE_ARN),
        plan.request("cloudtrail:StartQuery", STORE_ARN),
        plan.request("events:PutEvents", f"arn:aws:events:{other}:event-bus/another"),
        plan.request("sns:Publish", f"arn:aws:sns:{other}:another-topic"),
        plan.request("lambda:InvokeFunction", f"arn:aws:lambda:{other}:function:another"),
        plan.request("s3:GetObject", "arn:aws:s3:::org-trail-archive/AWSLogs/o-abc123/x"),
        plan.request(
            "iam:PassRole",
            f"arn:aws:iam::{ACCOUNT}:role/Admin",
            **{"iam:PassedToService": "cloudtrail.amazonaws.com"},
        ),
    ] + [
        plan.request("iam:PassRole", role, **{"iam:PassedToService": "lambda.amazonaws.com"})
        for role in plan.access_roles
    ]

    assert allowed(requests) == [False] * len(requests)


def test_only_step_functions_of_this_account_may_assume_the_state_machine_role(
    plan: Plan,
) -> None:
    trust = plan.stack.trust_policy(plan.role)
    machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:PlanStateMachine"

    def assume(principal: str, **context: str) -> Request:
        return Request(
            principal=principal,
            action="sts:AssumeRole",
            resource=plan.stack.role_arn(plan.role),
            resource_account=ACCOUNT,
            resource_policy=trust,
            context=context,
        )

    requests = [
        assume("states.amazonaws.com", **{"aws:SourceAccount": ACCOUNT, "aws:SourceArn": machine}),
        assume("states.amazonaws.com", **{"aws:SourceAccount": "999999999999"}),
        assume("states.amazonaws.com"),
        assume("lambda.amazonaws.com", **{"aws:SourceAccount": ACCOUNT, "aws:SourceArn": machine}),
    ]

    assert allowed(requests) == [True, False, False, False]
