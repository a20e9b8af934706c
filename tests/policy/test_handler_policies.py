"""The import handler's role under AWS's evaluation logic: every AWS call the handler's code
makes is allowed where it makes it, nothing else is granted, and the access role may be passed
to CloudTrail only."""

from __future__ import annotations

import ast
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

from tests.policy.simulator import ROOT, allowed, granted_actions
from tests.policy.test_import_policies import (
    OTHER_ACCOUNT,
    REGION,
    Setup,
    cross_account_import,
    same_account_import,
)

HANDLER_CODE = ROOT / "lambda" / "start_import" / "import_handler"
#: The IAM action each API operation of the handler needs (S3's ListObjectsV2 is s3:ListBucket).
IAM_ACTION = {
    ("cloudtrail", "StartImport"): "cloudtrail:StartImport",
    ("cloudtrail", "GetImport"): "cloudtrail:GetImport",
    ("cloudtrail", "ListImports"): "cloudtrail:ListImports",
    ("cloudtrail", "StopImport"): "cloudtrail:StopImport",
    ("cloudtrail", "ListImportFailures"): "cloudtrail:ListImportFailures",
    ("cloudtrail", "GetEventDataStore"): "cloudtrail:GetEventDataStore",
    ("s3", "GetBucketOwnershipControls"): "s3:GetBucketOwnershipControls",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "GetObject"): "s3:GetObject",
    ("organizations", "DescribeOrganization"): "organizations:DescribeOrganization",
    ("lambda", "Invoke"): "lambda:InvokeFunction",
}
#: What is done with the handler's role besides its own calls: Lambda writes the function's
#: logs and puts a request it gave up on in the dead-letter queue; StartImport passes the
#: access role; S3 decrypts an SSE-KMS object the estimate reads with the caller's kms:Decrypt.
PLATFORM = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "sqs:SendMessage",
    "iam:PassRole",
    "kms:Decrypt",
}
SERVICES = ("cloudtrail", "s3", "organizations", "lambda")


def operations_called(folder: Path) -> set[tuple[str, str]]:
    """Every (service, operation) of ``SERVICES`` whose boto3 method the code calls."""
    session = botocore.session.get_session()
    by_method: dict[str, list[tuple[str, str]]] = {}
    for service in SERVICES:
        for operation in session.get_service_model(service).operation_names:
            by_method.setdefault(xform_name(operation), []).append((service, operation))
    called: set[tuple[str, str]] = set()
    for source in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                called.update(by_method.get(node.func.attr, []))
    return called


@pytest.fixture(scope="module", params=["same account", "cross account"])
def guarded(request: pytest.FixtureRequest) -> Setup:
    """An import with the cost guard (max_ingest_gb) into an organization store: the handler
    makes its every call (the preflight's DescribeOrganization is for organization stores)."""
    if request.param == "same account":
        return same_account_import(max_ingest_gb=500, event_data_store_organization_enabled=True)
    return cross_account_import(max_ingest_gb=500)


def test_every_call_of_the_handler_code_has_an_iam_action_here() -> None:
    called = operations_called(HANDLER_CODE)

    assert called == set(IAM_ACTION), "map each new call to its IAM action in IAM_ACTION"


def test_the_handler_role_is_granted_exactly_what_its_code_calls(guarded: Setup) -> None:
    granted = granted_actions(guarded.importer.identity_policies(guarded.handler_role))

    assert granted == {IAM_ACTION[op] for op in operations_called(HANDLER_CODE)} | PLATFORM


def test_each_call_of_the_handler_is_allowed_where_it_makes_it(guarded: Setup) -> None:
    setup = guarded
    store, bucket = setup.store_arn, setup.bucket_arn()
    function = _own_function(setup)
    requests = [
        setup.as_handler("cloudtrail:StartImport", "*"),  # no resource type
        setup.as_handler("cloudtrail:GetImport", "*"),
        setup.as_handler("cloudtrail:ListImports", "*"),
        setup.as_handler("cloudtrail:StopImport", "*"),
        setup.as_handler("cloudtrail:ListImportFailures", "*"),
        setup.as_handler("cloudtrail:GetEventDataStore", store),
        setup.as_handler(
            "iam:PassRole",
            setup.access_role_arn,
            **{"iam:PassedToService": "cloudtrail.amazonaws.com"},
        ),
        # The preflight: the bucket's ownership controls, one key under the prefix.
        setup.as_handler("s3:GetBucketOwnershipControls", bucket),
        setup.as_handler("s3:ListBucket", bucket, **{"s3:prefix": setup.prefix}),
        # The cost guard's estimate: date folders under the prefix, each file's last bytes.
        setup.as_handler("s3:ListBucket", bucket, **{"s3:prefix": f"{setup.prefix}2024/01/"}),
        setup.as_handler("s3:GetObject", f"{bucket}/{setup.prefix}2024/01/01/file.json.gz"),
        setup.as_handler("lambda:InvokeFunction", function),
        setup.as_handler("organizations:DescribeOrganization", "*"),
        setup.as_handler(
            "kms:Decrypt",
            setup.key_arn,
            **{
                "kms:ViaService": f"s3.{REGION}.amazonaws.com",
                "kms:EncryptionContext:aws:s3:arn": f"{bucket}/{setup.prefix}2024/01/01/f.json.gz",
            },
        ),
    ]

    assert allowed(requests) == [True] * len(requests)


def test_the_handler_passes_the_access_role_to_cloudtrail_only(guarded: Setup) -> None:
    setup = guarded
    other_role = f"arn:aws:iam::{setup.account}:role/Admin"
    requests = [
        setup.as_handler("iam:PassRole", setup.access_role_arn, **{"iam:PassedToService": service})
        for service in ("lambda.amazonaws.com", "ec2.amazonaws.com", "states.amazonaws.com")
    ] + [
        setup.as_handler("iam:PassRole", setup.access_role_arn),
        setup.as_handler(
            "iam:PassRole", other_role, **{"iam:PassedToService": "cloudtrail.amazonaws.com"}
        ),
        setup.as_handler(
            "iam:PassRole",
            setup.handler_role_arn,
            **{"iam:PassedToService": "cloudtrail.amazonaws.com"},
        ),
    ]

    assert allowed(requests) == [False] * len(requests)


def test_the_handler_reads_nothing_beyond_the_prefix_its_store_and_its_function(
    guarded: Setup,
) -> None:
    setup = guarded
    bucket = setup.bucket_arn()
    other_store = setup.store_arn.rsplit("/", 1)[0] + "/another-store"
    other_function = f"arn:aws:lambda:{REGION}:{setup.account}:function:another"
    requests = [
        setup.as_handler("s3:ListBucket", bucket, **{"s3:prefix": "AWSLogs/"}),
        setup.as_handler("s3:ListBucket", bucket),
        setup.as_handler("s3:GetObject", f"{bucket}/other/2024/01/01/file.json.gz"),
        setup.as_handler("s3:GetObject", f"{setup.bucket_arn('another-bucket')}/{setup.prefix}x"),
        setup.as_handler("s3:GetBucketOwnershipControls", setup.bucket_arn("another-bucket")),
        setup.as_handler("s3:PutObject", f"{bucket}/{setup.prefix}x"),
        setup.as_handler("s3:PutBucketPolicy", bucket),
        setup.as_handler("cloudtrail:GetEventDataStore", other_store),
        setup.as_handler("cloudtrail:DeleteEventDataStore", setup.store_arn),
        setup.as_handler("cloudtrail:UpdateEventDataStore", setup.store_arn),
        setup.as_handler("lambda:InvokeFunction", other_function),
        setup.as_handler("iam:CreateRole", f"arn:aws:iam::{setup.account}:role/x"),
        setup.as_handler("sts:AssumeRole", setup.access_role_arn),
        setup.as_handler("s3:GetObject", f"arn:aws:s3:::{OTHER_ACCOUNT}-bucket/{setup.prefix}x"),
    ]

    assert allowed(requests) == [False] * len(requests)


def test_without_the_cost_guard_the_handler_reads_no_object() -> None:
    for setup in (same_account_import(), cross_account_import()):
        key = f"{setup.bucket_arn()}/{setup.prefix}2024/01/01/file.json.gz"
        folders = {"s3:prefix": f"{setup.prefix}2024/01/"}
        requests = [
            setup.as_handler("s3:GetObject", key),
            setup.as_handler("s3:ListBucket", setup.bucket_arn(), **folders),
        ]

        assert allowed(requests) == [False, False]


def _own_function(setup: Setup) -> str:
    (function,) = [
        logical
        for logical, resource in setup.importer.of_type("AWS::Lambda::Function").items()
        if resource["Properties"]["Role"] == {"Fn::GetAtt": [setup.handler_role, "Arn"]}
    ]
    return str(setup.importer.resolve({"Fn::GetAtt": [function, "Arn"]}))
