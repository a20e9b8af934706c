"""The cdk-nag (AwsSolutions) findings the construct acknowledges, each by its full id with why.

Finding ids embed logical ids, which depend on where a user places the construct, so they are
computed from the synthesized references rather than written down.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3


def acknowledge_justified_findings(
    *,
    handler_role: iam.IRole | None,
    access_role: iam.Role,
    source_bucket: s3.IBucket,
    prefix: str,
    created_bucket: bool,
) -> None:
    """Acknowledge the findings whose wildcard an AWS API forces, and nothing else."""
    assert handler_role is not None
    Validations.of(handler_role.node.find_child("DefaultPolicy")).acknowledge(
        Acknowledgment(
            id="AwsSolutions-IAM5[Resource::*]",
            reason="cloudtrail:StartImport, GetImport, ListImports, StopImport and "
            "ListImportFailures have no resource type in the Service Authorization "
            "Reference; IAM accepts them only on '*'. Every other statement is scoped.",
        )
    )
    objects_arn = nag_resource_id(
        Stack.of(access_role).resolve(source_bucket.arn_for_objects(f"{prefix}*"))
    )
    Validations.of(access_role).acknowledge(
        Acknowledgment(
            id=f"AwsSolutions-IAM5[Resource::{objects_arn}]",
            reason="CloudTrail reads every log file under the imported prefix; "
            "s3:GetObject is scoped to that prefix of this one bucket, as the "
            "CloudTrail Lake import documentation prescribes.",
        )
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


def nag_resource_id(resolved: object) -> str:
    """Render a resolved ARN the way cdk-nag names it in a finding id (``<Logical.Arn>``)."""
    if isinstance(resolved, str):
        return resolved
    if isinstance(resolved, dict) and len(resolved) == 1:
        ((function, args),) = resolved.items()
        if function == "Ref":
            return f"<{args}>"
        if function == "Fn::GetAtt":
            return f"<{args[0]}.{args[1]}>"
        if function == "Fn::Join":
            separator, parts = args
            return str(separator).join(nag_resource_id(part) for part in parts)
    raise ValueError(f"cannot name {resolved!r} as cdk-nag does")
