"""FAILED reasons a person can act on: what went wrong first, then what to change.

CloudFormation shows at most 256 characters of a reason and the responder cuts at the end, so
every reason starts with the error's name and the advice comes right after it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from botocore.exceptions import BotoCoreError, ClientError

from import_handler import aws, cross_account
from import_handler.cloudtrail import ImportFailure
from import_handler.properties import ImportIdentity, SourceOwner

logger = logging.getLogger(__name__)

_KEY_POLICY = (
    "allow cloudtrail.amazonaws.com kms:GenerateDataKey and kms:Decrypt in the event data "
    "store's key policy (without aws:SourceArn/SourceAccount conditions); for an SSE-KMS "
    "bucket, let the access role kms:Decrypt its key"
)

# The advice for each exception StartImport can raise; {store}, {import_id} and {message} are
# filled in from the request and the error.
_ADVICE: Mapping[str, str] = {
    "AccountHasOngoingImportException": (
        "another import is running in this account and CloudTrail runs one at a time; wait for "
        "it to finish or stop it (aws cloudtrail stop-import), or set WaitForCompletion to "
        "true, then deploy again"
    ),
    "EventDataStoreARNInvalidException": (
        "Destinations must be an event data store ARN like "
        "arn:aws:cloudtrail:<region>:<account>:eventdatastore/<id>"
    ),
    "EventDataStoreNotFoundException": (
        "the event data store {store} does not exist in this account and region; fix "
        "Destinations or create the store first"
    ),
    "ImportNotFoundException": (
        "the import {import_id} no longer exists in CloudTrail; deploy again (for example with "
        "a new RetryToken) to start a new import"
    ),
    "InactiveEventDataStoreException": (
        "the event data store {store} is not active; re-enable it (aws cloudtrail "
        "restore-event-data-store if it is pending deletion, or start-event-data-store-"
        "ingestion) and deploy again"
    ),
    "InsufficientEncryptionPolicyException": _KEY_POLICY,
    "InvalidEventDataStoreCategoryException": (
        "event data store {store} does not hold CloudTrail events; use a store whose "
        "selectors select eventCategory Management, Data or NetworkActivity"
    ),
    "InvalidEventDataStoreStatusException": (
        "the event data store {store} must be ENABLED or STOPPED_INGESTION; wait until it "
        "finishes changing state or re-enable it, then deploy again"
    ),
    "InvalidImportSourceException": (
        "CloudTrail cannot read the source: check S3LocationUri/S3BucketRegion, that bucket "
        "ACLs are disabled (BucketOwnerEnforced) and that the access role trusts "
        "cloudtrail.amazonaws.com with s3:ListBucket, s3:GetBucketAcl, s3:GetObject"
    ),
    "InvalidParameterException": (
        "CloudTrail rejected a parameter ({message}); check StartEventTime/EndEventTime (UTC, "
        "start before end) and ImportSource"
    ),
    "OperationNotPermittedException": (
        "this account may not import into {store}; for an organization event data store only "
        "the management account can import (not a delegated administrator)"
    ),
    "UnsupportedOperationException": (
        "CloudTrail Lake does not support this import here; check that the account uses "
        "CloudTrail Lake in this region"
    ),
}
START_IMPORT_EXCEPTIONS = tuple(sorted(_ADVICE))


def for_error(
    error: BaseException,
    *,
    operation: str,
    identity: ImportIdentity | None = None,
    import_id: str = "",
    source_owner: SourceOwner | None = None,
) -> str:
    """The reason for an error raised by ``operation``; ``source_owner``: the bucket is another
    account's, so a source CloudTrail cannot read most likely lacks the owner's grant."""
    code = aws.error_code(error)
    message = aws.error_message(error)
    if code == "InvalidImportSourceException" and identity and source_owner:
        return _not_shared_with_cloudtrail(code, message, identity, source_owner)
    fields = {
        "store": identity.destination.rpartition("/")[2] if identity else "(Destinations)",
        "role": identity.s3_bucket_access_role_arn if identity else "the access role",
        "import_id": import_id or "?",
        "message": message[:80],
    }
    if code in _ADVICE:
        advice = _ADVICE[code].format(**fields)
        said = "" if "{message}" in _ADVICE[code] else f". AWS said: {message}"
        return f"{code}: {advice}{said}"
    if code in ("AccessDeniedException", "AccessDenied") or "not authorized" in message:
        return _access_denied(code or "AccessDenied", operation, message, fields["role"])
    if isinstance(error, ClientError):
        return f"{code or 'Error'}: {operation} failed: {message}"
    if isinstance(error, BotoCoreError):
        return f"{type(error).__name__}: {operation} could not reach AWS: {error}"
    return f"{type(error).__name__}: {operation} failed: {error}"


def _access_denied(code: str, operation: str, message: str, role: str) -> str:
    if "iam:PassRole" in message:
        return (
            f"{code}: the handler's role may not pass {role} to CloudTrail; grant it "
            "iam:PassRole on that role with condition iam:PassedToService = "
            f"cloudtrail.amazonaws.com. AWS said: {message}"
        )
    service = "lambda" if operation == "Invoke" else "s3" if "Bucket" in operation else "cloudtrail"
    action = "InvokeFunction" if operation == "Invoke" else operation
    return (
        f"{code}: the handler's role may not {service}:{action}; add it to the role's policy. "
        f"AWS said: {message}"
    )


def import_failed(
    import_id: str,
    statistics: Mapping[str, int],
    failures: Sequence[ImportFailure],
    *,
    identity: ImportIdentity | None = None,
    source_owner: SourceOwner | None = None,
) -> str:
    """Error type and whole key of the first failures, most important first.

    The reason is cut at 256 characters, so the import id (already the PhysicalResourceId and
    ``Data.ImportId``) and the bucket (in the properties) are left out to make room for the
    first failing key, whole: account, region, date folder and file name. In another account's
    bucket (``source_owner``), refused reads name the owner's statements instead.
    """
    refused = [f for f in failures if _refused_read(f)]
    if refused and identity and source_owner:
        message = f"{refused[0].error_type} at {refused[0].location}"
        return _not_shared_with_cloudtrail("ImportFailed", message, identity, source_owner)
    count = statistics.get("FailedEntries")
    if count is None:
        entries = "failed entries"
    else:
        entries = f"{count} failed {'entry' if count == 1 else 'entries'}"
    if not failures:
        return (
            f"ImportFailed: {entries}; see aws cloudtrail list-import-failures --import-id "
            f"{import_id}, fix them, then change RetryToken to retry"
        )
    listed = "; ".join(
        f"{f.error_type or f.status} at {_key(f.location)}"
        + (f" ({f.error_message[:60]})" if f.error_message and len(failures) == 1 else "")
        for f in failures
    )
    return f"ImportFailed: {entries}; fix them, then change RetryToken to retry. First: {listed}"


# Error types of an import's failures when CloudTrail, as the access role, may not read.
_REFUSED_READS = frozenset({"AccessDenied", "AccessDeniedException"})


def _refused_read(failure: ImportFailure) -> bool:
    """S3 refused a read; a refused decryption is the key policy's business, not the bucket's."""
    return failure.error_type in _REFUSED_READS and "kms" not in failure.error_message.lower()


def _not_shared_with_cloudtrail(
    code: str, message: str, identity: ImportIdentity, owner: SourceOwner
) -> str:
    """The preflight could read the bucket as the handler's role, CloudTrail could not as the
    access role: the owner most likely granted the handler's statements only."""
    statements = cross_account.bucket_policy_statements(
        bucket=identity.bucket,
        prefix=identity.prefix,
        access_role_arn=identity.s3_bucket_access_role_arn,
        handler_role_arn=owner.handler_role_arn,
    )
    logger.error(
        "CloudTrail could not read bucket %s of account %s (%s: %s); the owner must add these "
        "statements to its bucket policy: %s",
        identity.bucket,
        owner.account,
        code,
        message,
        cross_account.statements_json(cross_account.access_role_statements(statements)),
    )
    return cross_account.access_role_not_shared(
        code=code,
        bucket=identity.bucket,
        owner=owner.account,
        access_role_arn=identity.s3_bucket_access_role_arn,
    )


def import_stopped(import_id: str) -> str:
    return (
        f"ImportStopped: import {import_id} was stopped before it completed; change RetryToken "
        "and deploy again to resume it"
    )


def timed_out(import_id: str | None, blocker: str | None, seconds: float) -> str:
    if import_id is None:
        who = f"import {blocker}" if blocker else "another import"
        return (
            f"Timeout: after {seconds:.0f} s {who} still holds the account, so this import did "
            "not start; raise CompletionTimeoutSeconds or stop the other import, then deploy again"
        )
    return (
        f"Timeout: import {import_id} is still running after {seconds:.0f} s; follow it with "
        f"aws cloudtrail get-import --import-id {import_id}, or raise CompletionTimeoutSeconds"
    )


def _key(location: str) -> str:
    """The object key of an ``s3://bucket/key`` location (the bucket is in the properties)."""
    if location.startswith("s3://"):
        return location[5:].partition("/")[2] or location
    return location
