"""The cdk-nag (AwsSolutions) findings the construct acknowledges, each by its full id with why.

Finding ids embed logical ids, which depend on where a user places the construct, so they are
computed from the synthesized references rather than written down. A bucket from another stack
(or from the parent of a nested stack) is only rendered as an ``Fn::GetStackOutput``, an
``Fn::ImportValue`` or a parameter ``Ref`` once CDK has resolved cross-stack references, so the
object grant is acknowledged again, from the rendered policy, when the tree is validated.
"""

from __future__ import annotations

import json

import jsii
from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from constructs import IValidation

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
    Validations.of(handler_role.node.find_child("DefaultPolicy")).acknowledge(
        Acknowledgment(
            id="AwsSolutions-IAM5[Resource::*]",
            reason="cloudtrail:StartImport, GetImport, ListImports, StopImport and "
            "ListImportFailures have no resource type in the Service Authorization "
            "Reference; IAM accepts them only on '*' (so does organizations:DescribeOrganization, "
            "granted only when the store may be an organization store, for the preflight's "
            "management-account check). Every other statement is scoped.",
        )
    )
    objects_arn = nag_resource_id(
        Stack.of(access_role).resolve(source_bucket.arn_for_objects(f"{prefix}*"))
    )
    acknowledged = {f"AwsSolutions-IAM5[Resource::{objects_arn}]"}
    Validations.of(access_role).acknowledge(
        Acknowledgment(id=next(iter(acknowledged)), reason=OBJECT_GRANT_REASON)
    )
    access_role.node.add_validation(_AcknowledgeRenderedObjectGrant(access_role, acknowledged))
    if handler_reads_objects:
        assert isinstance(handler_role, iam.Role)
        handler_findings = set(acknowledged)
        Validations.of(handler_role).acknowledge(
            Acknowledgment(id=next(iter(handler_findings)), reason=ESTIMATE_GRANT_REASON)
        )
        handler_role.node.add_validation(
            _AcknowledgeRenderedObjectGrant(handler_role, handler_findings, ESTIMATE_GRANT_REASON)
        )
    if created_bucket:
        Validations.of(source_bucket).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason="The bucket holds an archive that CloudTrail reads once per import; "
                "reads by the import role are recorded by CloudTrail. Pass your own bucket "
                "as source_bucket to have server access logs.",
            )
        )


@jsii.implements(IValidation)
class _AcknowledgeRenderedObjectGrant:
    """Acknowledges the s3:GetObject grant as rendered once references are resolved.

    Runs in CDK's validation phase, after cross-stack references are resolved and before the
    validation plugins (cdk-nag) read the acknowledgments. It reports no error of its own.
    """

    def __init__(
        self, role: iam.Role, acknowledged: set[str], reason: str = OBJECT_GRANT_REASON
    ) -> None:
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
    Validations.of(vpc_access_policy).acknowledge(
        Acknowledgment(
            id="AwsSolutions-IAM5[Resource::*]",
            reason="Only with vpc: Lambda creates, describes and deletes the handler's network "
            "interfaces with its execution role; these EC2 actions are the ones AWS's "
            "AWSLambdaVPCAccessExecutionRole grants, on '*' as there.",
        )
    )
