"""What the owner of a trail archive in another account must grant, published at synth."""

from __future__ import annotations

from aws_cdk import Annotations, CfnOutput, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from cloudtrail_lake_import.policy import source_statements
from constructs import Construct


def other_account(resource: s3.IBucket | kms.IKey | None, stack: Stack) -> str | None:
    """The account of a bucket or key that lives in another account than ``stack``, if known."""
    if resource is None:
        return None
    account = resource.env.account
    if Token.is_unresolved(account) or account == stack.account:
        return None
    # An environment-agnostic stack's account is unknown: a bucket given with an account is
    # taken to be another account's (the published statements are harmless if it is not).
    return account


def publish_source_statements(
    scope: Construct,
    *,
    source: s3.IBucket,
    encryption_key: kms.IKey | None,
    prefix: str,
    access_role: iam.IRole,
    handler_role: iam.IRole,
    bucket: bool,
    key: bool,
    handler_reads_objects: bool,
) -> None:
    """What the owner of a bucket (or key) in another account must add to its policies;
    with the cost guard, also the handler role's reads of the objects (its estimate).

    ``CloudTrailLakeImportSourceAccess`` adds exactly these in the owner's stack; the outputs
    (values known at deploy) and synth messages (on ``scope``) are for policies written by hand.
    """
    objects_arn = source.arn_for_objects(f"{prefix}*")
    published: list[tuple[str, str, list[iam.PolicyStatement]]] = []
    stack = Stack.of(scope)
    access_role_arn = _role_arn_for_owner(access_role)
    handler_role_arn = _role_arn_for_owner(handler_role)
    if bucket:
        statements = source_statements.bucket_policy_statements(
            importer_account=stack.account,
            bucket_arn=source.bucket_arn,
            prefix=prefix,
            access_role_arn=access_role_arn,
            handler_role_arn=handler_role_arn,
            handler_reads_objects=handler_reads_objects,
        )
        published.append(("SourceBucketPolicyStatements", "the bucket policy", statements))
    if key and encryption_key is not None:
        readers = [(source_statements.SID_DECRYPT, access_role_arn)]
        if handler_reads_objects:
            readers.append((source_statements.SID_ESTIMATE_DECRYPT, handler_role_arn))
        key_statements = [
            source_statements.key_policy_statement(
                importer_account=stack.account,
                role_arn=role_arn,
                bucket_arn=source.bucket_arn,
                objects_arn=objects_arn,
                sid=sid,
            )
            for sid, role_arn in readers
        ]
        published.append(("SourceKeyPolicyStatements", "the key policy", key_statements))
    construct_options = ", handler_reads_objects=True" if handler_reads_objects else ""
    for output_id, where, statements in published:
        CfnOutput(
            scope,
            output_id,
            value=stack.to_json_string([s.to_statement_json() for s in statements]),
            description=f"Statements the trail archive's owner adds to {where}",
        )
        Annotations.of(scope).add_info(
            f"the trail archive's owner must add to {where} (or deploy "
            f"CloudTrailLakeImportSourceAccess with these role ARNs{construct_options}): "
            + source_statements.for_people(stack, statements)
        )


def _role_arn_for_owner(role: iam.IRole) -> str:
    """A named role's ARN written out (readable at synth, no dependency on the role)."""
    assert isinstance(role, iam.Role)
    name = role.node.default_child.role_name  # type: ignore[union-attr]
    if isinstance(name, str) and not Token.is_unresolved(name):
        return Stack.of(role).format_arn(
            service="iam", region="", resource="role", resource_name=name
        )
    return role.role_arn
