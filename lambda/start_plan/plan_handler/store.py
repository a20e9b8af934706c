"""The plan's event data store and sources: earlier imports, empty prefixes, stopping imports.

Every CloudTrail client is built for the store's region (``plan_decisions.region_of``), where
CloudTrail keeps the store's imports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from import_handler import aws, cloudtrail
from import_handler.model import ImportRecord
from import_handler.properties import ImportIdentity
from plan_handler import plan_decisions
from plan_handler.plan_properties import PlanProperties

logger = logging.getLogger(__name__)

Budget = Callable[[], float]
LIST_IMPORTS_PAGE = 50
LIST_IMPORTS_PAGES = 20


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


def earlier_imports(
    clients: aws.Clients, budget: Budget, props: PlanProperties
) -> dict[ImportIdentity, list[ImportRecord]]:
    """Imports into the store whose source and window equal a segment's, newest first.

    ListImports returns no source or window: the newest imports are read with GetImport, as
    many as three per segment plus ten (CloudTrail's quota for these APIs is about 1 TPS).
    """
    wanted = {plan_decisions.source_key(s.identity) for s in props.segments}
    to_read = min(3 * len(props.segments) + 10, 100)
    found: dict[ImportIdentity, list[ImportRecord]] = {}
    for import_id in _recent_import_ids(clients, budget, props)[:to_read]:
        record = cloudtrail.get_import(_cloudtrail(clients, budget, props), import_id)
        if record is None or record.identity is None:
            continue
        key = plan_decisions.source_key(record.identity)
        if key in wanted:
            found.setdefault(key, []).append(record)
    return found


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


def _recent_import_ids(clients: aws.Clients, budget: Budget, props: PlanProperties) -> list[str]:
    listed: list[Mapping[str, Any]] = []
    kwargs: dict[str, Any] = {"Destination": props.destination, "MaxResults": LIST_IMPORTS_PAGE}
    for _ in range(LIST_IMPORTS_PAGES):
        response = _cloudtrail(clients, budget, props).list_imports(**kwargs)
        listed.extend(item for item in response.get("Imports", []) if item.get("ImportId"))
        token = response.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
    listed.sort(key=lambda item: str(item.get("CreatedTimestamp", "")), reverse=True)
    return [str(item["ImportId"]) for item in listed]
