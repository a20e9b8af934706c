"""A user's app placing the constructs the ways people place constructs, with cdk-nag on.

Run from the installed wheel in its own process: ``python placements.py <outdir>``. Each
construct (the single import, the plan) in each placement is its own app in
``<outdir>/<construct>/<placement>``; the user's archive bucket has no server access logs and
no acknowledgment, so every report holds that one finding (proof that cdk-nag ran over the
stack) and, when the construct is sound, nothing else from the construct. Prints the package
file it used and, per construct and placement, the findings as ``[rule, path]`` pairs.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk import pipelines
from cdk_nag import AwsSolutionsChecks

import cloudtrail_lake_import
from cloudtrail_lake_import import CloudTrailLakeImport, CloudTrailLakeImportPlan, ImportSpec
from constructs import Construct

ENV = cdk.Environment(account="111122223333", region="eu-west-1")
PREFIX = "AWSLogs/111122223333/CloudTrail/"
STORE = "arn:aws:cloudtrail:eu-west-1:111122223333:eventdatastore/EXAMPLE-1234"

Declare = Callable[[Construct, s3.IBucket], None]


def single_import(scope: Construct, bucket: s3.IBucket) -> None:
    CloudTrailLakeImport(scope, "Import", source_bucket=bucket, source_prefix=PREFIX)


def plan(scope: Construct, bucket: s3.IBucket) -> None:
    CloudTrailLakeImportPlan(
        scope,
        "Import",
        event_data_store=STORE,
        imports=[
            ImportSpec(
                bucket, PREFIX, datetime(2023, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)
            )
        ],
        split_window_by="year",
    )


CONSTRUCTS: dict[str, Declare] = {"import": single_import, "plan": plan}


def archive_bucket(scope: cdk.Stack) -> s3.Bucket:
    return s3.Bucket(
        scope,
        "TrailArchive",
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
    )


def same_stack(app: cdk.App, declare: Declare) -> None:
    stack = cdk.Stack(app, "Audit", env=ENV)
    declare(stack, archive_bucket(stack))


def cross_stack(
    scope: cdk.App | cdk.Stage, declare: Declare, env: cdk.Environment | None = ENV
) -> None:
    bucket = archive_bucket(cdk.Stack(scope, "Archive", env=env))
    declare(cdk.Stack(scope, "Audit", env=env), bucket)


def cross_region(app: cdk.App, declare: Declare) -> None:
    us_east_1 = cdk.Environment(account=ENV.account, region="us-east-1")
    archive = cdk.Stack(app, "Archive", env=us_east_1, cross_region_references=True)
    bucket = archive_bucket(archive)
    declare(cdk.Stack(app, "Audit", env=ENV, cross_region_references=True), bucket)


def nested_stack(app: cdk.App, declare: Declare) -> None:
    parent = cdk.Stack(app, "Audit", env=ENV)
    bucket = archive_bucket(parent)
    declare(cdk.NestedStack(parent, "Imports"), bucket)


def parameters(app: cdk.App, declare: Declare) -> None:
    """The archive bucket's name is a CloudFormation parameter, known only at deploy."""
    stack = cdk.Stack(app, "Audit", env=ENV)
    archive_bucket(stack)  # the user's own bucket, for the one expected finding
    name = cdk.CfnParameter(stack, "ArchiveBucketName", type="String")
    declare(stack, s3.Bucket.from_bucket_name(stack, "Archive", name.value_as_string))


def stage(app: cdk.App, declare: Declare) -> None:
    cross_stack(cdk.Stage(app, "Prod", env=ENV), declare, env=None)


class AuditStage(cdk.Stage):
    def __init__(self, scope: cdk.App, id: str, *, env: cdk.Environment, declare: Declare) -> None:
        super().__init__(scope, id, env=env)
        cross_stack(self, declare, env=None)


def pipeline(app: cdk.App, declare: Declare) -> None:
    stack = cdk.Stack(app, "Pipeline", env=ENV)
    source = pipelines.CodePipelineSource.connection(
        "example/audit",
        "main",
        connection_arn="arn:aws:codeconnections:eu-west-1:111122223333:connection/EXAMPLE",
    )
    code_pipeline = pipelines.CodePipeline(
        stack,
        "Pipeline",
        synth=pipelines.ShellStep("Synth", input=source, commands=["npx cdk synth"]),
    )
    code_pipeline.add_stage(AuditStage(app, "Prod", env=ENV, declare=declare))


PLACEMENTS: dict[str, Callable[[cdk.App, Declare], None]] = {
    "same-stack": same_stack,
    "cross-stack": cross_stack,
    "cross-region": cross_region,
    "nested-stack": nested_stack,
    "parameters": parameters,
    "stage": stage,
    "pipeline": pipeline,
}


def findings(
    outdir: Path, place: Callable[[cdk.App, Declare], None], declare: Declare
) -> list[list[str]]:
    app = cdk.App(outdir=str(outdir))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    place(app, declare)
    try:
        app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
    report = json.loads((outdir / "validation-report.json").read_text())
    return [
        [violation["ruleName"], construct["constructPath"]]
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]


if __name__ == "__main__":
    root = Path(sys.argv[1])
    found = {
        f"{kind}/{name}": findings(root / kind / name, place, declare)
        for kind, declare in CONSTRUCTS.items()
        for name, place in PLACEMENTS.items()
    }
    print(json.dumps({"package": cloudtrail_lake_import.__file__, "findings": found}))
