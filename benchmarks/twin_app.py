#!/usr/bin/env python3
"""The baseline app: the default app's import written as an ``AwsCustomResource``.

This is what a user writes instead of using ``CloudTrailLakeImport``: the same source bucket,
the same import-only event data store and the same access role (copied from the construct's
defaults), and an ``AwsCustomResource`` that calls ``cloudtrail:StartImport`` on create,
``StartImport(ImportId=<physical id>)`` on update (the documented retry) and ``StopImport`` on
delete. Its policy is scoped like ours: the import actions on ``*`` (they have no resource
type) and ``iam:PassRole`` on the access role for CloudTrail only. Like the default app it runs
cdk-nag's AwsSolutionsChecks, so that both synths do the same amount of checking; the twin
acknowledges the findings that the AwsCustomResource pattern cannot avoid.

The twin neither waits for completion nor preflights anything: an AwsCustomResource makes one
SDK call per lifecycle event and answers.

Run it like the default app: ``python benchmarks/twin_app.py`` (``CDK_OUTDIR`` and
``CDK_CONTEXT_JSON`` as the CDK CLI sets them), or ``npx cdk synth --app
"python benchmarks/twin_app.py"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from cdk_nag import AwsSolutionsChecks

from constructs import Construct

STACK_NAME = "CloudTrailLakeImportTwin"
CLOUDTRAIL_PRINCIPAL = "cloudtrail.amazonaws.com"
RETENTION_DAYS = 2557


class AwsCustomResourceImport(Construct):
    """Bucket + store + access role as ``CloudTrailLakeImport`` makes them, and an
    ``AwsCustomResource`` that starts, retries and stops the import."""

    def __init__(self, scope: Construct, id: str, *, source_prefix: str = "") -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.source_bucket = s3.Bucket(
            self,
            "SourceBucket",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.event_data_store = cloudtrail.CfnEventDataStore(
            self,
            "EventDataStore",
            ingestion_enabled=False,
            retention_period=RETENTION_DAYS,
            termination_protection_enabled=True,
            multi_region_enabled=True,
        )
        self.event_data_store.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        store_arn = self.event_data_store.attr_event_data_store_arn

        conditions = {
            "StringEquals": {"aws:SourceAccount": stack.account, "aws:SourceArn": store_arn}
        }
        self.access_role = iam.Role(
            self,
            "AccessRole",
            assumed_by=iam.ServicePrincipal(CLOUDTRAIL_PRINCIPAL, conditions=conditions),
            description="Lets CloudTrail Lake read the trail archive it imports",
        )
        self.access_role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket", "s3:GetBucketAcl"],
                resources=[self.source_bucket.bucket_arn],
                conditions=conditions,
            )
        )
        objects = self.source_bucket.arn_for_objects(f"{source_prefix}*")
        self.access_role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[objects], conditions=conditions
            )
        )

        import_source = {
            "S3": {
                "S3LocationUri": f"s3://{self.source_bucket.bucket_name}/{source_prefix}",
                "S3BucketRegion": stack.region,
                "S3BucketAccessRoleArn": self.access_role.role_arn,
            }
        }
        import_id = cr.PhysicalResourceId.from_response("ImportId")
        self.resource = cr.AwsCustomResource(
            self,
            "Resource",
            on_create=cr.AwsSdkCall(
                service="CloudTrail",
                action="StartImport",
                parameters={"Destinations": [store_arn], "ImportSource": import_source},
                physical_resource_id=import_id,
                output_paths=["ImportId", "ImportStatus"],
            ),
            on_update=cr.AwsSdkCall(
                service="CloudTrail",
                action="StartImport",
                parameters={"ImportId": cr.PhysicalResourceIdReference()},
                physical_resource_id=import_id,
                output_paths=["ImportId", "ImportStatus"],
            ),
            on_delete=cr.AwsSdkCall(
                service="CloudTrail",
                action="StopImport",
                parameters={"ImportId": cr.PhysicalResourceIdReference()},
                # Deleting after a failed create, or an import that is gone, must not fail.
                ignore_error_codes_matching="ImportNotFoundException|ValidationException",
            ),
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    iam.PolicyStatement(
                        actions=["cloudtrail:StartImport", "cloudtrail:StopImport"],
                        resources=["*"],
                    ),
                    iam.PolicyStatement(
                        actions=["iam:PassRole"],
                        resources=[self.access_role.role_arn],
                        conditions={"StringEquals": {"iam:PassedToService": CLOUDTRAIL_PRINCIPAL}},
                    ),
                ]
            ),
            install_latest_aws_sdk=False,
            timeout=cdk.Duration.minutes(2),
        )
        self.resource.node.add_dependency(self.access_role)
        self._acknowledge_findings()

    def _acknowledge_findings(self) -> None:
        """The four findings cdk-nag raises on this pattern, acknowledged as the default app does
        for its own (three of them) and for AwsCustomResource's managed-policy role."""
        stack = cdk.Stack.of(self)
        bucket = self.source_bucket.node.default_child
        assert isinstance(bucket, s3.CfnBucket)
        bucket_id = stack.get_logical_id(bucket)
        cdk.Validations.of(self.access_role).acknowledge(
            cdk.Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/*]",
                reason="CloudTrail reads every log file under the imported prefix.",
            )
        )
        cdk.Validations.of(self.source_bucket).acknowledge(
            cdk.Acknowledgment(id="AwsSolutions-S1", reason="As in the default app.")
        )
        # The custom resource's policy and the singleton provider function's role.
        cdk.Validations.of(stack).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="cloudtrail:StartImport and StopImport have no resource type.",
            ),
            cdk.Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "service-role/AWSLambdaBasicExecutionRole]",
                reason="AwsCustomResource's singleton function uses this AWS managed policy.",
            ),
        )


def build_app(context: Mapping[str, Any] | None = None) -> cdk.App:
    """The twin app; ``context`` adds to (and overrides) the CLI's, like ``app.build_app``."""
    app = cdk.App(context=dict(context) if context else None)
    stack = cdk.Stack(
        app,
        STACK_NAME,
        description="Imports archived CloudTrail trail logs into CloudTrail Lake (twin)",
    )
    AwsCustomResourceImport(stack, "TrailArchiveImport")
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


if __name__ == "__main__":
    build_app().synth()
