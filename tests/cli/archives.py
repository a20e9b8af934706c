"""Generated trail archives in moto S3, the figures an estimate must report, inventory reports."""

from __future__ import annotations

import csv
import gzip
import io
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import duckdb

from tests.lake_emulator.trail_archive import LogFile, TrailArchive, generate_archive

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ORGANIZATION = "o-exampleorg1"
NOT_IMPORTED = {
    # other services and CloudTrail's other products share the AWSLogs/ folder
    "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2025/01/10/"
    "111122223333_CloudTrail-Insight_us-east-1_20250110T0100Z_abc.json.gz": b"x" * 40,
    "AWSLogs/111122223333/Config/us-east-1/2025/1/10/ConfigHistory/h.json.gz": b"x" * 50,
    "AWSLogs/111122223333/CloudTrail/us-east-1/2025/01/10/README.txt": b"notes",
}


@dataclass(frozen=True)
class Figures:
    """What an estimate of some log files must report."""

    files: int
    compressed_bytes: int
    uncompressed_bytes: int
    partitions: int
    first_event_date: str | None
    last_event_date: str | None


def figures(files: Sequence[LogFile]) -> Figures:
    days = sorted(f.timestamp.date() for f in files)
    return Figures(
        files=len(files),
        compressed_bytes=sum(len(f.body) for f in files),
        uncompressed_bytes=sum(len(gzip.decompress(f.body)) for f in files),
        partitions=len({f.prefix for f in files}),
        first_event_date=days[0].isoformat() if days else None,
        last_event_date=days[-1].isoformat() if days else None,
    )


def mixed_archive() -> TrailArchive:
    """An organization trail and an account trail (with digests), five days, two regions."""
    days = [date(2025, 1, d) for d in range(10, 15)]
    organization = generate_archive(seed=3, days=days, organization=ORGANIZATION)
    account = generate_archive(seed=4, accounts=("999988887777",), days=days)
    return TrailArchive(
        organization.log_files + account.log_files,
        organization.digest_files + account.digest_files,
    )


def upload(s3: S3Client, archive: TrailArchive, extra: dict[str, bytes] | None = None) -> str:
    bucket = f"trail-archive-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    archive.upload(s3, bucket)
    for key, body in (extra or {}).items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    return bucket


def in_window(
    archive: TrailArchive, start: datetime | None = None, end: datetime | None = None
) -> list[LogFile]:
    return archive.in_window("", start, end)


CSV_SCHEMA = "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, StorageClass"


def _inventory_rows(
    s3: S3Client, bucket: str, superseded: dict[str, int]
) -> list[tuple[str, str, str, str, str, int, str]]:
    """Every object of ``bucket``, plus a superseded version of each key in ``superseded``."""
    rows = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            rows.append((bucket, obj["Key"], "v2", "true", "false", obj["Size"], "STANDARD"))
    for key, size in superseded.items():
        rows.append((bucket, key, "v1", "false", "false", size, "STANDARD"))
    return rows


def write_inventory(
    s3: S3Client,
    bucket: str,
    file_format: str,
    workdir: Path,
    *,
    superseded: dict[str, int] | None = None,
    report_files: int = 2,
) -> str:
    """An S3 Inventory report of ``bucket`` (CSV or Parquet) in a new bucket: its manifest URI.

    As S3 writes them: ``manifest.json`` and report files split over ``report_files`` objects;
    CSV keys are URL-encoded; old versions are listed with ``IsLatest`` false.
    """
    destination = f"inventory-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=destination)
    rows = _inventory_rows(s3, bucket, superseded or {})
    chunks = [rows[i::report_files] for i in range(report_files)]
    base = f"{bucket}/daily/2025-01-20T01-00Z"
    keys = []
    for index, chunk in enumerate(chunks):
        if file_format == "CSV":
            key = f"{bucket}/daily/data/{uuid.uuid4()}.csv.gz"
            text = io.StringIO()
            writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
            for b, k, *rest in chunk:
                writer.writerow([b, quote(k, safe="/"), *rest])
            body = gzip.compress(text.getvalue().encode())
        else:
            key = f"{bucket}/daily/data/{uuid.uuid4()}.parquet"
            path = workdir / f"report-{index}.parquet"
            connection = duckdb.connect()
            connection.execute(
                "CREATE TABLE report (bucket VARCHAR, key VARCHAR, version_id VARCHAR, "
                "is_latest BOOLEAN, is_delete_marker BOOLEAN, size BIGINT, storage_class VARCHAR)"
            )
            connection.executemany(
                "INSERT INTO report VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (b, k, v, latest == "true", marker == "true", s, c)
                    for b, k, v, latest, marker, s, c in chunk
                ],
            )
            connection.execute(f"COPY report TO '{path}' (FORMAT PARQUET)")
            connection.close()
            body = path.read_bytes()
        s3.put_object(Bucket=destination, Key=key, Body=body)
        keys.append(key)
    schema = (
        CSV_SCHEMA
        if file_format == "CSV"
        else "message s3.inventory { required binary bucket (STRING); required binary key "
        "(STRING); optional binary version_id (STRING); optional boolean is_latest; "
        "optional boolean is_delete_marker; optional int64 size; "
        "optional binary storage_class (STRING);}"
    )
    manifest = {
        "sourceBucket": bucket,
        "destinationBucket": f"arn:aws:s3:::{destination}",
        "version": "2016-11-30",
        "creationTimestamp": "1737334800000",
        "fileFormat": file_format,
        "fileSchema": schema,
        "files": [{"key": k, "size": 1, "MD5checksum": "0"} for k in keys],
    }
    manifest_key = f"{base}/manifest.json"
    s3.put_object(Bucket=destination, Key=manifest_key, Body=json.dumps(manifest).encode())
    return f"s3://{destination}/{manifest_key}"
