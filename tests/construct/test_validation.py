"""Bad props fail synth with an error that names the prop and says what is expected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Annotations, Match

from cloudtrail_lake_import import CloudTrailLakeImport
from cloudtrail_lake_import.validation import CloudTrailLakeImportPropsError
from tests.construct.conftest import STORE_ARN, Synth, new_app, only

JAN = datetime(2024, 1, 1, tzinfo=UTC)
FEB = datetime(2024, 2, 1, tzinfo=UTC)


def imported_key() -> kms.IKey:
    return kms.Key.from_key_arn(
        cdk.Stack(new_app(), "Keys"),
        "Key",
        "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    )


@pytest.mark.parametrize(
    ("props", "named", "expected"),
    [
        ({"start_event_time": datetime(2024, 1, 1)}, "start_event_time", "timezone-aware"),
        ({"end_event_time": datetime(2024, 1, 1)}, "end_event_time", "timezone-aware"),
        ({"start_event_time": FEB, "end_event_time": JAN}, "start_event_time", "before"),
        ({"start_event_time": JAN, "end_event_time": JAN}, "end_event_time", "before"),
        ({"source_prefix": "/AWSLogs/"}, "source_prefix", "without a leading"),
        ({"source_prefix": "s3://bucket/AWSLogs/"}, "source_prefix", "without a leading"),
        ({"source_prefix": "AWSLogs/*/CloudTrail/"}, "source_prefix", "without wildcards"),
        # The handler rejects these at deploy (import_handler.properties._check_prefix).
        ({"source_prefix": "AWSLogs/../other"}, "source_prefix", "'..' segment"),
        ({"source_prefix": "a/./b"}, "source_prefix", "'..' segment"),
        ({"source_prefix": ".."}, "source_prefix", "'..' segment"),
        ({"source_prefix": "AWSLogs/s3://x/"}, "source_prefix", "holds '://'"),
        ({"source_prefix": "AWSLogs/?/"}, "source_prefix", "wildcard"),
        (
            {"server_access_logs_prefix": "archive-logs/"},
            "server_access_logs_prefix",
            "needs server_access_logs_bucket",
        ),
        ({"completion_timeout": cdk.Duration.minutes(61)}, "completion_timeout", "60 minutes"),
        ({"completion_timeout": cdk.Duration.seconds(30)}, "completion_timeout", "1 and 60"),
        ({"event_data_store": "my-store"}, "event_data_store", "eventdatastore/<id>"),
        (
            {"event_data_store": "arn:aws:cloudtrail:eu-west-1:123456789012:trail/my-trail"},
            "event_data_store",
            "event data store ARN",
        ),
        (
            {"event_data_store_retention": cdk.Duration.days(6)},
            "event_data_store_retention",
            "7 and 3653",
        ),
        (
            {"event_data_store_retention": cdk.Duration.days(3654)},
            "event_data_store_retention",
            "7 and 3653",
        ),
        (
            {"event_data_store": STORE_ARN, "event_data_store_encryption_key": "KEY"},
            "event_data_store_encryption_key",
            "existing event_data_store",
        ),
        (
            {"event_data_store": STORE_ARN, "event_data_store_retention": cdk.Duration.days(90)},
            "event_data_store_retention",
            "existing event_data_store",
        ),
        (
            {"event_data_store": STORE_ARN, "event_data_store_termination_protection": False},
            "event_data_store_termination_protection",
            "existing event_data_store",
        ),
    ],
)
def test_bad_props_fail_synth_naming_the_prop(
    synth: Synth, props: dict[str, Any], named: str, expected: str
) -> None:
    if props.get("event_data_store_encryption_key") == "KEY":
        props["event_data_store_encryption_key"] = imported_key()
    with pytest.raises(CloudTrailLakeImportPropsError) as raised:
        synth(**props)
    message = str(raised.value)
    assert named in message
    assert expected in message


@pytest.mark.parametrize("prefix", ["AWSLogs/o-abc/..data/", "AWSLogs/a.b/", "AWSLogs/.../"])
def test_dots_inside_a_segment_are_ordinary_key_characters(synth: Synth, prefix: str) -> None:
    synth(source_prefix=prefix)


def test_unresolved_tokens_are_left_to_deploy_time(synth: Synth) -> None:
    app = new_app()
    stack = cdk.Stack(app, "Tokens")
    store_arn = cdk.CfnParameter(stack, "StoreArn").value_as_string
    prefix = cdk.CfnParameter(stack, "Prefix").value_as_string
    CloudTrailLakeImport(stack, "Import", event_data_store=store_arn, source_prefix=prefix)
    props = only(cdk.assertions.Template.from_stack(stack), "Custom::CloudTrailLakeImport")
    assert props["Properties"]["Destinations"] == [{"Ref": "StoreArn"}]


def test_prefix_gets_a_trailing_slash_so_the_object_grant_stays_inside_it(synth: Synth) -> None:
    _, _, template = synth(source_prefix="AWSLogs/111122223333/CloudTrail")
    uri = only(template, "Custom::CloudTrailLakeImport")["Properties"]["ImportSource"]["S3"]
    assert uri["S3LocationUri"]["Fn::Join"][1][-1] == "/AWSLogs/111122223333/CloudTrail/"


def test_times_in_other_zones_are_sent_in_utc(synth: Synth) -> None:
    plus_two = datetime(2024, 1, 1, 4, 0, tzinfo=timezone(timedelta(hours=2)))
    _, _, template = synth(start_event_time=plus_two)
    props = only(template, "Custom::CloudTrailLakeImport")["Properties"]
    assert props["StartEventTime"] == "2024-01-01T02:00:00Z"


def test_window_older_than_the_new_store_retention_is_a_synth_warning(synth: Synth) -> None:
    stack, _, _ = synth(
        start_event_time=datetime.now(UTC) - timedelta(days=400),
        event_data_store_retention=cdk.Duration.days(365),
    )
    Annotations.from_stack(stack).has_warning(
        "/TestStack/Import", Match.string_like_regexp("older than the event data store's retention")
    )


def test_window_inside_retention_gives_no_warning(synth: Synth) -> None:
    stack, _, _ = synth(start_event_time=datetime.now(UTC) - timedelta(days=30))
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp("retention"))


def test_imported_store_key_warns_that_its_policy_must_allow_cloudtrail(synth: Synth) -> None:
    stack, _, _ = synth(event_data_store_encryption_key=imported_key())
    Annotations.from_stack(stack).has_warning(
        "/TestStack/Import", Match.string_like_regexp("kms:GenerateDataKey")
    )


def test_a_given_store_that_ingests_live_events_warns_without_an_end_time() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Live")
    live = cloudtrail.CfnEventDataStore(stack, "Live")
    CloudTrailLakeImport(stack, "Import", event_data_store=live)
    Annotations.from_stack(stack).has_warning(
        "/Live/Import", Match.string_like_regexp("stored twice")
    )


@pytest.mark.parametrize("ingestion_enabled", [False, True])
def test_no_overlap_warning_for_import_only_stores_or_a_bounded_window(
    ingestion_enabled: bool,
) -> None:
    app = new_app()
    stack = cdk.Stack(app, "Bounded")
    store = cloudtrail.CfnEventDataStore(stack, "Store", ingestion_enabled=ingestion_enabled)
    end = None if not ingestion_enabled else FEB
    CloudTrailLakeImport(stack, "Import", event_data_store=store, end_event_time=end)
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp("stored twice"))
