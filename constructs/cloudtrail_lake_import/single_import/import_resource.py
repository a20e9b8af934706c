"""The ``Custom::CloudTrailLakeImport`` resource: its properties, how long CloudFormation waits."""

from __future__ import annotations

from aws_cdk import CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from cloudtrail_lake_import import validation
from cloudtrail_lake_import.single_import.handler import WAITING_HANDLER_TIMEOUT
from constructs import Construct

RESOURCE_TYPE = "Custom::CloudTrailLakeImport"
QUICK_SERVICE_TIMEOUT = Duration.minutes(5)
# CloudFormation's upper bound for a custom resource's ServiceTimeout.
MAX_SERVICE_TIMEOUT = Duration.minutes(60)
SERVICE_TIMEOUT_MARGIN = Duration.minutes(5)
# With max_ingest_gb the handler lists the window before StartImport: it gets Lambda's longest
# timeout, and CloudFormation waits for it.
GUARDED_SERVICE_TIMEOUT = WAITING_HANDLER_TIMEOUT.plus(SERVICE_TIMEOUT_MARGIN)


class ImportResource(Construct):
    """The custom resource that starts the import on Create, retries it by id on Update and
    stops it on Delete; it waits for the handler's policies and the access role's policy.

    :ivar resource: the ``CustomResource`` (the ``Default`` child, so its logical id is this
        construct's).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        service_token: str,
        event_data_store_arn: str,
        source_bucket: s3.IBucket,
        prefix: str,
        access_role: iam.Role,
        window: tuple[str | None, str | None],
        wait_for_completion: bool,
        completion_timeout: Duration,
        stop_on_delete: bool,
        retry_token: str | None,
        max_ingest_gb: float | None,
        allow_overlap: bool,
        source_bucket_owner: str | None,
        handler_role: iam.IRole,
        depends_on: iam.Policy,
    ) -> None:
        super().__init__(scope, id)
        properties: dict[str, object] = {
            "Destinations": [event_data_store_arn],
            "ImportSource": {
                "S3": {
                    "S3LocationUri": f"s3://{source_bucket.bucket_name}/{prefix}",
                    "S3BucketRegion": source_bucket.env.region,
                    "S3BucketAccessRoleArn": access_role.role_arn,
                }
            },
            "WaitForCompletion": _flag(wait_for_completion),
            "StopOnDelete": _flag(stop_on_delete),
        }
        timeout_property, timeout_value = validation.completion_timeout_property(completion_timeout)
        properties[timeout_property] = timeout_value
        start, end = window
        if start is not None:
            properties["StartEventTime"] = start
        if end is not None:
            properties["EndEventTime"] = end
        if retry_token is not None:
            properties["RetryToken"] = retry_token
        if source_bucket_owner is not None:
            # The preflight reads the bucket as its owner allows, and quotes what to grant.
            properties["SourceBucketOwner"] = source_bucket_owner
            properties["HandlerRoleArn"] = handler_role.role_arn
        if max_ingest_gb is not None:
            properties["MaxIngestGB"] = validation.max_ingest_gb_property(max_ingest_gb)
        if allow_overlap:
            # Only when set: the templates of every other import stay as they were.
            properties["AllowOverlap"] = _flag(True)
        self.resource = CustomResource(
            self,
            "Default",
            service_token=service_token,
            resource_type=RESOURCE_TYPE,
            properties=properties,
            service_timeout=service_timeout(
                wait_for_completion, completion_timeout, guarded=max_ingest_gb is not None
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.resource.node.add_dependency(depends_on)
        # The access role's policy must exist before CloudTrail uses the role (the role itself
        # is already a dependency through its ARN).
        self.resource.node.add_dependency(access_role.node.find_child("DefaultPolicy"))


def service_timeout(
    wait_for_completion: bool, completion_timeout: Duration, *, guarded: bool
) -> Duration:
    """How long CloudFormation waits for an answer; also the oldest request the handler serves."""
    floor = GUARDED_SERVICE_TIMEOUT.to_seconds() if guarded else 0
    if not wait_for_completion:
        return GUARDED_SERVICE_TIMEOUT if guarded else QUICK_SERVICE_TIMEOUT
    if completion_timeout.is_unresolved():
        return MAX_SERVICE_TIMEOUT
    seconds = max(floor, completion_timeout.to_seconds() + SERVICE_TIMEOUT_MARGIN.to_seconds())
    return Duration.seconds(min(seconds, MAX_SERVICE_TIMEOUT.to_seconds()))


def _flag(value: bool) -> str:
    return "true" if value else "false"
