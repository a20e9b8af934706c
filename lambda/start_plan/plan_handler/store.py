"""The plan's event data store and sources: the store's imports, empty prefixes, stopping imports.

Every CloudTrail client is built for the store's region (``plan_decisions.region_of``), where
CloudTrail keeps the store's imports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from import_handler import aws, cloudtrail, lookup
from import_handler.model import ImportRecord
from import_handler.properties import ImportIdentity
from plan_handler import plan_decisions
from plan_handler.executions import PlanRequestError
from plan_handler.plan_properties import PlanProperties

logger = logging.getLogger(__name__)

Budget = Callable[[], float]


def _cloudtrail(clients: aws.Clients, budget: Budget, props: PlanProperties) -> Any:
    return clients.cloudtrail(plan_decisions.region_of(props.destination), budget())


def stop_imports(
    clients: aws.Clients,
    budget: Budget,
    props: PlanProperties,
    leaving: Iterable[ImportIdentity],
    staying: Iterable[ImportIdentity] = (),
) -> list[str]:
    """Stop the running imports of ``leaving`` segments that ``staying`` does not have."""
    running = cloudtrail.ongoing_imports(_cloudtrail(clients, budget, props), props.destination)
    stopped = []
    for record in plan_decisions.imports_to_stop(running, leaving, staying):
        logger.info("stopping import %s", record.import_id)
        cloudtrail.stop_import(_cloudtrail(clients, budget, props), record.import_id)
        stopped.append(record.import_id)
    return stopped


def store_history(
    clients: aws.Clients, budget: Budget, props: PlanProperties
) -> list[ImportRecord]:
    """Every import into the plan's store, newest first (the single import's look-up,
    ``cloudtrail.store_imports``: every page of ListImports, GetImport of each; no cap, as a
    plan fills a store with imports). Each call is budgeted when it is made. When the history
    cannot all be read (a refusal, throttling past botocore, no time left) nothing may start:
    ``PlanRequestError`` with ``ImportLookupFailed`` and what to check."""
    try:
        return cloudtrail.store_imports(
            lambda: _cloudtrail(clients, budget, props), props.destination, {}
        )
    except aws.ERRORS as error:
        raise PlanRequestError(lookup.failed_reason(error)) from error


def segments_without_source_files(
    clients: aws.Clients, budget: Budget, props: PlanProperties
) -> list[int]:
    """The segments whose prefix holds no object yet (one ListObjectsV2 of one key per prefix).

    They still run (the Lake completes them with nothing, and a later deploy imports them
    again, see ``plan_decisions.imported_nothing``); the answer and the log name them.
    """
    empty_at: dict[tuple[str, str, str], bool] = {}
    empty: list[int] = []
    for index, segment in enumerate(props.segments):
        identity = segment.identity
        where = (identity.s3_bucket_region, identity.bucket, identity.prefix)
        if where not in empty_at:
            empty_at[where] = _prefix_is_empty(clients, budget, *where)
        if empty_at[where]:
            logger.warning(
                "NO_SOURCE_FILES: segment %d (%s) has no object under its prefix yet",
                index,
                identity.s3_location_uri,
            )
            empty.append(index)
    return empty


def _prefix_is_empty(
    clients: aws.Clients, budget: Budget, region: str, bucket: str, prefix: str
) -> bool:
    """False when S3 will not say (another account's bucket, say): the import judges."""
    try:
        listed = clients.s3(region, budget()).list_objects_v2(
            Bucket=bucket, Prefix=prefix, MaxKeys=1
        )
    except aws.ERRORS as error:
        logger.warning(
            "cannot list s3://%s/%s (%s): the import judges",
            bucket,
            prefix,
            aws.error_code(error) or type(error).__name__,
        )
        return False
    return not listed.get("Contents")
