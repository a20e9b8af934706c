"""The plan's end: the finish function, the rule that calls it when an execution ends, and the
WaitCondition (with ``wait_condition_timeout``) that the deploy waits on until then."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from aws_cdk import Acknowledgment, Duration, Stack
from aws_cdk import aws_cloudformation as cfn
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn

from cloudtrail_lake_import.plan.hardening import ASYNC_RETRY_ATTEMPTS
from cloudtrail_lake_import.plan.names import executions_arn
from cloudtrail_lake_import.plan.segments import Segment
from cloudtrail_lake_import.policy.nag_acknowledgments import acknowledge, nag_resource_id
from constructs import Construct

FINISH_CODE = Path(__file__).with_name("finish.py")
#: The statuses of an execution that may end without its own "Plan Finished" event; the finish
#: function reads the error with DescribeExecution (the status change event has none).
ENDED_WITHOUT_EVENT = ["ABORTED", "TIMED_OUT", "FAILED"]


def wait_identity(
    scope: Construct,
    *,
    event_data_store_arn: str,
    segments: list[Segment],
    timeout: Duration,
    poll_interval: Duration,
    max_retries: int,
    retry_token: str | None,
) -> str:
    """A short digest of what the WaitCondition waits for: the plan's segments, settings,
    retry token and the timeout. CloudFormation cannot update a WaitCondition or its handle,
    so a changed plan or timeout must get new logical ids (and so a new wait)."""
    stack = Stack.of(scope)
    segment_identities = [
        [
            stack.resolve(s.spec.source_bucket.bucket_name),
            s.prefix,
            s.start,
            s.end,
        ]
        for s in segments
    ]
    identity = [
        stack.resolve(event_data_store_arn),
        segment_identities,
        poll_interval.to_seconds(),
        max_retries,
        retry_token,
        timeout.to_seconds(),
    ]
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:8].upper()


def new_finish_function(
    scope: Construct,
    *,
    notify: sns.ITopic | None,
    wait_condition_handle: cfn.CfnWaitConditionHandle | None,
    dead_letter_queue: sqs.IQueue,
    log_retention: logs.RetentionDays,
    log_encryption_key: kms.IKey | None,
    reserved_concurrency: int | None,
) -> lambda_.Function:
    """Signals the WaitCondition, and reports an execution that ended without reaching a
    final state (ABORTED, TIMED_OUT, States.Runtime). Never in the import loop. Hardened
    like the handler: its asynchronous calls (from the ExecutionEnded rule) that fail for
    good land in the plan's dead-letter queue."""
    log_group = logs.LogGroup(
        scope, "FinishLogs", retention=log_retention, encryption_key=log_encryption_key
    )
    role = iam.Role(
        scope,
        "FinishRole",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description="Reports the end of a CloudTrail Lake import plan",
    )
    log_group.grant_write(role)
    events.EventBus.from_event_bus_name(scope, "DefaultBus", "default").grant_put_events_to(role)
    environment = {"PLAN_NAME": scope.node.path}
    if notify is not None:
        # The end of an execution that no final state reported goes to the topic from here,
        # with the error and cause that only DescribeExecution has.
        role.add_to_policy(
            iam.PolicyStatement(actions=["sns:Publish"], resources=[notify.topic_arn])
        )
        if notify.master_key is not None:
            notify.master_key.grant(role, "kms:GenerateDataKey", "kms:Decrypt")
        environment["TOPIC_ARN"] = notify.topic_arn
    if wait_condition_handle is not None:
        environment["WAIT_CONDITION_HANDLE_URL"] = wait_condition_handle.ref
    return lambda_.Function(
        scope,
        "Finish",
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=lambda_.Architecture.ARM_64,
        handler="index.handler",
        code=lambda_.Code.from_inline(FINISH_CODE.read_text()),
        role=role,
        log_group=log_group,
        memory_size=128,
        timeout=Duration.seconds(60),
        environment=environment,
        reserved_concurrent_executions=reserved_concurrency,
        dead_letter_queue=dead_letter_queue,
        retry_attempts=ASYNC_RETRY_ATTEMPTS,
        description="CloudTrail Lake import plan end (cdk-cloudtrail-lake-import)",
    )


def wire_plan_end(
    scope: Construct,
    *,
    state_machine: sfn.StateMachine,
    finish_function: lambda_.Function,
    custom_resource: Construct,
    notify: sns.ITopic | None,
    wait_condition_handle: cfn.CfnWaitConditionHandle | None,
    wait_id: str | None,
    wait_condition_timeout: Duration | None,
) -> cfn.CfnWaitCondition | None:
    """The end of every execution is reported, and the WaitCondition (if any) signalled."""
    if notify is not None and notify.master_key is not None:
        # Publishing to an SSE-KMS topic needs the key (SnsPublish grants only sns:Publish).
        notify.master_key.grant(state_machine, "kms:GenerateDataKey", "kms:Decrypt")
    ended = events.Rule(
        scope,
        "ExecutionEnded",
        description="the plan's execution ended: the finish function reports it unless "
        "the execution's own final state did",
        event_pattern=events.EventPattern(
            source=["aws.states"],
            detail_type=["Step Functions Execution Status Change"],
            # AWS's documented event has no error or cause: the function reads them with
            # DescribeExecution and skips the machine's own Fail states.
            detail={
                "stateMachineArn": [state_machine.state_machine_arn],
                "status": ENDED_WITHOUT_EVENT,
            },
        ),
    )
    # A policy of its own: the function's default policy cannot name the machine, whose
    # definition names the function.
    reads_executions = iam.Policy(
        scope,
        "FinishReadsExecutions",
        roles=[finish_function.role],  # type: ignore[list-item]
        statements=[
            iam.PolicyStatement(
                actions=["states:DescribeExecution"],
                resources=[executions_arn(scope, state_machine)],
            )
        ],
    )
    acknowledge(
        reads_executions,
        Acknowledgment(
            id="AwsSolutions-IAM5[Resource::"
            f"{nag_resource_id(Stack.of(scope).resolve(executions_arn(scope, state_machine)))}]",
            reason="The finish function reads the error of an ended execution of this "
            "plan's state machine only; execution names are chosen at deploy time.",
        ),
    )
    ended.node.add_dependency(reads_executions)
    ended.add_target(targets.LambdaFunction(finish_function, retry_attempts=2))
    if wait_condition_handle is None or wait_condition_timeout is None:
        return None
    condition = cfn.CfnWaitCondition(
        scope,
        f"WaitCondition{wait_id}",
        count=1,
        handle=wait_condition_handle.ref,
        timeout=str(int(wait_condition_timeout.to_seconds())),
    )
    condition.node.add_dependency(custom_resource)
    function_versions = f"{finish_function.function_arn}:*"
    acknowledge(
        state_machine.role.node.find_child("DefaultPolicy"),
        Acknowledgment(
            id="AwsSolutions-IAM5[Resource::"
            f"{nag_resource_id(Stack.of(scope).resolve(function_versions))}]",
            reason="Step Functions' LambdaInvoke grants the plan's own finish function and "
            "its versions; the state machine invokes nothing else.",
        ),
    )
    return condition
