"""Imports run to their end on the emulator, for ``verify``'s tests: what the store must hold."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from tests.e2e.harness import REGION
from tests.e2e.s3_tls import MotoS3Tls
from tests.e2e.world import ROLE_ARN, EmulatedAccount, make_bucket
from tests.lake_emulator.records import EventDataStore
from tests.lake_emulator.trail_archive import TrailArchive, generate_archive

ACCOUNT_ID = "111122223333"


def small_archive() -> TrailArchive:
    """One account, one region, three days (2025-01-10..12): a handful of files."""
    return generate_archive(seed=5, accounts=(ACCOUNT_ID,), regions=(REGION,))


@dataclass
class Scenario:
    account: EmulatedAccount
    bucket: str
    store: EventDataStore

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/"

    def run_import(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> dict[str, Any]:
        """StartImport of the whole bucket (and window), then time until it ends."""
        client = boto3.client("cloudtrail")
        request: dict[str, Any] = {
            "Destinations": [self.store.arn],
            "ImportSource": {
                "S3": {
                    "S3LocationUri": self.uri,
                    "S3BucketRegion": REGION,
                    "S3BucketAccessRoleArn": ROLE_ARN,
                }
            },
        }
        if start is not None:
            request["StartEventTime"] = start
        if end is not None:
            request["EndEventTime"] = end
        import_id = client.start_import(**request)["ImportId"]
        for _ in range(1000):
            got: dict[str, Any] = dict(client.get_import(ImportId=import_id))
            if got["ImportStatus"] not in ("INITIALIZING", "IN_PROGRESS"):
                return got
            self.account.clock.advance(10)
        raise AssertionError("the import never ended")


def scenario(
    account: EmulatedAccount,
    s3_server: MotoS3Tls,
    archive: TrailArchive,
    *,
    extra: dict[str, bytes] | None = None,
    retention_days: int = 2557,
) -> Scenario:
    s3 = s3_server.client()
    bucket = make_bucket(s3)
    archive.upload(s3, bucket)
    for key, body in (extra or {}).items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    store = account.lake.add_event_data_store(
        "archive", account=ACCOUNT_ID, retention_days=retention_days
    )
    return Scenario(account, bucket, store)


def records_of(archive: TrailArchive) -> list[dict[str, Any]]:
    return [r for f in archive.log_files for r in json.loads(gzip.decompress(f.body))["Records"]]


def groups_of(records: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    """Records per (day, account, region), as ``verify`` groups them."""
    return Counter((r["eventTime"][:10], r["recipientAccountId"], r["awsRegion"]) for r in records)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
