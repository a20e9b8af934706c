"""A trail archive in another account, deployed against the emulated world.

The bucket belongs to the log-archive account ``OWNER``: the owner's client creates it, its
ownership controls, objects and policy in that account of moto (``x-moto-account-id``); the
import runs in the management account (the harness's, moto's default). What moto does across
accounts, and what the S3 server's gate adds, since moto does not:

* moto lets any account reach another account's bucket by name, and ignores both the bucket
  policy and ``ExpectedBucketOwner``;
* so the gate refuses (AccessDenied) the handler's and CloudTrail's reads of that bucket unless
  the statements the owner applied allow them (read from ``CloudTrailLakeImportSourceAccess``'s
  synthesized bucket policy), and a request whose ``ExpectedBucketOwner`` is not the account
  moto holds the bucket in. The owner's own requests (its account's header) pass.

Who asks is told apart by the handler's user agent (the handler's role) or its absence (the
emulated CloudTrail, as the access role): moto server mode has no IAM principals to tell.
An organization store asks moto's Organizations who manages it.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from botocore.exceptions import ClientError

from cloudtrail_lake_import import CloudTrailLakeImportSourceAccess
from import_handler.answer import MAX_REASON_CHARS
from tests.cdk_json import RECOMMENDED_CONTEXT
from tests.e2e.harness import ACCOUNT, REGION, CloudFormation, Handler
from tests.e2e.lifecycle_steps import create
from tests.e2e.s3_tls import FAKE_KEY_ID, FAKE_SECRET, MotoS3Tls
from tests.e2e.world import EmulatedAccount, World, bucket_holding, cloudformation
from tests.lake_emulator.trail_archive import TrailArchive, generate_archive

OWNER = "222222222222"  # the log-archive account
MEMBER = "333333333333"  # an organization member, not its management account
ORGANIZATION = "o-exampleorgid"
HANDLER_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/cloudtrail-lake-import-handler"
HANDLER_AGENT = "cdk-cloudtrail-lake-import"  # the handler's clients' user agent
WHOLE_ORGANIZATION = f"AWSLogs/{ORGANIZATION}/"
ONE_ACCOUNT = f"{WHOLE_ORGANIZATION}111122223333/CloudTrail/"
ONE_REGION = f"{ONE_ACCOUNT}us-east-1/"


# ------------------------------------------------------------------------- the owner's policy


def owner_statements(
    bucket: str, prefix: str, access_role_arn: str, *, handler_reads_objects: bool = False
) -> list[dict[str, Any]]:
    """The statements ``CloudTrailLakeImportSourceAccess`` puts in the owner's bucket policy."""
    app = cdk.App(context=RECOMMENDED_CONTEXT)
    stack = cdk.Stack(app, "TrailArchive", env=cdk.Environment(account=OWNER, region=REGION))
    CloudTrailLakeImportSourceAccess(
        stack,
        "LakeImportAccess",
        bucket=s3.Bucket(stack, "Archive", bucket_name=bucket),
        prefix=prefix,
        importer_role_arn=access_role_arn,
        handler_role_arn=HANDLER_ROLE_ARN,
        handler_reads_objects=handler_reads_objects,
    )
    (policy,) = Template.from_stack(stack).find_resources("AWS::S3::BucketPolicy").values()
    rendered = json.dumps(policy["Properties"]["PolicyDocument"]["Statement"])
    statements: list[dict[str, Any]] = _joined(
        json.loads(rendered.replace('{"Ref": "AWS::Partition"}', '"aws"'))
    )
    return [s for s in statements if s.get("Sid", "").startswith("CloudTrailLakeImport")]


def _joined(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(str(_joined(p)) for p in parts)
    if isinstance(value, dict):
        return {k: _joined(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_joined(v) for v in value]
    return value


@dataclass
class OwnerBucket:
    """The log-archive account's bucket: what its policy lets the import's roles read."""

    name: str
    access_role_arn: str
    statements: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def apply(self, s3_server: MotoS3Tls, statements: list[dict[str, Any]]) -> None:
        """The owner's deploy: the statements go into the bucket policy."""
        policy = {"Version": "2012-10-17", "Statement": statements}
        owner = s3_server.client(account=OWNER)
        owner.put_bucket_policy(Bucket=self.name, Policy=json.dumps(policy))
        self.statements = statements

    def refuses(self, environ: dict[str, Any]) -> bool:
        bucket, _, key = unquote(environ.get("PATH_INFO", "")).lstrip("/").partition("/")
        if bucket != self.name or "/s3/aws4_request" not in environ.get("HTTP_AUTHORIZATION", ""):
            return False
        if environ.get("HTTP_X_MOTO_ACCOUNT_ID") == OWNER:
            return False  # the owner in its own account: no bucket policy needed
        expected = environ.get("HTTP_X_AMZ_EXPECTED_BUCKET_OWNER")
        if expected is not None and expected != MotoS3Tls.bucket_account(bucket):
            self.refused.append(f"ExpectedBucketOwner {expected}")
            return True  # S3: the bucket is not that account's
        by_handler = HANDLER_AGENT in environ.get("HTTP_USER_AGENT", "")
        role = HANDLER_ROLE_ARN if by_handler else self.access_role_arn
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        action = _action(environ["REQUEST_METHOD"], key, query, by_handler=by_handler)
        if action is None:
            return False  # the owner's own calls (uploads, its policy)
        resource = f"arn:aws:s3:::{bucket}" + (f"/{key}" if key else "")
        prefix = query.get("prefix", [""])[0]
        if any(_allows(s, role, action, resource, prefix) for s in self.statements):
            return False
        self.refused.append(f"{role.rsplit('/', 1)[1]} {action}")
        return True


def _action(method: str, key: str, query: dict[str, list[str]], *, by_handler: bool) -> str | None:
    if method not in ("GET", "HEAD"):
        return None
    if key:
        return "s3:GetObject"
    if "ownershipControls" in query:
        # The emulated CloudTrail checks ACLs with this call where CloudTrail uses GetBucketAcl.
        return "s3:GetBucketOwnershipControls" if by_handler else "s3:GetBucketAcl"
    if "acl" in query:
        return "s3:GetBucketAcl"
    if "list-type" in query or not query:
        return "s3:ListBucket"
    return None


def _allows(statement: dict[str, Any], role: str, action: str, resource: str, prefix: str) -> bool:
    actions = (
        statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    )
    resources = statement["Resource"]
    resources = resources if isinstance(resources, list) else [resources]
    condition = statement.get("Condition", {})
    wanted_prefix = condition.get("StringEquals", {}).get("s3:prefix")
    prefix_pattern = condition.get("StringLike", {}).get("s3:prefix")
    return (
        statement["Effect"] == "Allow"
        and action in actions
        and condition.get("ArnEquals", {}).get("aws:PrincipalArn") == role
        and any(fnmatch.fnmatchcase(resource, pattern) for pattern in resources)
        and (wanted_prefix is None or wanted_prefix == prefix)
        and (prefix_pattern is None or fnmatch.fnmatchcase(prefix, prefix_pattern))
    )


# ------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def organization_archive() -> TrailArchive:
    """An organization trail's archive: two accounts, two regions, ``AWSLogs/o-.../<account>/``."""
    return generate_archive(seed=23, organization=ORGANIZATION)


@pytest.fixture(scope="module")
def organization_bucket(s3_server: MotoS3Tls, organization_archive: TrailArchive) -> str:
    """The log-archive account's bucket, in that account of moto."""
    return bucket_holding(s3_server.client(account=OWNER), organization_archive)


@pytest.fixture
def owner_world(
    s3_server: MotoS3Tls,
    account: EmulatedAccount,
    handler: Handler,
    organization_archive: TrailArchive,
    organization_bucket: str,
) -> Iterator[tuple[World, OwnerBucket]]:
    """The management account's world, importing from the log-archive account's bucket."""
    world = World.build(
        s3_server, account, handler, bucket=organization_bucket, archive=organization_archive
    )
    owner = OwnerBucket(organization_bucket, world.role_arn)
    with s3_server.gate.refusing(owner.refuses):
        yield world, owner


def cross_account(world: World, prefix: str, **extra: Any) -> dict[str, Any]:
    return world.properties(
        prefix=prefix, SourceBucketOwner=OWNER, HandlerRoleArn=HANDLER_ROLE_ARN, **extra
    )


# ------------------------------------------------------------------------- another account's bucket


def test_before_the_owner_grants_anything_the_import_fails_quoting_the_statements_to_add(
    owner_world: tuple[World, OwnerBucket], caplog: pytest.LogCaptureFixture
) -> None:
    world, owner = owner_world

    with caplog.at_level(logging.ERROR, logger="import_handler.preflight"):
        response, _ = create(world, cross_account(world, WHOLE_ORGANIZATION))

    assert response.status == "FAILED"
    assert response.reason[:MAX_REASON_CHARS] == (
        f"SourceBucketNotShared: {owner.name} ({OWNER}) lacks CloudTrailLakeImport{{ListBucket,"
        f"ReadObjects}} for {world.role_arn.rsplit('/', 1)[1]}, {{Preflight,PreflightList}} for "
        "cloudtrail-lake-import-handler; JSON: synth, handler log"
    )
    assert not world.lake.imports, "nothing was started"
    assert owner.refused == ["cloudtrail-lake-import-handler s3:GetBucketOwnershipControls"]
    (logged,) = [r.getMessage() for r in caplog.records if "add these statements" in r.getMessage()]
    quoted = json.loads(logged.split("bucket policy: ", 1)[1])
    assert quoted == owner_statements(owner.name, WHOLE_ORGANIZATION, world.role_arn)


def test_with_the_cost_guard_the_quoted_statements_include_the_estimates_reads(
    owner_world: tuple[World, OwnerBucket],
    s3_server: MotoS3Tls,
    caplog: pytest.LogCaptureFixture,
) -> None:
    world, owner = owner_world

    with caplog.at_level(logging.ERROR, logger="import_handler.preflight"):
        response, _ = create(world, cross_account(world, WHOLE_ORGANIZATION, MaxIngestGB="1000"))

    assert response.status == "FAILED"
    assert "{Preflight,PreflightList,EstimateList,EstimateReads}" in response.reason[:256]
    (logged,) = [r.getMessage() for r in caplog.records if "add these statements" in r.getMessage()]
    quoted = json.loads(logged.split("bucket policy: ", 1)[1])
    assert quoted == owner_statements(
        owner.name, WHOLE_ORGANIZATION, world.role_arn, handler_reads_objects=True
    )
    # What the handler quotes is what the owner's construct grants: applied, it imports.
    owner.apply(s3_server, quoted)
    response, _ = create(world, cross_account(world, WHOLE_ORGANIZATION, MaxIngestGB="1000"))
    assert response.status == "SUCCESS", response.reason


def test_the_bucket_lives_in_the_owners_account_of_moto(
    owner_world: tuple[World, OwnerBucket], s3_server: MotoS3Tls
) -> None:
    _, owner = owner_world

    assert s3_server.bucket_account(owner.name) == OWNER
    importer_buckets = s3_server.client().list_buckets()["Buckets"]
    assert owner.name not in [b["Name"] for b in importer_buckets]
    owner_buckets = s3_server.client(account=OWNER).list_buckets()["Buckets"]
    assert owner.name in [b["Name"] for b in owner_buckets]


def test_a_request_expecting_another_owner_is_refused(
    owner_world: tuple[World, OwnerBucket], s3_server: MotoS3Tls
) -> None:
    world, owner = owner_world
    owner.apply(s3_server, owner_statements(owner.name, WHOLE_ORGANIZATION, world.role_arn))

    with pytest.raises(ClientError, match="AccessDenied"):
        s3_server.client().list_objects_v2(
            Bucket=owner.name, Prefix=WHOLE_ORGANIZATION, ExpectedBucketOwner=ACCOUNT
        )

    assert owner.refused == [f"ExpectedBucketOwner {ACCOUNT}"]


def test_with_only_the_handlers_statements_start_import_fails_naming_the_access_roles(
    owner_world: tuple[World, OwnerBucket],
    s3_server: MotoS3Tls,
    caplog: pytest.LogCaptureFixture,
) -> None:
    world, owner = owner_world
    statements = owner_statements(owner.name, WHOLE_ORGANIZATION, world.role_arn)
    handler_only = [s for s in statements if s["Sid"].startswith("CloudTrailLakeImportPreflight")]
    owner.apply(s3_server, handler_only)

    with caplog.at_level(logging.ERROR, logger="import_handler.explain"):
        response, _ = create(world, cross_account(world, WHOLE_ORGANIZATION))

    assert response.status == "FAILED"
    role = world.role_arn.rsplit("/", 1)[1]
    assert response.reason[:MAX_REASON_CHARS].startswith(
        f"InvalidImportSourceException: CloudTrail could not read {owner.name} ({OWNER}) as "
        f"{role}; its policy likely lacks CloudTrailLakeImport{{ListBucket,ReadObjects}} for it"
    )
    assert not world.lake.imports, "nothing was started"
    assert owner.refused == [f"{role} s3:ListBucket"]  # the emulated CloudTrail's HeadBucket
    (logged,) = [r.getMessage() for r in caplog.records if "CloudTrail could not" in r.getMessage()]
    assert json.loads(logged.rsplit("bucket policy: ", 1)[1]) == statements[:2]


@pytest.mark.parametrize("prefix", [WHOLE_ORGANIZATION, ONE_ACCOUNT, ONE_REGION])
def test_once_the_owner_applies_its_construct_s_statements_the_import_copies_the_prefix(
    owner_world: tuple[World, OwnerBucket], s3_server: MotoS3Tls, prefix: str
) -> None:
    world, owner = owner_world
    owner.apply(s3_server, owner_statements(owner.name, prefix, world.role_arn))

    response, _ = create(world, cross_account(world, prefix, wait=True))

    assert response.status == "SUCCESS", response.reason
    assert response.data["ImportStatus"] == "COMPLETED"
    expected = world.archive.expected(prefix)
    assert expected.files > 0
    assert response.data["FilesCompleted"] == str(expected.files)
    assert response.data["EventsCompleted"] == str(expected.events)
    assert owner.refused == []


def test_statements_for_another_prefix_do_not_open_this_one(
    owner_world: tuple[World, OwnerBucket], s3_server: MotoS3Tls
) -> None:
    world, owner = owner_world
    other_account = f"{WHOLE_ORGANIZATION}999999999999/CloudTrail/"
    owner.apply(s3_server, owner_statements(owner.name, other_account, world.role_arn))

    response, _ = create(world, cross_account(world, ONE_ACCOUNT, wait=True))

    assert response.status == "FAILED"
    assert response.reason.startswith("SourceBucketNotShared: ")
    assert not world.lake.imports, "nothing was started"
    assert owner.refused == ["cloudtrail-lake-import-handler s3:ListBucket"]


@pytest.mark.parametrize("prefix", [WHOLE_ORGANIZATION, ONE_REGION])
def test_with_the_cost_guard_the_owners_statements_let_the_handler_estimate_before_importing(
    owner_world: tuple[World, OwnerBucket], s3_server: MotoS3Tls, prefix: str
) -> None:
    world, owner = owner_world
    statements = owner_statements(owner.name, prefix, world.role_arn, handler_reads_objects=True)
    owner.apply(s3_server, statements)

    response, _ = create(world, cross_account(world, prefix, wait=True, MaxIngestGB="1000"))

    assert response.status == "SUCCESS", response.reason
    assert owner.refused == []
    expected = world.archive.expected(prefix)
    assert response.data["FilesCompleted"] == str(expected.files)
    assert float(response.data["ImportEstimatedGB"]) > 0


def test_with_the_cost_guard_and_only_the_import_s_statements_it_fails_naming_the_missing_one(
    owner_world: tuple[World, OwnerBucket],
    s3_server: MotoS3Tls,
    caplog: pytest.LogCaptureFixture,
) -> None:
    world, owner = owner_world
    owner.apply(s3_server, owner_statements(owner.name, WHOLE_ORGANIZATION, world.role_arn))

    with caplog.at_level(logging.ERROR, logger="import_handler.cost_guard"):
        response, _ = create(world, cross_account(world, WHOLE_ORGANIZATION, MaxIngestGB="1000"))

    assert response.status == "FAILED"
    assert response.reason.startswith(
        f"CouldNotEstimate: bucket {owner.name} (account {OWNER}) lacks statement "
        "CloudTrailLakeImportEstimateList for MaxIngestGB"
    )
    assert "handler_reads_objects=True" in response.reason[:256]
    assert not world.lake.imports, "nothing was started"
    assert "cloudtrail-lake-import-handler s3:ListBucket" in owner.refused
    (logged,) = [r.getMessage() for r in caplog.records if "MaxIngestGB needs" in r.getMessage()]
    quoted = json.loads(logged.rsplit("SSE-KMS): ", 1)[1])
    assert quoted == owner_statements(
        owner.name, WHOLE_ORGANIZATION, world.role_arn, handler_reads_objects=True
    )


# ------------------------------------------------------------------------- organization stores


@pytest.fixture
def organizations(s3_server: MotoS3Tls, monkeypatch: pytest.MonkeyPatch) -> str:
    """moto's Organizations on the same server, with an organization whose management account
    is the harness's; the handler's client finds it through AWS_ENDPOINT_URL_ORGANIZATIONS."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_ORGANIZATIONS", s3_server.url)
    client = boto3.client(
        "organizations",
        endpoint_url=s3_server.url,
        region_name=REGION,
        aws_access_key_id=FAKE_KEY_ID,
        aws_secret_access_key=FAKE_SECRET,
        verify=str(s3_server.ca_bundle),
    )
    # moto keeps the organization for the session.
    with contextlib.suppress(client.exceptions.AlreadyInOrganizationException):
        client.create_organization(FeatureSet="ALL")
    management: str = client.describe_organization()["Organization"]["MasterAccountId"]
    assert management == ACCOUNT
    return management


def organization_store_world(
    world: World, s3_server: MotoS3Tls, account: EmulatedAccount, handler: Handler, *, caller: str
) -> CloudFormation:
    """``world`` with an organization store, its function deployed in account ``caller``."""
    world.store = world.lake.add_event_data_store(
        "organization-archive", account=ACCOUNT, organization_enabled=True
    )
    cfn = cloudformation(s3_server, account, handler)
    cfn.function_arn = cfn.function_arn.replace(f":{ACCOUNT}:", f":{caller}:")
    world.cfn = cfn
    return cfn


def test_an_organization_store_imported_from_a_member_account_fails_before_start_import(
    world: World,
    s3_server: MotoS3Tls,
    account: EmulatedAccount,
    handler: Handler,
    organizations: str,
) -> None:
    organization_store_world(world, s3_server, account, handler, caller=MEMBER)

    response, _ = create(world, world.properties())

    assert response.status == "FAILED"
    assert response.reason.startswith(
        f"OrganizationStoreNeedsManagementAccount: only the organization's management account "
        f"{organizations} can import into organization event data store"
    )
    assert f"not {MEMBER}" in response.reason
    assert not world.lake.imports


def test_an_organization_store_imports_from_the_management_account(
    world: World,
    s3_server: MotoS3Tls,
    account: EmulatedAccount,
    handler: Handler,
    organizations: str,
) -> None:
    organization_store_world(world, s3_server, account, handler, caller=organizations)

    response, _ = create(world, world.properties(wait=True))

    assert response.status == "SUCCESS", response.reason
    assert response.data["ImportStatus"] == "COMPLETED"
    assert response.data["FilesCompleted"] == str(world.archive.expected().files)
