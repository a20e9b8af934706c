"""Deterministic generator of realistic CloudTrail trail archives (as a trail writes them to S3).

Layout (as documented for trails)::

    [<trail prefix>/]AWSLogs/[o-<org id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/
        <account>_CloudTrail_<region>_YYYYMMDDTHHMMZ_<16 random chars>.json.gz
    [<trail prefix>/]AWSLogs/[o-<org id>/]<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/
        <account>_CloudTrail-Digest_<region>_<trail>_<home region>_YYYYMMDDTHHMMSSZ.json.gz

A log file is gzip JSON ``{"Records": [...]}`` whose events happened in the few minutes before the
file's timestamp. :meth:`TrailArchive.expected` computes, from the generator's own knowledge, what
an import of a location and time window must count (same rule as the emulator's docstring: a
file is in the window when the timestamp in its *name* is in [start, end]; a prefix is a day
folder holding at least one such file; digest files never count).
"""

from __future__ import annotations

import gzip
import json
import random
import string
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

DEFAULT_ACCOUNTS = ("111122223333", "444455556666")
DEFAULT_REGIONS = ("us-east-1", "eu-west-1")
DEFAULT_DAYS = (date(2025, 1, 10), date(2025, 1, 11), date(2025, 1, 12))

_EVENTS = (
    ("s3.amazonaws.com", "ListBuckets", True),
    ("ec2.amazonaws.com", "DescribeInstances", True),
    ("iam.amazonaws.com", "CreateRole", False),
    ("sts.amazonaws.com", "AssumeRole", True),
    ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", False),
    ("kms.amazonaws.com", "Decrypt", True),
)


class _PutObject(Protocol):
    def put_object(self, *, Bucket: str, Key: str, Body: bytes) -> Any: ...  # noqa: N803


@dataclass(frozen=True)
class LogFile:
    key: str
    account: str
    region: str
    timestamp: datetime  # the minute in the file name
    events: int
    body: bytes

    @property
    def prefix(self) -> str:
        return self.key.rsplit("/", 1)[0] + "/"


@dataclass(frozen=True)
class ExpectedStatistics:
    prefixes: int
    files: int
    events: int


@dataclass(frozen=True)
class TrailArchive:
    log_files: tuple[LogFile, ...]
    digest_files: tuple[tuple[str, bytes], ...]

    def objects(self) -> dict[str, bytes]:
        objects = {f.key: f.body for f in self.log_files}
        objects.update(self.digest_files)
        return objects

    def upload(self, s3: _PutObject, bucket: str, workers: int = 8) -> None:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in [
                pool.submit(s3.put_object, Bucket=bucket, Key=key, Body=body)
                for key, body in self.objects().items()
            ]:
                future.result()

    def in_window(
        self, key_prefix: str = "", start: datetime | None = None, end: datetime | None = None
    ) -> list[LogFile]:
        return [
            f
            for f in self.log_files
            if f.key.startswith(key_prefix)
            and (start is None or f.timestamp >= start)
            and (end is None or f.timestamp <= end)
        ]

    def expected(
        self, key_prefix: str = "", start: datetime | None = None, end: datetime | None = None
    ) -> ExpectedStatistics:
        files = self.in_window(key_prefix, start, end)
        return ExpectedStatistics(
            prefixes=len({f.prefix for f in files}),
            files=len(files),
            events=sum(f.events for f in files),
        )


def log_file_key(
    account: str,
    region: str,
    when: datetime,
    suffix: str,
    trail_prefix: str = "",
    organization: str | None = None,
) -> str:
    logs = f"{trail_prefix}AWSLogs/{organization + '/' if organization else ''}{account}"
    folder = f"{logs}/CloudTrail/{region}/{when:%Y/%m/%d}/"
    return f"{folder}{account}_CloudTrail_{region}_{when:%Y%m%dT%H%M}Z_{suffix}.json.gz"


def _event(rng: random.Random, account: str, region: str, when: datetime) -> dict[str, Any]:
    source, name, read_only = rng.choice(_EVENTS)
    principal = f"AROA{''.join(rng.choices(string.ascii_uppercase + string.digits, k=17))}"
    return {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"{principal}:deployer",
            "arn": f"arn:aws:sts::{account}:assumed-role/Deployer/deployer",
            "accountId": account,
            "accessKeyId": f"ASIA{''.join(rng.choices(string.ascii_uppercase, k=16))}",
        },
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": f"198.51.100.{rng.randint(1, 254)}",
        "userAgent": "aws-cli/2.15.0 Python/3.11.6",
        "requestParameters": None,
        "responseElements": None,
        "requestID": str(_uuid(rng)),
        "eventID": str(_uuid(rng)),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def gzip_json(document: object) -> bytes:
    return gzip.compress(json.dumps(document).encode(), mtime=0)


def generate_archive(
    *,
    seed: int = 7,
    accounts: Sequence[str] = DEFAULT_ACCOUNTS,
    regions: Sequence[str] = DEFAULT_REGIONS,
    days: Iterable[date] = DEFAULT_DAYS,
    files_per_day: tuple[int, int] = (1, 3),
    events_per_file: tuple[int, int] = (1, 6),
    trail_prefix: str = "",
    trail_name: str = "management-trail",
    organization: str | None = None,
) -> TrailArchive:
    """A reproducible archive: the same arguments give byte-identical objects."""
    rng = random.Random(seed)
    logs: list[LogFile] = []
    digests: list[tuple[str, bytes]] = []
    for day in days:
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        for account in accounts:
            for region in regions:
                minutes = sorted(rng.sample(range(5, 24 * 60, 5), rng.randint(*files_per_day)))
                for minute in minutes:
                    when = midnight + timedelta(minutes=minute)
                    records = [
                        _event(rng, account, region, when - timedelta(seconds=rng.randint(1, 290)))
                        for _ in range(rng.randint(*events_per_file))
                    ]
                    suffix = "".join(rng.choices(string.ascii_letters + string.digits, k=16))
                    key = log_file_key(account, region, when, suffix, trail_prefix, organization)
                    body = gzip_json({"Records": records})
                    logs.append(LogFile(key, account, region, when, len(records), body))
                digest_time = midnight + timedelta(hours=23, minutes=rng.randint(0, 59))
                logs_folder = f"{trail_prefix}AWSLogs/{organization + '/' if organization else ''}"
                digest_key = (
                    f"{logs_folder}{account}/CloudTrail-Digest/{region}/{day:%Y/%m/%d}/"
                    f"{account}_CloudTrail-Digest_{region}_{trail_name}_{regions[0]}_"
                    f"{digest_time:%Y%m%dT%H%M%S}Z.json.gz"
                )
                digest = {
                    "awsAccountId": account,
                    "digestStartTime": f"{day:%Y-%m-%d}T00:00:00Z",
                    "digestEndTime": digest_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "digestS3Bucket": "trail-archive",
                    "digestSignatureAlgorithm": "SHA256withRSA",
                    "logFiles": [
                        {"s3Object": f.key, "hashAlgorithm": "SHA-256"}
                        for f in logs
                        if f.account == account and f.region == region and f.timestamp >= midnight
                    ],
                }
                digests.append((digest_key, gzip_json(digest)))
    return TrailArchive(tuple(logs), tuple(digests))
