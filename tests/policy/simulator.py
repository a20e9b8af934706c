"""The synthesized policies, evaluated by AWS's policy logic offline (@cloud-copilot/iam-simulate).

A template's policies still hold CloudFormation's intrinsics (``Ref``, ``Fn::GetAtt``,
``Fn::Join``): ``Resolver`` fills each with a fixed test ARN derived from the resource's type
and logical id (its name where the template sets one), so a policy can be evaluated as it will
be once deployed. ``simulate`` hands a batch of requests to ``simulate.mjs`` (one Node process
per batch) and returns one decision per request.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("simulate.mjs")
ALLOWED = "Allowed"

Policy = dict[str, Any]


class Resolver:
    """Fills a template's intrinsics with the ARNs its resources will have in ``account``."""

    def __init__(self, template: Mapping[str, Any], *, account: str, region: str) -> None:
        self.resources: dict[str, Any] = template["Resources"]
        self.account = account
        self.region = region

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((function, args),) = value.items()
            if function == "Ref":
                return self._ref(args)
            if function == "Fn::GetAtt":
                logical, attribute = args if isinstance(args, list) else args.split(".", 1)
                return self._attribute(logical, attribute)
            if function == "Fn::Join":
                separator, parts = args
                return str(separator).join(str(self(part)) for part in parts)
            if function.startswith("Fn::"):
                raise ValueError(f"no test value for {function}: teach Resolver about it")
        return {key: self(item) for key, item in value.items()}

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Partition": "aws",
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        type_ = self._type(name)
        if type_ == "AWS::S3::Bucket":
            return self._bucket_name(name)
        if type_ in ("AWS::IAM::Role", "AWS::Lambda::Function"):
            return self._name(name, "RoleName" if type_ == "AWS::IAM::Role" else "FunctionName")
        if type_ in ("AWS::StepFunctions::StateMachine", "AWS::SNS::Topic"):
            return self._attribute(name, "Arn")
        if type_ == "AWS::KMS::Key":
            return f"key-{name.lower()}"
        raise ValueError(f"no test value for Ref {name} ({type_})")

    def _attribute(self, logical: str, attribute: str) -> str:
        type_ = self._type(logical)
        arn = self._arns(logical).get((type_, attribute))
        if arn is None:
            raise ValueError(f"no test value for {logical}.{attribute} ({type_})")
        return arn

    def _arns(self, logical: str) -> dict[tuple[str, str], str]:
        account, region = self.account, self.region
        return {
            (
                "AWS::IAM::Role",
                "Arn",
            ): f"arn:aws:iam::{account}:role/{self._name(logical, 'RoleName')}",
            ("AWS::S3::Bucket", "Arn"): f"arn:aws:s3:::{self._bucket_name(logical)}",
            ("AWS::KMS::Key", "Arn"): f"arn:aws:kms:{region}:{account}:key/key-{logical.lower()}",
            (
                "AWS::CloudTrail::EventDataStore",
                "EventDataStoreArn",
            ): f"arn:aws:cloudtrail:{region}:{account}:eventdatastore/{logical}",
            (
                "AWS::Logs::LogGroup",
                "Arn",
            ): f"arn:aws:logs:{region}:{account}:log-group:{logical}:*",
            ("AWS::SQS::Queue", "Arn"): f"arn:aws:sqs:{region}:{account}:{logical}",
            (
                "AWS::Lambda::Function",
                "Arn",
            ): f"arn:aws:lambda:{region}:{account}:function:{self._name(logical, 'FunctionName')}",
            (
                "AWS::StepFunctions::StateMachine",
                "Arn",
            ): f"arn:aws:states:{region}:{account}:stateMachine:{logical}",
            ("AWS::SNS::Topic", "Arn"): f"arn:aws:sns:{region}:{account}:{logical}",
        }

    def _type(self, logical: str) -> str:
        if logical not in self.resources:
            raise ValueError(f"no resource {logical} in the template")
        return str(self.resources[logical]["Type"])

    def _name(self, logical: str, prop: str) -> str:
        name = self.resources[logical].get("Properties", {}).get(prop)
        return str(self(name)) if name is not None else logical

    def _bucket_name(self, logical: str) -> str:
        name = self.resources[logical].get("Properties", {}).get("BucketName")
        return str(self(name)) if name is not None else logical.lower()


@dataclass(frozen=True)
class Stack:
    """One synthesized stack's policies, resolved for ``account`` and ``region``."""

    template: Mapping[str, Any]
    account: str
    region: str
    resolve: Resolver = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "resolve", Resolver(self.template, account=self.account, region=self.region)
        )

    def of_type(self, type_: str) -> dict[str, Any]:
        return {k: r for k, r in self.template["Resources"].items() if r["Type"] == type_}

    def role_arn(self, logical: str) -> str:
        return str(self.resolve({"Fn::GetAtt": [logical, "Arn"]}))

    def trust_policy(self, role: str) -> Policy:
        document: Policy = self.resolve(
            self.template["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]
        )
        return document

    def identity_policies(self, role: str) -> list[Policy]:
        """The role's inline policies and every AWS::IAM::Policy attached to it."""
        found: list[Policy] = []
        properties = self.template["Resources"][role]["Properties"]
        for inline in properties.get("Policies", []):
            found.append(self.resolve(inline["PolicyDocument"]))
        for policy in self.of_type("AWS::IAM::Policy").values():
            if {"Ref": role} in policy["Properties"].get("Roles", []):
                found.append(self.resolve(policy["Properties"]["PolicyDocument"]))
        for managed in properties.get("ManagedPolicyArns", []):
            raise AssertionError(f"{role} has a managed policy {managed}: not modelled here")
        return found

    def bucket_policy(self, bucket: str) -> Policy:
        (policy,) = [
            p
            for p in self.of_type("AWS::S3::BucketPolicy").values()
            if p["Properties"]["Bucket"] == {"Ref": bucket}
        ]
        document: Policy = self.resolve(policy["Properties"]["PolicyDocument"])
        return document

    def key_policy(self, key: str) -> Policy:
        document: Policy = self.resolve(self.template["Resources"][key]["Properties"]["KeyPolicy"])
        return document


def roles_assumed_by(stack: Stack, service: str) -> list[str]:
    return [
        logical
        for logical, role in stack.of_type("AWS::IAM::Role").items()
        if any(
            s.get("Principal") == {"Service": service}
            for s in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        )
    ]


def granted_actions(policies: list[Policy]) -> set[str]:
    """Every action the policies' Allow statements name (as written: wildcards stay)."""
    actions: set[str] = set()
    for policy in policies:
        for statement in policy["Statement"]:
            assert "NotAction" not in statement, statement
            if statement["Effect"] == "Allow":
                named = statement["Action"]
                actions.update([named] if isinstance(named, str) else named)
    return actions


def default_key_policy(account: str) -> Policy:
    """A KMS key's default policy: the account's IAM policies decide (what an existing key
    created by the console or by CDK's ``kms.Key`` has)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


@dataclass(frozen=True)
class Request:
    """One request: who asks, for what, on what, with which policies in force."""

    principal: str
    action: str
    resource: str
    resource_account: str
    identity_policies: list[Policy] = field(default_factory=list)
    resource_policy: Policy | None = None
    context: Mapping[str, str | list[str]] = field(default_factory=dict)

    def simulation(self) -> dict[str, Any]:
        simulation: dict[str, Any] = {
            "request": {
                "principal": self.principal,
                "action": self.action,
                "resource": {"resource": self.resource, "accountId": self.resource_account},
                "contextVariables": dict(self.context),
            },
            "identityPolicies": [
                {"name": f"policy{n}", "policy": p} for n, p in enumerate(self.identity_policies)
            ],
        }
        if self.resource_policy is not None:
            simulation["resourcePolicy"] = self.resource_policy
        return simulation


def simulate(requests: list[Request]) -> list[str]:
    """AWS's decision for each request: Allowed, ImplicitlyDenied or ExplicitlyDenied."""
    node = shutil.which("node")
    assert node is not None, "the policy tests need Node.js (make setup installs the simulator)"
    result = subprocess.run(
        [node, str(SCRIPT)],
        input=json.dumps([r.simulation() for r in requests]),
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, f"simulate.mjs failed: {result.stderr}"
    answers = json.loads(result.stdout)
    decisions = []
    for request, answer in zip(requests, answers, strict=True):
        if "error" in answer:
            raise AssertionError(f"the simulator refused {request}: {answer['error']}")
        decisions.append(str(answer["decision"]))
    return decisions


def allowed(requests: list[Request]) -> list[bool]:
    return [decision == ALLOWED for decision in simulate(requests)]
