"""``estimate --inventory``: count from an S3 Inventory report instead of listing the bucket.

An inventory (``manifest.json`` plus gzip CSV or Parquet files) already holds every key and
size of the bucket: the engine for 10^8 objects, where a listing from one machine takes hours.
DuckDB (the ``inventory`` extra) reads the report files; the selection is ``sizing``'s
``LOG_KEY_PATTERN`` and window bounds, the same rules as a listing. Uncompressed sizes come from
a random sample of the selected files (ranged GETs of their gzip trailers).
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from cloudtrail_lake_import.cli import clients, render
from cloudtrail_lake_import.cli.errors import BadInputError, CliError, aws_error
from cloudtrail_lake_import.cli.workers import worker_pool
from cloudtrail_lake_import.handler_rules import archive_walk, sizing

if TYPE_CHECKING:
    import duckdb
    from mypy_boto3_s3 import S3Client

    from cloudtrail_lake_import.cli.estimate import Request, Result

FORMATS = ("CSV", "Parquet")


@dataclass(frozen=True)
class Manifest:
    source_bucket: str
    destination_bucket: str
    file_format: str
    columns: list[str]  # CSV: the fileSchema's column names
    keys: list[str]


def parse_manifest(document: dict[str, Any], uri: str) -> Manifest:
    """The parts of an S3 Inventory ``manifest.json`` the estimate needs."""
    try:
        file_format = str(document["fileFormat"])
        destination = str(document["destinationBucket"]).rsplit(":", 1)[-1]
        keys = [str(f["key"]) for f in document["files"]]
        source = str(document["sourceBucket"])
    except (KeyError, TypeError) as error:
        raise BadInputError(
            f"--inventory: {uri} is not an S3 Inventory manifest ({error})"
        ) from error
    if file_format not in FORMATS:
        raise BadInputError(
            f"--inventory: {uri} describes {file_format} files; configure the inventory to "
            "write CSV or Parquet"
        )
    schema = str(document.get("fileSchema", ""))
    if file_format == "CSV":
        columns = [c.strip() for c in schema.split(",")]
    else:  # "message s3.inventory { required binary key (STRING); optional int64 size; ... }"
        columns = re.findall(r"(\w+)\s*(?:\([^)]*\))?\s*;", schema)
    return Manifest(source, destination, file_format, columns, keys)


def _split_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def read_manifest(s3: S3Client, uri: str) -> Manifest:
    bucket, key = _split_uri(uri)
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except (ClientError, BotoCoreError) as error:
        raise aws_error(f"GetObject {uri}", error) from error
    try:
        document = json.loads(body)
    except ValueError as error:
        raise BadInputError(f"--inventory: {uri} is not JSON ({error})") from error
    return parse_manifest(document, uri)


def _relation_sql(manifest: Manifest, paths: list[str]) -> str:
    """SELECT key, size, storage of the current objects in the report files."""
    files = "[" + ", ".join(_quote(p) for p in paths) + "]"
    if manifest.file_format == "CSV":
        names = manifest.columns
        for required in ("Key", "Size"):
            if required not in names:
                raise BadInputError(f"--inventory: the report has no {required} column ({names})")
        columns = "{" + ", ".join(f"{_quote(n)}: 'VARCHAR'" for n in names) + "}"
        source = (
            f"read_csv({files}, header = false, columns = {columns}, "
            "compression = 'gzip', quote = '\"', escape = '\"')"
        )
        # CSV reports URL-encode keys.
        key, size = 'url_decode("Key")', 'CAST("Size" AS BIGINT)'
        storage = '"StorageClass"' if "StorageClass" in names else "NULL"
        current = [
            f"coalesce(\"{flag}\", '{value}') = '{value}'"
            for flag, value in (("IsLatest", "true"), ("IsDeleteMarker", "false"))
            if flag in names
        ]
    else:
        names = manifest.columns
        for required in ("key", "size"):
            if required not in names:
                raise BadInputError(f"--inventory: the report has no {required} column ({names})")
        source = f"read_parquet({files}, union_by_name = true)"
        key, size = "key", "CAST(size AS BIGINT)"
        storage = "storage_class" if "storage_class" in names else "NULL"
        current = [
            condition
            for column, condition in (
                ("is_latest", "coalesce(is_latest, true)"),
                ("is_delete_marker", "NOT coalesce(is_delete_marker, false)"),
            )
            if column in names
        ]
    where = " AND ".join(current) or "true"
    return (
        f"SELECT {key} AS key, {size} AS size, coalesce({storage}, 'STANDARD') AS storage "
        f"FROM {source} WHERE {where}"
    )


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def select_sql(manifest: Manifest, paths: list[str]) -> str:
    """The log files an import reads, with their day folder and name stamp (sizing's rules)."""
    return f"""
        WITH objects AS ({_relation_sql(manifest, paths)}),
        logs AS (
            SELECT key, size, storage,
                   regexp_extract(key, $pattern, 1) AS day,
                   regexp_extract(key, $pattern, 2) AS stamp
            FROM objects
            WHERE starts_with(key, $prefix) AND regexp_matches(key, $pattern)
              AND regexp_matches(substr(key, length($prefix) + 1), $below_prefix)
        )
        SELECT key, size, storage,
               CASE WHEN stamp <> '' THEN stamp ELSE replace(day, '/', '') || 'T0000' END
                   AS matched_at
        FROM logs
        WHERE CASE WHEN stamp <> ''
                   THEN ($lowest IS NULL OR stamp >= $lowest)
                   ELSE ($lowest_day IS NULL OR replace(day, '/', '') || 'T0000' >= $lowest_day)
              END
          AND ($highest IS NULL
               OR (CASE WHEN stamp <> '' THEN stamp ELSE replace(day, '/', '') || 'T0000' END)
                  <= $highest)
    """


def below_prefix(prefix: str) -> str:
    """What a key must hold after ``prefix``: the listing's limit on trail-prefix folders.

    From a folder above ``AWSLogs/`` a listing explores at most
    ``sizing.MAX_TRAIL_PREFIX_DEPTH`` folders before ``AWSLogs/``; deeper trails are counted by
    neither method. From a folder inside the layout, the key pattern alone decides.
    """
    start = sizing.classify(prefix)
    if start is not None and start.level is sizing.Level.TRAIL_PREFIX:
        return rf"^(?:[^/]+/){{0,{sizing.MAX_TRAIL_PREFIX_DEPTH}}}AWSLogs/"
    return ""


def _stamp_date(stamp: str | None) -> date | None:
    if not stamp:
        return None
    return datetime.strptime(stamp[:8], "%Y%m%d").replace(tzinfo=UTC).date()


def query(
    connection: duckdb.DuckDBPyConnection,
    manifest: Manifest,
    paths: list[str],
    prefix: str,
    window: sizing.Window,
    sample: int,
    seed: int | None,
) -> tuple[tuple[Any, ...], list[tuple[str, int, str, str]]]:
    """(files, compressed bytes, partitions, first stamp, last stamp, archived) and a sample."""
    lowest, lowest_day, highest = window.stamp_bounds()
    parameters = {
        "pattern": sizing.LOG_KEY_PATTERN.replace("?P<day>", "").replace("?P<stamp>", ""),
        "prefix": prefix,
        "lowest": lowest,
        "lowest_day": lowest_day,
        "highest": highest,
        "below_prefix": below_prefix(prefix),
    }
    connection.execute(f"CREATE TEMP TABLE selected AS {select_sql(manifest, paths)}", parameters)
    archived = ", ".join(_quote(c) for c in sorted(sizing.ARCHIVED_STORAGE_CLASSES))
    totals = connection.execute(
        f"""SELECT count(*), coalesce(sum(size), 0),
                   count(DISTINCT regexp_replace(key, '/[^/]*$', '')),
                   min(matched_at), max(matched_at), count(*) FILTER (WHERE storage IN ({archived}))
            FROM selected"""
    ).fetchone()
    assert totals is not None
    repeatable = f" REPEATABLE ({int(seed)})" if seed is not None else ""
    sampled = connection.execute(
        f"""SELECT key, size, storage, matched_at FROM selected WHERE storage NOT IN ({archived})
            USING SAMPLE reservoir({int(sample)} ROWS){repeatable}"""
    ).fetchall()
    return totals, sampled


def _download(
    s3: S3Client,
    bucket: str,
    keys: list[str],
    folder: Path,
    workers: int,
    progress: render.EstimateProgress,
) -> list[str]:
    paths = [str(folder / f"{i:06d}-{Path(k).name}") for i, k in enumerate(keys)]
    with worker_pool(workers) as pool:
        futures = [
            pool.submit(s3.download_file, bucket, key, path)
            for key, path in zip(keys, paths, strict=True)
        ]
        for done, future in enumerate(futures, start=1):
            try:
                future.result()
            except (ClientError, BotoCoreError) as error:
                raise aws_error(f"GetObject s3://{bucket}/{keys[done - 1]}", error) from error
            progress.step("downloading inventory", done, len(futures))
    return paths


def estimate(request: Request, progress: render.EstimateProgress) -> Result:
    from cloudtrail_lake_import.cli.estimate import Result, read_sizes, trusting

    try:
        import duckdb
    except ImportError as error:
        raise CliError(
            "--inventory needs DuckDB (the package's inventory extra): pip install 'duckdb>=1.1,<3'"
        ) from error
    assert request.inventory is not None
    assert request.sample is not None
    s3 = clients.s3(pool=request.workers)
    manifest = read_manifest(s3, request.inventory)
    if manifest.source_bucket != request.bucket:
        raise BadInputError(
            f"--inventory: the report lists bucket {manifest.source_bucket}, not {request.bucket}"
        )
    with tempfile.TemporaryDirectory(prefix="cloudtrail-lake-inventory-") as folder:
        paths = _download(
            s3, manifest.destination_bucket, manifest.keys, Path(folder), request.workers, progress
        )
        connection = duckdb.connect()
        try:
            totals, sampled = query(
                connection,
                manifest,
                paths,
                request.prefix,
                request.window,
                request.sample,
                request.seed,
            )
        except duckdb.Error as error:
            raise CliError(f"cannot read the inventory report: {error}") from error
        finally:
            connection.close()
    files, compressed, partitions, first, last, archived_count = totals
    chosen = [
        sizing.LogFile(
            key, int(size), datetime.strptime(at, "%Y%m%dT%H%M").replace(tzinfo=UTC), storage
        )
        for key, size, storage, at in sampled
    ]
    counters = archive_walk.Progress()
    with worker_pool(request.workers) as pool:
        checked = read_sizes(s3, _all(request), chosen, pool, counters, progress)
    sizes = checked.sizes
    read = [f for f in chosen if f.key in sizes]
    result_estimate = sizing.extrapolate(
        files=int(files),
        compressed_bytes=int(compressed),
        read_compressed=sum(f.size for f in read),
        read_uncompressed=sum(sizes[f.key] for f in read),
        sized_files=len(read),
        archived_files=int(archived_count),
        partitions=int(partitions),
        first_event_date=_stamp_date(first),
        last_event_date=_stamp_date(last),
        over_isize_limit=any(f.size >= sizing.ISIZE_LIMIT for f in read),
    )
    return Result(
        request,
        trusting(result_estimate, checked),
        "inventory",
        0,
        1 + len(paths) + counters.sizes_read,
        checked,
    )


def _all(request: Request) -> Request:
    """The request with no sampling left to do (the sample was drawn by DuckDB)."""
    from dataclasses import replace

    return replace(request, sample=None)
