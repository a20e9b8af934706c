"""A trail archive in another account, and organization event data stores, checked before
StartImport: a FAILED reason that says what to grant or where to deploy, never a bare refusal."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from import_handler import cross_account
from import_handler.answer import MAX_REASON_CHARS

from .conftest import Stubs
from .helpers import (
    BUCKET,
    IMPORT_ID,
    ROLE_ARN,
    STORE_ARN,
    create_event,
    properties,
    start_params,
    update_event,
)

OWNER = "111111111111"  # the log-archive account
HANDLER_ROLE_ARN = "arn:aws:iam::123456789012:role/TrailImportHandler"
MANAGEMENT = "123456789012"  # FUNCTION_ARN's account: the handler runs in it
PREFIX = "AWSLogs/123456789012/CloudTrail/"


def cross_account_properties(**overrides: Any) -> dict[str, Any]:
    return properties(
        **{"SourceBucketOwner": OWNER, "HandlerRoleArn": HANDLER_ROLE_ARN, **overrides}
    )


def store(stubs: Stubs, *, organization: bool = False) -> None:
    stubs.look_up_once()
    stubs.cloudtrail.add_response(
        "get_event_data_store",
        {
            "EventDataStoreArn": STORE_ARN,
            "Status": "ENABLED",
            "OrganizationEnabled": organization,
            "AdvancedEventSelectors": [
                {
                    "Name": "Management events",
                    "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
                }
            ],
        },
        {"EventDataStore": STORE_ARN},
    )


def ownership(stubs: Stubs, *, owner: str | None = OWNER) -> None:
    params: dict[str, str] = {"Bucket": BUCKET}
    if owner is not None:
        params["ExpectedBucketOwner"] = owner
    stubs.s3.add_response(
        "get_bucket_ownership_controls",
        {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}},
        params,
    )
    if owner is not None:  # is the prefix shared, not only the bucket?
        stubs.s3.add_response(
            "list_objects_v2",
            {"Contents": [{"Key": f"{PREFIX}2023/01/01/file.json.gz"}], "KeyCount": 1},
            {"Bucket": BUCKET, "Prefix": PREFIX, "MaxKeys": 1, "ExpectedBucketOwner": owner},
        )
    stubs.source_files("AWSLogs/123456789012/CloudTrail/2023/01/01/file.json.gz")


def ownership_refused(stubs: Stubs) -> None:
    stubs.error(
        stubs.s3,
        "get_bucket_ownership_controls",
        "AccessDenied",
        {"Bucket": BUCKET, "ExpectedBucketOwner": OWNER},
        status=403,
        message="Access Denied",
    )


def organization(stubs: Stubs, management: str) -> None:
    stubs.organizations.add_response(
        "describe_organization",
        {
            "Organization": {
                "Id": "o-exampleorgid",
                "MasterAccountId": management,
                "MasterAccountArn": (
                    f"arn:aws:organizations::{management}:account/o-exampleorgid/{management}"
                ),
            }
        },
        {},
    )


# The statements and reasons ----------------------------------------------------------------


def test_the_quoted_statements_grant_only_the_import_roles_and_only_the_prefix() -> None:
    statements = cross_account.bucket_policy_statements(
        bucket=BUCKET, prefix=PREFIX, access_role_arn=ROLE_ARN, handler_role_arn=HANDLER_ROLE_ARN
    )

    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["CloudTrailLakeImportListBucket"]["Action"] == [
        "s3:GetBucketAcl",
        "s3:ListBucket",
    ]
    assert by_sid["CloudTrailLakeImportListBucket"]["Resource"] == f"arn:aws:s3:::{BUCKET}"
    assert by_sid["CloudTrailLakeImportReadObjects"]["Resource"] == (
        f"arn:aws:s3:::{BUCKET}/{PREFIX}*"
    )
    assert by_sid["CloudTrailLakeImportPreflight"]["Action"] == "s3:GetBucketOwnershipControls"
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert statement["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert by_sid["CloudTrailLakeImportPreflightList"]["Action"] == "s3:ListBucket"
    assert by_sid["CloudTrailLakeImportPreflightList"]["Condition"]["StringEquals"] == {
        "s3:prefix": PREFIX
    }
    principals = [s["Condition"]["ArnEquals"]["aws:PrincipalArn"] for s in statements]
    assert principals == [ROLE_ARN, ROLE_ARN, HANDLER_ROLE_ARN, HANDLER_ROLE_ARN]


CONTROL_TOWER_BUCKET = "aws-controltower-logs-222222222222-us-east-1"
README_ACCESS_ROLE = "arn:aws:iam::123456789012:role/cloudtrail-lake-import-access"
README_HANDLER_ROLE = "arn:aws:iam::123456789012:role/cloudtrail-lake-import-handler"


def test_the_not_shared_reason_shows_bucket_sids_roles_and_where_the_json_is() -> None:
    reason = cross_account.not_shared(
        bucket=CONTROL_TOWER_BUCKET,
        owner=OWNER,
        access_role_arn=README_ACCESS_ROLE,
        handler_role_arn=README_HANDLER_ROLE,
    )

    shown = reason[:MAX_REASON_CHARS]  # what CloudFormation's console shows
    assert shown == (
        f"SourceBucketNotShared: {CONTROL_TOWER_BUCKET} ({OWNER}) lacks "
        "CloudTrailLakeImport{ListBucket,ReadObjects} for cloudtrail-lake-import-access, "
        "{Preflight,PreflightList} for cloudtrail-lake-import-handler; JSON: synth, handler log"
    )
    assert "output" not in reason  # a failed first Create rolls the stack's outputs back


def test_with_the_longest_names_the_not_shared_reason_still_shows_the_sids() -> None:
    longest_bucket, role = "b" * 63, "r" * 64
    reason = cross_account.not_shared(
        bucket=longest_bucket,
        owner=OWNER,
        access_role_arn=f"arn:aws:iam::123456789012:role/path/{role}",
        handler_role_arn=HANDLER_ROLE_ARN,
    )

    shown = reason[:MAX_REASON_CHARS]
    assert shown.startswith(f"SourceBucketNotShared: {longest_bucket} ({OWNER}) lacks ")
    assert f"CloudTrailLakeImport{{ListBucket,ReadObjects}} for {role}, " in shown
    assert "{Preflight,PreflightList} for" in shown


@pytest.mark.parametrize(
    ("organization_enabled", "caller", "management", "fails"),
    [
        (True, "222222222222", MANAGEMENT, True),
        (True, MANAGEMENT, MANAGEMENT, False),
        (False, "222222222222", MANAGEMENT, False),
        (True, "222222222222", None, False),  # unknown: StartImport judges
        (True, None, MANAGEMENT, False),
    ],
)
def test_only_the_management_account_may_import_into_an_organization_store(
    organization_enabled: bool, caller: str | None, management: str | None, fails: bool
) -> None:
    problem = cross_account.organization_problem(
        store_arn=STORE_ARN,
        organization_enabled=organization_enabled,
        caller_account=caller,
        management_account=management,
    )

    assert (problem is not None) == fails
    if problem:
        assert problem.startswith("OrganizationStoreNeedsManagementAccount: ")
        assert f"management account {MANAGEMENT}" in problem
        assert "not 222222222222" in problem
        assert len(problem) <= MAX_REASON_CHARS


# The handler -------------------------------------------------------------------------------


def test_a_bucket_its_owner_shared_is_checked_as_that_owners_bucket_and_imported(
    stubs: Stubs, run: Any
) -> None:
    store(stubs)
    ownership(stubs)
    stubs.start_import()

    response = run(create_event(cross_account_properties()))

    assert response["Status"] == "SUCCESS"


@pytest.mark.parametrize("max_ingest_gb", [None, "500"])
def test_a_bucket_not_shared_yet_fails_before_start_import_quoting_the_statements(
    stubs: Stubs, run: Any, caplog: pytest.LogCaptureFixture, max_ingest_gb: str | None
) -> None:
    store(stubs)
    ownership_refused(stubs)  # and no StartImport: the stubber would fail on one

    with caplog.at_level(logging.ERROR, logger="import_handler.preflight"):
        response = run(create_event(cross_account_properties(MaxIngestGB=max_ingest_gb)))

    assert response["Status"] == "FAILED"
    shown = response["Reason"][:MAX_REASON_CHARS]
    assert shown.startswith(
        f"SourceBucketNotShared: {BUCKET} ({OWNER}) lacks "
        "CloudTrailLakeImport{ListBucket,ReadObjects} for TrailImportRole, {Preflight,"
    )
    assert "for TrailImportHandler; JSON: synth, handler log" in shown
    (logged,) = [r.getMessage() for r in caplog.records if "add these statements" in r.getMessage()]
    quoted = json.loads(logged.split("policy: ", 1)[1])
    reads_objects = max_ingest_gb is not None  # the cost guard's reads are quoted too
    assert quoted == cross_account.bucket_policy_statements(
        bucket=BUCKET,
        prefix=PREFIX,
        access_role_arn=ROLE_ARN,
        handler_role_arn=HANDLER_ROLE_ARN,
        handler_reads_objects=reads_objects,
    )
    sids = [statement["Sid"] for statement in quoted]
    assert ("CloudTrailLakeImportEstimateReads" in sids) is reads_objects
    assert ("EstimateList,EstimateReads}" in shown) is reads_objects


def test_for_the_whole_bucket_the_preflight_listing_has_no_prefix_condition() -> None:
    statements = cross_account.bucket_policy_statements(
        bucket=BUCKET,
        prefix="",
        access_role_arn=ROLE_ARN,
        handler_role_arn=HANDLER_ROLE_ARN,
        handler_reads_objects=True,
    )

    # A listing without a prefix has no s3:prefix key: a condition on it would refuse it.
    for statement in statements:
        assert list(statement["Condition"]) == ["ArnEquals"], statement["Sid"]


# A grant for the handler only: the preflight passes, CloudTrail cannot read ----------------


def test_start_import_refused_for_another_accounts_bucket_names_the_access_roles_statements(
    stubs: Stubs, run: Any, caplog: pytest.LogCaptureFixture
) -> None:
    store(stubs)
    ownership(stubs)
    stubs.error(
        stubs.cloudtrail,
        "start_import",
        "InvalidImportSourceException",
        start_params(),
        message="The S3 bucket is not accessible.",
    )

    with caplog.at_level(logging.ERROR, logger="import_handler.explain"):
        response = run(create_event(cross_account_properties()))

    assert response["Status"] == "FAILED"
    assert response["Reason"][:MAX_REASON_CHARS] == (
        f"InvalidImportSourceException: CloudTrail could not read {BUCKET} ({OWNER}) as "
        "TrailImportRole; its policy likely lacks CloudTrailLakeImport{ListBucket,ReadObjects} "
        "for it; JSON: synth, handler log"
    )
    (logged,) = [r.getMessage() for r in caplog.records if "CloudTrail could not" in r.getMessage()]
    assert "The S3 bucket is not accessible." in logged
    quoted = json.loads(logged.split("bucket policy: ", 1)[1])
    assert [s["Sid"] for s in quoted] == [
        "CloudTrailLakeImportListBucket",
        "CloudTrailLakeImportReadObjects",
    ]
    assert (
        quoted
        == cross_account.bucket_policy_statements(
            bucket=BUCKET,
            prefix=PREFIX,
            access_role_arn=ROLE_ARN,
            handler_role_arn=HANDLER_ROLE_ARN,
        )[:2]
    )


def import_fails_with(stubs: Stubs, message: str) -> None:
    store(stubs)
    ownership(stubs)
    stubs.start_import()
    stubs.get_import(status="FAILED", statistics={"FailedEntries": 1})
    stubs.cloudtrail.add_response(
        "list_import_failures",
        {
            "Failures": [
                {
                    "Location": f"s3://{BUCKET}/{PREFIX}2023/01/01/file.json.gz",
                    "Status": "FAILED",
                    "ErrorType": "AccessDenied",
                    "ErrorMessage": message,
                }
            ]
        },
        {"ImportId": IMPORT_ID, "MaxResults": 50},
    )


def test_an_import_whose_reads_were_refused_in_another_accounts_bucket_names_the_statements(
    stubs: Stubs, run: Any
) -> None:
    import_fails_with(stubs, "Access Denied")

    response = run(create_event(cross_account_properties(WaitForCompletion="true")))

    assert response["Status"] == "FAILED"
    assert response["Reason"][:MAX_REASON_CHARS].startswith(
        f"ImportFailed: CloudTrail could not read {BUCKET} ({OWNER}) as TrailImportRole; its "
        "policy likely lacks CloudTrailLakeImport{ListBucket,ReadObjects} for it"
    )


def test_an_import_refused_decryption_is_not_blamed_on_the_bucket_policy(
    stubs: Stubs, run: Any
) -> None:
    import_fails_with(stubs, "not authorized to perform kms:Decrypt")

    response = run(create_event(cross_account_properties(WaitForCompletion="true")))

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("ImportFailed: 1 failed entry; fix them")
    assert "kms:Decrypt" in response["Reason"]


def test_start_import_refused_for_this_accounts_bucket_keeps_the_general_advice(
    stubs: Stubs, run: Any
) -> None:
    stubs.preflight()
    stubs.error(stubs.cloudtrail, "start_import", "InvalidImportSourceException", start_params())

    response = run(create_event())

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(
        "InvalidImportSourceException: CloudTrail cannot read the source: check S3LocationUri"
    )


def test_a_bucket_shared_for_another_prefix_fails_before_start_import(
    stubs: Stubs, run: Any
) -> None:
    store(stubs)
    stubs.s3.add_response(
        "get_bucket_ownership_controls",
        {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}},
        {"Bucket": BUCKET, "ExpectedBucketOwner": OWNER},
    )
    stubs.error(
        stubs.s3,
        "list_objects_v2",
        "AccessDenied",
        {"Bucket": BUCKET, "Prefix": PREFIX, "MaxKeys": 1, "ExpectedBucketOwner": OWNER},
        status=403,
    )  # and no StartImport

    response = run(create_event(cross_account_properties()))

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(f"SourceBucketNotShared: {BUCKET} ({OWNER}) lacks ")


def test_an_update_to_a_bucket_no_longer_shared_fails_before_starting_the_new_import(
    stubs: Stubs, run: Any
) -> None:
    stubs.get_import(status="COMPLETED")
    stubs.no_earlier_import()
    store(stubs)
    ownership_refused(stubs)
    new = cross_account_properties(
        StartEventTime="2024-02-01T00:00:00Z", EndEventTime="2024-03-01T00:00:00Z"
    )

    response = run(update_event(new, properties()))

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("SourceBucketNotShared: ")


def test_a_same_account_refusal_is_left_to_start_import(stubs: Stubs, run: Any) -> None:
    store(stubs)
    stubs.error(
        stubs.s3,
        "get_bucket_ownership_controls",
        "AccessDenied",
        {"Bucket": BUCKET},
        status=403,
    )
    stubs.source_files("AWSLogs/123456789012/CloudTrail/2023/01/01/file.json.gz")
    stubs.start_import()

    response = run(create_event())

    assert response["Status"] == "SUCCESS"


def test_an_owner_that_is_this_account_is_not_asked_as_another_one(stubs: Stubs, run: Any) -> None:
    store(stubs)
    ownership(stubs, owner=None)
    stubs.start_import()

    response = run(create_event(cross_account_properties(SourceBucketOwner=MANAGEMENT)))

    assert response["Status"] == "SUCCESS"


def test_an_organization_store_imports_from_the_management_account(stubs: Stubs, run: Any) -> None:
    store(stubs, organization=True)
    organization(stubs, MANAGEMENT)
    ownership(stubs, owner=None)
    stubs.start_import()

    response = run(create_event())

    assert response["Status"] == "SUCCESS"


def test_an_organization_store_from_a_member_account_fails_before_start_import(
    stubs: Stubs, run: Any
) -> None:
    store(stubs, organization=True)
    organization(stubs, "999999999999")

    response = run(create_event())

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(
        "OrganizationStoreNeedsManagementAccount: only the organization's management account "
        "999999999999 can import into organization event data store "
        "EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE, not 123456789012"
    )


@pytest.mark.parametrize("code", ["AccessDeniedException", "AWSOrganizationsNotInUseException"])
def test_an_organization_store_whose_organization_cannot_be_read_warns_and_goes_on(
    stubs: Stubs, run: Any, caplog: pytest.LogCaptureFixture, code: str
) -> None:
    store(stubs, organization=True)
    stubs.error(stubs.organizations, "describe_organization", code, {})
    ownership(stubs, owner=None)
    stubs.start_import()

    with caplog.at_level(logging.WARNING, logger="import_handler.preflight"):
        response = run(create_event())

    assert response["Status"] == "SUCCESS"
    (warning,) = [
        r.getMessage() for r in caplog.records if "DescribeOrganization" in r.getMessage()
    ]
    assert code in warning
    assert "only the management account can import" in warning


@pytest.mark.parametrize(
    ("overrides", "prop"),
    [
        ({"SourceBucketOwner": "1111"}, "SourceBucketOwner"),
        ({"HandlerRoleArn": "TrailImportHandler"}, "HandlerRoleArn"),
        ({"HandlerRoleArn": None}, "HandlerRoleArn"),
    ],
)
def test_a_malformed_source_owner_is_rejected_naming_the_property(
    stubs: Stubs, run: Any, overrides: dict[str, Any], prop: str
) -> None:
    response = run(create_event(cross_account_properties(**overrides)))

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(f"InvalidProperty: {prop} must be")


@pytest.mark.parametrize(
    ("operation", "message", "sid", "grant"),
    [
        ("ListObjectsV2", "Access Denied", "CloudTrailLakeImportEstimateList", "s3:ListBucket"),
        ("GetObject", "Access Denied", "CloudTrailLakeImportEstimateReads", "s3:GetObject"),
        (
            "GetObject",
            "User is not authorized to perform kms:Decrypt",
            "CloudTrailLakeImportEstimateDecrypt",
            "kms:Decrypt",
        ),
    ],
)
def test_the_cost_guard_names_the_statement_the_owner_has_not_granted_within_256_characters(
    operation: str, message: str, sid: str, grant: str
) -> None:
    longest_bucket = "b" * 63
    reason = cross_account.not_shared_for_estimate(
        bucket=longest_bucket,
        owner=OWNER,
        prefix=PREFIX,
        handler_role_arn=HANDLER_ROLE_ARN,
        operation=operation,
        message=message,
    )

    shown = reason[:MAX_REASON_CHARS]
    assert shown.startswith(f"CouldNotEstimate: bucket {longest_bucket} (account {OWNER})")
    assert f"lacks statement {sid} for MaxIngestGB" in shown
    assert "handler_reads_objects=True" in shown
    assert f"123456789012:role/TrailImportHandler {grant}" in reason
