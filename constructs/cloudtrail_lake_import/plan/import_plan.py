"""The CloudTrailLakeImportPlan construct: many imports into one store, one at a time, on Step
Functions Standard (executions up to a year), started by a custom resource.

``__init__`` checks the props, then declares the plan's parts in order, each from the module
that knows it: the access roles (``access_roles.py``), the state machine's log group, the
WaitCondition's handle and the finish function (``ending.py``), the state machine
(``definition.py``), the handler and the custom resource (``handler.py``), the wiring of the
plan's end (``ending.py``), then the cdk-nag acknowledgments (``nag.py``) and checkov skips.
The order is part of the template: it decides some logical ids and the order of entries."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from aws_cdk import Duration
from aws_cdk import aws_cloudformation as cfn
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn

from cloudtrail_lake_import.plan.access_roles import bucket_key, new_access_roles, pass_role
from cloudtrail_lake_import.plan.checks import check_settings, checked_store_arn
from cloudtrail_lake_import.plan.definition import PlanBehaviour, plan_definition
from cloudtrail_lake_import.plan.ending import new_finish_function, wait_identity, wire_plan_end
from cloudtrail_lake_import.plan.handler import new_custom_resource, new_handler
from cloudtrail_lake_import.plan.hardening import (
    DEFAULT_RESERVED_CONCURRENCY,
    allow_logs_to_use,
    new_dead_letter_queue,
    skip_plan_checks_left_to_defaults,
)
from cloudtrail_lake_import.plan.nag import acknowledge_justified_findings
from cloudtrail_lake_import.plan.names import vended_log_group_name
from cloudtrail_lake_import.plan.segments import (
    ImportSpec,
    PlanSplit,
    Segment,
    check_no_overlap,
    plan_segments,
)
from constructs import Construct

DEFAULT_POLL_INTERVAL = Duration.minutes(5)
DEFAULT_BUSY_ACCOUNT_WAIT = Duration.days(3)
DEFAULT_MAX_RETRIES = 2


class CloudTrailLakeImportPlan(Construct):
    """Runs an ordered list of CloudTrail Lake imports into one event data store, one at a time.

    CloudTrail runs one import per account at a time and CloudFormation waits at most an hour;
    a plan runs its segments in a Step Functions Standard state machine instead (no Lambda in
    the loop), waiting for the account when another import holds it, retrying a FAILED segment
    by its ImportId, and reporting every segment as an EventBridge event. The custom resource
    starts the execution and succeeds once it runs; segments whose identical import already
    COMPLETED on the store are skipped, so a redeploy resumes rather than copies again.

    :ivar segments: the imports the plan runs, in order, after ``split_window_by``.
    :ivar segment_count: how many segments (also GetAtt ``SegmentCount``).
    :ivar event_data_store_arn: the ARN of the event data store the imports write to.
    :ivar access_roles: one access role per distinct source bucket, by bucket.
    :ivar state_machine: the Step Functions Standard state machine that runs the imports.
    :ivar log_group: the state machine's log group.
    :ivar continuation_policy: lets the state machine start its own next execution (the
        ``<execution name>-cont-<N>`` continuation before Step Functions' history limit).
    :ivar handler: the custom resource's Lambda function (starts, follows and stops executions).
    :ivar handler_dead_letter_queue: where Lambda puts a request of the handler or of the finish
        function it gave up on (SQS).
    :ivar finish_function: the Lambda function that reports the plan's end (the WaitCondition
        signal and the event of an execution that ended abnormally).
    :ivar custom_resource: the ``Custom::CloudTrailLakeImportPlan`` resource.
    :ivar execution_arn: the ARN of the execution the deploy started (GetAtt ``ExecutionArn``).
    :ivar wait_condition: with ``wait_condition_timeout``, the WaitCondition the deploy waits
        on until the plan ends; else ``None``.
    :ivar wait_condition_handle: that WaitCondition's handle; else ``None``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        event_data_store: cloudtrail.CfnEventDataStore | str,
        imports: Sequence[ImportSpec],
        split_window_by: Duration | PlanSplit | str | None = None,
        wait_for_completion: bool = False,
        continue_on_failure: bool = False,
        max_retries: int = DEFAULT_MAX_RETRIES,
        poll_interval: Duration | None = None,
        busy_account_wait: Duration | None = None,
        notify: sns.ITopic | None = None,
        stop_on_delete: bool = True,
        retry_token: str | None = None,
        tracing_enabled: bool = False,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        log_encryption_key: kms.IKey | None = None,
        reserved_concurrent_executions: int | None = DEFAULT_RESERVED_CONCURRENCY,
        wait_condition_timeout: Duration | None = None,
        allow_overlap: bool = False,
    ) -> None:
        """Declare the plan.

        :param event_data_store: the destination store (construct or ARN).
        :param imports: the imports, in the order they run.
        :param split_window_by: cut every import's window into pieces this long (at least a
            day; e.g. 365 days), or at UTC calendar boundaries with ``PlanSplit.YEAR`` /
            ``PlanSplit.MONTH`` (or ``"year"`` / ``"month"``), each piece its own segment;
            needs both window bounds. Default: one segment per import.
        :param wait_for_completion: the deploy waits until the execution ends and fails when it
            fails (the answer names the execution's error and cause); for plans that finish
            within the hour: after 58 minutes the resource fails while the plan goes on.
            Default false: the deploy succeeds once the execution has started.
        :param continue_on_failure: go on with the next segment when one fails for good; the
            execution still ends FAILED, listing the failed segments. Default false: stop there.
        :param max_retries: how often a FAILED segment is retried by its ImportId (0 to 10);
            default 2.
        :param poll_interval: how often a running import is checked (10 s to 1 hour);
            default 5 minutes. Each poll adds about a dozen events to the execution's history
            (at most 25,000): about a week of importing per execution at 5 minutes.
        :param busy_account_wait: how long StartImport keeps retrying while another import
            holds the account (1 minute to 30 days); default 3 days.
        :param notify: an SNS topic that also gets every segment's and the plan's outcome.
        :param stop_on_delete: when the resource is deleted, also stop the plan's running
            import (the execution is always stopped); default true. No data is deleted.
        :param retry_token: change it on a deploy to run the plan again (completed segments
            are skipped, FAILED or STOPPED ones resumed by ImportId).
        :param tracing_enabled: X-Ray tracing of the state machine; default false.
        :param log_retention: retention of the state machine's and the handler's logs.
        :param log_encryption_key: KMS key that encrypts both log groups (the state machine's
            and the handler's); default: CloudWatch Logs' own encryption. A key of this stack
            gets the key policy statement for ``logs.<region>.amazonaws.com``.
        :param reserved_concurrent_executions: concurrency reserved for the handler (at least
            1, or None to reserve nothing); default 2.
        :param wait_condition_timeout: hold the deployment until the plan ends (up to 12 hours):
            a CloudFormation WaitCondition that the state machine signals SUCCESS or FAILURE at
            its end. Default: the deployment succeeds once the plan has started.
        :param allow_overlap: accept imports that read the same files (same bucket, one prefix
            inside the other, windows sharing a UTC day): every shared event is then billed and
            stored twice, for good. Default false: such specs are refused at synth, and at each
            deploy that starts the plan a segment whose files an import already in the store
            holds (COMPLETED with files, or running: a single import, another plan, this plan
            cut into other segments before) fails the deploy before anything starts
            (``OverlappingImport``). Identical earlier imports are never an overlap: they are
            skipped, followed or resumed.
        """
        super().__init__(scope, id)
        self.event_data_store_arn = checked_store_arn(self, event_data_store)
        poll_interval = poll_interval or DEFAULT_POLL_INTERVAL
        busy_account_wait = busy_account_wait or DEFAULT_BUSY_ACCOUNT_WAIT
        check_settings(
            max_retries=max_retries,
            reserved_concurrent_executions=reserved_concurrent_executions,
            wait_for_completion=wait_for_completion,
            poll_interval=poll_interval,
            busy_account_wait=busy_account_wait,
            wait_condition_timeout=wait_condition_timeout,
        )
        self.segments: list[Segment] = plan_segments(list(imports), split_window_by)
        check_no_overlap(list(imports), partial(bucket_key, self), allow_overlap=allow_overlap)
        self.segment_count = len(self.segments)

        self.access_roles = new_access_roles(self, self.segments, self.event_data_store_arn)
        if log_encryption_key is not None:
            allow_logs_to_use(self, log_encryption_key)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=vended_log_group_name(self),
            retention=log_retention,
            encryption_key=log_encryption_key,
        )
        wait_id = (
            None
            if wait_condition_timeout is None
            else wait_identity(
                self,
                event_data_store_arn=self.event_data_store_arn,
                segments=self.segments,
                timeout=wait_condition_timeout,
                poll_interval=poll_interval,
                max_retries=max_retries,
                retry_token=retry_token,
            )
        )
        self.wait_condition_handle = (
            None
            if wait_id is None
            else cfn.CfnWaitConditionHandle(self, f"WaitConditionHandle{wait_id}")
        )
        self.handler_dead_letter_queue = new_dead_letter_queue(self)
        self.finish_function = new_finish_function(
            self,
            notify=notify,
            wait_condition_handle=self.wait_condition_handle,
            dead_letter_queue=self.handler_dead_letter_queue,
            log_retention=log_retention,
            log_encryption_key=log_encryption_key,
            reserved_concurrency=reserved_concurrent_executions,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(
                plan_definition(
                    self,
                    PlanBehaviour(
                        plan_name=self.node.path,
                        continue_on_failure=continue_on_failure,
                        busy_account_wait=busy_account_wait,
                        notify=notify,
                        window_shapes=frozenset(
                            (s.start is not None, s.end is not None) for s in self.segments
                        ),
                        signal=None if wait_condition_timeout is None else self.finish_function,
                    ),
                )
            ),
            state_machine_type=sfn.StateMachineType.STANDARD,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
            tracing_enabled=tracing_enabled,
            comment="cdk-cloudtrail-lake-import plan: CloudTrail Lake imports, one at a time",
        )
        for role in self.access_roles.values():
            self.state_machine.add_to_role_policy(pass_role(role))
        # The next link of the continuation chain: the machine starts itself, in a policy of
        # its own (the default policy cannot name the machine that depends on it).
        self.continuation_policy = iam.Policy(
            self,
            "ContinuesItself",
            roles=[self.state_machine.role],
            statements=[
                iam.PolicyStatement(
                    actions=["states:StartExecution"],
                    resources=[self.state_machine.state_machine_arn],
                )
            ],
        )

        handler_log_group = logs.LogGroup(
            self, "HandlerLogs", retention=log_retention, encryption_key=log_encryption_key
        )
        handler, handler_invokes_itself = new_handler(
            self,
            segments=self.segments,
            state_machine=self.state_machine,
            log_group=handler_log_group,
            dead_letter_queue=self.handler_dead_letter_queue,
            reserved_concurrency=reserved_concurrent_executions,
            wait_for_completion=wait_for_completion,
        )
        self.handler = handler
        self.custom_resource = new_custom_resource(
            self,
            segments=self.segments,
            event_data_store_arn=self.event_data_store_arn,
            access_roles=self.access_roles,
            state_machine=self.state_machine,
            handler=self.handler,
            handler_invokes_itself=handler_invokes_itself,
            continuation_policy=self.continuation_policy,
            wait_for_completion=wait_for_completion,
            poll_interval=poll_interval,
            max_retries=max_retries,
            stop_on_delete=stop_on_delete,
            retry_token=retry_token,
            allow_overlap=allow_overlap,
        )
        self.execution_arn: str = self.custom_resource.get_att_string("ExecutionArn")
        self.wait_condition = wire_plan_end(
            self,
            state_machine=self.state_machine,
            finish_function=self.finish_function,
            custom_resource=self.custom_resource,
            notify=notify,
            wait_condition_handle=self.wait_condition_handle,
            wait_id=wait_id,
            wait_condition_timeout=wait_condition_timeout,
        )
        acknowledge_justified_findings(
            self,
            handler=self.handler,
            state_machine=self.state_machine,
            access_roles=self.access_roles,
            tracing_enabled=tracing_enabled,
        )
        skip_plan_checks_left_to_defaults(
            functions=[
                (self.handler, handler_log_group),
                (self.finish_function, self.finish_function.log_group),
            ],
            finish_function=self.finish_function,
            plan_log_group=self.log_group,
            concurrency_reserved=reserved_concurrent_executions is not None,
            logs_encrypted=log_encryption_key is not None,
        )

    def access_role_for(self, bucket: s3.IBucket) -> iam.Role:
        """The role CloudTrail assumes to read ``bucket`` (one of the plan's buckets)."""
        return self.access_roles[bucket_key(self, bucket)]


__all__ = ["CloudTrailLakeImportPlan", "ImportSpec", "PlanSplit"]
