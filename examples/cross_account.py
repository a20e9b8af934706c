#!/usr/bin/env python3
"""One app, two accounts: an organization trail's archive in the log-archive account, imported
into CloudTrail Lake from the management account.

- ``TrailArchiveStack`` (log-archive account): the archive's bucket (SSE-S3, as Control Tower
  makes it) and ``CloudTrailLakeImportSourceAccess``, which lets two roles of the management
  account read it. With ``-c archiveKeyArn=...`` (an SSE-KMS archive: the key already exists,
  since a key's ARN cannot be chosen), the key's statement is printed for its policy and the
  import may decrypt with it.
- ``LakeImportStack`` (management account): ``CloudTrailLakeImport`` with those two roles,
  named here so that the owner's policies can name them before they exist.

The import stack depends on the archive stack: ``cdk deploy 'CrossAccountImport/*'`` (not
``--all``, which selects top-level stacks only: these are in a stage), or the pipeline stage,
deploys the grants first, so the import's preflight finds them. Accounts, region and
organization id come from context (``-c managementAccount=... -c logArchiveAccount=...
-c region=... -c organizationId=o-...``); the defaults are placeholders. Synthesize with the
CDK CLI: ``npx cdk synth --app "python3 examples/cross_account.py"``.

``python examples/cross_account.py [outdir]`` synthesizes the two stacks into ``cdk.out/`` (or
``outdir``); with ``--pipeline``, a CDK Pipelines pipeline in the management account that
deploys the same pair as one stage.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import aws_cdk as cdk
from aws_cdk import Acknowledgment, Validations, pipelines
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from cloudtrail_lake_import import CloudTrailLakeImport, CloudTrailLakeImportSourceAccess
from constructs import Construct

# The names that tie the two stacks together.
ACCESS_ROLE_NAME = "cloudtrail-lake-import-access"
HANDLER_ROLE_NAME = "cloudtrail-lake-import-handler"
# The server access logs bucket is written through its bucket policy, not ACLs (cdk.json has it).
# What the pipeline's synth step builds: this example with --pipeline.
SYNTH_APP = "python3 examples/cross_account.py --pipeline"
FEATURE_FLAGS = {"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True}
DEFAULTS = {
    "managementAccount": "111111111111",
    "logArchiveAccount": "222222222222",
    "region": "eu-west-1",
    "organizationId": "o-exampleorgid",
    "archiveKeyArn": "",
}


def role_arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def organization_prefix(organization_id: str) -> str:
    """The whole organization's events, in the organization trail's layout:
    ``AWSLogs/<org id>/<account>/CloudTrail/<region>/YYYY/MM/DD/``."""
    return f"AWSLogs/{organization_id}/"


class TrailArchiveStack(cdk.Stack):
    """The log-archive account's stack: the archive and the grants to the importer's roles."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        management_account: str,
        prefix: str,
        key_arn: str | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        key = kms.Key.from_key_arn(self, "ArchiveKey", key_arn) if key_arn else None
        access_logs = s3.Bucket(
            self,
            "AccessLogs",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self_logging = (
            "This bucket receives the archive bucket's server access logs; logging its own "
            "access would need yet another bucket, without end."
        )
        Validations.of(access_logs).acknowledge(
            Acknowledgment(id="AwsSolutions-S1", reason=self_logging)
        )
        # The same reason for checkov (CKV_AWS_18), on the resource as the construct does it.
        cfn_access_logs = access_logs.node.default_child
        assert isinstance(cfn_access_logs, s3.CfnBucket)
        cfn_access_logs.add_metadata(
            "checkov", {"skip": [{"id": "CKV_AWS_18", "comment": self_logging}]}
        )
        # StartImport needs ACLs disabled on the bucket (BucketOwnerEnforced).
        self.bucket = s3.Bucket(
            self,
            "Archive",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            # A name, not a generated one: the import stack in the other account refers to it.
            bucket_name=f"org-trail-archive-{self.account}-{self.region}",
            enforce_ssl=True,
            encryption=s3.BucketEncryption.KMS if key else s3.BucketEncryption.S3_MANAGED,
            encryption_key=key,
            bucket_key_enabled=True if key else None,
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="archive/",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        CloudTrailLakeImportSourceAccess(
            self,
            "LakeImportAccess",
            bucket=self.bucket,
            key=key,
            prefix=prefix,
            importer_role_arn=role_arn(management_account, ACCESS_ROLE_NAME),
            handler_role_arn=role_arn(management_account, HANDLER_ROLE_NAME),
        )


class LakeImportStack(cdk.Stack):
    """The management account's stack: an organization store and the import into it."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        archive: TrailArchiveStack,
        prefix: str,
        key_arn: str | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        # Referenced by name and ARN, not by token: the two stacks are in different accounts.
        bucket = s3.Bucket.from_bucket_attributes(
            self,
            "Archive",
            bucket_name=archive.bucket.bucket_name,
            account=archive.account,
            region=archive.region,
        )
        key = kms.Key.from_key_arn(self, "ArchiveKey", key_arn) if key_arn else None
        self.trail_import = CloudTrailLakeImport(
            self,
            "Import",
            source_bucket=bucket,
            source_prefix=prefix,
            source_encryption_key=key,
            event_data_store_organization_enabled=True,
            access_role_name=ACCESS_ROLE_NAME,
            handler_role_name=HANDLER_ROLE_NAME,
            start_event_time=datetime(2024, 1, 1, tzinfo=UTC),
            end_event_time=datetime(2025, 1, 1, tzinfo=UTC),
            wait_for_completion=True,
        )
        self.add_stack_dependency(archive, "the owner's grants must exist before the import starts")


class CrossAccountImport(cdk.Stage):
    """The stack pair, as one deployable unit (a CDK Pipelines stage, or an app's stage)."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        context = {key: str(self.node.try_get_context(key) or d) for key, d in DEFAULTS.items()}
        region = context["region"]
        prefix = organization_prefix(context["organizationId"])
        key_arn = context["archiveKeyArn"] or None
        self.archive = TrailArchiveStack(
            self,
            "TrailArchive",
            management_account=context["managementAccount"],
            prefix=prefix,
            key_arn=key_arn,
            env=cdk.Environment(account=context["logArchiveAccount"], region=region),
        )
        self.lake_import = LakeImportStack(
            self,
            "LakeImport",
            archive=self.archive,
            prefix=prefix,
            key_arn=key_arn,
            env=cdk.Environment(account=context["managementAccount"], region=region),
        )


def app(outdir: str | None = None, context: dict[str, Any] | None = None) -> cdk.App:
    """Both stacks in one app, in the stage ``CrossAccountImport``."""
    application = cdk.App(outdir=outdir, context={**FEATURE_FLAGS, **(context or {})})
    CrossAccountImport(application, "CrossAccountImport")
    return application


class PipelineStack(cdk.Stack):
    """A CDK Pipelines pipeline in the management account that deploys the stage."""

    def __init__(self, scope: Construct, id: str, *, repository: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        source = pipelines.CodePipelineSource.connection(
            repository,
            "main",
            connection_arn=f"arn:aws:codeconnections:{self.region}:{self.account}:connection/EXAMPLE",
        )
        pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            cross_account_keys=True,  # deploys into the log-archive account too
            synth=pipelines.ShellStep(
                "Synth",
                input=source,
                # This file's pipeline app, not the repository's cdk.json app (app.py, the
                # single-account default app): the pipeline must synthesize itself and the
                # stage. Adjust the path where you copied this file to.
                commands=[
                    "npm ci",
                    "pip install -r requirements.txt",
                    f'npx cdk synth --app "{SYNTH_APP}"',
                ],
            ),
        )
        pipeline.add_stage(CrossAccountImport(self, "CrossAccountImport"))


def pipeline_app(outdir: str | None = None, context: dict[str, Any] | None = None) -> cdk.App:
    application = cdk.App(outdir=outdir, context={**FEATURE_FLAGS, **(context or {})})
    management = str(
        application.node.try_get_context("managementAccount") or DEFAULTS["managementAccount"]
    )
    region = str(application.node.try_get_context("region") or DEFAULTS["region"])
    PipelineStack(
        application,
        "LakeImportPipeline",
        repository="example-org/audit-infrastructure",
        env=cdk.Environment(account=management, region=region),
    )
    return application


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--pipeline"]
    build = pipeline_app if "--pipeline" in sys.argv[1:] else app
    build(arguments[0] if arguments else None).synth()
