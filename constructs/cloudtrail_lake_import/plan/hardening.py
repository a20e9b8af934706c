"""The plan's custom resource handler, hardened like the single import's: bounded
asynchronous retries into an encrypted dead-letter queue, reserved concurrency, KMS-encrypted
logs on request, and the checkov skips for what the user's props left at their defaults."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs

from cloudtrail_lake_import.policy import checkov_skips, log_key_policy
from cloudtrail_lake_import.policy.checkov_skips import Skip, skip_checks
from constructs import Construct, IConstruct

# A custom resource handler serves one request at a time; the second covers a retry that
# overlaps a slow first attempt.
DEFAULT_RESERVED_CONCURRENCY = 2
# Lambda's maximum: a crash or timeout is retried twice; a repeated request adopts the
# execution it already started (execution names are derived from the plan).
ASYNC_RETRY_ATTEMPTS = 2
# A message holds a CloudFormation request whose ResponseURL expires within hours; four days
# cover a weekend of not looking.
DEAD_LETTER_RETENTION = Duration.days(4)

PLAN_HANDLER_OUTSIDE_VPC = Skip(
    "CKV_AWS_117",
    "The plan's handler calls only AWS APIs (CloudTrail, S3, Step Functions) and the "
    "CloudFormation response URL over TLS; it serves nothing and reaches no private resource, "
    "so a VPC adds no protection.",
)
PLAN_LOGS_WITHOUT_KMS = Skip(
    "CKV_AWS_158",
    "The state machine logs each segment's StartImport request and outcome (bucket, prefix, "
    "window, role and import ids), no event and no credential; CloudWatch Logs encrypts them "
    "at rest with its own key. Pass log_encryption_key to use a KMS key of yours.",
)

FINISH_ENVIRONMENT_WITHOUT_KMS = Skip(
    "CKV_AWS_173",
    "The finish function's environment holds the plan's construct path and, with "
    "wait_condition_timeout, the presigned URL of this plan's WaitCondition handle, which can "
    "only signal that one WaitCondition; Lambda encrypts it at rest with its AWS managed key.",
)


def new_dead_letter_queue(scope: Construct) -> sqs.Queue:
    """Where Lambda puts a request it gave up on (retries exhausted or older than the service
    timeout): without it, a lost request is invisible and the stack waits out the timeout."""
    return sqs.Queue(
        scope,
        "HandlerDeadLetterQueue",
        encryption=sqs.QueueEncryption.KMS_MANAGED,
        enforce_ssl=True,
        retention_period=DEAD_LETTER_RETENTION,
    )


def allow_logs_to_use(scope: Construct, key: kms.IKey) -> None:
    """Let CloudWatch Logs encrypt the plan's log groups with ``key``."""
    log_key_policy.allow_logs_to_use(
        scope,
        key,
        sid="AllowCloudWatchLogsForCloudTrailLakeImportPlan",
        warning_id="cloudtrail-lake-import:planLogKeyPolicy",
        log_groups="the plan's log groups",
    )


def skip_plan_checks_left_to_defaults(
    *,
    functions: list[tuple[IConstruct, IConstruct]],
    finish_function: IConstruct,
    plan_log_group: IConstruct,
    concurrency_reserved: bool,
    logs_encrypted: bool,
) -> None:
    """Skip, with its reason, each check that only a prop left at its default fails, on each
    of the plan's functions (with its log group) and the state machine's log group."""
    for function, log_group in functions:
        skip_checks(function, PLAN_HANDLER_OUTSIDE_VPC)
        if not concurrency_reserved:
            skip_checks(function, checkov_skips.NO_RESERVED_CONCURRENCY)
        if not logs_encrypted:
            skip_checks(log_group, checkov_skips.LOG_GROUP_WITHOUT_KMS)
    if not logs_encrypted:
        skip_checks(plan_log_group, PLAN_LOGS_WITHOUT_KMS)
    skip_checks(finish_function, FINISH_ENVIRONMENT_WITHOUT_KMS)
