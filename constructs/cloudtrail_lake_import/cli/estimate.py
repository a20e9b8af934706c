"""``estimate``: what an import of an S3 location and window reads, and what it costs."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

from cloudtrail_lake_import.cli import clients, pricing, render
from cloudtrail_lake_import.cli import listing as region_listing
from cloudtrail_lake_import.cli.errors import BadInputError, CliError, aws_error
from cloudtrail_lake_import.cli.params import IsoTime, iso, region_option
from cloudtrail_lake_import.cli.workers import worker_pool
from cloudtrail_lake_import.handler_rules import archive_walk, sizing, trailer

#: Files read to extrapolate from an inventory when --sample is not given.
INVENTORY_DEFAULT_SAMPLE = 1000
#: Problem files and folders shown in the table (``--json`` lists every problem file).
MAX_SHOWN = 20
NO_MATCH_RULE = (
    "from the bucket root, an import reads the trail layout's CloudTrail/ folders only; below "
    "a prefix named in the location, every file (in AWSLogs/ folders, the layout's); with a "
    "window, only files whose name (_YYYYMMDDTHHMMZ_) or day folder (YYYY/MM/DD/) falls in it"
)


@dataclass(frozen=True)
class Request:
    uri: str
    bucket: str
    prefix: str
    window: sizing.Window
    price_per_gb: float
    billing_mode: str | None
    price_source: str
    sample: int | None
    inventory: str | None
    workers: int
    seed: int | None


@dataclass(frozen=True)
class Result:
    request: Request
    estimate: sizing.Estimate
    method: str  # "listing" or "inventory"
    list_requests: int
    get_requests: int
    unsized: trailer.CheckedSizes
    sizes: dict[str, int] = dataclasses.field(default_factory=dict)  # compressed, of read keys
    folders_seen: list[str] | None = None  # None: not listed (an inventory was read)

    def problem_files(self) -> list[dict[str, str]]:
        """Each file whose gzip trailer gives no certain size, and why."""
        problems = []
        for key in self.unsized.implausible:
            size = self.sizes.get(key)
            problem = (
                f"too small to be gzip ({size} bytes): CloudTrail fails it"
                if size is not None and size < trailer.GZIP_FRAMING_BYTES
                else "corrupt or not gzip (its trailer fits no size): CloudTrail fails it"
            )
            problems.append({"key": key, "problem": problem})
        problems.extend(
            {"key": key, "problem": "may hold 4 GiB or more: counted at its smallest size"}
            for key in self.unsized.ambiguous
        )
        return problems

    def why_none(self) -> dict[str, Any] | None:
        """When no file matched: the layout an import reads and the folders the listing saw."""
        if self.estimate.files:
            return None
        return {
            "expected_layout": sizing.EXPECTED_LAYOUT,
            "rule": NO_MATCH_RULE,
            "prefixes_seen": None if self.folders_seen is None else self.folders_seen[:MAX_SHOWN],
            "prefixes_seen_total": None if self.folders_seen is None else len(self.folders_seen),
        }

    def as_json(self) -> dict[str, Any]:
        e = self.estimate
        r = self.request
        return {
            "s3_uri": r.uri,
            "start": iso(r.window.start),
            "end": iso(r.window.end),
            "method": self.method,
            "files": e.files,
            "compressed_bytes": e.compressed_bytes,
            "uncompressed_bytes": e.uncompressed_bytes,
            "uncompressed_exact": e.uncompressed_exact,
            "sized_files": e.sized_files,
            "archived_files": e.archived_files,
            "unreadable_files": self.unsized.unsized,
            "problem_files": self.problem_files(),
            "estimated_cost_usd": pricing.cost_usd(e.uncompressed_bytes, r.price_per_gb),
            "price_per_gb_usd": r.price_per_gb,
            "billing_mode": r.billing_mode,
            "price_source": r.price_source,
            "prices_as_of": pricing.PRICES_AS_OF.isoformat(),
            "no_file_matched": self.why_none(),
            "partitions": e.partitions,
            "first_event_date": _date(e.first_event_date),
            "last_event_date": _date(e.last_event_date),
            "s3_requests": {"list": self.list_requests, "get": self.get_requests},
        }


def _date(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


@click.command()
@click.argument("s3_uri")
@click.option("--start", type=IsoTime(), help="StartEventTime of the import (ISO 8601).")
@click.option("--end", type=IsoTime(), help="EndEventTime of the import (ISO 8601).")
@click.option(
    "--billing-mode",
    type=click.Choice(sorted(pricing.PRICE_PER_GB_USD)),
    help=f"The destination store's billing mode [default: {pricing.DEFAULT_BILLING_MODE}].",
)
@click.option(
    "--price-per-gb",
    type=click.FloatRange(min=0),
    help="Price per uncompressed GB (10^9 bytes) in USD; overrides the built-in price table "
    f"({pricing.SOURCE}).",
)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    help="Read the uncompressed size of N random files and extrapolate (default: every file; "
    f"{INVENTORY_DEFAULT_SAMPLE} with --inventory).",
)
@click.option(
    "--inventory",
    metavar="S3_URI",
    help="An S3 Inventory manifest.json (CSV or Parquet) to read instead of listing the bucket.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=32,
    show_default=True,
    help="Parallel S3 requests.",
)
@click.option("--seed", type=int, help="Seed of the random sample (repeatable estimates).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@region_option
def estimate(
    s3_uri: str,
    start: datetime | None,
    end: datetime | None,
    billing_mode: str | None,
    price_per_gb: float | None,
    sample: int | None,
    inventory: str | None,
    workers: int,
    seed: int | None,
    as_json: bool,
) -> None:
    """How many trail log files and uncompressed bytes an import of S3_URI would ingest.

    S3_URI is the import's S3LocationUri (s3://bucket/prefix/). Only the date partitions of
    the window are listed, in parallel; the uncompressed size comes from each gzip file's
    last 4 bytes (one ranged GET per file).
    """
    request = _request(
        s3_uri, start, end, billing_mode, price_per_gb, sample, inventory, workers, seed
    )
    console = render.stderr_console()
    try:
        with render.EstimateProgress(console) as progress:
            if request.inventory is not None:
                from cloudtrail_lake_import.cli import inventory as inventory_reader

                result = inventory_reader.estimate(request, progress)
            else:
                result = estimate_by_listing(request, progress)
    except sizing.CannotEstimateError as error:
        raise CliError(f"cannot estimate {request.uri}: {error}") from error
    if as_json:
        click.echo(json.dumps(result.as_json(), allow_nan=False))
    else:
        render.estimate_table(result.as_json())


def _request(
    uri: str,
    start: datetime | None,
    end: datetime | None,
    billing_mode: str | None,
    price_per_gb: float | None,
    sample: int | None,
    inventory: str | None,
    workers: int,
    seed: int | None,
) -> Request:
    try:
        bucket, prefix = sizing.parse_s3_uri(uri)
    except ValueError as error:
        raise BadInputError(f"S3_URI: {error}") from error
    if any(folder in ("", ".", "..") for folder in prefix.split("/")[:-1]):
        raise BadInputError(
            f"S3_URI: {uri!r} has an empty (//) or relative (. or ..) folder: S3 keys are "
            "matched literally, give the prefix the trail writes"
        )
    try:
        window = sizing.Window(start, end)
    except ValueError as error:
        raise BadInputError(f"--start/--end: {error}") from error
    if price_per_gb is not None and not math.isfinite(price_per_gb):
        raise BadInputError(f"--price-per-gb: expected a finite price, got {price_per_gb}")
    price_source = "--price-per-gb"
    if price_per_gb is None:
        billing_mode = billing_mode or pricing.DEFAULT_BILLING_MODE
        price_per_gb = pricing.PRICE_PER_GB_USD[billing_mode]
        price_source = f"{pricing.SOURCE} ({pricing.SOURCE_URL})"
    if inventory is not None:
        if not inventory.startswith("s3://") or not inventory.endswith("manifest.json"):
            raise BadInputError(
                f"--inventory: expected s3://<bucket>/<path>/manifest.json, got {inventory!r}"
            )
        sample = sample or INVENTORY_DEFAULT_SAMPLE
    return Request(
        uri,
        bucket,
        prefix,
        window,
        price_per_gb,
        billing_mode,
        price_source,
        sample,
        inventory,
        workers,
        seed,
    )


def estimate_by_listing(request: Request, progress: render.EstimateProgress) -> Result:
    """List the window's keys (``listing``), then read the sizes of all (or sampled) files."""
    s3 = clients.s3(pool=request.workers)
    counters = archive_walk.Progress()
    with worker_pool(request.workers) as pool:
        try:
            listing = region_listing.list_window(
                s3,
                request.bucket,
                request.prefix,
                request.window,
                pool=pool,
                progress=counters,
                on_change=progress.update,
            )
        except (ClientError, BotoCoreError) as error:
            raise aws_error("ListObjectsV2", error) from error
        checked = read_sizes(s3, request, listing.files, pool, counters, progress)
    return Result(
        request,
        trusting(sizing.summarize(listing.files, checked.sizes), checked),
        "listing",
        listing.requests,
        counters.sizes_read,
        checked,
        {f.key: f.size for f in listing.files},
        listing.folders_seen,
    )


def trusting(estimate: sizing.Estimate, checked: trailer.CheckedSizes) -> sizing.Estimate:
    """The estimate, not exact when a trailer read gave no certain size."""
    if checked.exact:
        return estimate
    return dataclasses.replace(estimate, uncompressed_exact=False)


def read_sizes(
    s3: Any,
    request: Request,
    files: list[sizing.LogFile],
    pool: ThreadPoolExecutor,
    counters: archive_walk.Progress,
    progress: render.EstimateProgress,
) -> trailer.CheckedSizes:
    """The uncompressed sizes of every file, or of ``request.sample`` random ones.

    A file whose trailer is no plausible ISIZE (see ``trailer``) is left out, so that the
    estimate extrapolates it.
    """
    chosen = archive_walk.choose_sample(files, request.sample, random.Random(request.seed))  # noqa: S311 - a sample, not a secret
    try:
        isizes = archive_walk.read_uncompressed_sizes(
            archive_walk.s3_read_tail(s3, request.bucket),
            chosen,
            pool=pool,
            progress=counters,
            on_change=progress.update,
        )
    except (ClientError, BotoCoreError) as error:
        raise aws_error("GetObject (last 4 bytes)", error) from error
    return trailer.check(isizes, {f.key: f.size for f in chosen})
