"""The plan's custom resource: its handler function (starts, follows and stops executions) and
the ``Custom::CloudTrailLakeImportPlan`` resource whose properties are the plan."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn

from cloudtrail_lake_import.plan.access_roles import bucket_key
from cloudtrail_lake_import.plan.handler_asset import plan_handler_code
from cloudtrail_lake_import.plan.hardening import ASYNC_RETRY_ATTEMPTS
from cloudtrail_lake_import.plan.names import executions_arn
from cloudtrail_lake_import.plan.segments import Segment
from cloudtrail_lake_import.policy.handler_policies import self_invoke_policy
from constructs import Construct

RESOURCE_TYPE = "Custom::CloudTrailLakeImportPlan"
# The handler reads the store's earlier imports (about 1 call a second) and starts or stops
# an execution: it never waits for an import.
HANDLER_TIMEOUT = Duration.minutes(4)
SERVICE_TIMEOUT = Duration.minutes(5)
# With wait_for_completion the handler polls the execution for up to 15 minutes per invocation,
# then continues itself; it gives up 58 minutes in, within CloudFormation's hour.
WAITING_HANDLER_TIMEOUT = Duration.minutes(15)
WAITING_SERVICE_TIMEOUT = Duration.minutes(60)
# What the custom resource handler may call on CloudTrail (no resource type: "*" only).
HANDLER_IMPORT_ACTIONS = ["cloudtrail:ListImports", "cloudtrail:GetImport", "cloudtrail:StopImport"]


def new_handler(
    scope: Construct,
    *,
    segments: list[Segment],
    state_machine: sfn.StateMachine,
    log_group: logs.LogGroup,
    dead_letter_queue: sqs.IQueue,
    reserved_concurrency: int | None,
    wait_for_completion: bool,
) -> tuple[lambda_.Function, iam.Policy | None]:
    """The handler function, and (with ``wait_for_completion``) the policy that lets it
    continue in a fresh invocation of itself."""
    role = iam.Role(
        scope,
        "HandlerRole",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description="Runs the CloudTrail Lake import plan custom resource",
    )
    log_group.grant_write(role)
    role.add_to_policy(iam.PolicyStatement(actions=HANDLER_IMPORT_ACTIONS, resources=["*"]))
    for statement in _list_prefix_statements(scope, segments):
        role.add_to_policy(statement)
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["states:StartExecution", "states:ListExecutions"],
            resources=[state_machine.state_machine_arn],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["states:DescribeExecution", "states:StopExecution"],
            resources=[executions_arn(scope, state_machine)],
        )
    )
    function = lambda_.Function(
        scope,
        "Handler",
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=lambda_.Architecture.ARM_64,
        handler="plan_index.handler",
        code=plan_handler_code(),
        role=role,
        log_group=log_group,
        memory_size=256,
        timeout=WAITING_HANDLER_TIMEOUT if wait_for_completion else HANDLER_TIMEOUT,
        description="CloudTrail Lake import plan custom resource (cdk-cloudtrail-lake-import)",
        reserved_concurrent_executions=reserved_concurrency,
        # CloudFormation invokes asynchronously. A request older than the service timeout
        # has no listener left and must not start an execution late.
        retry_attempts=ASYNC_RETRY_ATTEMPTS,
        max_event_age=_service_timeout(wait_for_completion),
        dead_letter_queue=dead_letter_queue,
    )
    invokes_itself = self_invoke_policy(scope, role, function) if wait_for_completion else None
    return function, invokes_itself


def _list_prefix_statements(scope: Construct, segments: list[Segment]) -> list[iam.PolicyStatement]:
    """The preflight lists one key under each prefix (are there files to import yet?)."""
    by_bucket: dict[str, tuple[s3.IBucket, set[str]]] = {}
    for segment in segments:
        bucket = segment.spec.source_bucket
        by_bucket.setdefault(bucket_key(scope, bucket), (bucket, set()))[1].add(segment.prefix)
    return [
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[bucket.bucket_arn],
            # Only those listings: the s3:prefix condition keeps the handler from others.
            conditions=None
            if "" in prefixes
            else {"StringEquals": {"s3:prefix": sorted(prefixes)}},
        )
        for bucket, prefixes in by_bucket.values()
    ]


def new_custom_resource(
    scope: Construct,
    *,
    segments: list[Segment],
    event_data_store_arn: str,
    access_roles: Mapping[str, iam.Role],
    state_machine: sfn.StateMachine,
    handler: lambda_.IFunction,
    handler_invokes_itself: iam.Policy | None,
    continuation_policy: iam.Policy,
    wait_for_completion: bool,
    poll_interval: Duration,
    max_retries: int,
    stop_on_delete: bool,
    retry_token: str | None,
    allow_overlap: bool,
) -> CustomResource:
    """The resource whose properties are the plan: every segment's StartImport request and the
    settings of its execution."""
    requests = []
    for segment in segments:
        bucket = segment.spec.source_bucket
        request: dict[str, object] = {
            "Destinations": [event_data_store_arn],
            "ImportSource": {
                "S3": {
                    "S3LocationUri": f"s3://{bucket.bucket_name}/{segment.prefix}",
                    "S3BucketRegion": bucket.env.region,
                    "S3BucketAccessRoleArn": access_roles[bucket_key(scope, bucket)].role_arn,
                }
            },
        }
        if segment.start is not None:
            request["StartEventTime"] = segment.start
        if segment.end is not None:
            request["EndEventTime"] = segment.end
        requests.append(request)
    properties: dict[str, object] = {
        "StateMachineArn": state_machine.state_machine_arn,
        "Segments": requests,
        "PollIntervalSeconds": str(int(poll_interval.to_seconds())),
        "MaxRetries": str(max_retries),
        "StopOnDelete": "true" if stop_on_delete else "false",
    }
    if retry_token is not None:
        properties["RetryToken"] = retry_token
    if wait_for_completion:
        properties["WaitForCompletion"] = "true"
    if allow_overlap:
        properties["AllowOverlap"] = "true"
    resource = CustomResource(
        scope,
        "Resource",
        service_token=handler.function_arn,
        resource_type=RESOURCE_TYPE,
        properties=properties,
        service_timeout=_service_timeout(wait_for_completion),
        removal_policy=RemovalPolicy.DESTROY,
    )
    if handler_invokes_itself is not None:
        resource.node.add_dependency(handler_invokes_itself)
    resource.node.add_dependency(continuation_policy)
    # CloudTrail must find the roles' policies in place when the execution starts.
    for role in access_roles.values():
        resource.node.add_dependency(role.node.find_child("DefaultPolicy"))
    return resource


def _service_timeout(wait_for_completion: bool) -> Duration:
    return WAITING_SERVICE_TIMEOUT if wait_for_completion else SERVICE_TIMEOUT
