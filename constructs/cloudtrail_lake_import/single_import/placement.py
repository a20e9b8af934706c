"""Checks and wiring that depend on where the construct is placed and what it is given."""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, CustomResource, Stack
from aws_cdk import aws_s3 as s3

from constructs import Construct, IConstruct

# Object ownership settings that leave ACLs enabled; StartImport refuses such buckets.
ACL_ENABLED_OWNERSHIP = frozenset({"ObjectWriter", "BucketOwnerPreferred"})
# The canned ACL every bucket with ACLs disabled (BucketOwnerEnforced) has anyway.
ACL_FREE_ACCESS_CONTROL = frozenset({"Private"})


def order_after_sibling_imports(
    construct: Construct,
    resource: CustomResource,
    *,
    earlier: list[tuple[IConstruct, CustomResource, bool]],
) -> None:
    """Each import of a stack starts after the ones declared before it in the same stack, or in
    its parent or nested stacks (CDK orders those through the nested stack's resource).

    CloudTrail runs one import per account: without an order CloudFormation creates siblings in
    parallel, the second Create meets the first's running import and fails, and the rollback
    stops the first. An order is only enough when the earlier import's Create waits for it.
    """
    for sibling, sibling_resource, sibling_waits in earlier:
        resource.node.add_dependency(sibling_resource)
        if not sibling_waits:
            Annotations.of(construct).add_warning_v2(
                "cloudtrail-lake-import:siblings",
                f"{sibling.node.path} is an earlier CloudTrailLakeImport in this deployment (this "
                "stack, its parent or its nested stacks) that "
                "does not wait for completion: its import still runs when this one starts, and "
                "CloudTrail allows one import per account (AccountHasOngoingImportException), "
                f"so this Create fails. Set wait_for_completion=True on {sibling.node.path}, "
                "or deploy the imports one after the other",
            )


def earlier_imports_in_stack(construct: Construct, kind: type) -> list[Any]:
    """The instances of ``kind`` already declared in the same deployment: the nearest stack that
    is not nested, and its nested stacks (they deploy with it, in one CloudFormation operation).
    """
    root = deployed_stack(construct)
    return [
        c
        for c in root.node.find_all()
        if isinstance(c, kind) and c is not construct and deployed_stack(c) is root
    ]


def deployed_stack(construct: IConstruct) -> Stack:
    """The stack CloudFormation deploys ``construct`` with: nested stacks go with their parent."""
    stack = Stack.of(construct)
    while stack.nested_stack_parent is not None:
        stack = stack.nested_stack_parent
    return stack


def warn_if_acls_enabled(construct: Construct, bucket: s3.IBucket) -> None:
    """A bucket declared in the app shows its ObjectOwnership: warn now, not at deploy."""
    cfn_bucket = bucket.node.default_child
    if not isinstance(cfn_bucket, s3.CfnBucket):
        return  # an imported bucket: the handler checks it before StartImport
    # The L2 bucket renders these lazily; the typed getters cannot read them back.
    rendered = Stack.of(cfn_bucket).resolve(cfn_bucket._cfn_properties) or {}
    rules = (rendered.get("ownershipControls") or {}).get("rules") or []
    ownership = {rule.get("objectOwnership") for rule in rules if isinstance(rule, dict)}
    access_control = rendered.get("accessControl")
    if access_control in ACL_FREE_ACCESS_CONTROL:
        access_control = None  # the owner-only ACL, which a bucket with ACLs disabled keeps
    enabled = sorted(o for o in ownership if o in ACL_ENABLED_OWNERSHIP)
    if not enabled and access_control is None:
        return
    setting = ", ".join(
        [f"ObjectOwnership {o}" for o in enabled]
        + ([f"access_control {access_control}"] if access_control is not None else [])
    )
    Annotations.of(construct).add_warning_v2(
        "cloudtrail-lake-import:acl",
        f"source_bucket {bucket.node.path} has ACLs enabled ({setting}); CloudTrail imports "
        "only from buckets with ACLs disabled, so the deploy fails. Declare the bucket with "
        "object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED and no access_control",
    )


def warn_without_fixed_role_names(
    construct: Construct,
    bucket_account: str,
    *,
    access_role_name: str | None,
    handler_role_name: str | None,
) -> None:
    """The owner of a bucket in another account grants named roles; generated names change."""
    missing = [
        name
        for name, value in (
            ("access_role_name", access_role_name),
            ("handler_role_name", handler_role_name),
        )
        if value is None
    ]
    if not missing:
        return
    Annotations.of(construct).add_warning_v2(
        "cloudtrail-lake-import:crossAccountRoleNames",
        f"the source bucket is in account {bucket_account} and {' and '.join(missing)} "
        f"{'is' if len(missing) == 1 else 'are'} not given: the bucket's owner must grant "
        "these roles by ARN, and a generated name is only known after deploy and changes when "
        "the role is re-created (the grant then names a role that no longer exists). Give "
        "both access_role_name and handler_role_name",
    )
