"""The import's policies under AWS's evaluation logic: who may assume the access role, what
CloudTrail may read with it, and what the handler may do, for an archive in the same account
(an existing SSE-KMS bucket) and in another account (the owner's bucket and key policies)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from cloudtrail_lake_import import CloudTrailLakeImport
from tests.construct import test_cross_account_stacks as cross
from tests.construct.conftest import new_app
from tests.policy.simulator import (
    Policy,
    Request,
    Stack,
    allowed,
    default_key_policy,
    roles_assumed_by,
)

SAME_ACCOUNT = "123456789012"
REGION = "eu-west-1"
OTHER_ACCOUNT = "999999999999"
SAME_BUCKET = "trail-archive"
SAME_PREFIX = f"AWSLogs/{SAME_ACCOUNT}/CloudTrail/"
SAME_KEY_ARN = f"arn:aws:kms:{REGION}:{SAME_ACCOUNT}:key/0000aaaa-11bb-22cc-33dd-444444eeeeee"
ANOTHER_KEY_ARN = f"arn:aws:kms:{REGION}:{SAME_ACCOUNT}:key/9999ffff-11bb-22cc-33dd-444444eeeeee"


@dataclass(frozen=True)
class Setup:
    """An import's roles, resolved, and where its archive lives."""

    importer: Stack
    access_role: str
    handler_role: str
    store_arn: str
    bucket: str
    prefix: str
    key_arn: str
    bucket_account: str
    bucket_policy: Policy | None
    key_policy: Policy

    @property
    def account(self) -> str:
        return self.importer.account

    @property
    def access_role_arn(self) -> str:
        return self.importer.role_arn(self.access_role)

    @property
    def handler_role_arn(self) -> str:
        return self.importer.role_arn(self.handler_role)

    def bucket_arn(self, bucket: str | None = None) -> str:
        return f"arn:aws:s3:::{bucket or self.bucket}"

    def as_access_role(self, action: str, resource: str, **context: Any) -> Request:
        """CloudTrail's request with the access role: it names this account and this store."""
        return self._as_role(
            self.access_role,
            action,
            resource,
            {"aws:SourceAccount": self.account, "aws:SourceArn": self.store_arn, **context},
        )

    def as_handler(self, action: str, resource: str, **context: Any) -> Request:
        return self._as_role(self.handler_role, action, resource, context)

    def _as_role(self, role: str, action: str, resource: str, context: dict[str, Any]) -> Request:
        role_arn = self.importer.role_arn(role)
        name = role_arn.rsplit("/", 1)[1]
        on_bucket = resource.startswith("arn:aws:s3:::")
        on_key = resource.startswith("arn:aws:kms:")
        if on_bucket and resource.split(":::")[1].split("/")[0] == self.bucket:
            resource_account, policy = self.bucket_account, self.bucket_policy
        elif on_key and resource == self.key_arn:
            resource_account, policy = self.bucket_account, self.key_policy
        elif on_key:
            resource_account = resource.split(":")[4]
            policy = default_key_policy(resource_account)
        elif on_bucket:
            resource_account, policy = OTHER_ACCOUNT, None
        else:
            resource_account, policy = self.account, None
        return Request(
            principal=f"arn:aws:sts::{self.account}:assumed-role/{name}/session",
            action=action,
            resource=resource,
            resource_account=resource_account,
            identity_policies=self.importer.identity_policies(role),
            resource_policy=policy,
            context={
                "aws:PrincipalArn": role_arn,
                "aws:PrincipalAccount": self.account,
                "aws:SecureTransport": "true",
                **context,
            },
        )


def _only(found: list[str]) -> str:
    assert len(found) == 1, found
    return found[0]


def _setup(importer: Stack, **where: Any) -> Setup:
    (store,) = importer.of_type("AWS::CloudTrail::EventDataStore")
    return Setup(
        importer=importer,
        access_role=_only(roles_assumed_by(importer, "cloudtrail.amazonaws.com")),
        handler_role=_only(
            [r for r in roles_assumed_by(importer, "lambda.amazonaws.com") if "Handler" in r]
        ),
        store_arn=str(importer.resolve({"Fn::GetAtt": [store, "EventDataStoreArn"]})),
        **where,
    )


def same_account_import(**props: Any) -> Setup:
    """An existing SSE-KMS bucket of this account (its key's default policy: IAM decides)."""
    app = new_app()
    stack = cdk.Stack(app, "Import", env=cdk.Environment(account=SAME_ACCOUNT, region=REGION))
    key = kms.Key.from_key_arn(stack, "ArchiveKey", SAME_KEY_ARN)
    bucket = s3.Bucket.from_bucket_attributes(
        stack, "Archive", bucket_name=SAME_BUCKET, encryption_key=key
    )
    CloudTrailLakeImport(stack, "Import", source_bucket=bucket, source_prefix=SAME_PREFIX, **props)
    importer = Stack(Template.from_stack(stack).to_json(), SAME_ACCOUNT, REGION)
    return _setup(
        importer,
        bucket=SAME_BUCKET,
        prefix=SAME_PREFIX,
        key_arn=SAME_KEY_ARN,
        bucket_account=SAME_ACCOUNT,
        bucket_policy=None,
        key_policy=default_key_policy(SAME_ACCOUNT),
    )


def cross_account_import(*, max_ingest_gb: float | None = None) -> Setup:
    """The log-archive account's stack (bucket policy, key policy) and the importer's."""
    app = new_app()
    owner_stack = cross.owner_stack(app, handler_reads_objects=max_ingest_gb is not None)
    importer_stack = cross.importer_stack(app, max_ingest_gb=max_ingest_gb)
    owner = Stack(Template.from_stack(owner_stack).to_json(), cross.LOG_ARCHIVE, REGION)
    importer = Stack(Template.from_stack(importer_stack).to_json(), cross.MANAGEMENT, REGION)
    (bucket,) = owner.of_type("AWS::S3::Bucket").keys() - {
        k
        for k, r in owner.of_type("AWS::S3::Bucket").items()
        if "BucketName" not in r["Properties"]
    }
    (key,) = owner.of_type("AWS::KMS::Key")
    return _setup(
        importer,
        bucket=cross.BUCKET,
        prefix=cross.WHOLE_ORGANIZATION,
        # The importer names the key by ARN; its policy is the one the owner's stack writes.
        key_arn=cross.KEY_ARN,
        bucket_account=cross.LOG_ARCHIVE,
        bucket_policy=owner.bucket_policy(bucket),
        key_policy=owner.key_policy(key),
    )


SETUPS = {"same account": same_account_import, "cross account": cross_account_import}


@pytest.fixture(scope="module", params=sorted(SETUPS))
def setup(request: pytest.FixtureRequest) -> Setup:
    return SETUPS[request.param]()


# --- The access role's trust policy -------------------------------------------------------


def _assume(setup: Setup, principal: str, **context: str) -> Request:
    identity = []
    if principal.startswith("arn:"):
        # The strongest caller: one whose own policies allow everything.
        identity = [
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ]
    return Request(
        principal=principal,
        action="sts:AssumeRole",
        resource=setup.access_role_arn,
        resource_account=setup.account,
        identity_policies=identity,
        resource_policy=setup.importer.trust_policy(setup.access_role),
        context=context,
    )


def test_cloudtrail_may_assume_the_access_role_for_this_account_and_this_store(
    setup: Setup,
) -> None:
    request = _assume(
        setup,
        "cloudtrail.amazonaws.com",
        **{"aws:SourceAccount": setup.account, "aws:SourceArn": setup.store_arn},
    )

    assert allowed([request]) == [True]


def test_cloudtrail_may_not_assume_the_access_role_for_another_store_or_account(
    setup: Setup,
) -> None:
    another_store = setup.store_arn.rsplit("/", 1)[0] + "/another-store"
    requests = [
        _assume(
            setup,
            "cloudtrail.amazonaws.com",
            **{"aws:SourceAccount": setup.account, "aws:SourceArn": another_store},
        ),
        _assume(
            setup,
            "cloudtrail.amazonaws.com",
            **{"aws:SourceAccount": OTHER_ACCOUNT, "aws:SourceArn": setup.store_arn},
        ),
        _assume(setup, "cloudtrail.amazonaws.com", **{"aws:SourceAccount": setup.account}),
        _assume(setup, "cloudtrail.amazonaws.com", **{"aws:SourceArn": setup.store_arn}),
        _assume(setup, "cloudtrail.amazonaws.com"),
    ]

    assert allowed(requests) == [False] * len(requests)


def test_no_other_principal_may_assume_the_access_role(setup: Setup) -> None:
    context = {"aws:SourceAccount": setup.account, "aws:SourceArn": setup.store_arn}
    requests = [
        _assume(setup, "lambda.amazonaws.com", **context),
        _assume(setup, "s3.amazonaws.com", **context),
        _assume(setup, f"arn:aws:iam::{setup.account}:role/Admin", **context),
        _assume(setup, setup.handler_role_arn, **context),
        _assume(setup, f"arn:aws:iam::{OTHER_ACCOUNT}:role/Admin", **context),
    ]

    assert allowed(requests) == [False] * len(requests)


def test_the_trust_policy_names_cloudtrail_alone_with_both_conditions(setup: Setup) -> None:
    (statement,) = setup.importer.trust_policy(setup.access_role)["Statement"]

    assert statement["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": setup.account, "aws:SourceArn": setup.store_arn}
    }


# --- What CloudTrail reads with the access role --------------------------------------------


def test_the_access_role_may_list_the_prefix_read_the_acl_and_read_objects_under_the_prefix(
    setup: Setup,
) -> None:
    bucket = setup.bucket_arn()
    requests = [
        setup.as_access_role("s3:ListBucket", bucket, **{"s3:prefix": setup.prefix}),
        setup.as_access_role("s3:GetBucketAcl", bucket),
        setup.as_access_role("s3:GetObject", f"{bucket}/{setup.prefix}2024/01/01/file.json.gz"),
    ]

    assert allowed(requests) == [True, True, True]


def test_the_access_role_may_not_read_outside_the_prefix_or_another_bucket(setup: Setup) -> None:
    bucket = setup.bucket_arn()
    sibling = setup.prefix.rstrip("/") + "-other/"
    requests = [
        setup.as_access_role("s3:GetObject", f"{bucket}/{sibling}2024/01/01/file.json.gz"),
        setup.as_access_role("s3:GetObject", f"{bucket}/secrets.txt"),
        setup.as_access_role(
            "s3:GetObject", f"{setup.bucket_arn('another-bucket')}/{setup.prefix}x"
        ),
        setup.as_access_role("s3:ListBucket", setup.bucket_arn("another-bucket")),
        setup.as_access_role("s3:PutObject", f"{bucket}/{setup.prefix}x"),
        setup.as_access_role("s3:DeleteObject", f"{bucket}/{setup.prefix}x"),
    ]

    assert allowed(requests) == [False] * len(requests)


def test_the_access_role_reads_nothing_for_another_store(setup: Setup) -> None:
    another_store = setup.store_arn.rsplit("/", 1)[0] + "/another-store"
    key = f"{setup.bucket_arn()}/{setup.prefix}2024/01/01/file.json.gz"
    requests = [
        setup.as_access_role("s3:GetObject", key, **{"aws:SourceArn": another_store}),
        setup.as_access_role("s3:GetBucketAcl", setup.bucket_arn(), **{"aws:SourceArn": ""}),
    ]

    assert allowed(requests) == [False, False]


def _decrypt_context(setup: Setup) -> dict[str, str]:
    """An SSE-KMS object's encryption context (no kms:ViaService: the documented policy has
    none, so the grant may not depend on how CloudTrail reaches KMS)."""
    return {
        "kms:EncryptionContext:aws:s3:arn": (
            f"{setup.bucket_arn()}/{setup.prefix}2024/01/01/file.json.gz"
        )
    }


def test_the_access_role_may_decrypt_objects_under_the_prefix_through_s3(setup: Setup) -> None:
    context = {**_decrypt_context(setup), "kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    request = setup.as_access_role("kms:Decrypt", setup.key_arn, **context)

    assert allowed([request]) == [True]


def test_the_access_role_may_decrypt_with_the_source_key(setup: Setup) -> None:
    request = setup.as_access_role("kms:Decrypt", setup.key_arn, **_decrypt_context(setup))

    assert allowed([request]) == [True]


def test_the_access_role_may_generate_data_keys_with_the_source_key(setup: Setup) -> None:
    request = setup.as_access_role("kms:GenerateDataKey", setup.key_arn, **_decrypt_context(setup))

    assert allowed([request]) == [True]


def test_the_access_role_may_use_no_other_key_and_no_other_key_operation(setup: Setup) -> None:
    context = {**_decrypt_context(setup), "kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    requests = [
        setup.as_access_role("kms:Decrypt", ANOTHER_KEY_ARN, **context),
        setup.as_access_role("kms:GenerateDataKey", ANOTHER_KEY_ARN, **context),
        setup.as_access_role("kms:Encrypt", setup.key_arn, **context),
        setup.as_access_role("kms:ScheduleKeyDeletion", setup.key_arn, **context),
        setup.as_access_role("kms:PutKeyPolicy", setup.key_arn, **context),
    ]

    assert allowed(requests) == [False] * len(requests)
