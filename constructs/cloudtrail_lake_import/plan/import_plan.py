"""The CloudTrailLakeImportPlan construct: many imports into one store, one at a time, on Step
Functions Standard (executions up to a year), started by a custom resource."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from aws_cdk import (
    Acknowledgment,
    ArnFormat,
    CustomResource,
    Duration,
    RemovalPolicy,
    Stack,
    Token,
)
from aws_cdk import aws_cloudformation as cfn
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn

from cloudtrail_lake_import import validation
from cloudtrail_lake_import.plan.definition import PlanBehaviour, plan_definition
from cloudtrail_lake_import.plan.handler_asset import plan_handler_code
from cloudtrail_lake_import.plan.hardening import (
    ASYNC_RETRY_ATTEMPTS,
    DEFAULT_RESERVED_CONCURRENCY,
    allow_logs_to_use,
    new_dead_letter_queue,
    skip_plan_checks_left_to_defaults,
)
from cloudtrail_lake_import.plan.segments import (
    ImportSpec,
    PlanSplit,
    Segment,
    check_no_overlap,
    plan_segments,
)
from cloudtrail_lake_import.policy.access_role import CLOUDTRAIL_PRINCIPAL, new_access_role
from cloudtrail_lake_import.policy.handler_policies import self_invoke_policy
from cloudtrail_lake_import.policy.nag_acknowledgments import acknowledge, nag_resource_id
from constructs import Construct

RESOURCE_TYPE = "Custom::CloudTrailLakeImportPlan"
FINISH_CODE = Path(__file__).with_name("finish.py")
DEFAULT_POLL_INTERVAL = Duration.minutes(5)
DEFAULT_BUSY_ACCOUNT_WAIT = Duration.days(3)
DEFAULT_MAX_RETRIES = 2
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
#: CloudFormation's limit for a WaitCondition's Timeout.
MAX_WAIT_CONDITION_TIMEOUT = Duration.hours(12)
#: The statuses of an execution that may end without its own "Plan Finished" event; the finish
#: function reads the error with DescribeExecution (the status change event has none).
ENDED_WITHOUT_EVENT = ["ABORTED", "TIMED_OUT", "FAILED"]
VENDED_LOGS_PREFIX = "/aws/vendedlogs/states/"


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
        if isinstance(event_data_store, str):
            validation.check_event_data_store_arn(event_data_store)
            self.event_data_store_arn = event_data_store
            _check_store_region(Stack.of(self).region, event_data_store)
        else:
            self.event_data_store_arn = event_data_store.attr_event_data_store_arn
        _check_range("max_retries", max_retries, 0, 10)
        validation.check_reserved_concurrency(
            reserved_concurrent_executions, wait_for_completion=wait_for_completion
        )
        poll_interval = poll_interval or DEFAULT_POLL_INTERVAL
        busy_account_wait = busy_account_wait or DEFAULT_BUSY_ACCOUNT_WAIT
        _check_duration("poll_interval", poll_interval, Duration.seconds(10), Duration.hours(1))
        _check_duration(
            "busy_account_wait", busy_account_wait, Duration.minutes(1), Duration.days(30)
        )
        if wait_condition_timeout is not None:
            _check_wait_condition_timeout(wait_condition_timeout)
        check_wait_props(
            wait_for_completion=wait_for_completion, wait_condition_timeout=wait_condition_timeout
        )
        self.segments: list[Segment] = plan_segments(list(imports), split_window_by)
        check_no_overlap(list(imports), self._bucket_key, allow_overlap=allow_overlap)
        self.segment_count = len(self.segments)

        self.access_roles = self._new_access_roles()
        if log_encryption_key is not None:
            allow_logs_to_use(self, log_encryption_key)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=self._vended_log_group_name(),
            retention=log_retention,
            encryption_key=log_encryption_key,
        )
        self._wait_id = (
            None
            if wait_condition_timeout is None
            else self._wait_identity(
                wait_condition_timeout, poll_interval, max_retries, retry_token
            )
        )
        self.wait_condition_handle = (
            None
            if self._wait_id is None
            else cfn.CfnWaitConditionHandle(self, f"WaitConditionHandle{self._wait_id}")
        )
        self.handler_dead_letter_queue = new_dead_letter_queue(self)
        self.finish_function = self._new_finish_function(
            notify, log_retention, log_encryption_key, reserved_concurrent_executions
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
        for role in self._distinct_roles():
            # CloudTrail, and only CloudTrail, may be handed the access roles.
            self.state_machine.add_to_role_policy(_pass_role(role))
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
        self.handler = self._new_handler(
            handler_log_group, reserved_concurrent_executions, wait_for_completion
        )
        self.custom_resource = self._new_custom_resource(
            wait_for_completion=wait_for_completion,
            poll_interval=poll_interval,
            max_retries=max_retries,
            stop_on_delete=stop_on_delete,
            retry_token=retry_token,
            allow_overlap=allow_overlap,
        )
        self.execution_arn: str = self.custom_resource.get_att_string("ExecutionArn")
        self.wait_condition = self._wire_plan_end(notify, wait_condition_timeout)
        self._acknowledge_justified_findings(tracing_enabled)
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

    # ---------------------------------------------------------------- names and identities
    def _vended_log_group_name(self) -> str:
        """``/aws/vendedlogs/states/...``: Step Functions' log delivery then needs no entry in
        the account's 5,120-character CloudWatch Logs resource policy (AWS's advice). Unique per
        stack and construct path, stable across deploys."""
        stack = Stack.of(self)
        digest = hashlib.sha256(self.node.path.encode()).hexdigest()[:12]
        return f"{VENDED_LOGS_PREFIX}{stack.stack_name}-{digest}"

    def _wait_identity(
        self,
        timeout: Duration,
        poll_interval: Duration,
        max_retries: int,
        retry_token: str | None,
    ) -> str:
        """A short digest of what the WaitCondition waits for: the plan's segments, settings,
        retry token and the timeout. CloudFormation cannot update a WaitCondition or its handle,
        so a changed plan or timeout must get new logical ids (and so a new wait)."""
        stack = Stack.of(self)
        segments = [
            [
                stack.resolve(s.spec.source_bucket.bucket_name),
                s.prefix,
                s.start,
                s.end,
            ]
            for s in self.segments
        ]
        identity = [
            stack.resolve(self.event_data_store_arn),
            segments,
            poll_interval.to_seconds(),
            max_retries,
            retry_token,
            timeout.to_seconds(),
        ]
        text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:8].upper()

    # ------------------------------------------------------------------------- access roles
    def _new_access_roles(self) -> dict[str, iam.Role]:
        """One role per distinct bucket, reading every prefix the plan imports from it."""
        by_bucket: dict[str, list[Segment]] = {}
        for segment in self.segments:
            by_bucket.setdefault(self._bucket_key(segment.spec.source_bucket), []).append(segment)
        roles: dict[str, iam.Role] = {}
        for key, segments in by_bucket.items():
            keys = {s.spec.source_encryption_key for s in segments} - {None}
            if len(keys) > 1:
                raise validation.CloudTrailLakeImportPropsError(
                    "imports from one bucket must name the same source_encryption_key; "
                    f"bucket {segments[0].spec.source_bucket.bucket_name} has {len(keys)}"
                )
            key_arn: kms.IKey | None = next(iter(keys)) if keys else None
            roles[key] = new_access_role(
                self,
                _access_role_id(key),
                bucket=segments[0].spec.source_bucket,
                prefixes=sorted({s.prefix for s in segments}),
                encryption_key=key_arn,
                event_data_store_arn=self.event_data_store_arn,
            )
        return roles

    def _bucket_key(self, bucket: s3.IBucket) -> str:
        return json.dumps(Stack.of(self).resolve(bucket.bucket_name), sort_keys=True)

    def _distinct_roles(self) -> list[iam.Role]:
        return list(self.access_roles.values())

    def access_role_for(self, bucket: s3.IBucket) -> iam.Role:
        """The role CloudTrail assumes to read ``bucket`` (one of the plan's buckets)."""
        return self.access_roles[self._bucket_key(bucket)]

    # ------------------------------------------------------------------------------ handler
    def _new_handler(
        self,
        log_group: logs.LogGroup,
        reserved_concurrency: int | None,
        wait_for_completion: bool,
    ) -> lambda_.Function:
        role = iam.Role(
            self,
            "HandlerRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Runs the CloudTrail Lake import plan custom resource",
        )
        log_group.grant_write(role)
        role.add_to_policy(iam.PolicyStatement(actions=HANDLER_IMPORT_ACTIONS, resources=["*"]))
        for statement in self._list_prefix_statements():
            role.add_to_policy(statement)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["states:StartExecution", "states:ListExecutions"],
                resources=[self.state_machine.state_machine_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["states:DescribeExecution", "states:StopExecution"],
                resources=[self._executions_arn()],
            )
        )
        function = lambda_.Function(
            self,
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
            dead_letter_queue=self.handler_dead_letter_queue,
        )
        self._self_invoke_policy: iam.Policy | None = None
        if wait_for_completion:
            self._self_invoke_policy = self_invoke_policy(self, role, function)
        return function

    def _list_prefix_statements(self) -> list[iam.PolicyStatement]:
        """The preflight lists one key under each prefix (are there files to import yet?)."""
        by_bucket: dict[str, tuple[s3.IBucket, set[str]]] = {}
        for segment in self.segments:
            bucket = segment.spec.source_bucket
            by_bucket.setdefault(self._bucket_key(bucket), (bucket, set()))[1].add(segment.prefix)
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

    def _executions_arn(self) -> str:
        stack = Stack.of(self)
        return stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{self.state_machine.state_machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

    def _new_custom_resource(
        self,
        *,
        wait_for_completion: bool,
        poll_interval: Duration,
        max_retries: int,
        stop_on_delete: bool,
        retry_token: str | None,
        allow_overlap: bool,
    ) -> CustomResource:
        segments = []
        for segment in self.segments:
            bucket = segment.spec.source_bucket
            request: dict[str, object] = {
                "Destinations": [self.event_data_store_arn],
                "ImportSource": {
                    "S3": {
                        "S3LocationUri": f"s3://{bucket.bucket_name}/{segment.prefix}",
                        "S3BucketRegion": bucket.env.region,
                        "S3BucketAccessRoleArn": self.access_role_for(bucket).role_arn,
                    }
                },
            }
            if segment.start is not None:
                request["StartEventTime"] = segment.start
            if segment.end is not None:
                request["EndEventTime"] = segment.end
            segments.append(request)
        properties: dict[str, object] = {
            "StateMachineArn": self.state_machine.state_machine_arn,
            "Segments": segments,
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
            self,
            "Resource",
            service_token=self.handler.function_arn,
            resource_type=RESOURCE_TYPE,
            properties=properties,
            service_timeout=_service_timeout(wait_for_completion),
            removal_policy=RemovalPolicy.DESTROY,
        )
        if self._self_invoke_policy is not None:
            resource.node.add_dependency(self._self_invoke_policy)
        resource.node.add_dependency(self.continuation_policy)
        # CloudTrail must find the roles' policies in place when the execution starts.
        for role in self._distinct_roles():
            resource.node.add_dependency(role.node.find_child("DefaultPolicy"))
        return resource

    # ------------------------------------- plan end: notifications and the WaitCondition
    def _new_finish_function(
        self,
        notify: sns.ITopic | None,
        log_retention: logs.RetentionDays,
        log_encryption_key: kms.IKey | None,
        reserved_concurrency: int | None,
    ) -> lambda_.Function:
        """Signals the WaitCondition, and reports an execution that ended without reaching a
        final state (ABORTED, TIMED_OUT, States.Runtime). Never in the import loop. Hardened
        like the handler: its asynchronous calls (from the ExecutionEnded rule) that fail for
        good land in the plan's dead-letter queue."""
        log_group = logs.LogGroup(
            self, "FinishLogs", retention=log_retention, encryption_key=log_encryption_key
        )
        role = iam.Role(
            self,
            "FinishRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Reports the end of a CloudTrail Lake import plan",
        )
        log_group.grant_write(role)
        events.EventBus.from_event_bus_name(self, "DefaultBus", "default").grant_put_events_to(role)
        environment = {"PLAN_NAME": self.node.path}
        if notify is not None:
            # The end of an execution that no final state reported goes to the topic from here,
            # with the error and cause that only DescribeExecution has.
            role.add_to_policy(
                iam.PolicyStatement(actions=["sns:Publish"], resources=[notify.topic_arn])
            )
            if notify.master_key is not None:
                notify.master_key.grant(role, "kms:GenerateDataKey", "kms:Decrypt")
            environment["TOPIC_ARN"] = notify.topic_arn
        if self.wait_condition_handle is not None:
            environment["WAIT_CONDITION_HANDLE_URL"] = self.wait_condition_handle.ref
        return lambda_.Function(
            self,
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
            dead_letter_queue=self.handler_dead_letter_queue,
            retry_attempts=ASYNC_RETRY_ATTEMPTS,
            description="CloudTrail Lake import plan end (cdk-cloudtrail-lake-import)",
        )

    def _wire_plan_end(
        self, notify: sns.ITopic | None, wait_condition_timeout: Duration | None
    ) -> cfn.CfnWaitCondition | None:
        """The end of every execution is reported, and the WaitCondition (if any) signalled."""
        if notify is not None and notify.master_key is not None:
            # Publishing to an SSE-KMS topic needs the key (SnsPublish grants only sns:Publish).
            notify.master_key.grant(self.state_machine, "kms:GenerateDataKey", "kms:Decrypt")
        ended = events.Rule(
            self,
            "ExecutionEnded",
            description="the plan's execution ended: the finish function reports it unless "
            "the execution's own final state did",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                # AWS's documented event has no error or cause: the function reads them with
                # DescribeExecution and skips the machine's own Fail states.
                detail={
                    "stateMachineArn": [self.state_machine.state_machine_arn],
                    "status": ENDED_WITHOUT_EVENT,
                },
            ),
        )
        # A policy of its own: the function's default policy cannot name the machine, whose
        # definition names the function.
        reads_executions = iam.Policy(
            self,
            "FinishReadsExecutions",
            roles=[self.finish_function.role],  # type: ignore[list-item]
            statements=[
                iam.PolicyStatement(
                    actions=["states:DescribeExecution"], resources=[self._executions_arn()]
                )
            ],
        )
        acknowledge(
            reads_executions,
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::"
                f"{nag_resource_id(Stack.of(self).resolve(self._executions_arn()))}]",
                reason="The finish function reads the error of an ended execution of this "
                "plan's state machine only; execution names are chosen at deploy time.",
            ),
        )
        ended.node.add_dependency(reads_executions)
        ended.add_target(targets.LambdaFunction(self.finish_function, retry_attempts=2))
        if self.wait_condition_handle is None or wait_condition_timeout is None:
            return None
        condition = cfn.CfnWaitCondition(
            self,
            f"WaitCondition{self._wait_id}",
            count=1,
            handle=self.wait_condition_handle.ref,
            timeout=str(int(wait_condition_timeout.to_seconds())),
        )
        condition.node.add_dependency(self.custom_resource)
        function_versions = f"{self.finish_function.function_arn}:*"
        acknowledge(
            self.state_machine.role.node.find_child("DefaultPolicy"),
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::"
                f"{nag_resource_id(Stack.of(self).resolve(function_versions))}]",
                reason="Step Functions' LambdaInvoke grants the plan's own finish function and "
                "its versions; the state machine invokes nothing else.",
            ),
        )
        return condition

    # ------------------------------------------------------------------------------ cdk-nag
    def _acknowledge_justified_findings(self, tracing_enabled: bool) -> None:
        stack = Stack.of(self)
        acknowledge(
            self.handler.role.node.find_child("DefaultPolicy"),  # type: ignore[union-attr]
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="cloudtrail:ListImports, GetImport and StopImport have no resource type "
                "in the Service Authorization Reference; IAM accepts them only on '*'.",
            ),
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::{nag_resource_id(stack.resolve(self._executions_arn()))}]",
                reason="Execution names are chosen at deploy time; the statement is scoped to "
                "executions of this plan's state machine only.",
            ),
        )
        acknowledge(
            self.state_machine.role.node.find_child("DefaultPolicy"),
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="cloudtrail:StartImport, GetImport and ListImportFailures have no "
                "resource type (IAM accepts them only on '*'); CloudWatch Logs' log delivery "
                "actions, which Step Functions logging needs, do not support resource-level "
                "permissions either.",
            ),
        )
        for role in self._distinct_roles():
            acknowledge(
                role,
                *[
                    Acknowledgment(
                        id=f"AwsSolutions-IAM5[Resource::{nag_resource_id(stack.resolve(arn))}]",
                        reason="CloudTrail reads every log file under an imported prefix; "
                        "s3:GetObject is scoped to the plan's prefixes of this one bucket, as "
                        "the CloudTrail Lake import documentation prescribes.",
                    )
                    for arn in _object_arns(role)
                ],
            )
        if not tracing_enabled:
            acknowledge(
                self.state_machine,
                Acknowledgment(
                    id="AwsSolutions-SF2",
                    reason="X-Ray adds nothing to SDK integrations that wait hours between "
                    "calls; the execution history and the log group record every step. Turn "
                    "it on with tracing_enabled=True.",
                ),
            )


def _access_role_id(bucket_key: str) -> str:
    """A logical id that follows the bucket, not its position: reordering the imports must not
    swap the roles (a role's ARN is part of every import CloudTrail runs with it)."""
    return f"AccessRole{hashlib.sha256(bucket_key.encode()).hexdigest()[:8].upper()}"


def _object_arns(role: iam.Role) -> list[str]:
    """The ``s3:GetObject`` resources of an access role (from its policy document)."""
    policy = role.node.find_child("DefaultPolicy")
    assert isinstance(policy, iam.Policy)
    arns: list[str] = []
    for statement in policy.document.to_json()["Statement"]:
        if statement.get("Action") == "s3:GetObject":
            resources = statement["Resource"]
            arns.extend(resources if isinstance(resources, list) else [resources])
    return arns


def _pass_role(role: iam.IRole) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        actions=["iam:PassRole"],
        resources=[role.role_arn],
        conditions={"StringEquals": {"iam:PassedToService": CLOUDTRAIL_PRINCIPAL}},
    )


def _service_timeout(wait_for_completion: bool) -> Duration:
    return WAITING_SERVICE_TIMEOUT if wait_for_completion else SERVICE_TIMEOUT


def check_wait_props(*, wait_for_completion: bool, wait_condition_timeout: Duration | None) -> None:
    """A deploy blocks on the plan one way: the handler's hour, or a WaitCondition."""
    if wait_for_completion and wait_condition_timeout is not None:
        raise validation.CloudTrailLakeImportPropsError(
            "wait_for_completion and wait_condition_timeout exclude each other: "
            "wait_for_completion waits within CloudFormation's hour for a custom resource, "
            "wait_condition_timeout up to 12 hours on a WaitCondition; choose one"
        )


def _check_store_region(stack_region: str, store_arn: str) -> None:
    """Every StartImport goes to the stack's region: a store elsewhere is refused when both
    regions are known at synth."""
    if Token.is_unresolved(stack_region) or Token.is_unresolved(store_arn):
        return
    store_region = store_arn.split(":")[3]
    if store_region != stack_region:
        raise validation.CloudTrailLakeImportPropsError(
            f"event_data_store must be in the stack's region {stack_region}; "
            f"{store_arn} is in {store_region}. Deploy the plan in a stack of region "
            f"{store_region}"
        )


def _check_range(prop: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise validation.CloudTrailLakeImportPropsError(
            f"{prop} must be between {low} and {high}; got {value}"
        )


def _check_wait_condition_timeout(value: Duration) -> None:
    """CloudFormation's Timeout is whole seconds, 1 to 43,200 (12 hours)."""
    if value.is_unresolved() or value.to_milliseconds() % 1000:
        raise validation.CloudTrailLakeImportPropsError(
            "wait_condition_timeout must be a concrete whole number of seconds; "
            f"got {value.to_human_string()}"
        )
    _check_duration(
        "wait_condition_timeout", value, Duration.seconds(1), MAX_WAIT_CONDITION_TIMEOUT
    )


def _check_duration(prop: str, value: Duration, low: Duration, high: Duration) -> None:
    if value.is_unresolved():
        raise validation.CloudTrailLakeImportPropsError(
            f"{prop} must be a concrete duration (it shapes the state machine at synth time)"
        )
    seconds = value.to_seconds()
    if not low.to_seconds() <= seconds <= high.to_seconds():
        raise validation.CloudTrailLakeImportPropsError(
            f"{prop} must be between {low.to_human_string()} and {high.to_human_string()}; "
            f"got {value.to_human_string()}"
        )


__all__ = ["CloudTrailLakeImportPlan", "ImportSpec", "PlanSplit"]
