"""The CloudTrailLakeImport construct: trail archives in S3 → a CloudTrail Lake event data store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aws_cdk import (
    Annotations,
    CfnOutput,
    CustomResource,
    Duration,
    RemovalPolicy,
    Stack,
    Token,
)
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

from cloudtrail_lake_import import placement, source_statements, validation
from cloudtrail_lake_import.checkov_skips import skip_checks_left_to_defaults
from cloudtrail_lake_import.handler_asset import handler_code
from cloudtrail_lake_import.handler_policies import self_invoke_policy
from cloudtrail_lake_import.log_key_policy import allow_logs_to_use
from cloudtrail_lake_import.nag_acknowledgments import (
    acknowledge_justified_findings,
    acknowledge_security_option_findings,
)
from cloudtrail_lake_import.prop_types import check_prop_types
from constructs import Construct

RESOURCE_TYPE = "Custom::CloudTrailLakeImport"
CLOUDTRAIL_PRINCIPAL = "cloudtrail.amazonaws.com"
# StartImport, GetImport, ListImports, StopImport and ListImportFailures have no resource type
# in the Service Authorization Reference: IAM only accepts them on "*".
IMPORT_ACTIONS = [
    "cloudtrail:StartImport",
    "cloudtrail:GetImport",
    "cloudtrail:ListImports",
    "cloudtrail:StopImport",
    "cloudtrail:ListImportFailures",
]
DEFAULT_RETENTION = Duration.days(2557)
DEFAULT_COMPLETION_TIMEOUT = Duration.minutes(50)
# A handler that waits polls inside one invocation for up to 15 minutes, then continues itself.
WAITING_HANDLER_TIMEOUT = Duration.minutes(15)
QUICK_HANDLER_TIMEOUT = Duration.minutes(3)
QUICK_SERVICE_TIMEOUT = Duration.minutes(5)
# CloudFormation's upper bound for a custom resource's ServiceTimeout.
MAX_SERVICE_TIMEOUT = Duration.minutes(60)
SERVICE_TIMEOUT_MARGIN = Duration.minutes(5)
# A custom resource handler serves one request at a time, plus a brief overlap while a waiting
# invocation hands over to the next one.
DEFAULT_RESERVED_CONCURRENCY = 2
# Lambda's own maximum: a crash or timeout is retried twice (1 and 2 minutes later), and the
# handler tolerates a repeated request (it adopts the import it already started).
ASYNC_RETRY_ATTEMPTS = 2
# Messages in the dead-letter queue hold a CloudFormation request whose ResponseURL expires
# within hours; four days cover a weekend of not looking.
DEAD_LETTER_RETENTION = Duration.days(4)
# With max_ingest_gb the handler lists the window before StartImport: it gets Lambda's longest
# timeout, and CloudFormation waits for it.
GUARDED_SERVICE_TIMEOUT = WAITING_HANDLER_TIMEOUT.plus(SERVICE_TIMEOUT_MARGIN)
GUARDED_MEMORY_MB = 1024


class CloudTrailLakeImport(Construct):
    """Copies CloudTrail trail log files from S3 into a CloudTrail Lake event data store.

    Declares (or takes) the source bucket and the event data store, the role CloudTrail assumes
    to read the bucket, and a custom resource that calls ``StartImport`` on create, retries the
    import by id on update and stops a running import on delete. Nothing here deletes data: the
    bucket and the event data store this construct creates are retained when the stack is deleted.

    :ivar import_id: the import's id (GetAtt ``ImportId``); ``none`` when the prefix held no file.
    :ivar import_status: the import's status when the deploy answered (GetAtt ``ImportStatus``);
        ``NO_SOURCE_FILES`` when the prefix held no file.
    :ivar import_estimated_gb: with ``max_ingest_gb``, the cost guard's estimate in uncompressed
        GB, six decimals (GetAtt ``ImportEstimatedGB``; ``unknown`` when an Update that keeps
        the import cannot estimate in time); ``None`` without the guard.
    :ivar event_data_store_arn: the ARN of the event data store the import writes to.
    :ivar event_data_store: the ``CfnEventDataStore`` the construct created or was given;
        ``None`` when the store was given by ARN.
    :ivar source_bucket: the bucket holding the trail archive (given or created).
    :ivar source_bucket_account: the bucket's account when it is known to be another account
        than the stack's, else ``None``.
    :ivar source_encryption_key: the KMS key of the source bucket, if known.
    :ivar access_role: the role CloudTrail assumes to read the bucket (``S3BucketAccessRoleArn``).
    :ivar handler: the custom resource's Lambda function.
    :ivar log_group: the handler's log group.
    :ivar handler_dead_letter_queue: where Lambda puts a request or continuation of the handler
        it gave up on (SQS).
    :ivar custom_resource: the ``Custom::CloudTrailLakeImport`` resource.
    :ivar wait_for_completion: whether the deployment waits for the import to complete.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        source_bucket: s3.IBucket | None = None,
        source_prefix: str = "",
        source_encryption_key: kms.IKey | None = None,
        event_data_store: cloudtrail.CfnEventDataStore | str | None = None,
        event_data_store_retention: Duration | None = None,
        event_data_store_termination_protection: bool | None = None,
        event_data_store_encryption_key: kms.IKey | None = None,
        event_data_store_billing_mode: str | None = None,
        event_data_store_organization_enabled: bool | None = None,
        access_role_name: str | None = None,
        handler_role_name: str | None = None,
        start_event_time: datetime | None = None,
        end_event_time: datetime | None = None,
        wait_for_completion: bool = False,
        completion_timeout: Duration | None = None,
        stop_on_delete: bool = True,
        retry_token: str | None = None,
        max_ingest_gb: float | None = None,
        allow_overlap: bool = False,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        log_encryption_key: kms.IKey | None = None,
        reserved_concurrent_executions: int | None = DEFAULT_RESERVED_CONCURRENCY,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        server_access_logs_bucket: s3.IBucket | None = None,
        server_access_logs_prefix: str | None = None,
    ) -> None:
        """Create the import.

        :param source_bucket: bucket holding the trail archive; default: a new bucket with ACLs
            disabled, public access blocked, SSL enforced, encryption, versioning, retained.
        :param source_prefix: key prefix to import, e.g. ``AWSLogs/123456789012/CloudTrail/``;
            default: the whole bucket (CloudTrail then copies the ``CloudTrail`` prefixes).
        :param source_encryption_key: the KMS key of an SSE-KMS source bucket; default: the
            bucket's own ``encryption_key`` when it has one (an imported SSE-KMS bucket needs it).
        :param event_data_store: an existing store (construct or ARN); default: a new
            import-only store (ingestion off, termination protection on, retained).
        :param event_data_store_retention: retention of the new store, 7 to 3653 days; default
            2557 days. Events older than this are not copied.
        :param event_data_store_termination_protection: for the new store; default true.
        :param event_data_store_encryption_key: KMS key of the new store.
        :param event_data_store_billing_mode: billing mode of the new store,
            ``EXTENDABLE_RETENTION_PRICING`` (retention up to 3653 days) or
            ``FIXED_RETENTION_PRICING`` (up to 2557 days); default: CloudTrail's (extendable).
        :param event_data_store_organization_enabled: make the new store an organization store
            (events of every account of the organization); default false. Only the
            organization's management account can import into one.
        :param access_role_name: physical name of the access role; default: generated. Give
            one when the bucket is in another account, so its owner can name the role (synth
            warns ``cloudtrail-lake-import:crossAccountRoleNames`` without both role names).
        :param handler_role_name: physical name of the handler's role; default: generated.
            Give one when the bucket is in another account (the owner grants it the preflight's
            ``s3:GetBucketOwnershipControls``).
        :param start_event_time: timezone-aware start of the window (matched against the dates
            in prefix and file names); default: no lower bound.
        :param end_event_time: timezone-aware end of the window; default: no upper bound.
        :param wait_for_completion: the deployment waits until the import has completed and
            fails if it fails; default false (the deployment succeeds once the import started).
        :param completion_timeout: how long to wait, 1 to 60 minutes; default 50 minutes.
        :param stop_on_delete: stop a running import when the resource is deleted or replaced;
            default true. Imported events are never deleted.
        :param retry_token: change it on a deploy to retry a FAILED or STOPPED import.
        :param max_ingest_gb: the cost guard: before StartImport the handler counts the
            uncompressed GB (10^9 bytes) the import would ingest (what CloudTrail Lake bills)
            and fails without starting it when they exceed this; ``import_estimated_gb`` reports
            the figure. The handler then needs to list the prefix and read its objects (one
            4-byte ranged GET per log file) and gets a 15-minute timeout. Default: no guard.
        :param allow_overlap: start the import even when a COMPLETED or running import in the
            same store already holds part of its window from the same bucket (one prefix
            containing the other, a shared UTC day). Those events are then imported, billed
            and kept twice: an event in a store can never be deleted. Default false: the
            deployment fails with ``OverlappingImport`` naming that import, nothing started.
        :param log_retention: retention of the handler's log group; default one year.
        :param log_encryption_key: KMS key that encrypts the handler's log group; default:
            CloudWatch Logs' own encryption. A key in this stack gets the key policy statement
            for CloudWatch Logs; an imported key must have it already (synth warns).
        :param reserved_concurrent_executions: concurrency reserved for the handler; default 2.
            None reserves nothing (accounts whose concurrency quota is 10 cannot reserve).
        :param vpc: run the handler in this VPC; it then needs VPC endpoints or NAT for
            CloudTrail, S3, Lambda and the CloudFormation response URL (an S3 URL). An S3
            gateway endpoint serves only its own region: a bucket in another region needs NAT.
            With an organization store (or a store given by ARN) the preflight also calls
            ``organizations:DescribeOrganization``: NAT or an AWS Organizations endpoint.
        :param vpc_subnets: where in ``vpc``; default: the VPC's private subnets.
        :param security_groups: of the handler; default: a new group allowing HTTPS out, nothing in.
        :param server_access_logs_bucket: S3 server access logs of the bucket this construct
            creates go there; default: none (CloudTrail records the import role's reads).
        :param server_access_logs_prefix: key prefix of those logs; needs
            ``server_access_logs_bucket``.
        """
        super().__init__(scope, id)
        check_prop_types(
            source_bucket=source_bucket,
            source_prefix=source_prefix,
            source_encryption_key=source_encryption_key,
            event_data_store=event_data_store,
            event_data_store_retention=event_data_store_retention,
            event_data_store_termination_protection=event_data_store_termination_protection,
            event_data_store_encryption_key=event_data_store_encryption_key,
            event_data_store_billing_mode=event_data_store_billing_mode,
            event_data_store_organization_enabled=event_data_store_organization_enabled,
            access_role_name=access_role_name,
            handler_role_name=handler_role_name,
            start_event_time=start_event_time,
            end_event_time=end_event_time,
            wait_for_completion=wait_for_completion,
            completion_timeout=completion_timeout,
            stop_on_delete=stop_on_delete,
            retry_token=retry_token,
            max_ingest_gb=max_ingest_gb,
            log_retention=log_retention,
            log_encryption_key=log_encryption_key,
            reserved_concurrent_executions=reserved_concurrent_executions,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=security_groups,
            server_access_logs_bucket=server_access_logs_bucket,
            server_access_logs_prefix=server_access_logs_prefix,
        )
        validation.check_new_store_only(
            event_data_store is not None,
            event_data_store_retention=event_data_store_retention,
            event_data_store_termination_protection=event_data_store_termination_protection,
            event_data_store_encryption_key=event_data_store_encryption_key,
            event_data_store_billing_mode=event_data_store_billing_mode,
            event_data_store_organization_enabled=event_data_store_organization_enabled,
        )
        if isinstance(event_data_store, str):
            validation.check_event_data_store_arn(event_data_store)
            validation.check_store_account(Stack.of(self).account, event_data_store)
        retention = event_data_store_retention or DEFAULT_RETENTION
        validation.check_billing_mode(event_data_store_billing_mode)
        validation.check_retention(retention, event_data_store_billing_mode)
        window = (
            validation.format_event_time("start_event_time", start_event_time),
            validation.format_event_time("end_event_time", end_event_time),
        )
        validation.check_event_window(*window)
        completion_timeout = completion_timeout or DEFAULT_COMPLETION_TIMEOUT
        validation.check_completion_timeout(completion_timeout)
        prefix = validation.check_source_prefix(source_prefix)
        validation.check_max_ingest_gb(max_ingest_gb)
        validation.check_allow_overlap(allow_overlap)
        guarded = max_ingest_gb is not None
        self.wait_for_completion = wait_for_completion
        validation.check_reserved_concurrency(
            reserved_concurrent_executions, wait_for_completion=wait_for_completion
        )
        validation.check_vpc_props(
            vpc is not None, vpc_subnets=vpc_subnets, security_groups=security_groups
        )
        validation.check_new_bucket_only(
            source_bucket is not None,
            server_access_logs_bucket=server_access_logs_bucket,
            server_access_logs_prefix=server_access_logs_prefix,
        )
        validation.check_access_logs_prefix(
            server_access_logs_bucket is not None, server_access_logs_prefix
        )

        if source_bucket is not None:
            placement.warn_if_acls_enabled(self, source_bucket)
        self.source_bucket: s3.IBucket = source_bucket or self._new_source_bucket(
            source_encryption_key, server_access_logs_bucket, server_access_logs_prefix
        )
        # A bucket declared with SSE-KMS knows its key; an imported one does not.
        self.source_encryption_key = source_encryption_key or (
            source_bucket.encryption_key if source_bucket is not None else None
        )
        self.event_data_store: cloudtrail.CfnEventDataStore | None
        self.event_data_store_arn: str
        if event_data_store is None:
            self.event_data_store = self._new_event_data_store(
                retention=retention,
                termination_protection=event_data_store_termination_protection,
                encryption_key=event_data_store_encryption_key,
                billing_mode=event_data_store_billing_mode,
                organization_enabled=event_data_store_organization_enabled,
            )
            self.event_data_store_arn = self.event_data_store.attr_event_data_store_arn
            self._warn_if_window_outside_retention(start_event_time, retention)
        elif isinstance(event_data_store, str):
            self.event_data_store = None
            self.event_data_store_arn = event_data_store
        else:
            self.event_data_store = event_data_store
            self.event_data_store_arn = event_data_store.attr_event_data_store_arn
            self._warn_if_live_events_may_overlap(event_data_store, end_event_time)

        self.source_bucket_account = _other_account(self.source_bucket, Stack.of(self))
        if self.source_bucket_account is not None:
            placement.warn_without_fixed_role_names(
                self,
                self.source_bucket_account,
                access_role_name=access_role_name,
                handler_role_name=handler_role_name,
            )
        self.access_role = self._new_access_role(prefix, access_role_name)
        self.handler_dead_letter_queue = self._new_dead_letter_queue()
        log_group = self._new_handler_log_group(log_retention, log_encryption_key)
        self.handler, self._self_invoke_policy = self._new_handler(
            wait_for_completion,
            log_group,
            HandlerNetwork(vpc, vpc_subnets, security_groups),
            reserved_concurrent_executions,
            prefix=prefix,
            max_event_age=_service_timeout(
                wait_for_completion, completion_timeout, guarded=guarded
            ),
            guarded=guarded,
            role_name=handler_role_name,
        )
        self.log_group: logs.ILogGroup = self.handler.log_group
        earlier = placement.earlier_imports_in_stack(self, CloudTrailLakeImport)
        self.custom_resource = self._new_custom_resource(
            prefix=prefix,
            window=window,
            wait_for_completion=wait_for_completion,
            completion_timeout=completion_timeout,
            stop_on_delete=stop_on_delete,
            retry_token=retry_token,
            max_ingest_gb=max_ingest_gb,
            allow_overlap=allow_overlap,
        )
        placement.order_after_sibling_imports(
            self,
            self.custom_resource,
            earlier=[(e, e.custom_resource, e.wait_for_completion) for e in earlier],
        )
        self.import_id: str = self.custom_resource.get_att_string("ImportId")
        self.import_status: str = self.custom_resource.get_att_string("ImportStatus")
        # The cost guard's estimate in GB (a string, six decimals); None without max_ingest_gb.
        self.import_estimated_gb: str | None = (
            self.custom_resource.get_att_string("ImportEstimatedGB") if guarded else None
        )
        self._publish_source_statements(
            prefix,
            bucket=self.source_bucket_account is not None,
            key=self.source_bucket_account is not None
            or _other_account(source_encryption_key, Stack.of(self)) is not None,
            handler_reads_objects=guarded,
        )
        acknowledge_justified_findings(
            handler_role=self.handler.role,
            access_role=self.access_role,
            source_bucket=self.source_bucket,
            prefix=prefix,
            created_bucket=source_bucket is None,
            handler_reads_objects=guarded,
        )
        acknowledge_security_option_findings(
            vpc_access_policy=self._vpc_access_policy,
        )
        skip_checks_left_to_defaults(
            handler=self.handler,
            log_group=log_group,
            created_bucket=None if source_bucket is not None else self.source_bucket,
            vpc_access_policy=self._vpc_access_policy,
            concurrency_reserved=reserved_concurrent_executions is not None,
            logs_encrypted=log_encryption_key is not None,
            access_logged=server_access_logs_bucket is not None,
        )

    def _new_source_bucket(
        self,
        encryption_key: kms.IKey | None,
        access_logs_bucket: s3.IBucket | None,
        access_logs_prefix: str | None,
    ) -> s3.Bucket:
        # StartImport refuses buckets with ACLs enabled: BucketOwnerEnforced disables them.
        return s3.Bucket(
            self,
            "SourceBucket",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.KMS
            if encryption_key
            else s3.BucketEncryption.S3_MANAGED,
            encryption_key=encryption_key,
            bucket_key_enabled=encryption_key is not None or None,
            versioned=True,
            removal_policy=RemovalPolicy.RETAIN,
            server_access_logs_bucket=access_logs_bucket,
            server_access_logs_prefix=access_logs_prefix,
        )

    def _new_event_data_store(
        self,
        *,
        retention: Duration,
        termination_protection: bool | None,
        encryption_key: kms.IKey | None,
        billing_mode: str | None,
        organization_enabled: bool | None,
    ) -> cloudtrail.CfnEventDataStore:
        if encryption_key is not None:
            # CloudTrail encrypts the store's events with this key; the key policy must say so.
            # CloudTrail does not support aws:SourceArn/aws:SourceAccount conditions here.
            added = encryption_key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowCloudTrailLakeEventDataStore",
                    principals=[iam.ServicePrincipal(CLOUDTRAIL_PRINCIPAL)],
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=["*"],
                )
            )
            if not added.statement_added:
                Annotations.of(self).add_warning_v2(
                    "cloudtrail-lake-import:keyPolicy",
                    "event_data_store_encryption_key is an imported key: add a key policy "
                    "statement allowing cloudtrail.amazonaws.com kms:GenerateDataKey and "
                    "kms:Decrypt, or CloudTrail refuses the store",
                )
        store = cloudtrail.CfnEventDataStore(
            self,
            "EventDataStore",
            ingestion_enabled=False,
            retention_period=retention.to_days(),
            termination_protection_enabled=(
                True if termination_protection is None else termination_protection
            ),
            kms_key_id=encryption_key.key_arn if encryption_key else None,
            billing_mode=billing_mode,
            multi_region_enabled=True,
            organization_enabled=organization_enabled or None,
        )
        store.apply_removal_policy(RemovalPolicy.RETAIN)
        return store

    def _warn_if_window_outside_retention(
        self, start: datetime | None, retention: Duration
    ) -> None:
        oldest = validation.oldest_retained_event(retention)
        if start is not None and oldest is not None and start < oldest:
            Annotations.of(self).add_warning_v2(
                "cloudtrail-lake-import:retention",
                f"start_event_time {start.isoformat()} is older than the event data store's "
                f"retention ({retention.to_days()} days): events before {oldest:%Y-%m-%d} are "
                "not copied. Raise event_data_store_retention to keep them",
            )

    def _warn_if_live_events_may_overlap(
        self, store: cloudtrail.CfnEventDataStore, end: datetime | None
    ) -> None:
        # A store that also ingests live events holds twice the events its trail archived after
        # the store was created; AWS advises a window that ends before then.
        if store.ingestion_enabled is not False and end is None:
            Annotations.of(self).add_warning_v2(
                "cloudtrail-lake-import:overlap",
                "event_data_store ingests live events and end_event_time is not set: archived "
                "events from after the store's creation are stored twice. Set end_event_time "
                "to when the store was created",
            )

    def _new_access_role(self, prefix: str, role_name: str | None) -> iam.Role:
        # The confused-deputy conditions tie the role to this account and this one store.
        account = Stack.of(self).account
        source_conditions = {
            "StringEquals": {
                "aws:SourceAccount": account,
                "aws:SourceArn": self.event_data_store_arn,
            }
        }
        role = iam.Role(
            self,
            "AccessRole",
            role_name=role_name,
            assumed_by=iam.ServicePrincipal(CLOUDTRAIL_PRINCIPAL, conditions=source_conditions),
            description="Lets CloudTrail Lake read the trail archive it imports",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket", "s3:GetBucketAcl"],
                resources=[self.source_bucket.bucket_arn],
                conditions=source_conditions,
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[self.source_bucket.arn_for_objects(f"{prefix}*")],
                conditions=source_conditions,
            )
        )
        if self.source_encryption_key is not None:
            role.add_to_policy(
                iam.PolicyStatement(
                    # As CloudTrail's import documentation writes it: no kms:ViaService.
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[self.source_encryption_key.key_arn],
                )
            )
        return role

    def _new_dead_letter_queue(self) -> sqs.Queue:
        # Where Lambda puts a request or continuation it gave up on (retries exhausted or older
        # than max_event_age): without it a lost continuation is invisible and the stack waits
        # out its service timeout. AWS-managed SQS key: free, and usable by the handler role.
        return sqs.Queue(
            self,
            "HandlerDeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS_MANAGED,
            enforce_ssl=True,
            retention_period=DEAD_LETTER_RETENTION,
        )

    def _new_handler_log_group(
        self, retention: logs.RetentionDays, encryption_key: kms.IKey | None
    ) -> logs.LogGroup:
        if encryption_key is not None:
            allow_logs_to_use(
                self,
                encryption_key,
                sid="AllowCloudWatchLogsForCloudTrailLakeImport",
                warning_id="cloudtrail-lake-import:logKeyPolicy",
                log_groups="the log group",
            )
        return logs.LogGroup(
            self, "HandlerLogs", retention=retention, encryption_key=encryption_key
        )

    def _new_handler(
        self,
        wait_for_completion: bool,
        log_group: logs.LogGroup,
        network: HandlerNetwork,
        reserved_concurrency: int | None,
        *,
        prefix: str,
        max_event_age: Duration,
        role_name: str | None,
        guarded: bool,
    ) -> tuple[lambda_.Function, iam.Policy]:
        role = iam.Role(
            self,
            "HandlerRole",
            role_name=role_name,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Runs the CloudTrail Lake import custom resource",
        )
        log_group.grant_write(role)
        role.add_to_policy(iam.PolicyStatement(actions=IMPORT_ACTIONS, resources=["*"]))
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudtrail:GetEventDataStore"], resources=[self.event_data_store_arn]
            )
        )
        # CloudTrail, and only CloudTrail, may be handed the access role.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.access_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": CLOUDTRAIL_PRINCIPAL}},
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetBucketOwnershipControls"],
                resources=[self.source_bucket.bucket_arn],
            )
        )
        role.add_to_policy(_list_prefix_statement(self.source_bucket, prefix))
        if self._may_be_organization_store():
            # The preflight tells a member account that only the management account can import
            # into an organization store. DescribeOrganization has no resource type: IAM only
            # accepts it on "*"; it reveals the organization's id and management account.
            role.add_to_policy(
                iam.PolicyStatement(actions=["organizations:DescribeOrganization"], resources=["*"])
            )
        if guarded:
            self._grant_estimate(role, prefix)
        security_groups = self._handler_security_groups(network)
        function = lambda_.Function(
            self,
            "Handler",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler="index.handler",
            code=handler_code(),
            role=role,
            log_group=log_group,
            # The guard holds every selected file's key in memory (about 300 B each): 1 GB for
            # a window of a few million files, and Lambda's CPU and network grow with it.
            memory_size=GUARDED_MEMORY_MB if guarded else 256,
            timeout=WAITING_HANDLER_TIMEOUT
            if wait_for_completion or guarded
            else QUICK_HANDLER_TIMEOUT,
            description="CloudTrail Lake import custom resource (cdk-cloudtrail-lake-import)",
            reserved_concurrent_executions=reserved_concurrency,
            # CloudFormation and the handler itself invoke asynchronously. A request older than
            # the service timeout has no listener left and must not start an import late.
            retry_attempts=ASYNC_RETRY_ATTEMPTS,
            max_event_age=max_event_age,
            dead_letter_queue=self.handler_dead_letter_queue,
            vpc=network.vpc,
            vpc_subnets=network.vpc_subnets,
            security_groups=security_groups,
        )
        self._vpc_access_policy = None
        if network.vpc is not None:
            # Lambda checks these permissions when it creates the function in the VPC.
            self._vpc_access_policy = self._new_vpc_access_policy(role)
            function.node.add_dependency(self._vpc_access_policy)
        return function, self_invoke_policy(self, role, function)

    def _handler_security_groups(self, network: HandlerNetwork) -> list[ec2.ISecurityGroup] | None:
        if network.vpc is None:
            return None
        if network.security_groups:
            return list(network.security_groups)
        # Every endpoint the handler calls (AWS APIs, the response URL) speaks HTTPS.
        group = ec2.SecurityGroup(
            self,
            "HandlerSecurityGroup",
            vpc=network.vpc,
            description="CloudTrail Lake import handler: HTTPS out only",
            allow_all_outbound=False,
        )
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs")
        return [group]

    def _new_vpc_access_policy(self, role: iam.IRole) -> iam.Policy:
        # What AWS's AWSLambdaVPCAccessExecutionRole grants, inline: Lambda manages the
        # function's network interfaces with the execution role (no resource-level scoping).
        return iam.Policy(
            self,
            "HandlerVpcAccessPolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    actions=[
                        "ec2:CreateNetworkInterface",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DescribeSubnets",
                        "ec2:DeleteNetworkInterface",
                        "ec2:AssignPrivateIpAddresses",
                        "ec2:UnassignPrivateIpAddresses",
                    ],
                    resources=["*"],
                )
            ],
        )

    def _grant_estimate(self, role: iam.Role, prefix: str) -> None:
        """What the cost guard's estimate reads: the prefix's folders and the gzip trailers."""
        conditions = {"StringLike": {"s3:prefix": f"{prefix}*"}} if prefix else None
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[self.source_bucket.bucket_arn],
                conditions=conditions,
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[self.source_bucket.arn_for_objects(f"{prefix}*")],
            )
        )
        if self.source_encryption_key is not None:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["kms:Decrypt"],
                    resources=[self.source_encryption_key.key_arn],
                )
            )

    def _new_custom_resource(
        self,
        *,
        prefix: str,
        window: tuple[str | None, str | None],
        wait_for_completion: bool,
        completion_timeout: Duration,
        stop_on_delete: bool,
        retry_token: str | None,
        max_ingest_gb: float | None,
        allow_overlap: bool,
    ) -> CustomResource:
        properties: dict[str, object] = {
            "Destinations": [self.event_data_store_arn],
            "ImportSource": {
                "S3": {
                    "S3LocationUri": f"s3://{self.source_bucket.bucket_name}/{prefix}",
                    "S3BucketRegion": self.source_bucket.env.region,
                    "S3BucketAccessRoleArn": self.access_role.role_arn,
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
        if self.source_bucket_account is not None:
            # The preflight reads the bucket as its owner allows, and quotes what to grant.
            properties["SourceBucketOwner"] = self.source_bucket_account
            properties["HandlerRoleArn"] = self.handler.role.role_arn  # type: ignore[union-attr]
        if max_ingest_gb is not None:
            properties["MaxIngestGB"] = validation.max_ingest_gb_property(max_ingest_gb)
        if allow_overlap:
            # Only when set: the templates of every other import stay as they were.
            properties["AllowOverlap"] = _flag(True)
        resource = CustomResource(
            self,
            "Resource",
            service_token=self.handler.function_arn,
            resource_type=RESOURCE_TYPE,
            properties=properties,
            service_timeout=_service_timeout(
                wait_for_completion, completion_timeout, guarded=max_ingest_gb is not None
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
        resource.node.add_dependency(self._self_invoke_policy)
        # The access role's policy must exist before CloudTrail uses the role (the role itself
        # is already a dependency through its ARN).
        resource.node.add_dependency(self.access_role.node.find_child("DefaultPolicy"))
        return resource

    def _may_be_organization_store(self) -> bool:
        if self.event_data_store is None:
            return True  # a store given by ARN: only the handler can tell
        enabled = self.event_data_store.organization_enabled
        return enabled is not None and enabled is not False

    def _publish_source_statements(
        self, prefix: str, *, bucket: bool, key: bool, handler_reads_objects: bool
    ) -> None:
        """What the owner of a bucket (or key) in another account must add to its policies;
        with the cost guard, also the handler role's reads of the objects (its estimate).

        ``CloudTrailLakeImportSourceAccess`` adds exactly these in the owner's stack; the
        outputs (values known at deploy) and synth messages are for policies written by hand.
        """
        source = self.source_bucket
        objects_arn = source.arn_for_objects(f"{prefix}*")
        published: list[tuple[str, str, list[iam.PolicyStatement]]] = []
        stack = Stack.of(self)
        access_role_arn = self._role_arn_for_owner(self.access_role)
        handler_role_arn = self._role_arn_for_owner(self.handler.role)
        if bucket:
            statements = source_statements.bucket_policy_statements(
                importer_account=stack.account,
                bucket_arn=source.bucket_arn,
                prefix=prefix,
                access_role_arn=access_role_arn,
                handler_role_arn=handler_role_arn,
                handler_reads_objects=handler_reads_objects,
            )
            published.append(("SourceBucketPolicyStatements", "the bucket policy", statements))
        if key and self.source_encryption_key is not None:
            readers = [(source_statements.SID_DECRYPT, access_role_arn)]
            if handler_reads_objects:
                readers.append((source_statements.SID_ESTIMATE_DECRYPT, handler_role_arn))
            key_statements = [
                source_statements.key_policy_statement(
                    importer_account=stack.account,
                    role_arn=role_arn,
                    bucket_arn=source.bucket_arn,
                    objects_arn=objects_arn,
                    sid=sid,
                )
                for sid, role_arn in readers
            ]
            published.append(("SourceKeyPolicyStatements", "the key policy", key_statements))
        construct_options = ", handler_reads_objects=True" if handler_reads_objects else ""
        for output_id, where, statements in published:
            CfnOutput(
                self,
                output_id,
                value=stack.to_json_string([s.to_statement_json() for s in statements]),
                description=f"Statements the trail archive's owner adds to {where}",
            )
            Annotations.of(self).add_info(
                f"the trail archive's owner must add to {where} (or deploy "
                f"CloudTrailLakeImportSourceAccess with these role ARNs{construct_options}): "
                + source_statements.for_people(stack, statements)
            )

    def _role_arn_for_owner(self, role: iam.IRole | None) -> str:
        """A named role's ARN written out (readable at synth, no dependency on the role)."""
        assert isinstance(role, iam.Role)
        name = role.node.default_child.role_name  # type: ignore[union-attr]
        if isinstance(name, str) and not Token.is_unresolved(name):
            return Stack.of(self).format_arn(
                service="iam", region="", resource="role", resource_name=name
            )
        return role.role_arn


def _other_account(resource: s3.IBucket | kms.IKey | None, stack: Stack) -> str | None:
    """The account of a bucket or key that lives in another account than ``stack``, if known."""
    if resource is None:
        return None
    account = resource.env.account
    if Token.is_unresolved(account) or account == stack.account:
        return None
    # An environment-agnostic stack's account is unknown: a bucket given with an account is
    # taken to be another account's (the published statements are harmless if it is not).
    return account


def _list_prefix_statement(bucket: s3.IBucket, prefix: str) -> iam.PolicyStatement:
    """The preflight lists one key under the prefix (is there anything to import yet?)."""
    # Only that listing: the s3:prefix condition keeps the handler from listing elsewhere.
    conditions = {"StringEquals": {"s3:prefix": prefix}} if prefix else None
    return iam.PolicyStatement(
        actions=["s3:ListBucket"], resources=[bucket.bucket_arn], conditions=conditions
    )


@dataclass(frozen=True)
class HandlerNetwork:
    """Where the handler runs: outside any VPC unless ``vpc`` is given."""

    vpc: ec2.IVpc | None
    vpc_subnets: ec2.SubnetSelection | None
    security_groups: Sequence[ec2.ISecurityGroup] | None


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _service_timeout(
    wait_for_completion: bool, completion_timeout: Duration, *, guarded: bool
) -> Duration:
    floor = GUARDED_SERVICE_TIMEOUT.to_seconds() if guarded else 0
    if not wait_for_completion:
        return GUARDED_SERVICE_TIMEOUT if guarded else QUICK_SERVICE_TIMEOUT
    if completion_timeout.is_unresolved():
        return MAX_SERVICE_TIMEOUT
    seconds = max(floor, completion_timeout.to_seconds() + SERVICE_TIMEOUT_MARGIN.to_seconds())
    return Duration.seconds(min(seconds, MAX_SERVICE_TIMEOUT.to_seconds()))
