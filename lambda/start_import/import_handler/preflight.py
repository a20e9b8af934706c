"""Checks before StartImport that turn CloudTrail's terse refusals into precise advice."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from import_handler import aws, clock, cloudtrail, cross_account, explain
from import_handler.frozen import frozen
from import_handler.invocation import Invocation
from import_handler.properties import ImportIdentity, SourceOwner

logger = logging.getLogger(__name__)

IMPORTABLE = frozenset({"ENABLED", "STOPPED_INGESTION"})
# States a store passes through on its own (a store created in the same deployment may still be
# in one): wait a little for it to settle before failing.
SETTLING = frozenset({"CREATED", "STARTING_INGESTION", "STOPPING_INGESTION"})
SETTLE_SECONDS = 60.0
SETTLE_POLL_SECONDS = 10.0
CLOUDTRAIL_CATEGORIES = frozenset({"Management", "Data", "NetworkActivity"})


def store_problem(identity: ImportIdentity, store: cloudtrail.EventDataStore) -> str | None:
    if store.status == "PENDING_DELETION":
        return (
            f"EventDataStorePendingDeletion: {identity.destination} is pending deletion; restore "
            "it (aws cloudtrail restore-event-data-store) or import into another store"
        )
    if store.status not in IMPORTABLE:
        return (
            f"EventDataStoreNotReady: {identity.destination} is "
            f"{store.status or 'in an unknown state'}; an import needs ENABLED or "
            "STOPPED_INGESTION. Wait for it to settle or re-enable it "
            "(aws cloudtrail start-event-data-store-ingestion), then deploy again"
        )
    if holds_cloudtrail_events(store.selectors) is False:
        return (
            f"InvalidEventDataStoreCategory: {identity.destination} does not hold CloudTrail "
            "events; import into a store whose advanced event selectors select eventCategory "
            "Management, Data or NetworkActivity"
        )
    return None


def holds_cloudtrail_events(selectors: Sequence[Mapping[str, Any]]) -> bool | None:
    """True/False when the selectors say so with ``eventCategory Equals``; None when unclear."""
    categories: set[str] = set()
    for selector in selectors:
        for field in selector.get("FieldSelectors", []):
            if field.get("Field") == "eventCategory" and field.get("Equals"):
                categories.update(field["Equals"])
            elif field.get("Field") == "eventCategory":
                return None  # NotEquals/StartsWith...: leave the judgement to StartImport
    if not categories:
        return None
    return bool(categories & CLOUDTRAIL_CATEGORIES)


def ownership_problem(bucket: str, ownership: str | None) -> str | None:
    if ownership == "BucketOwnerEnforced":
        return None
    current = ownership or "not set, so ACLs are enabled"
    return (
        f"BucketAclsEnabled: bucket {bucket} has ACLs enabled (Object Ownership: {current}); "
        "CloudTrail imports only from buckets with ACLs disabled. Set Object Ownership to "
        f"BucketOwnerEnforced (aws s3api put-bucket-ownership-controls --bucket {bucket} "
        "--ownership-controls Rules=[{ObjectOwnership=BucketOwnerEnforced}])"
    )


def check(
    inv: Invocation,
    identity: ImportIdentity,
    budget_seconds: float,
    *,
    source_owner: SourceOwner | None = None,
    caller_account: str | None = None,
    handler_reads_objects: bool = False,
) -> str | None:
    """The reason not to call StartImport, or None. ``budget_seconds`` bounds the settling wait.

    The one entry point of the checks before StartImport; ``inv`` hands out the clients (each
    call's own time budget is the invocation's business). ``source_owner``: the bucket's owner
    when it is another account; ``caller_account``: the account the import runs in (for
    organization stores and cross-account buckets); ``handler_reads_objects``: the cost guard
    reads the objects too (MaxIngestGB), so the quoted statements include its reads.
    """
    give_up_at = clock.now() + max(0.0, min(SETTLE_SECONDS, budget_seconds))
    while True:
        try:
            store = cloudtrail.get_event_data_store(inv.ct(), identity.destination)
        except (ClientError, BotoCoreError) as error:
            return explain.for_error(error, operation="GetEventDataStore", identity=identity)
        if store.status not in SETTLING or clock.now() + SETTLE_POLL_SECONDS > give_up_at:
            break
        logger.info("event data store is %s; checking again shortly", store.status)
        clock.sleep(SETTLE_POLL_SECONDS)
    problem = store_problem(identity, store) or _organization_problem(
        inv, identity, store, caller_account
    )
    if problem:
        return problem
    if source_owner is not None and source_owner.account == caller_account:
        source_owner = None  # the "other" account is this one
    owner = _Owner(source_owner, handler_reads_objects) if source_owner else None
    return _bucket_problem(inv, identity, owner) or _prefix_problem(inv, identity, owner)


def _organization_problem(
    inv: Invocation,
    identity: ImportIdentity,
    store: cloudtrail.EventDataStore,
    caller_account: str | None,
) -> str | None:
    if not store.organization_enabled:
        return None
    return cross_account.organization_problem(
        store_arn=identity.destination,
        organization_enabled=True,
        caller_account=caller_account,
        management_account=_management_account(inv),
    )


def _management_account(inv: Invocation) -> str | None:
    """The organization's management account, or None (with a warning) when unknown."""
    try:
        # Organizations has one endpoint whatever the region.
        client = inv.clients.get("organizations", None, inv.budget())
        response = client.describe_organization()
    except (ClientError, BotoCoreError) as error:
        logger.warning(
            "cannot tell whether this is the organization's management account "
            "(DescribeOrganization: %s); only the management account can import into an "
            "organization event data store, StartImport will judge",
            aws.error_code(error) or type(error).__name__,
        )
        return None
    account = response.get("Organization", {}).get("MasterAccountId")
    return str(account) if account else None


@frozen
class _Owner:
    """Another account's bucket: its owner, and whether the cost guard reads it too."""

    source: SourceOwner
    handler_reads_objects: bool

    @property
    def account(self) -> str:
        return self.source.account


def _bucket_problem(inv: Invocation, identity: ImportIdentity, owner: _Owner | None) -> str | None:
    bucket = identity.bucket
    # In another account, ExpectedBucketOwner also makes sure the name is still that bucket.
    expected = {"ExpectedBucketOwner": owner.account} if owner else {}
    try:
        client = inv.s3(identity.s3_bucket_region)
        response = client.get_bucket_ownership_controls(Bucket=bucket, **expected)
    except (ClientError, BotoCoreError) as error:
        code = aws.error_code(error)
        if owner is not None and code in ("AccessDenied", "403"):
            return _not_shared(identity, owner)
        if code == "OwnershipControlsNotFoundError":
            return ownership_problem(bucket, None)
        if code in ("NoSuchBucket", "404"):
            return (
                f"NoSuchBucket: the bucket {bucket} of ImportSource.S3.S3LocationUri does not "
                f"exist in {identity.s3_bucket_region}; fix S3LocationUri or S3BucketRegion"
            )
        # A bucket in another account may not let us read its settings: StartImport will judge.
        logger.warning(
            "cannot read the ownership controls of bucket %s (%s); StartImport will judge",
            bucket,
            code or type(error).__name__,
        )
        return None
    rules = response.get("OwnershipControls", {}).get("Rules", [])
    ownership = rules[0].get("ObjectOwnership") if rules else None
    return ownership_problem(bucket, ownership)


def _prefix_problem(inv: Invocation, identity: ImportIdentity, owner: _Owner | None) -> str | None:
    """Another account's bucket may be shared for another prefix only: the listing tells."""
    if owner is None:
        return None
    try:
        client = inv.s3(identity.s3_bucket_region)
        client.list_objects_v2(
            Bucket=identity.bucket,
            Prefix=identity.prefix,
            MaxKeys=1,
            ExpectedBucketOwner=owner.account,
        )
    except (ClientError, BotoCoreError) as error:
        if aws.error_code(error) in ("AccessDenied", "403"):
            return _not_shared(identity, owner)
        return None  # the listing that follows judges again
    return None


def source_is_empty(inv: Invocation, identity: ImportIdentity) -> bool:
    """True when no object exists under the prefix yet (a new bucket before the archive is in).

    An import of an empty prefix completes with nothing, and a COMPLETED import is kept: the
    archive copied in later could not be imported. False when S3 will not say: StartImport judges.
    """
    try:
        client = inv.s3(identity.s3_bucket_region)
        listed = client.list_objects_v2(Bucket=identity.bucket, Prefix=identity.prefix, MaxKeys=1)
    except (ClientError, BotoCoreError) as error:
        logger.warning(
            "cannot list the prefix of bucket %s (%s); StartImport will judge",
            identity.bucket,
            aws.error_code(error) or type(error).__name__,
        )
        return False
    return not listed.get("Contents")


def _not_shared(identity: ImportIdentity, owner: _Owner) -> str:
    roles = {
        "access_role_arn": identity.s3_bucket_access_role_arn,
        "handler_role_arn": owner.source.handler_role_arn,
    }
    statements = cross_account.bucket_policy_statements(
        bucket=identity.bucket,
        prefix=identity.prefix,
        handler_reads_objects=owner.handler_reads_objects,
        **roles,
    )
    logger.error(
        "bucket %s of account %s does not grant this import; add these statements to its bucket "
        "policy: %s",
        identity.bucket,
        owner.account,
        cross_account.statements_json(statements),
    )
    return cross_account.not_shared(
        bucket=identity.bucket,
        owner=owner.account,
        handler_reads_objects=owner.handler_reads_objects,
        **roles,
    )
