"""CDK Pipelines: a CodePipeline that deploys the trail archive import to a production stage.

The stage's stack imports January 2024 from an existing archive bucket, refuses to start above
5 GB (max_ingest_gb) and waits for the import, so a failed import fails the pipeline's deploy
action. This folder is a complete repository: copy all of it (app.py, cdk.json, package.json,
package-lock.json, requirements.txt, wheels/) and replace the values below with yours.
"""

from __future__ import annotations

from datetime import UTC, datetime

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk import pipelines

from cloudtrail_lake_import import CloudTrailLakeImport
from constructs import Construct

ACCOUNT = "111122223333"
REGION = "eu-west-1"
REPOSITORY = "example-org/audit-archive"
CONNECTION_ARN = f"arn:aws:codeconnections:{REGION}:{ACCOUNT}:connection/EXAMPLE-1234"
ARCHIVE_BUCKET = "my-trail-archive"


class AuditArchiveStage(cdk.Stage):
    """What the pipeline deploys: one stack with the import."""

    def __init__(self, scope: Construct, id: str, *, env: cdk.Environment) -> None:
        super().__init__(scope, id, env=env)
        stack = cdk.Stack(self, "Audit")
        trail_import = CloudTrailLakeImport(
            stack,
            "Import2024",
            source_bucket=s3.Bucket.from_bucket_name(stack, "Archive", ARCHIVE_BUCKET),
            source_prefix=f"AWSLogs/{ACCOUNT}/CloudTrail/",
            start_event_time=datetime(2024, 1, 1, tzinfo=UTC),
            end_event_time=datetime(2024, 2, 1, tzinfo=UTC),
            max_ingest_gb=5,
            wait_for_completion=True,
        )
        cdk.CfnOutput(stack, "ImportId", value=trail_import.import_id)
        cdk.CfnOutput(stack, "HandlerLogGroupName", value=trail_import.log_group.log_group_name)


app = cdk.App()
env = cdk.Environment(account=ACCOUNT, region=REGION)
pipeline_stack = cdk.Stack(app, "Pipeline", env=env)
pipeline = pipelines.CodePipeline(
    pipeline_stack,
    "Pipeline",
    synth=pipelines.ShellStep(
        "Synth",
        input=pipelines.CodePipelineSource.connection(
            REPOSITORY, "main", connection_arn=CONNECTION_ARN
        ),
        # npm ci: the CDK CLI pinned by package-lock.json; requirements.txt names the construct
        # (a wheel under wheels/ or a git URL: it is not on PyPI yet); cdk.json runs this file.
        commands=["npm ci", "pip install -r requirements.txt", "npx cdk synth"],
    ),
)
pipeline.add_stage(AuditArchiveStage(app, "Prod", env=env))
app.synth()
