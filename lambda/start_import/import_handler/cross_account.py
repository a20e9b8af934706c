"""Pure decisions for a trail archive in another account and for organization event data stores.

The statements are those ``CloudTrailLakeImportSourceAccess`` adds to the owner's bucket policy
(``constructs/cloudtrail_lake_import/policy/source_statements.py``; a test keeps the two equal): the
importing account as principal, narrowed to one role by ``aws:PrincipalArn``.
"""

from __future__ import annotations

import json
import re
from typing import Any

_ROLE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/(?P<path>.+)$"
)


ESTIMATE_LIST = "CloudTrailLakeImportEstimateList"
ESTIMATE_READS = "CloudTrailLakeImportEstimateReads"
ESTIMATE_DECRYPT = "CloudTrailLakeImportEstimateDecrypt"
# Where the statements' JSON is; not the stack's outputs: a failed first Create rolls them back.
WHERE_THE_JSON_IS = "JSON: synth, handler log"


def bucket_policy_statements(
    *,
    bucket: str,
    prefix: str,
    access_role_arn: str,
    handler_role_arn: str,
    handler_reads_objects: bool = False,
) -> list[dict[str, Any]]:
    """What the bucket's owner adds so that the import (and its preflight) can read it; with
    ``handler_reads_objects`` (MaxIngestGB), also what the cost guard's estimate reads."""
    role = _ROLE_ARN.match(access_role_arn)
    partition = role.group("partition") if role else "aws"
    account = role.group("account") if role else "<importing account>"
    bucket_arn = f"arn:{partition}:s3:::{bucket}"

    def allow(
        sid: str,
        role_arn: str,
        actions: list[str] | str,
        resource: str,
        **conditions: dict[str, str],
    ) -> dict[str, Any]:
        return {
            "Action": actions,
            "Condition": {"ArnEquals": {"aws:PrincipalArn": role_arn}, **conditions},
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
            "Resource": resource,
            "Sid": sid,
        }

    return [
        allow(
            "CloudTrailLakeImportListBucket",
            access_role_arn,
            ["s3:GetBucketAcl", "s3:ListBucket"],
            bucket_arn,
        ),
        allow(
            "CloudTrailLakeImportReadObjects",
            access_role_arn,
            "s3:GetObject",
            f"{bucket_arn}/{prefix}*",
        ),
        allow(
            "CloudTrailLakeImportPreflight",
            handler_role_arn,
            "s3:GetBucketOwnershipControls",
            bucket_arn,
        ),
        # The preflight lists one key under the prefix (is there anything to import yet?).
        allow(
            "CloudTrailLakeImportPreflightList",
            handler_role_arn,
            "s3:ListBucket",
            bucket_arn,
            **_prefix_condition("StringEquals", prefix),
        ),
    ] + (
        [
            allow(
                ESTIMATE_LIST,
                handler_role_arn,
                "s3:ListBucket",
                bucket_arn,
                **_prefix_condition("StringLike", f"{prefix}*" if prefix else ""),
            ),
            allow(ESTIMATE_READS, handler_role_arn, "s3:GetObject", f"{bucket_arn}/{prefix}*"),
        ]
        if handler_reads_objects
        else []
    )


def statements_json(statements: list[dict[str, Any]]) -> str:
    return json.dumps(statements, separators=(",", ":"))


def _prefix_condition(operator: str, value: str) -> dict[str, dict[str, str]]:
    """No condition for the whole bucket: a listing without a prefix has no ``s3:prefix`` key,
    which a condition on it would refuse (the importer's own policy leaves it out too)."""
    return {operator: {"s3:prefix": value}} if value else {}


def needed_sids(*, handler_reads_objects: bool = False) -> tuple[list[str], list[str]]:
    """The owner's statements the import needs: the access role's, then the handler role's."""
    handler = ["Preflight", "PreflightList"]
    if handler_reads_objects:
        handler += [_short_sid(ESTIMATE_LIST), _short_sid(ESTIMATE_READS)]
    return ["ListBucket", "ReadObjects"], handler


def not_shared(
    *,
    bucket: str,
    owner: str,
    access_role_arn: str,
    handler_role_arn: str,
    handler_reads_objects: bool = False,
) -> str:
    """The reason when the owner has not granted the reads.

    CloudFormation shows 256 characters: they name the bucket, its owner, the owner's statements
    (by Sid) and the roles they are for; the full JSON is in ``cdk synth``'s info messages and
    the handler's log (not in the stack's outputs: a failed first Create rolls them back).
    """
    access_sids, handler_sids = needed_sids(handler_reads_objects=handler_reads_objects)
    return (
        f"SourceBucketNotShared: {bucket} ({owner}) lacks {_sid_set(access_sids)} for "
        f"{_role_name(access_role_arn)}, {{{','.join(handler_sids)}}} for "
        f"{_role_name(handler_role_arn)}; {WHERE_THE_JSON_IS}"
    )


def access_role_not_shared(*, code: str, bucket: str, owner: str, access_role_arn: str) -> str:
    """The reason when CloudTrail, as the access role, could not read another account's bucket
    that the preflight, as the handler's role, could: the owner likely granted the handler only.
    ``code`` is what CloudTrail said (the reason starts with it)."""
    access_sids, _ = needed_sids()
    return (
        f"{code}: CloudTrail could not read {bucket} ({owner}) as {_role_name(access_role_arn)}; "
        f"its policy likely lacks {_sid_set(access_sids)} for it; {WHERE_THE_JSON_IS}"
    )


def access_role_statements(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Of the owner's statements, those for the access role (what CloudTrail reads with)."""
    access_sids, _ = needed_sids()
    wanted = {f"CloudTrailLakeImport{sid}" for sid in access_sids}
    return [s for s in statements if s.get("Sid") in wanted]


def _sid_set(sids: list[str]) -> str:
    return f"CloudTrailLakeImport{{{','.join(sids)}}}"


def _short_sid(sid: str) -> str:
    return sid.removeprefix("CloudTrailLakeImport")


def _role_name(role_arn: str) -> str:
    """The role's name: what is left of its ARN once the account and path are known."""
    return role_arn.rpartition("/")[2] or role_arn


def not_shared_for_estimate(
    *, bucket: str, owner: str, prefix: str, handler_role_arn: str, operation: str, message: str
) -> str:
    """The reason when the owner lets the import read but not the cost guard's estimate: which
    of the owner's statements is missing (CloudFormation shows 256 characters)."""
    if operation == "ListObjectsV2":
        sid, action, where = ESTIMATE_LIST, "s3:ListBucket", f"under {prefix}*"
    elif "kms" in message.lower():
        sid, action, where = ESTIMATE_DECRYPT, "kms:Decrypt", "in the key policy"
    else:
        sid, action, where = ESTIMATE_READS, "s3:GetObject", f"on {prefix}*"
    return (
        f"CouldNotEstimate: bucket {bucket} (account {owner}) lacks statement {sid} for "
        "MaxIngestGB: CloudTrailLakeImportSourceAccess handler_reads_objects=True adds it "
        f"({WHERE_THE_JSON_IS}); it lets {_short(handler_role_arn)} {action} {where}"
    )


def organization_problem(
    *,
    store_arn: str,
    organization_enabled: bool,
    caller_account: str | None,
    management_account: str | None,
) -> str | None:
    """Why StartImport would be refused: an organization store, called from another account
    than the organization's management account. None when it is fine or cannot be known."""
    if not organization_enabled or caller_account is None or management_account is None:
        return None
    if caller_account == management_account:
        return None
    store = store_arn.rpartition("/")[2]
    return (
        f"OrganizationStoreNeedsManagementAccount: only the organization's management account "
        f"{management_account} can import into organization event data store {store}, not "
        f"{caller_account} (nor a delegated administrator): deploy the import there"
    )


def account_of(arn: str) -> str | None:
    """The account field of an ARN, if it has one."""
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and re.fullmatch(r"\d{12}", parts[4]) else None


def _short(role_arn: str) -> str:
    """``<account>:role/<name>``: the ARN without what every role ARN repeats."""
    role = _ROLE_ARN.match(role_arn)
    return f"{role.group('account')}:role/{role.group('path')}" if role else role_arn
