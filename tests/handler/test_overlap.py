"""Rule 6, no overlap unless asked: the pure decision on the store's imports."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from import_handler import properties
from import_handler.decisions import refuse_overlap
from import_handler.frozen import replace
from import_handler.model import Fail, ImportRecord, Keep, Retry, Start
from import_handler.overlap import Overlap, overlapping, reason

from .helpers import IMPORT_ID, NEW_IMPORT_ID, OTHER_STORE_ARN, OTHER_URI, URI
from .helpers import properties as raw_properties

PROPS = properties.parse(raw_properties())  # 2023-01-01T00:00:00Z .. 2024-01-01T00:00:00Z
ALLOWED = properties.parse(raw_properties(AllowOverlap="true"))
SAME = PROPS.identity
BUCKET_ROOT = URI.split("AWSLogs/")[0]


def held(
    status: str = "COMPLETED",
    *,
    uri: str = URI,
    start: datetime | None = datetime(2023, 6, 1, tzinfo=UTC),
    end: datetime | None = datetime(2023, 6, 3, 23, 0, tzinfo=UTC),
    destination: str = SAME.destination,
    import_id: str = IMPORT_ID,
) -> ImportRecord:
    identity = replace(
        SAME,
        s3_location_uri=uri,
        start_event_time=start,
        end_event_time=end,
        destination=destination,
        s3_bucket_access_role_arn="arn:aws:iam::123456789012:role/Earlier",
    )
    return ImportRecord(import_id, status, identity)


@pytest.mark.parametrize("status", ["COMPLETED", "INITIALIZING", "IN_PROGRESS"])
def test_a_new_import_inside_the_window_of_one_that_holds_events_is_refused(status: str) -> None:
    action = refuse_overlap(PROPS, Start(), [held(status)])
    assert isinstance(action, Fail)
    assert action.reason.startswith(
        f"OverlappingImport: {IMPORT_ID} already holds 2023-06-01..2023-06-03 (3 days) of this "
        "window; events imported twice are billed twice and cannot be deleted."
    )
    assert "allow_overlap=True" in action.reason
    assert len(action.reason) <= 256


@pytest.mark.parametrize("status", ["FAILED", "STOPPED"])
def test_imports_that_hold_no_window_do_not_count(status: str) -> None:
    assert refuse_overlap(PROPS, Start(), [held(status)]) == Start()


def test_a_completed_import_that_copied_no_file_holds_nothing() -> None:
    empty = replace(held(), statistics={"FilesCompleted": 0})
    assert refuse_overlap(PROPS, Start(), [empty]) == Start()
    some = replace(held(), statistics={"FilesCompleted": 3})
    assert isinstance(refuse_overlap(PROPS, Start(), [some]), Fail)


def test_windows_overlap_by_utc_day_not_by_the_minute() -> None:
    """CloudTrail picks files by the date in their prefix and name: a window that ends at 23:00
    and one that starts at 01:00 the same day both read that day's files."""
    earlier = held(
        start=datetime(2022, 12, 1, tzinfo=UTC), end=datetime(2023, 1, 1, 0, 0, tzinfo=UTC)
    )
    found = overlapping(SAME, [earlier])
    assert found == Overlap(IMPORT_ID, datetime(2023, 1, 1).date(), datetime(2023, 1, 1).date())
    assert found.days == "2023-01-01 (1 day)"
    day_before = held(
        start=datetime(2022, 12, 1, tzinfo=UTC), end=datetime(2022, 12, 31, 23, 59, tzinfo=UTC)
    )
    assert overlapping(SAME, [day_before]) is None


def test_an_open_window_overlaps_every_day_it_reaches() -> None:
    found = overlapping(SAME, [held(start=None, end=None)])
    assert found is not None
    assert found.days == "2023-01-01..2024-01-01 (366 days)"
    unbounded = replace(SAME, start_event_time=None, end_event_time=None)
    assert overlapping(unbounded, [held(start=None, end=None)]).days == "every day"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("uri", "overlaps"),
    [
        (URI, True),
        (BUCKET_ROOT, True),  # the whole bucket contains the prefix
        (URI + "us-east-1/", True),  # a prefix inside it
        (OTHER_URI, False),  # a sibling prefix
        ("s3://another-bucket/AWSLogs/123456789012/CloudTrail/", False),
    ],
)
def test_sources_overlap_in_the_same_bucket_when_one_prefix_contains_the_other(
    uri: str, overlaps: bool
) -> None:
    assert (overlapping(SAME, [held(uri=uri)]) is not None) is overlaps


def test_imports_into_another_store_do_not_count() -> None:
    assert overlapping(SAME, [held(destination=OTHER_STORE_ARN)]) is None


def test_allow_overlap_starts_anyway() -> None:
    assert refuse_overlap(ALLOWED, Start(), [held()]) == Start()


def test_a_retry_is_not_refused_for_the_import_it_resumes_but_is_for_another() -> None:
    history = [held("STOPPED", import_id=NEW_IMPORT_ID), held("COMPLETED")]
    assert isinstance(refuse_overlap(PROPS, Retry(NEW_IMPORT_ID), history), Fail)
    assert refuse_overlap(PROPS, Retry(NEW_IMPORT_ID), history[:1]) == Retry(NEW_IMPORT_ID)


def test_an_action_that_starts_nothing_is_never_refused() -> None:
    keep = Keep(held())
    assert refuse_overlap(PROPS, keep, [held()]) == keep


def test_the_reason_names_the_import_and_the_way_out() -> None:
    text = reason(Overlap(IMPORT_ID, None, None))
    assert text.startswith(
        f"OverlappingImport: {IMPORT_ID} already holds every day of this window;"
    )
