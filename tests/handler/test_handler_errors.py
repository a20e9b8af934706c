"""Errors become FAILED answers that start with the error's name and say what to change."""

from __future__ import annotations

from typing import Any

import pytest

from import_handler import aws
from import_handler.explain import START_IMPORT_EXCEPTIONS

from .conftest import Stubs
from .helpers import (
    BUCKET,
    IMPORT_ID,
    ROLE_ARN,
    STORE_ARN,
    create_event,
    import_source,
    properties,
    start_params,
    update_event,
)

# What each reason must tell the reader to change.
ADVICE = {
    "AccountHasOngoingImportException": "stop it",
    "EventDataStoreARNInvalidException": "arn:aws:cloudtrail:<region>:<account>:eventdatastore/",
    "EventDataStoreNotFoundException": "fix Destinations",
    "ImportNotFoundException": "deploy again",
    "InactiveEventDataStoreException": "re-enable it",
    "InsufficientEncryptionPolicyException": "kms:GenerateDataKey and kms:Decrypt",
    "InvalidEventDataStoreCategoryException": "eventCategory Management, Data or NetworkActivity",
    "InvalidEventDataStoreStatusException": "ENABLED or STOPPED_INGESTION",
    "InvalidImportSourceException": "BucketOwnerEnforced",
    "InvalidParameterException": "StartEventTime/EndEventTime",
    "OperationNotPermittedException": "management account",
    "UnsupportedOperationException": "CloudTrail Lake",
}


def test_all_twelve_start_import_exceptions_have_advice() -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model("cloudtrail")
    declared = {shape.name for shape in model.operation_model("StartImport").error_shapes}
    assert set(START_IMPORT_EXCEPTIONS) == declared == set(ADVICE)
    assert len(declared) == 12


@pytest.mark.parametrize("code", sorted(ADVICE))
def test_each_start_import_exception_fails_with_its_name_and_advice(
    stubs: Stubs, run: Any, code: str
) -> None:
    stubs.preflight()
    stubs.error(stubs.cloudtrail, "start_import", code, start_params())
    if code == "AccountHasOngoingImportException":
        stubs.running_imports("INITIALIZING")
        stubs.running_imports("IN_PROGRESS")

    response = run(create_event())

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(code + ":")
    assert ADVICE[code] in response["Reason"]
    assert len(response["Reason"]) <= 256


@pytest.mark.parametrize("code", ["ImportNotFoundException", "InvalidParameterException"])
def test_a_retry_refused_by_cloudtrail_fails_naming_the_import(
    stubs: Stubs, run: Any, code: str
) -> None:
    stubs.get_import(status="FAILED")
    stubs.preflight()
    stubs.error(stubs.cloudtrail, "start_import", code, {"ImportId": IMPORT_ID})
    # A refused retry is read back: only a running import would be adopted.
    if code == "ImportNotFoundException":
        stubs.error(stubs.cloudtrail, "get_import", code, {"ImportId": IMPORT_ID})
    else:
        stubs.get_import(status="FAILED")

    response = run(update_event(properties(RetryToken="2")))

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(code)
    assert response["PhysicalResourceId"] == IMPORT_ID


def test_access_denied_on_pass_role_explains_the_missing_permission(stubs: Stubs, run: Any) -> None:
    stubs.preflight()
    stubs.error(
        stubs.cloudtrail,
        "start_import",
        "AccessDeniedException",
        start_params(),
        status=403,
        message=f"User: arn:aws:sts::123456789012:assumed-role/H/f is not authorized to perform: "
        f"iam:PassRole on resource: {ROLE_ARN}",
    )

    response = run(create_event())

    assert response["Status"] == "FAILED"
    reason = response["Reason"]
    assert reason.startswith("AccessDeniedException: the handler's role may not pass")
    assert ROLE_ARN in reason
    assert "iam:PassedToService = cloudtrail.amazonaws.com" in reason


def test_throttling_that_outlasts_botocores_retries_fails_with_its_name(
    stubs: Stubs, run: Any, clock: Any
) -> None:
    # The Stubber answers once per call: what it answers is what botocore's retries ended with.
    stubs.preflight()
    stubs.error(stubs.cloudtrail, "start_import", "ThrottlingException", start_params())

    response = run(create_event())

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("ThrottlingException: StartImport failed")
    assert clock.sleeps == []  # no second retry layer on top of botocore's


def test_clients_follow_the_endpoint_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", "https://cloudtrail.emulator.test:8443")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "https://s3.emulator.test:9443")
    clients = aws.Clients()
    assert (
        clients.cloudtrail(None, 900).meta.endpoint_url == "https://cloudtrail.emulator.test:8443"
    )
    assert clients.s3("eu-west-1", 900).meta.endpoint_url == "https://s3.emulator.test:9443"
    assert clients.s3("eu-west-1", 900).meta.region_name == "eu-west-1"


@pytest.mark.parametrize(
    ("overrides", "prop"),
    [
        ({"Destinations": [STORE_ARN, STORE_ARN]}, "Destinations"),
        ({"Destinations": ["arn:aws:s3:::bucket"]}, "Destinations"),
        (
            {"ImportSource": import_source(role="arn:aws:iam::123456789012:policy/x")},
            "ImportSource.S3.S3BucketAccessRoleArn",
        ),
        ({"ImportSource": import_source("s3:/trail-archive/x/")}, "ImportSource.S3.S3LocationUri"),
        # A token source_prefix is only checked here, before any call.
        (
            {"ImportSource": import_source("s3://trail-archive//AWSLogs/")},
            "ImportSource.S3.S3LocationUri",
        ),
        ({"StartEventTime": "01/01/2023"}, "StartEventTime"),
        ({"StartEventTime": "2024-06-01T00:00:00Z"}, "StartEventTime"),
        ({"WaitForCompletion": "yes"}, "WaitForCompletion"),
        ({"CompletionTimeoutSeconds": "7200"}, "CompletionTimeoutSeconds"),
    ],
)
def test_invalid_properties_fail_naming_the_property_without_any_call(
    stubs: Stubs, run: Any, overrides: dict[str, Any], prop: str
) -> None:
    response = run(create_event(properties(**overrides)))

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(f"InvalidProperty: {prop} ")
    assert response["PhysicalResourceId"].startswith("failed-create-")


# --- Preflight -------------------------------------------------------------------------------


def store(stubs: Stubs, status: str = "ENABLED", category: str = "Management") -> None:
    stubs.look_up_once()
    stubs.cloudtrail.add_response(
        "get_event_data_store",
        {
            "EventDataStoreArn": STORE_ARN,
            "Status": status,
            "AdvancedEventSelectors": [
                {"FieldSelectors": [{"Field": "eventCategory", "Equals": [category]}]}
            ],
        },
        {"EventDataStore": STORE_ARN},
    )


def test_a_missing_event_data_store_fails_before_start_import(stubs: Stubs, run: Any) -> None:
    stubs.look_up_once()
    stubs.error(
        stubs.cloudtrail,
        "get_event_data_store",
        "EventDataStoreNotFoundException",
        {"EventDataStore": STORE_ARN},
    )

    response = run(create_event())

    assert response["Reason"].startswith("EventDataStoreNotFoundException: the event data store")


@pytest.mark.parametrize(
    ("status", "reason"),
    [("PENDING_DELETION", "EventDataStorePendingDeletion"), ("CREATED", "EventDataStoreNotReady")],
)
def test_an_event_data_store_that_cannot_import_fails_before_start_import(
    stubs: Stubs, run: Any, status: str, reason: str
) -> None:
    for _ in range(7 if status == "CREATED" else 1):  # a settling state is checked for a minute
        store(stubs, status)

    response = run(create_event())

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(reason)


def test_an_event_data_store_that_is_settling_is_given_time(
    stubs: Stubs, run: Any, clock: Any
) -> None:
    store(stubs, "STOPPING_INGESTION")
    stubs.preflight(status="STOPPED_INGESTION")
    stubs.start_import()

    response = run(create_event())

    assert response["Status"] == "SUCCESS"
    assert clock.sleeps == [10.0]


def test_an_event_data_store_of_config_items_fails_before_start_import(
    stubs: Stubs, run: Any
) -> None:
    store(stubs, category="ConfigurationItem")

    response = run(create_event())

    assert response["Reason"].startswith("InvalidEventDataStoreCategory")


@pytest.mark.parametrize("ownership", ["ObjectWriter", "BucketOwnerPreferred"])
def test_a_bucket_with_acls_enabled_fails_saying_how_to_disable_them(
    stubs: Stubs, run: Any, ownership: str
) -> None:
    stubs.preflight(ownership=ownership)

    response = run(create_event())

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(f"BucketAclsEnabled: bucket {BUCKET} has ACLs enabled")
    assert "BucketOwnerEnforced" in response["Reason"]


def test_a_bucket_without_ownership_controls_has_acls_enabled(stubs: Stubs, run: Any) -> None:
    store(stubs)
    stubs.error(
        stubs.s3,
        "get_bucket_ownership_controls",
        "OwnershipControlsNotFoundError",
        {"Bucket": BUCKET},
        status=404,
    )

    response = run(create_event())

    assert response["Reason"].startswith("BucketAclsEnabled")


def test_a_missing_bucket_fails_naming_the_uri(stubs: Stubs, run: Any) -> None:
    store(stubs)
    stubs.error(
        stubs.s3, "get_bucket_ownership_controls", "NoSuchBucket", {"Bucket": BUCKET}, status=404
    )

    response = run(create_event())

    assert response["Reason"].startswith(f"NoSuchBucket: the bucket {BUCKET}")


def test_a_bucket_in_another_account_that_hides_its_settings_is_left_to_start_import(
    stubs: Stubs, run: Any
) -> None:
    store(stubs)
    stubs.error(
        stubs.s3, "get_bucket_ownership_controls", "AccessDenied", {"Bucket": BUCKET}, status=403
    )
    stubs.error(
        stubs.s3,
        "list_objects_v2",
        "AccessDenied",
        {"Bucket": BUCKET, "Prefix": "AWSLogs/123456789012/CloudTrail/", "MaxKeys": 1},
        status=403,
    )
    stubs.start_import()

    response = run(create_event())

    assert response["Status"] == "SUCCESS"
