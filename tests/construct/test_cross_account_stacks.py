"""Both sides of a cross-account import as whole stacks: cdk-nag clean, snapshots, and the
prefixes of an organization trail's layout (whole organization, one account, one region)."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from cloudtrail_lake_import import CloudTrailLakeImport, CloudTrailLakeImportSourceAccess
from import_handler import properties as handler_properties
from tests.construct.conftest import new_app, only, resources

MANAGEMENT = "111111111111"
LOG_ARCHIVE = "222222222222"
REGION = "eu-west-1"
BUCKET = "org-trail-archive"
KEY_ARN = f"arn:aws:kms:{REGION}:{LOG_ARCHIVE}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ACCESS_ROLE = "cloudtrail-lake-import-access"
HANDLER_ROLE = "cloudtrail-lake-import-handler"
WHOLE_ORGANIZATION = "AWSLogs/o-exampleorgid/"
ONE_ACCOUNT = f"{WHOLE_ORGANIZATION}333333333333/CloudTrail/"
ONE_REGION = f"{ONE_ACCOUNT}{REGION}/"


def owner_stack(
    app: cdk.App, prefix: str = WHOLE_ORGANIZATION, *, handler_reads_objects: bool = False
) -> cdk.Stack:
    stack = cdk.Stack(app, "TrailArchive", env=cdk.Environment(account=LOG_ARCHIVE, region=REGION))
    key = kms.Key(stack, "ArchiveKey", enable_key_rotation=True)
    bucket = s3.Bucket(
        stack,
        "Archive",
        bucket_name=BUCKET,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption_key=key,
        enforce_ssl=True,
        server_access_logs_prefix="access-logs/",
    )
    CloudTrailLakeImportSourceAccess(
        stack,
        "LakeImportAccess",
        bucket=bucket,
        key=key,
        prefix=prefix,
        importer_role_arn=f"arn:aws:iam::{MANAGEMENT}:role/{ACCESS_ROLE}",
        handler_role_arn=f"arn:aws:iam::{MANAGEMENT}:role/{HANDLER_ROLE}",
        handler_reads_objects=handler_reads_objects,
    )
    return stack


def importer_stack(
    app: cdk.App, prefix: str = WHOLE_ORGANIZATION, *, max_ingest_gb: float | None = None
) -> cdk.Stack:
    stack = cdk.Stack(app, "LakeImport", env=cdk.Environment(account=MANAGEMENT, region=REGION))
    CloudTrailLakeImport(
        stack,
        "Import",
        source_bucket=s3.Bucket.from_bucket_attributes(
            stack, "Archive", bucket_name=BUCKET, account=LOG_ARCHIVE, region=REGION
        ),
        source_prefix=prefix,
        source_encryption_key=kms.Key.from_key_arn(stack, "ArchiveKey", KEY_ARN),
        event_data_store_organization_enabled=True,
        access_role_name=ACCESS_ROLE,
        handler_role_name=HANDLER_ROLE,
        max_ingest_gb=max_ingest_gb,
    )
    return stack


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("handler_reads_objects", [False, True])
def test_the_owners_stack_has_no_cdk_nag_finding(handler_reads_objects: bool) -> None:
    app = new_app()
    stack = owner_stack(app, handler_reads_objects=handler_reads_objects)

    report = AwsSolutionsChecks(app).validate_scope(stack)

    assert [v.rule_name for v in report.violations] == []


@pytest.mark.parametrize("max_ingest_gb", [None, 500])
def test_the_importers_stack_has_no_cdk_nag_finding(max_ingest_gb: float | None) -> None:
    app = new_app()
    stack = importer_stack(app, max_ingest_gb=max_ingest_gb)

    report = AwsSolutionsChecks(app).validate_scope(stack)

    assert [v.rule_name for v in report.violations] == []


def test_owner_template(snapshot_json: SnapshotAssertion) -> None:
    assert Template.from_stack(owner_stack(new_app())).to_json() == snapshot_json


def test_importer_template(snapshot_json: SnapshotAssertion) -> None:
    template = Template.from_stack(importer_stack(new_app())).to_json()
    # The handler asset's hash follows import_handler, which other work changes; the asset's
    # content is tested from the wheel.
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            resource["Properties"]["Code"]["S3Key"] = "<handler asset>.zip"
    assert template == snapshot_json


def statements(template: Template, type_: str, document: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for resource in resources(template, type_).values():
        found.extend(resource["Properties"][document]["Statement"])
    return found


def text(value: Any) -> str:
    """A rendered value as one string (``Fn::Join`` parts concatenated)."""
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(text(p) for p in parts)
    if isinstance(value, dict) and value == {"Ref": "AWS::Partition"}:
        return "aws"
    return value if isinstance(value, str) else json.dumps(value)


@pytest.mark.parametrize("prefix", [WHOLE_ORGANIZATION, ONE_ACCOUNT, ONE_REGION])
def test_an_organization_trails_prefix_is_granted_and_imported_as_given(prefix: str) -> None:
    app = new_app()
    owner_side, importer_side = owner_stack(app, prefix), importer_stack(app, prefix)
    owner, importer = Template.from_stack(owner_side), Template.from_stack(importer_side)

    resource = only(importer, "Custom::CloudTrailLakeImport")["Properties"]
    assert text(resource["ImportSource"]["S3"]["S3LocationUri"]) == f"s3://{BUCKET}/{prefix}"
    # The handler takes it as is (the organization id's '-', the account's digits).
    parsed = handler_properties.parse(
        {
            "Destinations": [f"arn:aws:cloudtrail:{REGION}:{MANAGEMENT}:eventdatastore/EX-1"],
            "ImportSource": {
                "S3": {
                    "S3LocationUri": f"s3://{BUCKET}/{prefix}",
                    "S3BucketRegion": REGION,
                    "S3BucketAccessRoleArn": f"arn:aws:iam::{MANAGEMENT}:role/{ACCESS_ROLE}",
                }
            },
            "SourceBucketOwner": resource["SourceBucketOwner"],
            "HandlerRoleArn": f"arn:aws:iam::{MANAGEMENT}:role/{HANDLER_ROLE}",
        }
    )
    assert parsed.identity.prefix == prefix
    assert parsed.source_owner is not None
    assert parsed.source_owner.account == LOG_ARCHIVE
    granted = {
        s["Sid"]: s
        for s in statements(owner, "AWS::S3::BucketPolicy", "PolicyDocument")
        if s.get("Sid", "").startswith("CloudTrailLakeImport")
    }
    read = granted["CloudTrailLakeImportReadObjects"]["Resource"]
    assert text(read) == f"arn:aws:s3:::{BUCKET}/{prefix}*"
    listing = granted["CloudTrailLakeImportPreflightList"]["Condition"]["StringEquals"]
    assert listing == {"s3:prefix": prefix}
    access_reads = [
        text(s["Resource"])
        for s in statements(importer, "AWS::IAM::Policy", "PolicyDocument")
        if s["Action"] == "s3:GetObject"
    ]
    assert access_reads == [f"arn:aws:s3:::{BUCKET}/{prefix}*"]
