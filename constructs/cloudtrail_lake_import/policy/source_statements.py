"""The statements a bucket's owner adds so that an import in another account can read it.

One definition, used by both sides: the owner's construct (``CloudTrailLakeImportSourceAccess``)
adds them to the bucket policy and key policy; the importer (``CloudTrailLakeImport``) prints
them, with its role ARNs filled in, for an owner who writes policies by hand.

The principal is the importing account, narrowed to one role by ``aws:PrincipalArn``, rather
than the role itself: S3 and KMS refuse a policy that names a role which does not exist yet, so
a role principal would force the importer's roles to be deployed before the owner's policies,
and a re-created role would silently lose access. With the condition, the owner's stack can be
deployed first, and the grant still holds for that one role only.
"""

from __future__ import annotations

import json

from aws_cdk import Arn, ArnFormat, Stack, Token, region_info
from aws_cdk import aws_iam as iam

SID_LIST = "CloudTrailLakeImportListBucket"
SID_READ = "CloudTrailLakeImportReadObjects"
SID_PREFLIGHT = "CloudTrailLakeImportPreflight"
SID_PREFLIGHT_LIST = "CloudTrailLakeImportPreflightList"
SID_DECRYPT = "CloudTrailLakeImportDecrypt"
SID_ESTIMATE_LIST = "CloudTrailLakeImportEstimateList"
SID_ESTIMATE_READ = "CloudTrailLakeImportEstimateReads"
SID_ESTIMATE_DECRYPT = "CloudTrailLakeImportEstimateDecrypt"


def role_account(role_arn: str) -> str:
    """The account of a role ARN (a token when the ARN is one)."""
    account = Arn.split(role_arn, ArnFormat.SLASH_RESOURCE_NAME).account
    assert account is not None
    return account


def bucket_policy_statements(
    *,
    importer_account: str,
    bucket_arn: str,
    prefix: str,
    access_role_arn: str,
    handler_role_arn: str | None,
    handler_reads_objects: bool = False,
) -> list[iam.PolicyStatement]:
    """Reads for the access role (objects under ``prefix`` only) and, when ``handler_role_arn``
    is given, the reads the handler's preflight makes: the ownership controls, and a listing of
    the prefix (is there anything to import yet?). With ``handler_reads_objects`` (the cost
    guard, ``max_ingest_gb``), also what its estimate reads: the listing of the date folders
    under the prefix and the objects under it (the last 4 bytes of each)."""
    account = importer_account
    statements = [
        _for_role(SID_LIST, account, access_role_arn, ["s3:GetBucketAcl", "s3:ListBucket"]),
        _for_role(SID_READ, account, access_role_arn, ["s3:GetObject"]),
    ]
    statements[0].add_resources(bucket_arn)
    statements[1].add_resources(f"{bucket_arn}/{prefix}*")
    if handler_role_arn is not None:
        preflight = _for_role(
            SID_PREFLIGHT, account, handler_role_arn, ["s3:GetBucketOwnershipControls"]
        )
        listing = _for_role(SID_PREFLIGHT_LIST, account, handler_role_arn, ["s3:ListBucket"])
        # A listing of the whole bucket has no s3:prefix key, which a condition would refuse.
        if prefix:
            listing.add_condition("StringEquals", {"s3:prefix": prefix})
        for statement in (preflight, listing):
            statement.add_resources(bucket_arn)
            statements.append(statement)
        if handler_reads_objects:
            folders = _for_role(SID_ESTIMATE_LIST, account, handler_role_arn, ["s3:ListBucket"])
            if prefix:
                folders.add_condition("StringLike", {"s3:prefix": f"{prefix}*"})
            folders.add_resources(bucket_arn)
            reads = _for_role(SID_ESTIMATE_READ, account, handler_role_arn, ["s3:GetObject"])
            reads.add_resources(f"{bucket_arn}/{prefix}*")
            statements += [folders, reads]
    return statements


def key_policy_statement(
    *,
    importer_account: str,
    role_arn: str,
    bucket_arn: str,
    objects_arn: str,
    sid: str = SID_DECRYPT,
) -> iam.PolicyStatement:
    """The key policy's grant to ``role_arn``, for this bucket's objects only (the encryption
    context), as CloudTrail's import documentation writes it: ``kms:Decrypt`` and
    ``kms:GenerateDataKey`` for the access role; ``kms:Decrypt`` alone for the handler role
    (the cost guard's estimate, ``sid=SID_ESTIMATE_DECRYPT``), which only reads.

    No ``kms:ViaService`` narrowing: AWS's tested statements do not use it, and a narrowing
    that cannot be tested on AWS is not worth an InsufficientEncryptionPolicyException. With
    S3 Bucket Keys the encryption context is the bucket's ARN, without them the object's.
    """
    actions = (
        ["kms:Decrypt"] if sid == SID_ESTIMATE_DECRYPT else ["kms:Decrypt", "kms:GenerateDataKey"]
    )
    statement = _for_role(sid, importer_account, role_arn, actions)
    statement.add_all_resources()
    statement.add_condition(
        "StringLike", {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, objects_arn]}
    )
    return statement


def _for_role(sid: str, account: str, role_arn: str, actions: list[str]) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid=sid,
        principals=[iam.AccountPrincipal(account)],
        actions=actions,
        conditions={"ArnEquals": {"aws:PrincipalArn": role_arn}},
    )


# What an environment-agnostic stack learns only at deploy time, as a reader fills it in.
_TO_FILL_IN = {
    "AWS::AccountId": ("<account-id>", "the account this stack deploys to"),
    "AWS::Region": ("<region>", "the region this stack deploys to"),
    "AWS::Partition": ("<partition>", "aws (aws-cn in China, aws-us-gov in GovCloud)"),
    "AWS::URLSuffix": ("<url-suffix>", "amazonaws.com (amazonaws.com.cn in China)"),
}


def for_people(
    stack: Stack, statements: list[iam.PolicyStatement], *, known_arn: str | None = None
) -> str:
    """The statements as policy JSON for a synth message.

    What the stack learns only at deploy time is taken from ``known_arn`` (a resource's ARN in
    this stack's region, e.g. an imported key's) when it is written out, and otherwise reads as
    a placeholder such as ``<region>`` that the message then explains; a resource created in
    the stack reads ``<Logical.Arn>`` (see the stack's outputs for its value).
    """
    known: dict[str, str] = {}
    if known_arn is not None and not Token.is_unresolved(known_arn):
        parts = known_arn.split(":")
        if len(parts) > 4 and parts[0] == "arn":
            known.update({"AWS::Partition": parts[1], "AWS::Region": parts[3]})
    if not Token.is_unresolved(stack.region):
        known["AWS::Region"] = stack.region
        partition = region_info.RegionInfo.get(stack.region).partition
        if partition:
            known["AWS::Partition"] = partition
    if not Token.is_unresolved(stack.account):
        known["AWS::AccountId"] = stack.account
    placeholders: dict[str, str] = {}
    resolved = stack.resolve([s.to_statement_json() for s in statements])
    text = json.dumps(_readable(resolved, known, placeholders), separators=(",", ":"))
    if not placeholders:
        return text
    fill_in = "; ".join(f"{name} is {meaning}" for name, meaning in placeholders.items())
    return f"{text} (fill in: {fill_in})"


def _readable(value: object, known: dict[str, str], placeholders: dict[str, str]) -> object:
    if isinstance(value, list):
        return [_readable(item, known, placeholders) for item in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((function, args),) = value.items()
            if function == "Ref":
                if args in known:
                    return known[args]
                if args in _TO_FILL_IN:
                    name, meaning = _TO_FILL_IN[args]
                    placeholders[name] = meaning
                    return name
                return f"<{args}>"
            if function == "Fn::GetAtt":
                return f"<{args[0]}.{args[1]}>"
            if function == "Fn::Join":
                separator, parts = args
                return str(separator).join(
                    str(_readable(part, known, placeholders)) for part in parts
                )
        return {key: _readable(item, known, placeholders) for key, item in value.items()}
    return value
