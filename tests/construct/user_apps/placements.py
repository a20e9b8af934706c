"""A user's app placing the construct the ways people place constructs, with cdk-nag on.

Run from the installed wheel in its own process: ``python placements.py <outdir>``. Each
placement is its own app in ``<outdir>/<placement>``; the user's archive bucket has no server
access logs and no acknowledgment, so every report holds that one finding (proof that cdk-nag
ran over the stack) and, when the construct is sound, nothing else from the construct.
Prints the package file it used and, per placement, the findings as ``[rule, path]`` pairs.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk import pipelines
from cdk_nag import AwsSolutionsChecks

import cloudtrail_lake_import
from cloudtrail_lake_import import CloudTrailLakeImport

ENV = cdk.Environment(account="111122223333", region="eu-west-1")
PREFIX = "AWSLogs/111122223333/CloudTrail/"


def archive_bucket(scope: cdk.Stack) -> s3.Bucket:
    return s3.Bucket(
        scope,
        "TrailArchive",
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
    )


def same_stack(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Audit", env=ENV)
    CloudTrailLakeImport(stack, "Import", source_bucket=archive_bucket(stack), source_prefix=PREFIX)


def cross_stack(scope: cdk.App | cdk.Stage, env: cdk.Environment | None = ENV) -> None:
    bucket = archive_bucket(cdk.Stack(scope, "Archive", env=env))
    stack = cdk.Stack(scope, "Audit", env=env)
    CloudTrailLakeImport(stack, "Import", source_bucket=bucket, source_prefix=PREFIX)


def cross_region(app: cdk.App) -> None:
    us_east_1 = cdk.Environment(account=ENV.account, region="us-east-1")
    archive = cdk.Stack(app, "Archive", env=us_east_1, cross_region_references=True)
    bucket = archive_bucket(archive)
    stack = cdk.Stack(app, "Audit", env=ENV, cross_region_references=True)
    CloudTrailLakeImport(stack, "Import", source_bucket=bucket, source_prefix=PREFIX)


def nested_stack(app: cdk.App) -> None:
    parent = cdk.Stack(app, "Audit", env=ENV)
    bucket = archive_bucket(parent)
    nested = cdk.NestedStack(parent, "Imports")
    CloudTrailLakeImport(nested, "Import", source_bucket=bucket, source_prefix=PREFIX)


def stage(app: cdk.App) -> None:
    cross_stack(cdk.Stage(app, "Prod", env=ENV), env=None)


class AuditStage(cdk.Stage):
    def __init__(self, scope: cdk.App, id: str, *, env: cdk.Environment) -> None:
        super().__init__(scope, id, env=env)
        cross_stack(self, env=None)


def pipeline(app: cdk.App) -> None:
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
    code_pipeline.add_stage(AuditStage(app, "Prod", env=ENV))


PLACEMENTS: dict[str, Callable[[cdk.App], None]] = {
    "same-stack": same_stack,
    "cross-stack": cross_stack,
    "cross-region": cross_region,
    "nested-stack": nested_stack,
    "stage": stage,
    "pipeline": pipeline,
}


def findings(outdir: Path, place: Callable[[cdk.App], None]) -> list[list[str]]:
    app = cdk.App(outdir=str(outdir))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    place(app)
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
    found = {name: findings(root / name, place) for name, place in PLACEMENTS.items()}
    print(json.dumps({"package": cloudtrail_lake_import.__file__, "findings": found}))
