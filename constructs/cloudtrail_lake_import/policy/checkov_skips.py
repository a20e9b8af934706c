"""The checkov checks the construct skips, each with why and the prop that removes the skip.

checkov reads ``Metadata: {"checkov": {"skip": [{"id": ..., "comment": ...}]}}`` on a resource.
A check is skipped only while the prop that satisfies it is left at its documented default;
give the prop and the skip goes away (and checkov checks the resource again). One skip comes
with a prop instead: ``vpc`` needs the network-interface rights Lambda documents, on ``*``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnResource

from constructs import IConstruct

METADATA_KEY = "checkov"


@dataclass(frozen=True)
class Skip:
    check_id: str
    comment: str


LAMBDA_OUTSIDE_VPC = Skip(
    "CKV_AWS_117",
    "The handler calls only AWS APIs (CloudTrail, S3, Lambda) and the CloudFormation response "
    "URL over TLS; it serves nothing and reaches no private resource, so a VPC adds no "
    "protection. Pass vpc (with endpoints or NAT) where policy requires one.",
)
NO_RESERVED_CONCURRENCY = Skip(
    "CKV_AWS_115",
    "reserved_concurrent_executions=None was chosen: accounts with a concurrency quota of 10 "
    "cannot reserve any. Leave the default (2) to cap the handler.",
)
LOG_GROUP_WITHOUT_KMS = Skip(
    "CKV_AWS_158",
    "The handler logs request types, import ids and statuses, never the ResponseURL or "
    "credentials; CloudWatch Logs encrypts them at rest with its own key. Pass "
    "log_encryption_key to use a KMS key of yours.",
)
BUCKET_WITHOUT_ACCESS_LOGS = Skip(
    "CKV_AWS_18",
    "The archive bucket is read by CloudTrail's import role, recorded by CloudTrail (enable "
    "S3 data events to see each object read). Pass server_access_logs_bucket for S3 server "
    "access logs, or pass your own source_bucket.",
)

VPC_NETWORK_INTERFACE_WRITES = Skip(
    "CKV_AWS_111",
    "Only with vpc: Lambda creates, assigns addresses to and deletes the handler's network "
    "interfaces with its execution role; these are the EC2 actions AWS's "
    "AWSLambdaVPCAccessExecutionRole grants, on '*' as there. Leave vpc unset to drop them.",
)


def skip_checks(resource: IConstruct, *skips: Skip) -> None:
    """Add ``skips`` to the checkov metadata of ``resource``'s CloudFormation resource."""
    cfn = resource if isinstance(resource, CfnResource) else resource.node.default_child
    if not isinstance(cfn, CfnResource):
        raise TypeError(f"{resource.node.path} has no CloudFormation resource to annotate")
    existing = cfn.get_metadata(METADATA_KEY) or {}
    listed = list(existing.get("skip", []))
    known = {entry["id"] for entry in listed}
    listed.extend(
        {"id": skip.check_id, "comment": skip.comment}
        for skip in skips
        if skip.check_id not in known
    )
    cfn.add_metadata(METADATA_KEY, {**existing, "skip": listed})


def skip_checks_left_to_defaults(
    *,
    handler: IConstruct,
    log_group: IConstruct,
    created_bucket: IConstruct | None,
    vpc_access_policy: IConstruct | None,
    concurrency_reserved: bool,
    logs_encrypted: bool,
    access_logged: bool,
) -> None:
    """Skip, with its reason, each check that only a prop left at its default fails.

    ``vpc_access_policy`` is the handler's network-interface policy, None outside a VPC.
    """
    handler_skips = [
        skip
        for skip, satisfied in (
            (LAMBDA_OUTSIDE_VPC, vpc_access_policy is not None),
            (NO_RESERVED_CONCURRENCY, concurrency_reserved),
        )
        if not satisfied
    ]
    if handler_skips:
        skip_checks(handler, *handler_skips)
    if not logs_encrypted:
        skip_checks(log_group, LOG_GROUP_WITHOUT_KMS)
    if created_bucket is not None and not access_logged:
        skip_checks(created_bucket, BUCKET_WITHOUT_ACCESS_LOGS)
    if vpc_access_policy is not None:
        skip_checks(vpc_access_policy, VPC_NETWORK_INTERFACE_WRITES)
