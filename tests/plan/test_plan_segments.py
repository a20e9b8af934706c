"""How a plan's imports become segments, and the props a plan refuses at synth time."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from cloudtrail_lake_import import CloudTrailLakeImportPlan, ImportSpec
from cloudtrail_lake_import.plan.segments import PlanSplit, plan_segments
from cloudtrail_lake_import.validation import CloudTrailLakeImportPropsError
from tests.construct.conftest import STORE_ARN, new_app
from tests.plan.conftest import year


@pytest.fixture
def bucket() -> s3.IBucket:
    stack = cdk.Stack(new_app(), "Segments")
    return s3.Bucket.from_bucket_name(stack, "Archive", "trail-archive")


def windows(specs: list[ImportSpec], step: cdk.Duration | str | None) -> list[tuple[Any, Any]]:
    return [(s.start, s.end) for s in plan_segments(specs, step)]


def test_without_a_split_each_import_is_one_segment_in_the_given_order(
    bucket: s3.IBucket,
) -> None:
    specs = [ImportSpec(bucket, "b/", year(2021), year(2022)), ImportSpec(bucket, "a/")]
    segments = plan_segments(specs, None)
    assert [(s.prefix, s.start, s.end) for s in segments] == [
        ("b/", "2021-01-01T00:00:00Z", "2021-12-31T23:59:59Z"),
        ("a/", None, None),
    ]


def test_a_split_window_makes_pieces_that_neither_overlap_nor_leave_gaps(
    bucket: s3.IBucket,
) -> None:
    pieces = windows(
        [ImportSpec(bucket, "", year(2021), year(2021).replace(month=1, day=11))],
        cdk.Duration.days(3),
    )
    assert pieces == [
        ("2021-01-01T00:00:00Z", "2021-01-03T23:59:59Z"),
        ("2021-01-04T00:00:00Z", "2021-01-06T23:59:59Z"),
        ("2021-01-07T00:00:00Z", "2021-01-09T23:59:59Z"),
        ("2021-01-10T00:00:00Z", "2021-01-10T23:59:59Z"),
    ]


def test_a_leap_day_does_not_make_a_one_day_segment(bucket: s3.IBucket) -> None:
    pieces = windows([ImportSpec(bucket, "", year(2020), year(2022))], cdk.Duration.days(365))
    assert pieces == [
        ("2020-01-01T00:00:00Z", "2020-12-30T23:59:59Z"),
        ("2020-12-31T00:00:00Z", "2021-12-31T23:59:59Z"),
    ]


def test_a_calendar_split_makes_one_segment_per_utc_year_with_no_drift(bucket: s3.IBucket) -> None:
    start, end = datetime(2019, 6, 1, tzinfo=UTC), datetime(2022, 3, 1, tzinfo=UTC)
    expected = [
        ("2019-06-01T00:00:00Z", "2019-12-31T23:59:59Z"),
        ("2020-01-01T00:00:00Z", "2020-12-31T23:59:59Z"),  # a leap year, whole
        ("2021-01-01T00:00:00Z", "2021-12-31T23:59:59Z"),
        ("2022-01-01T00:00:00Z", "2022-02-28T23:59:59Z"),
    ]
    assert windows([ImportSpec(bucket, "", start, end)], PlanSplit.YEAR) == expected
    assert windows([ImportSpec(bucket, "", start, end)], "year") == expected


def test_a_monthly_split_ends_each_piece_with_its_month(bucket: s3.IBucket) -> None:
    pieces = windows(
        [ImportSpec(bucket, "", year(2020), datetime(2020, 4, 1, tzinfo=UTC))], "month"
    )
    assert pieces == [
        ("2020-01-01T00:00:00Z", "2020-01-31T23:59:59Z"),
        ("2020-02-01T00:00:00Z", "2020-02-29T23:59:59Z"),
        ("2020-03-01T00:00:00Z", "2020-03-31T23:59:59Z"),
    ]
    with pytest.raises(CloudTrailLakeImportPropsError, match="split_window_by must be a Duration"):
        windows([ImportSpec(bucket, "", year(2020), year(2021))], "week")


def test_adjacent_imports_sharing_a_bound_do_not_overlap_at_it(bucket: s3.IBucket) -> None:
    """[2019, 2022) then [2022, 2024): the shared instant belongs to the second import only."""
    specs = [
        ImportSpec(bucket, "legacy/", year(2019), year(2022)),
        ImportSpec(bucket, "org/", year(2022), year(2024)),
    ]
    for step in (None, cdk.Duration.days(365)):
        pieces = windows(specs, step)
        assert pieces[0][0] == "2019-01-01T00:00:00Z"
        assert pieces[-1][1] == "2023-12-31T23:59:59Z"
        for (_, end), (start, _) in itertools.pairwise(pieces):
            assert end < start, (step, pieces)


@pytest.mark.parametrize(
    ("specs", "step", "message"),
    [
        ([], None, "imports must list at least one ImportSpec"),
        ([("", None, year(2022))], cdk.Duration.days(365), "imports[0] lacks start_event_time"),
        ([("", year(2020), year(2022))], cdk.Duration.hours(1), "at least one day"),
        ([("", year(2020), year(2022))], cdk.Duration.days(7), "at most 100 segments"),
        ([("", year(2022), year(2020))], None, "start_event_time"),
        (
            [("", datetime(2020, 1, 1), None)],
            None,
            "imports[0].start_event_time",
        ),
    ],
)
def test_bad_imports_are_refused_with_the_property_named(
    bucket: s3.IBucket, specs: list[tuple[str, Any, Any]], step: cdk.Duration | None, message: str
) -> None:
    with pytest.raises(CloudTrailLakeImportPropsError, match=message.replace("[", r"\[")):
        plan_segments([ImportSpec(bucket, *spec) for spec in specs], step)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"max_retries": 11}, "max_retries must be between 0 and 10; got 11"),
        ({"poll_interval": cdk.Duration.seconds(5)}, "poll_interval must be between"),
        ({"busy_account_wait": cdk.Duration.days(31)}, "busy_account_wait must be between"),
        ({"event_data_store": "arn:aws:s3:::nope"}, "event_data_store"),
    ],
)
def test_bad_plan_props_are_refused_at_synth_time(props: dict[str, Any], message: str) -> None:
    stack = cdk.Stack(new_app(), "Bad")
    archive = s3.Bucket.from_bucket_name(stack, "Archive", "trail-archive")
    kwargs: dict[str, Any] = {"event_data_store": STORE_ARN, **props}
    with pytest.raises(CloudTrailLakeImportPropsError, match=message):
        CloudTrailLakeImportPlan(stack, "Plan", imports=[ImportSpec(archive)], **kwargs)


def test_one_bucket_with_two_keys_is_refused() -> None:
    from aws_cdk import aws_kms as kms

    stack = cdk.Stack(new_app(), "Keys")
    archive = s3.Bucket.from_bucket_name(stack, "Archive", "trail-archive")
    one, two = (kms.Key(stack, name, enable_key_rotation=True) for name in ("One", "Two"))
    with pytest.raises(CloudTrailLakeImportPropsError, match="same source_encryption_key"):
        CloudTrailLakeImportPlan(
            stack,
            "Plan",
            event_data_store=STORE_ARN,
            imports=[
                ImportSpec(archive, "a/", source_encryption_key=one),
                ImportSpec(archive, "b/", source_encryption_key=two),
            ],
        )


def test_two_prefixes_of_one_bucket_share_one_role_reading_both() -> None:
    stack = cdk.Stack(new_app(), "Prefixes")
    archive = s3.Bucket.from_bucket_name(stack, "Archive", "trail-archive")
    plan = CloudTrailLakeImportPlan(
        stack,
        "Plan",
        event_data_store=STORE_ARN,
        imports=[ImportSpec(archive, "AWSLogs/1/"), ImportSpec(archive, "AWSLogs/2/")],
    )
    assert len(plan.access_roles) == 1
    assert plan.segment_count == 2
    default_policy = plan.access_role_for(archive).node.find_child("DefaultPolicy")
    assert isinstance(default_policy, iam.Policy)
    policy = stack.resolve(default_policy.document.to_json())
    (get_object,) = [s for s in policy["Statement"] if s["Action"] == "s3:GetObject"]
    assert [r["Fn::Join"][1][-1] for r in get_object["Resource"]] == [
        ":s3:::trail-archive/AWSLogs/1/*",
        ":s3:::trail-archive/AWSLogs/2/*",
    ]


def test_reordering_the_imports_keeps_each_bucket_s_access_role() -> None:
    def role_ids(order: list[int]) -> dict[str, str]:
        stack = cdk.Stack(new_app(), "Order")
        buckets = [
            s3.Bucket.from_bucket_name(stack, name, name) for name in ("legacy", "org", "other")
        ]
        plan = CloudTrailLakeImportPlan(
            stack,
            "Plan",
            event_data_store=STORE_ARN,
            imports=[ImportSpec(buckets[i], "AWSLogs/") for i in order],
        )
        return {b.bucket_name: stack.get_logical_id(_cfn(plan.access_role_for(b))) for b in buckets}

    assert role_ids([0, 1, 2]) == role_ids([2, 0, 1])
    assert len(set(role_ids([0, 1, 2]).values())) == 3


def _cfn(role: iam.Role) -> cdk.CfnElement:
    resource = role.node.default_child
    assert isinstance(resource, cdk.CfnElement)
    return resource


def test_a_plan_split_by_calendar_year_from_the_package() -> None:
    from cloudtrail_lake_import import PlanSplit as Exported

    stack = cdk.Stack(new_app(), "Calendar")
    archive = s3.Bucket.from_bucket_name(stack, "Archive", "trail-archive")
    plan = CloudTrailLakeImportPlan(
        stack,
        "Plan",
        event_data_store=STORE_ARN,
        imports=[ImportSpec(archive, "AWSLogs/", year(2019), year(2024))],
        split_window_by=Exported.YEAR,
    )
    assert [(s.start, s.end) for s in plan.segments][-1] == (
        "2023-01-01T00:00:00Z",
        "2023-12-31T23:59:59Z",
    )
    assert plan.segment_count == 5


def overlap_plan(*specs: tuple[str, str, datetime | None, datetime | None], **props: Any) -> Any:
    stack = cdk.Stack(new_app(), "Overlap")
    buckets: dict[str, s3.IBucket] = {}
    imports = []
    for name, prefix, start, end in specs:
        if name not in buckets:
            buckets[name] = s3.Bucket.from_bucket_name(stack, name, f"archive-{name}")
        imports.append(ImportSpec(buckets[name], prefix, start, end))
    return CloudTrailLakeImportPlan(
        stack, "Plan", event_data_store=STORE_ARN, imports=imports, **props
    )


@pytest.mark.parametrize(
    ("first", "second", "days"),
    [
        # The same prefix, windows sharing 2021.
        (
            ("a", "AWSLogs/1/", year(2020), year(2022)),
            ("a", "AWSLogs/1/", year(2021), year(2023)),
            "2021-01-01 .. 2021-12-31",
        ),
        # One prefix inside the other; one window unbounded.
        (
            ("a", "AWSLogs/", None, year(2021)),
            ("a", "AWSLogs/1/CloudTrail/", year(2020), None),
            "2020-01-01 .. 2020-12-31",
        ),
        # The whole bucket contains every prefix; a window ending mid-day shares that day.
        (
            ("a", "", year(2020), datetime(2021, 3, 1, 12, tzinfo=UTC)),
            ("a", "AWSLogs/", datetime(2021, 3, 1, 12, tzinfo=UTC), year(2022)),
            "2021-03-01 .. 2021-03-01",
        ),
    ],
)
def test_specs_that_read_the_same_files_are_refused_naming_both(
    first: tuple[str, str, datetime | None, datetime | None],
    second: tuple[str, str, datetime | None, datetime | None],
    days: str,
) -> None:
    with pytest.raises(
        CloudTrailLakeImportPropsError, match=rf"imports\[0\] and imports\[1\] overlap: .*{days}"
    ) as refused:
        overlap_plan(first, second)
    assert "allow_overlap=True" in str(refused.value)
    assert overlap_plan(first, second, allow_overlap=True).segment_count == 2


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # Another bucket, sibling prefixes, adjacent windows (the end is exclusive).
        (("a", "AWSLogs/1/", year(2020), year(2022)), ("b", "AWSLogs/1/", year(2020), year(2022))),
        (("a", "AWSLogs/1/", year(2020), year(2022)), ("a", "AWSLogs/2/", year(2020), year(2022))),
        (("a", "AWSLogs/1/", year(2020), year(2022)), ("a", "AWSLogs/1/", year(2022), year(2024))),
    ],
)
def test_specs_that_share_no_file_are_accepted(
    first: tuple[str, str, datetime | None, datetime | None],
    second: tuple[str, str, datetime | None, datetime | None],
) -> None:
    assert overlap_plan(first, second).segment_count == 2
