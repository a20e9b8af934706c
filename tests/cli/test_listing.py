"""The flat listing of region folders (``cli.listing``): only the window's key range."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cloudtrail_lake_import.cli import listing
from cloudtrail_lake_import.handler_rules import archive_walk, sizing

REGION_FOLDER = "AWSLogs/111122223333/CloudTrail/us-east-1/"
PAGE = 3


def log_key(day: date, minute: int) -> str:
    return (
        f"{REGION_FOLDER}{day:%Y/%m/%d}/111122223333_CloudTrail_us-east-1_"
        f"{day:%Y%m%d}T{minute // 60:02d}{minute % 60:02d}Z_x.json.gz"
    )


class FakeS3:
    """ListObjectsV2 over sorted keys, ``PAGE`` keys a page, every request recorded."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = sorted(keys)
        self.requests: list[dict[str, Any]] = []

    def list_objects_v2(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        prefix = request.get("Prefix", "")
        after = request.get("ContinuationToken") or request.get("StartAfter") or ""
        matching = [k for k in self.keys if k.startswith(prefix) and k > after]
        if "Delimiter" in request:
            folders = sorted({prefix + k[len(prefix) :].split("/", 1)[0] + "/" for k in matching})
            return {"CommonPrefixes": [{"Prefix": f} for f in folders], "IsTruncated": False}
        page = matching[:PAGE]
        truncated = len(matching) > PAGE
        answer: dict[str, Any] = {
            "Contents": [{"Key": k, "Size": 100} for k in page],
            "IsTruncated": truncated,
        }
        if truncated:
            answer["NextContinuationToken"] = page[-1]
        return answer


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2025, 1, day, hour, tzinfo=UTC)


def test_a_region_folder_is_listed_flat_from_the_windows_first_day_to_its_last() -> None:
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(10)]
    keys = [log_key(d, m) for d in days for m in (0, 60, 120, 180)]
    keys += [f"{REGION_FOLDER}readme.txt"]
    s3 = FakeS3(keys)
    window = sizing.Window(at(4, 1), at(5, 23))
    with ThreadPoolExecutor(4) as pool:
        found = listing.list_window(
            s3, "b", "", window, pool=pool, progress=archive_walk.Progress()
        )
    expected = [k for k in keys if "/2025/01/04/" in k or "/2025/01/05/" in k]
    expected = [k for k in expected if "20250104T0000Z" not in k]  # before 01:00
    assert [f.key for f in found.files] == sorted(expected)
    flat = [r for r in s3.requests if "Delimiter" not in r]
    assert flat[0]["StartAfter"] == f"{REGION_FOLDER}2025/01/04"
    # 8 keys of the two days: 3 pages; the third page ends with day 6's first key: stop there
    assert len(flat) == 3
    assert found.requests == len(s3.requests)


def test_an_open_window_lists_the_whole_region_folder_in_pages() -> None:
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(5)]
    keys = [log_key(d, m) for d in days for m in (0, 60)]
    s3 = FakeS3(keys)
    with ThreadPoolExecutor(2) as pool:
        found = listing.list_window(
            s3, "b", REGION_FOLDER, sizing.Window(), pool=pool, progress=archive_walk.Progress()
        )
    assert [f.key for f in found.files] == sorted(keys)
    assert all("StartAfter" not in r for r in s3.requests)
    assert len(s3.requests) == -(-len(keys) // PAGE)


def test_a_day_folder_given_as_the_prefix_is_listed_flat_too() -> None:
    keys = [log_key(date(2025, 1, 2), m) for m in (0, 60)] + [log_key(date(2025, 1, 3), 0)]
    s3 = FakeS3(keys)
    with ThreadPoolExecutor(2) as pool:
        found = listing.list_window(
            s3,
            "b",
            f"{REGION_FOLDER}2025/01/02/",
            sizing.Window(),
            pool=pool,
            progress=archive_walk.Progress(),
        )
    assert [f.key for f in found.files] == sorted(keys[:2])
