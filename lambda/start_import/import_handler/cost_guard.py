"""The cost guard: before StartImport, estimate what the import ingests; refuse more than
MaxIngestGB.

CloudTrail Lake bills ingestion per uncompressed GB. With ``MaxIngestGB`` set, the handler lists
the date partitions of the window in parallel and reads each selected file's gzip trailer (its
uncompressed size), by ``sizing``'s rules, the ones ``cloudtrail-lake-import estimate`` uses.
It never starts blind: when the walk cannot finish within the invocation's time, the request
fails and says how to estimate without a time limit; when what the import reads cannot be told
(``sizing.CannotEstimateError``), it fails and says why, rather than count 0.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from botocore.config import Config

from import_handler import aws, cross_account, explain
from import_handler.invocation import Invocation
from import_handler.model import ImportFailed
from import_handler.properties import ImportIdentity, ImportProperties, SourceOwner

if TYPE_CHECKING:
    from import_handler import sizing

logger = logging.getLogger(__name__)

ATTRIBUTE = "ImportEstimatedGB"
#: Parallel S3 requests (the listing's folders, the ranged GETs of gzip trailers).
WORKERS = 32
#: Below this, no estimate of a real archive can finish: fail at once.
MIN_BUDGET_SECONDS = 10.0
#: Each S3 call's own bound (attempts, timeouts): the walk's deadline bounds the whole.
CALL_BUDGET_SECONDS = 40.0


def estimate(
    identity: ImportIdentity, budget_seconds: float, owner: SourceOwner | None = None
) -> sizing.Estimate:
    """The exact estimate of the import of ``identity``, or ImportFailed when it cannot finish.

    ``owner``: the other account whose bucket it is, to name the statement it has not granted.
    """
    # Imported here, not at the top: only a guarded import (MaxIngestGB) walks the archive, and
    # every cold start would otherwise compile these modules (no bytecode cache in /var/task).
    from import_handler import archive_walk, sizing, trailer

    if budget_seconds < MIN_BUDGET_SECONDS:
        raise ImportFailed(_out_of_time(identity, max(0.0, budget_seconds)))
    config = aws.config_for(CALL_BUDGET_SECONDS)
    assert config is not None
    client = aws.new_client(
        "s3",
        identity.s3_bucket_region,
        config.merge(Config(max_pool_connections=WORKERS)),
    )
    window = sizing.Window(identity.start_event_time, identity.end_event_time)
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="cost-guard")
    operation = "ListObjectsV2"
    try:
        listing = archive_walk.list_window(
            archive_walk.s3_list_page(client, identity.bucket),
            identity.prefix,
            window,
            pool=pool,
            budget=archive_walk.Budget(seconds=budget_seconds),
        )
        operation = "GetObject (last 4 bytes)"
        sizes = archive_walk.read_uncompressed_sizes(
            archive_walk.s3_read_tail(client, identity.bucket),
            listing.files,
            pool=pool,
            budget=archive_walk.Budget(seconds=budget_seconds - (time.monotonic() - started)),
        )
    except archive_walk.OutOfTimeError as error:
        raise ImportFailed(_out_of_time(identity, budget_seconds, error.stage)) from None
    except sizing.CannotEstimateError as error:
        raise ImportFailed(_cannot_estimate(identity, str(error))) from None
    except aws.ERRORS as error:
        if owner is not None and aws.error_code(error) in ("AccessDenied", "403"):
            raise ImportFailed(_not_shared(identity, owner, operation, error)) from error
        raise ImportFailed(
            "CouldNotEstimate: "
            + explain.for_error(error, operation=operation, identity=identity)
            + "; MaxIngestGB needs the handler to list and read the source prefix"
        ) from error
    finally:
        # In-flight calls end on their own timeouts; the answer must not wait for them.
        pool.shutdown(wait=False, cancel_futures=True)
    # A trailer no uncompressed length fits (a corrupt or non-gzip .json.gz) is extrapolated
    # like an unread file, as the command line does, rather than trusted as a huge size.
    checked = trailer.check(sizes, {f.key: f.size for f in listing.files if f.key in sizes})
    estimate = sizing.summarize(listing.files, checked.sizes)
    if checked.exact:
        return estimate
    return dataclasses.replace(estimate, uncompressed_exact=False)


def check(inv: Invocation, props: ImportProperties, budget_seconds: float) -> None:
    """Refuse the import when it would ingest more than ``MaxIngestGB``; else note its size."""
    if props.max_ingest_gb is None:
        return
    result = estimate(props.identity, budget_seconds, props.source_owner)
    inv.log(
        "estimate",
        files=result.files,
        uncompressed_bytes=result.uncompressed_bytes,
        compressed_bytes=result.compressed_bytes,
        archived_files=result.archived_files,
    )
    inv.data[ATTRIBUTE] = attribute_value(result)
    if result.uncompressed_gb > props.max_ingest_gb:
        raise ImportFailed(too_large(result, props.max_ingest_gb))


def note_kept(inv: Invocation, props: ImportProperties, budget_seconds: float) -> None:
    """The attribute for an import kept as it is: estimated again, never failing the request."""
    if props.max_ingest_gb is None:
        return
    try:
        result = estimate(props.identity, budget_seconds, props.source_owner)
        inv.data[ATTRIBUTE] = attribute_value(result)
    except ImportFailed as error:
        logger.warning("kept the import without an estimate: %s", error.reason)
        inv.data[ATTRIBUTE] = "unknown"


def attribute_value(result: sizing.Estimate) -> str:
    """GB (10^9 bytes) of uncompressed data to the KB (six decimals), as the GetAtt attribute."""
    return f"{result.uncompressed_gb:.6f}"


def too_large(result: sizing.Estimate, limit_gb: float) -> str:
    from import_handler import sizing

    how = "exact" if result.uncompressed_exact else "estimated"
    return (
        f"ImportTooLarge: this import would ingest {result.uncompressed_gb:,.3f} GB uncompressed "
        f"({result.files:,} log files, {result.compressed_bytes / sizing.GB:,.3f} GB compressed, "
        f"{how}), more than MaxIngestGB {limit_gb:g}; narrow the window or prefix, or raise "
        "max_ingest_gb"
    )


def _not_shared(
    identity: ImportIdentity, owner: SourceOwner, operation: str, error: BaseException
) -> str:
    statements = cross_account.bucket_policy_statements(
        bucket=identity.bucket,
        prefix=identity.prefix,
        access_role_arn=identity.s3_bucket_access_role_arn,
        handler_role_arn=owner.handler_role_arn,
        handler_reads_objects=True,
    )
    logger.error(
        "bucket %s of account %s refused the estimate's %s (%s); MaxIngestGB needs these "
        "statements in its bucket policy (and %s in the key policy when SSE-KMS): %s",
        identity.bucket,
        owner.account,
        operation,
        aws.error_message(error),
        cross_account.ESTIMATE_DECRYPT,
        cross_account.statements_json(statements),
    )
    return cross_account.not_shared_for_estimate(
        bucket=identity.bucket,
        owner=owner.account,
        prefix=identity.prefix,
        handler_role_arn=owner.handler_role_arn,
        operation="ListObjectsV2" if operation == "ListObjectsV2" else "GetObject",
        message=aws.error_message(error),
    )


def _window_options(identity: ImportIdentity) -> str:
    """The ``estimate`` options of the import's window, as the command line takes them."""
    bounds = (("--start", identity.start_event_time), ("--end", identity.end_event_time))
    return "".join(f" {option} {at:%Y-%m-%dT%H:%M:%SZ}" for option, at in bounds if at)


def _cannot_estimate(identity: ImportIdentity, reason: str) -> str:
    return (
        f"CouldNotEstimate: cannot tell what an import of {identity.s3_location_uri} reads: "
        f"{reason}; name a prefix whose files carry CloudTrail's dated names or folders, or "
        "drop MaxIngestGB if you accept an unsized import; MaxIngestGB never starts an import "
        "blind"
    )


def _out_of_time(identity: ImportIdentity, seconds: float, stage: str = "") -> str:
    during = f" ({stage})" if stage else ""
    return (
        f"EstimateTimedOut: could not estimate within {seconds:.0f} s{during}: run "
        f"`cloudtrail-lake-import estimate {identity.s3_location_uri}{_window_options(identity)}` "
        "(--inventory for large archives), or narrow the window or prefix; "
        "MaxIngestGB never starts an import blind"
    )
