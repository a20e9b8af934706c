"""A user's app with AwsSolutions checks turned on the way each cdk-nag major version does it.

Run from the installed wheel in its own process: ``python nag_versions.py <outdir> <mode>``,
where mode is ``aspects`` (cdk-nag 2: ``Aspects.of(app).add(AwsSolutionsChecks())``) or
``validations`` (cdk-nag 3: ``Validations.of(app).add_plugins(AwsSolutionsChecks(app))``).
The app holds the construct with its defaults, one reading an existing bucket with the cost
guard in a VPC, and a plan; the user's own archive bucket has no server access logs and no
acknowledgment, so the findings always hold that one (proof that cdk-nag ran). Prints the
package and cdk-nag files it used and the findings as ``[rule, path]`` pairs.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import aws_cdk as cdk
import cdk_nag
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks

import cloudtrail_lake_import
from cloudtrail_lake_import import CloudTrailLakeImport, CloudTrailLakeImportPlan, ImportSpec

ENV = cdk.Environment(account="111122223333", region="eu-west-1")
PREFIX = "AWSLogs/111122223333/CloudTrail/"
STORE = "arn:aws:cloudtrail:eu-west-1:111122223333:eventdatastore/EXAMPLE-1234"


def build(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Audit", env=ENV)
    CloudTrailLakeImport(stack, "Defaults", source_prefix=PREFIX)
    archive = s3.Bucket(
        stack,
        "TrailArchive",
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
    )
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        private_subnet_ids=["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
    )
    CloudTrailLakeImport(
        stack,
        "OneMonth",
        source_bucket=archive,
        source_prefix=PREFIX,
        event_data_store=STORE,
        start_event_time=datetime(2024, 1, 1, tzinfo=UTC),
        end_event_time=datetime(2024, 2, 1, tzinfo=UTC),
        max_ingest_gb=5,
        vpc=vpc,
    )
    CloudTrailLakeImportPlan(
        stack,
        "Plan",
        event_data_store=STORE,
        imports=[
            ImportSpec(
                archive, PREFIX, datetime(2022, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)
            )
        ],
        split_window_by=cdk.Duration.days(365),
    )


def aspect_findings(outdir: Path) -> list[list[str]]:
    """cdk-nag 2 reports each finding as an error or warning annotation on the resource."""
    app = cdk.App(outdir=str(outdir))
    # Typed against the project's cdk-nag 3; under cdk-nag 2 the checks are an IAspect.
    cdk.Aspects.of(app).add(AwsSolutionsChecks())  # type: ignore[arg-type]
    build(app)
    assembly = app.synth()
    return [
        [str(message.entry.data).split(": ", 1)[0], message.id.lstrip("/")]
        for stack in assembly.stacks_recursively
        for message in stack.messages
        if str(message.entry.data).startswith("AwsSolutions-")
    ]


def validation_findings(outdir: Path) -> list[list[str]]:
    """cdk-nag 3 is a validation plugin: its report is written beside the templates."""
    app = cdk.App(outdir=str(outdir))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    build(app)
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
    outdir, mode = Path(sys.argv[1]), sys.argv[2]
    found = aspect_findings(outdir) if mode == "aspects" else validation_findings(outdir)
    print(
        json.dumps(
            {
                "package": cloudtrail_lake_import.__file__,
                "cdk_nag": cdk_nag.__file__,
                "findings": found,
            }
        )
    )
