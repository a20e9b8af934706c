"""The CloudTrailLakeImport construct: trail archives in S3 → a CloudTrail Lake event data store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aws_cdk import Annotations, Duration, Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3

from cloudtrail_lake_import import validation
from cloudtrail_lake_import.policy.checkov_skips import skip_checks_left_to_defaults
from cloudtrail_lake_import.policy.log_key_policy import allow_logs_to_use
from cloudtrail_lake_import.policy.nag_acknowledgments import (
    acknowledge_justified_findings,
    acknowledge_security_option_findings,
)
from cloudtrail_lake_import.single_import import placement
from cloudtrail_lake_import.single_import.access_role import ImportAccessRole
from cloudtrail_lake_import.single_import.event_data_store import (
    ImportEventDataStore,
    allow_cloudtrail_to_use,
)
from cloudtrail_lake_import.single_import.handler import (
    HandlerNetwork,
    HandlerSource,
    ImportHandler,
)
from cloudtrail_lake_import.single_import.handler_permissions import IMPORT_ACTIONS
from cloudtrail_lake_import.single_import.import_resource import (
    RESOURCE_TYPE,
    ImportResource,
    service_timeout,
)
from cloudtrail_lake_import.single_import.prop_types import check_prop_types
from cloudtrail_lake_import.single_import.source_bucket import ImportSourceBucket
from cloudtrail_lake_import.single_import.source_owner import (
    other_account,
    publish_source_statements,
)
from constructs import Construct

__all__ = ["IMPORT_ACTIONS", "RESOURCE_TYPE", "CloudTrailLakeImport"]

DEFAULT_RETENTION = Duration.days(2557)
DEFAULT_COMPLETION_TIMEOUT = Duration.minutes(50)
# A custom resource handler serves one request at a time, plus a brief overlap while a waiting
# invocation hands over to the next one.
DEFAULT_RESERVED_CONCURRENCY = 2


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

        network = HandlerNetwork(vpc, vpc_subnets, security_groups)

        if source_bucket is not None:
            placement.warn_if_acls_enabled(self, source_bucket)
            self.source_bucket: s3.IBucket = source_bucket
        else:
            self.source_bucket = ImportSourceBucket(
                self,
                "SourceBucket",
                encryption_key=source_encryption_key,
                server_access_logs_bucket=server_access_logs_bucket,
                server_access_logs_prefix=server_access_logs_prefix,
            ).bucket
        # A bucket declared with SSE-KMS knows its key; an imported one does not.
        self.source_encryption_key = source_encryption_key or (
            source_bucket.encryption_key if source_bucket is not None else None
        )
        self.source_bucket_account = other_account(self.source_bucket, Stack.of(self))
        if self.source_bucket_account is not None:
            placement.warn_without_fixed_role_names(
                self,
                self.source_bucket_account,
                access_role_name=access_role_name,
                handler_role_name=handler_role_name,
            )

        self.event_data_store: cloudtrail.CfnEventDataStore | None
        self.event_data_store_arn: str
        if event_data_store is None:
            if event_data_store_encryption_key is not None:
                # CloudTrail encrypts the store's events with this key.
                allow_cloudtrail_to_use(self, event_data_store_encryption_key)
            self.event_data_store = ImportEventDataStore(
                self,
                "EventDataStore",
                retention=retention,
                termination_protection=event_data_store_termination_protection,
                encryption_key=event_data_store_encryption_key,
                billing_mode=event_data_store_billing_mode,
                organization_enabled=event_data_store_organization_enabled,
            ).store
            self.event_data_store_arn = self.event_data_store.attr_event_data_store_arn
            self._warn_if_window_outside_retention(start_event_time, retention)
        elif isinstance(event_data_store, str):
            self.event_data_store = None
            self.event_data_store_arn = event_data_store
        else:
            self.event_data_store = event_data_store
            self.event_data_store_arn = event_data_store.attr_event_data_store_arn
            self._warn_if_live_events_may_overlap(event_data_store, end_event_time)

        self.access_role = ImportAccessRole(
            self,
            "AccessRole",
            bucket=self.source_bucket,
            prefix=prefix,
            encryption_key=self.source_encryption_key,
            event_data_store_arn=self.event_data_store_arn,
            role_name=access_role_name,
        ).role

        request_lifetime = service_timeout(wait_for_completion, completion_timeout, guarded=guarded)
        if log_encryption_key is not None:
            allow_logs_to_use(
                self,
                log_encryption_key,
                sid="AllowCloudWatchLogsForCloudTrailLakeImport",
                warning_id="cloudtrail-lake-import:logKeyPolicy",
                log_groups="the log group",
            )
        handler = ImportHandler(
            self,
            "Handler",
            source=HandlerSource(
                bucket=self.source_bucket,
                prefix=prefix,
                encryption_key=self.source_encryption_key,
                event_data_store_arn=self.event_data_store_arn,
                may_be_organization_store=self._may_be_organization_store(),
                access_role=self.access_role,
            ),
            waits=wait_for_completion,
            guarded=guarded,
            # A request older than the service timeout has no listener left.
            max_event_age=request_lifetime,
            role_name=handler_role_name,
            log_retention=log_retention,
            log_encryption_key=log_encryption_key,
            reserved_concurrency=reserved_concurrent_executions,
            network=network,
        )
        self.handler = handler.function
        self.log_group: logs.ILogGroup = handler.log_group
        self.handler_dead_letter_queue = handler.dead_letter_queue

        earlier = placement.earlier_imports_in_stack(self, CloudTrailLakeImport)
        self.custom_resource = ImportResource(
            self,
            "Resource",
            service_token=self.handler.function_arn,
            event_data_store_arn=self.event_data_store_arn,
            source_bucket=self.source_bucket,
            prefix=prefix,
            access_role=self.access_role,
            window=window,
            wait_for_completion=wait_for_completion,
            completion_timeout=completion_timeout,
            stop_on_delete=stop_on_delete,
            retry_token=retry_token,
            max_ingest_gb=max_ingest_gb,
            allow_overlap=allow_overlap,
            source_bucket_owner=self.source_bucket_account,
            handler_role=handler.role,
            depends_on=handler.self_invoke_policy,
        ).resource
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

        publish_source_statements(
            self,
            source=self.source_bucket,
            encryption_key=self.source_encryption_key,
            prefix=prefix,
            access_role=self.access_role,
            handler_role=handler.role,
            bucket=self.source_bucket_account is not None,
            key=self.source_bucket_account is not None
            or other_account(source_encryption_key, Stack.of(self)) is not None,
            handler_reads_objects=guarded,
        )
        acknowledge_justified_findings(
            handler_role=handler.role,
            access_role=self.access_role,
            source_bucket=self.source_bucket,
            prefix=prefix,
            created_bucket=source_bucket is None,
            handler_reads_objects=guarded,
        )
        acknowledge_security_option_findings(vpc_access_policy=handler.vpc_access_policy)
        skip_checks_left_to_defaults(
            handler=self.handler,
            log_group=handler.log_group,
            created_bucket=None if source_bucket is not None else self.source_bucket,
            vpc_access_policy=handler.vpc_access_policy,
            concurrency_reserved=reserved_concurrent_executions is not None,
            logs_encrypted=log_encryption_key is not None,
            access_logged=server_access_logs_bucket is not None,
        )

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

    def _may_be_organization_store(self) -> bool:
        if self.event_data_store is None:
            return True  # a store given by ARN: only the handler can tell
        enabled = self.event_data_store.organization_enabled
        return enabled is not None and enabled is not False
