"""The cdk-nag (AwsSolutions) findings the construct acknowledges, each by its full id with why.

Each is recorded so that both cdk-nag major versions read it, without importing cdk-nag: as a
CDK acknowledgment (``Validations.of(...).acknowledge``, which cdk-nag 3's validation plugin
reads) and as cdk-nag 2's ``cdk_nag`` metadata (``rules_to_suppress``, the format its
``NagSuppressions.add_resource_suppressions`` writes) on every CloudFormation resource the
acknowledgment covers.

Finding ids embed logical ids, which depend on where a user places the construct, so they are
computed from the synthesized references rather than written down. A bucket from another stack
(or from the parent of a nested stack) is only rendered as an ``Fn::GetStackOutput``, an
``Fn::ImportValue`` or a parameter ``Ref`` once CDK has resolved cross-stack references, so the
object grant is acknowledged again, from the rendered policy, when the tree is validated.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any

import jsii
from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from constructs import IConstruct, IValidation

OBJECT_GRANT_REASON = (
    "CloudTrail reads every log file under the imported prefix; s3:GetObject is scoped to "
    "that prefix of this one bucket, as the CloudTrail Lake import documentation prescribes."
)
ESTIMATE_GRANT_REASON = (
    "max_ingest_gb: before StartImport the handler reads the last 4 bytes (gzip ISIZE, the "
    "uncompressed size) of every log file the import would read, so s3:GetObject covers the "
    "imported prefix of this one bucket; IAM cannot grant a byte range."
)


def acknowledge_justified_findings(
    *,
    handler_role: iam.IRole | None,
    access_role: iam.Role,
    source_bucket: s3.IBucket,
    prefix: str,
    created_bucket: bool,
    handler_reads_objects: bool = False,
) -> None:
    """Acknowledge the findings whose wildcard an AWS API forces, and nothing else."""
    assert handler_role is not None
    acknowledge(
        handler_role.node.find_child("DefaultPolicy"),
        Acknowledgment(
            id="AwsSolutions-IAM5[Resource::*]",
            reason="cloudtrail:StartImport, GetImport, ListImports, StopImport and "
            "ListImportFailures have no resource type in the Service Authorization "
            "Reference; IAM accepts them only on '*' (so does organizations:DescribeOrganization, "
            "granted only when the store may be an organization store, for the preflight's "
            "management-account check). Every other statement is scoped.",
        ),
    )
    objects_arn = source_bucket.arn_for_objects(f"{prefix}*")
    acknowledge_object_grant(access_role, [objects_arn], OBJECT_GRANT_REASON)
    if handler_reads_objects:
        assert isinstance(handler_role, iam.Role)
        acknowledge_object_grant(handler_role, [objects_arn], ESTIMATE_GRANT_REASON)
    if created_bucket:
        acknowledge(
            source_bucket,
            Acknowledgment(
                id="AwsSolutions-S1",
                reason="The bucket holds an archive that CloudTrail reads once per import; "
                "reads by the import role are recorded by CloudTrail. Pass your own bucket "
                "as source_bucket to have server access logs.",
            ),
        )


def acknowledge_object_grant(role: iam.Role, object_arns: Iterable[str], reason: str) -> None:
    """Acknowledge the wildcard of ``role``'s s3:GetObject grant on ``object_arns``: as the
    references read now, and again as rendered once CDK has resolved cross-stack references."""
    stack = Stack.of(role)
    acknowledged = {
        f"AwsSolutions-IAM5[Resource::{nag_resource_id(stack.resolve(arn))}]" for arn in object_arns
    }
    acknowledge(
        role, *[Acknowledgment(id=finding, reason=reason) for finding in sorted(acknowledged)]
    )
    role.node.add_validation(_AcknowledgeRenderedObjectGrant(role, acknowledged, reason))


@jsii.implements(IValidation)
class _AcknowledgeRenderedObjectGrant:
    """Acknowledges the s3:GetObject grant as rendered once references are resolved.

    Runs in CDK's validation phase, after cross-stack references are resolved and before the
    validation plugins (cdk-nag) read the acknowledgments. It reports no error of its own.
    """

    def __init__(self, role: iam.Role, acknowledged: set[str], reason: str) -> None:
        self._role = role
        self._acknowledged = acknowledged
        self._reason = reason

    def validate(self) -> list[str]:
        policy = self._role.node.try_find_child("DefaultPolicy")
        cfn_policy = policy.node.default_child if policy is not None else None
        if not isinstance(cfn_policy, iam.CfnPolicy):
            return []
        document = Stack.of(cfn_policy).resolve(cfn_policy.policy_document)
        for statement in document.get("Statement", []):
            if "s3:GetObject" not in _as_list(statement.get("Action")):
                continue
            for resource in _as_list(statement.get("Resource")):
                finding = f"AwsSolutions-IAM5[Resource::{nag_resource_id(resource)}]"
                if "*" in finding and finding not in self._acknowledged:
                    self._acknowledged.add(finding)
                    Validations.of(self._role).acknowledge(
                        Acknowledgment(id=finding, reason=self._reason)
                    )
        return []


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def nag_resource_id(resolved: object) -> str:
    """Render a resolved ARN as cdk-nag names it in a finding id (its ``flattenCfnReference``)."""
    if isinstance(resolved, str):
        return resolved.replace("${", "<").replace("}", ">")
    if isinstance(resolved, dict):
        if "Fn::Join" in resolved:
            separator, parts = resolved["Fn::Join"]
            return str(separator).join(nag_resource_id(part) for part in parts)
        if "Fn::Sub" in resolved:
            return nag_resource_id(resolved["Fn::Sub"])
        if "Fn::GetAtt" in resolved:
            logical, attribute = resolved["Fn::GetAtt"]
            return f"<{nag_resource_id(logical)}.{nag_resource_id(attribute)}>"
        if "Fn::ImportValue" in resolved:
            return nag_resource_id(resolved["Fn::ImportValue"])
        if "Ref" in resolved:
            return f"<{nag_resource_id(resolved['Ref'])}>"
    # cdk-nag falls back to JSON.stringify, which writes no spaces.
    return json.dumps(resolved, separators=(",", ":"), ensure_ascii=False)


def acknowledge_security_option_findings(*, vpc_access_policy: iam.Policy | None) -> None:
    """Acknowledge the wildcard that placing the handler in a VPC needs."""
    if vpc_access_policy is None:
        return
    acknowledge(
        vpc_access_policy,
        Acknowledgment(
            id="AwsSolutions-IAM5[Resource::*]",
            reason="Only with vpc: Lambda creates, describes and deletes the handler's network "
            "interfaces with its execution role; these EC2 actions are the ones AWS's "
            "AWSLambdaVPCAccessExecutionRole grants, on '*' as there.",
        ),
    )


def acknowledge(scope: IConstruct, *acknowledgments: Acknowledgment) -> None:
    """Acknowledge findings on ``scope`` and everything in it, for cdk-nag 3 and cdk-nag 2.

    cdk-nag 2 runs as an Aspect, before cross-stack references are rendered, and reads only the
    metadata of the resources that exist now: call this once the policies it covers exist.
    """
    Validations.of(scope).acknowledge(*acknowledgments)
    suppressions = [_cdk_nag_2_suppression(a.id, a.reason) for a in acknowledgments]
    for construct in scope.node.find_all():
        if isinstance(construct, CfnResource):
            add_cdk_nag_2_suppressions(construct, suppressions)


def add_cdk_nag_2_suppressions(resource: CfnResource, suppressions: list[dict[str, Any]]) -> None:
    """Merge suppressions into the resource's ``cdk_nag`` metadata, as cdk-nag 2 does."""
    metadata = resource.get_metadata("cdk_nag") or {}
    rules = [*metadata.get("rules_to_suppress", [])]
    rules.extend(s for s in suppressions if s not in rules)
    resource.add_metadata("cdk_nag", {**metadata, "rules_to_suppress": rules})


def _cdk_nag_2_suppression(finding: str, reason: str) -> dict[str, Any]:
    """A finding id (``Rule[finding]``) as cdk-nag 2 suppresses it: the rule's id, the finding
    in ``applies_to``; a reason with characters past Latin-1 base64-encoded, as cdk-nag 2 writes
    it (``is_reason_encoded``)."""
    rule, bracket, rest = finding.partition("[")
    suppression: dict[str, Any] = {"id": rule}
    if bracket:
        suppression["applies_to"] = [rest.removesuffix("]")]
    if any(ord(c) > 255 for c in reason):
        suppression["reason"] = base64.b64encode(reason.encode()).decode()
        suppression["is_reason_encoded"] = True
    else:
        suppression["reason"] = reason
    return suppression
