"""``status --stack`` reads an import in its event data store's region, which the stack names,
not in the command line's region: CloudTrail answers ImportNotFound from any other region."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from cloudtrail_lake_import.cli import cli
from cloudtrail_lake_import.cli import clients as cli_clients
from tests.e2e.harness import REGION
from tests.e2e.s3_tls import MotoS3Tls
from tests.e2e.world import ROLE_ARN, EmulatedAccount, make_bucket
from tests.lake_emulator.local_http import HttpRequest, HttpResponse, LocalHttpServer
from tests.lake_emulator.server import CloudTrailLake
from tests.lake_emulator.trail_archive import generate_archive

STACK = "ArchiveImport"
STACK_REGION = "eu-west-1"  # the stack's and the command line's; the store is in REGION
SIGNED_REGION = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/cloudtrail/")


class OneRegion:
    """The emulated CloudTrail Lake as one region's endpoint: a request signed for another
    region finds no import there, as in AWS."""

    def __init__(self, lake: CloudTrailLake) -> None:
        self.lake = lake
        self.regions: list[str] = []

    def __call__(self, request: HttpRequest) -> Any:
        match = SIGNED_REGION.search(request.headers.get("authorization", ""))
        region = match.group(1) if match else ""
        self.regions.append(region)
        if region != self.lake.region:
            body = {"__type": "ImportNotFoundException", "message": "Import not found."}
            return HttpResponse(
                400, json.dumps(body).encode(), {"Content-Type": "application/x-amz-json-1.1"}
            )
        return self.lake(request)


@pytest.fixture
def endpoint(account: EmulatedAccount, monkeypatch: pytest.MonkeyPatch) -> Iterator[OneRegion]:
    app = OneRegion(account.lake)
    with LocalHttpServer(app) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", server.url)
        monkeypatch.setenv("AWS_DEFAULT_REGION", STACK_REGION)
        monkeypatch.setenv("AWS_REGION", STACK_REGION)
        yield app


@pytest.fixture
def cloudformation(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    client = boto3.client("cloudformation", region_name=STACK_REGION)
    stubber = Stubber(client)
    monkeypatch.setattr(cli_clients, "cloudformation", lambda: client)
    with stubber:
        yield stubber


def start_import(account: EmulatedAccount, s3_server: MotoS3Tls) -> tuple[str, str]:
    s3 = s3_server.client()
    bucket = make_bucket(s3)
    generate_archive(seed=5, accounts=("111122223333",), regions=(REGION,)).upload(s3, bucket)
    store = account.lake.add_event_data_store("archive", account="111122223333")
    lake = boto3.client("cloudtrail", region_name=REGION, endpoint_url=account.lake_url)
    response = lake.start_import(
        Destinations=[store.arn],
        ImportSource={
            "S3": {
                "S3LocationUri": f"s3://{bucket}/",
                "S3BucketRegion": REGION,
                "S3BucketAccessRoleArn": ROLE_ARN,
            }
        },
    )
    return response["ImportId"], store.arn


def stack_of(stubber: Stubber, import_id: str, destination: Any, **resources: Any) -> None:
    summary = {
        "LogicalResourceId": "TrailImport",
        "PhysicalResourceId": import_id,
        "ResourceType": "Custom::CloudTrailLakeImport",
        "LastUpdatedTimestamp": datetime(2025, 1, 20, tzinfo=UTC),
        "ResourceStatus": "CREATE_COMPLETE",
    }
    stubber.add_response(
        "list_stack_resources", {"StackResourceSummaries": [summary]}, {"StackName": STACK}
    )
    template = {
        "Resources": {
            "TrailImport": {
                "Type": "Custom::CloudTrailLakeImport",
                "Properties": {"Destinations": [destination]},
            },
            **resources,
        }
    }
    stubber.add_response(
        "get_template",
        {"TemplateBody": json.dumps(template)},
        {"StackName": STACK, "TemplateStage": "Processed"},
    )


def test_an_import_whose_store_is_in_another_region_than_the_stack_is_found(
    account: EmulatedAccount, s3_server: MotoS3Tls, endpoint: OneRegion, cloudformation: Stubber
) -> None:
    import_id, store_arn = start_import(account, s3_server)
    stack_of(cloudformation, import_id, store_arn)
    result = CliRunner().invoke(
        cli, ["--region", STACK_REGION, "status", "--stack", STACK, "--json"]
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["import_id"] == import_id
    assert set(endpoint.regions) == {REGION}, endpoint.regions
    cloudformation.assert_no_pending_responses()


def test_a_store_of_the_same_stack_is_resolved_to_its_arn(
    account: EmulatedAccount, s3_server: MotoS3Tls, endpoint: OneRegion, cloudformation: Stubber
) -> None:
    import_id, store_arn = start_import(account, s3_server)
    store = {"Type": "AWS::CloudTrail::EventDataStore", "Properties": {}}
    stack_of(
        cloudformation,
        import_id,
        {"Fn::GetAtt": ["Store", "EventDataStoreArn"]},
        Store=store,
    )
    detail = {
        "LogicalResourceId": "Store",
        "PhysicalResourceId": store_arn,
        "ResourceType": "AWS::CloudTrail::EventDataStore",
        "LastUpdatedTimestamp": datetime(2025, 1, 20, tzinfo=UTC),
        "ResourceStatus": "CREATE_COMPLETE",
    }
    cloudformation.add_response(
        "describe_stack_resource",
        {"StackResourceDetail": detail},
        {"StackName": STACK, "LogicalResourceId": "Store"},
    )
    result = CliRunner().invoke(
        cli, ["--region", STACK_REGION, "status", "--stack", STACK, "--json"]
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["import_id"] == import_id
    cloudformation.assert_no_pending_responses()


def test_a_stack_that_does_not_say_is_read_in_the_command_lines_region_and_says_so(
    account: EmulatedAccount, s3_server: MotoS3Tls, endpoint: OneRegion, cloudformation: Stubber
) -> None:
    import_id, _ = start_import(account, s3_server)
    stack_of(cloudformation, import_id, {"Fn::ImportValue": "SharedStoreArn"})
    result = CliRunner().invoke(cli, ["status", "--stack", STACK], env={"COLUMNS": "400"})
    assert result.exit_code == 1
    assert "name no store ARN); reading it in eu-west-1" in result.stderr
    assert (
        f"import {import_id} not found in eu-west-1 (ImportNotFoundException); an import "
        f"lives in its event data store's region: cloudtrail-lake-import status {import_id} "
        "--region <that region>"
    ) in result.stderr
    # with the store's region given, it is found
    stack_of(cloudformation, import_id, {"Fn::ImportValue": "SharedStoreArn"})
    found = CliRunner().invoke(cli, ["status", "--stack", STACK, "--json", "--region", REGION])
    assert found.exit_code == 0, found.stderr
