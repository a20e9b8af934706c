"""Which folders the estimate lists and which files it counts (``sizing``, ``archive_walk``).

The walk runs on an in-memory bucket whose listing pages like S3's (delimiter ``/``), so the
folders it lists can be asserted exactly.
"""

from __future__ import annotations

import gzip
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from import_handler import archive_walk, sizing

ACCOUNT = "111122223333"
ORG = "o-abcdefghij"


def log_key(
    stamp: str, *, region: str = "us-east-1", logs: str = "AWSLogs/", account: str = ACCOUNT
) -> str:
    day = f"{stamp[:4]}/{stamp[4:6]}/{stamp[6:8]}"
    return (
        f"{logs}{account}/CloudTrail/{region}/{day}/"
        f"{account}_CloudTrail_{region}_{stamp}Z_AbCdEfGh12345678.json.gz"
    )


class Bucket:
    """Keys listed like ListObjectsV2 with a ``/`` delimiter, ``page_size`` entries a page."""

    def __init__(self, keys: list[str], page_size: int = 1000) -> None:
        self.keys = sorted(keys)
        self.page_size = page_size
        self.listed: list[str] = []

    def list_page(
        self, prefix: str, token: str | None
    ) -> tuple[list[str], list[archive_walk.Listed], str | None]:
        self.listed.append(prefix)
        entries: list[str] = []
        for key in self.keys:
            if not key.startswith(prefix):
                continue
            rest = key[len(prefix) :]
            entry = prefix + rest.split("/", 1)[0] + "/" if "/" in rest else key
            if entry not in entries:
                entries.append(entry)
        offset = int(token or 0)
        page = entries[offset : offset + self.page_size]
        following = offset + self.page_size
        return (
            [e for e in page if e.endswith("/")],
            [(e, 100, "STANDARD") for e in page if not e.endswith("/")],
            str(following) if following < len(entries) else None,
        )


def walk(bucket: Bucket, prefix: str = "", window: sizing.Window | None = None) -> list[str]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        listing = archive_walk.list_window(
            bucket.list_page, prefix, window or sizing.Window(), pool=pool
        )
    return [f.key for f in listing.files]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_window_edges_are_inclusive_to_the_minute_of_the_file_name() -> None:
    keys = [
        log_key(s) for s in ("20250110T0955", "20250110T1000", "20250110T1200", "20250110T1201")
    ]
    window = sizing.Window(at("2025-01-10T10:00:00"), at("2025-01-10T12:00:59"))
    assert walk(Bucket(keys), window=window) == [keys[1], keys[2]]


def test_a_start_inside_a_minute_leaves_out_the_file_named_after_that_minute() -> None:
    keys = [log_key("20250110T1000"), log_key("20250110T1001")]
    window = sizing.Window(at("2025-01-10T10:00:30"), None)
    assert walk(Bucket(keys), window=window) == [keys[1]]


def test_only_the_date_partitions_of_the_window_are_listed() -> None:
    keys = [log_key(f"2025{m:02d}{d:02d}T0100") for m in (1, 2, 3) for d in (1, 15, 28)]
    bucket = Bucket(keys)
    window = sizing.Window(at("2025-02-15T00:00:00"), at("2025-02-15T23:59:00"))
    assert walk(bucket, window=window) == [log_key("20250215T0100")]
    region = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/"
    assert sorted(bucket.listed) == sorted(
        [
            "",
            "AWSLogs/",
            f"AWSLogs/{ACCOUNT}/",
            f"AWSLogs/{ACCOUNT}/CloudTrail/",
            region,
            f"{region}2025/",
            f"{region}2025/02/",
            f"{region}2025/02/15/",
        ]
    )


def test_an_open_window_reads_every_day() -> None:
    keys = [log_key(s) for s in ("20231231T2355", "20240101T0000", "20250606T0606")]
    assert walk(Bucket(keys)) == sorted(keys)


def test_organization_trails_and_plain_trails_are_both_walked() -> None:
    org_key = log_key("20250110T0100", logs=f"AWSLogs/{ORG}/")
    plain = log_key("20250110T0200", account="444455556666")
    assert walk(Bucket([org_key, plain])) == sorted([org_key, plain])
    assert walk(Bucket([org_key, plain]), f"AWSLogs/{ORG}/") == [org_key]


def test_digest_insight_and_other_services_folders_are_not_counted() -> None:
    wanted = log_key("20250110T0100")
    others = [
        f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/2025/01/10/"
        f"{ACCOUNT}_CloudTrail-Digest_us-east-1_trail_us-east-1_20250110T235959Z.json.gz",
        f"AWSLogs/{ACCOUNT}/CloudTrail-Insight/us-east-1/2025/01/10/"
        f"{ACCOUNT}_CloudTrail-Insight_us-east-1_20250110T0100Z_abc.json.gz",
        f"AWSLogs/{ACCOUNT}/Config/us-east-1/2025/1/10/ConfigHistory/x.json.gz",
        f"AWSLogs/{ACCOUNT}/elasticloadbalancing/us-east-1/2025/01/10/lb.log.gz",
    ]
    bucket = Bucket([wanted, *others])
    assert walk(bucket) == [wanted]
    assert not any("Digest" in p or "Insight" in p or "Config" in p for p in bucket.listed)


def test_only_region_folders_and_json_gz_files_are_read() -> None:
    wanted = log_key("20250110T0100", region="ap-southeast-2")
    base = f"AWSLogs/{ACCOUNT}/CloudTrail/"
    others = [
        f"{base}not_a_region/2025/01/10/{ACCOUNT}_CloudTrail_x_20250110T0100Z_a.json.gz",
        f"{base}us-east-1/2025/01/10/notes.txt",
        f"{base}us-east-1/2025/01/10/{ACCOUNT}_CloudTrail_us-east-1_20250110T0100Z_a.json",
        f"{base}us-east-1/2025/13/10/{ACCOUNT}_CloudTrail_us-east-1_20251310T0100Z_a.json.gz",
    ]
    assert walk(Bucket([wanted, *others])) == [wanted]


def test_a_trail_prefix_above_awslogs_is_found_from_the_bucket_root() -> None:
    keys = [
        log_key("20250110T0100", logs="trails/management/AWSLogs/"),
        log_key("20250110T0200", logs="AWSLogs/"),
    ]
    assert walk(Bucket(keys)) == sorted(keys)


def test_a_file_without_a_time_in_its_name_counts_when_its_day_overlaps_the_window() -> None:
    folder = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2025/01/10/"
    key = f"{folder}copied-by-hand.json.gz"
    inside = sizing.Window(at("2025-01-10T23:00:00"), None)
    outside = sizing.Window(at("2025-01-11T00:00:00"), None)
    assert walk(Bucket([key]), window=inside) == [key]
    assert walk(Bucket([key]), window=outside) == []


def test_a_start_prefix_inside_the_layout_is_walked_from_there() -> None:
    keys = [
        log_key("20250110T0100"),
        log_key("20250210T0100"),
        log_key("20250110T0100", region="eu-west-1"),
    ]
    prefix = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2025/01/"
    assert walk(Bucket(keys), prefix) == [keys[0]]
    assert walk(Bucket(keys), f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/") == []


def test_every_page_of_a_large_folder_is_read() -> None:
    keys = [log_key(f"20250110T{h:02d}{m:02d}") for h in range(24) for m in range(0, 60, 5)]
    bucket = Bucket(keys, page_size=7)
    assert walk(bucket) == sorted(keys)
    day = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2025/01/10/"
    assert bucket.listed.count(day) == -(-len(keys) // 7)


def test_the_walk_fails_instead_of_guessing_when_its_budget_runs_out() -> None:
    released = threading.Event()
    bucket = Bucket([log_key("20250110T0100")])

    def stuck_page(
        prefix: str, token: str | None
    ) -> tuple[list[str], list[archive_walk.Listed], str | None]:
        if prefix.endswith("CloudTrail/"):
            released.wait(5)
        return bucket.list_page(prefix, token)

    budget = archive_walk.Budget(seconds=0.3)
    with ThreadPoolExecutor(2) as pool:
        try:
            with pytest.raises(archive_walk.OutOfTimeError) as error:
                archive_walk.list_window(stuck_page, "", sizing.Window(), pool=pool, budget=budget)
        finally:
            released.set()
    assert str(error.value) == "could not estimate within 0.3 s (listing date partitions)"


def test_the_uncompressed_size_is_the_gzip_trailer() -> None:
    body = b'{"Records": []}' * 1000
    assert sizing.isize(gzip.compress(body)[-4:]) == len(body)
    with pytest.raises(ValueError, match="last 4 bytes"):
        sizing.isize(b"\x00")


def test_an_estimate_is_exact_only_when_every_file_was_read() -> None:
    files = [sizing.LogFile(f"k{i}", 100, at("2025-01-10T00:00:00")) for i in range(4)]
    exact = sizing.summarize(files, {f"k{i}": 1000 for i in range(4)})
    assert (exact.uncompressed_bytes, exact.uncompressed_exact) == (4000, True)
    sampled = sizing.summarize(files, {"k0": 900, "k1": 1100})
    assert (sampled.uncompressed_bytes, sampled.uncompressed_exact) == (4000, False)
    assert sampled.sized_files == 2


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://trail-archive", ("trail-archive", "")),
        ("s3://trail-archive/", ("trail-archive", "")),
        ("s3://trail-archive/AWSLogs", ("trail-archive", "AWSLogs/")),
    ],
)
def test_an_s3_uri_names_a_bucket_and_a_folder(uri: str, expected: tuple[str, str]) -> None:
    assert sizing.parse_s3_uri(uri) == expected


@pytest.mark.parametrize("uri", ["trail-archive/AWSLogs", "s3://", "s3://Bad_Bucket/x"])
def test_a_malformed_s3_uri_is_refused(uri: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        sizing.parse_s3_uri(uri)
