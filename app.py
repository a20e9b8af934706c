#!/usr/bin/env python3
"""The default app: one environment-agnostic stack importing a trail archive into CloudTrail Lake.

Configured with CDK context (``cdk synth -c key=value`` or ``cdk.json``), all optional:

- ``sourceBucketName``: an existing bucket to import from; default: a new bucket.
- ``sourceBucketRegion``: that bucket's region; default: the stack's region. Needs
  ``sourceBucketName``.
- ``sourcePrefix``: key prefix to import, e.g. ``AWSLogs/123456789012/CloudTrail/``.
- ``eventDataStoreArn``: an existing event data store; default: a new import-only store.
- ``retentionDays``: retention of the new store (7 to 3653).
- ``billingMode``: billing mode of the new store, ``EXTENDABLE_RETENTION_PRICING`` (default)
  or ``FIXED_RETENTION_PRICING``.
- ``startEventTime``, ``endEventTime``: ISO-8601 with a timezone, e.g. ``2024-01-01T00:00:00Z``.
- ``waitForCompletion``: ``true`` to make the deployment wait for the import.
- ``completionTimeoutMinutes``: how long to wait (1 to 60); needs ``waitForCompletion=true``.
- ``stopOnDelete``: ``false`` to let an import run on when the stack is deleted.
- ``retryToken``: change it to retry a failed or stopped import.
- ``stackName``: default ``CloudTrailLakeImport``.
- ``reservedConcurrency``: concurrency reserved for the handler (default 2); ``none`` for none.
- ``logEncryptionKeyArn``: a KMS key (its policy must let CloudWatch Logs use it).
- ``vpcId`` with ``subnetIds`` (comma-separated) and optionally ``securityGroupIds``: run the
  handler in that VPC (it then needs endpoints or NAT, see docs/reference/props.md).
- ``accessLogsBucketName``, ``accessLogsPrefix``: server access logs of the new bucket; the
  prefix needs the bucket name.
- ``maxIngestGb``: the cost guard, a positive number of GB (uncompressed): the import fails
  before it starts when it would ingest more; default: no guard.

It needs no credentials and makes no lookups, so it synthesizes and deploys in a pipeline.
Any other key fails synth (naming the key it most likely misspells) rather than silently
creating a new bucket and a retained store; only CDK's own keys are let through: those with a
``:`` or ``/`` or starting with ``@``, ``aws-cdk``, ``cdk-`` or ``acknowledged-issue-numbers``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks

from cloudtrail_lake_import import CloudTrailLakeImport

KNOWN_KEYS = (
    "sourceBucketName",
    "sourceBucketRegion",
    "sourcePrefix",
    "eventDataStoreArn",
    "retentionDays",
    "billingMode",
    "startEventTime",
    "endEventTime",
    "waitForCompletion",
    "completionTimeoutMinutes",
    "stopOnDelete",
    "retryToken",
    "stackName",
    "reservedConcurrency",
    "logEncryptionKeyArn",
    "vpcId",
    "subnetIds",
    "securityGroupIds",
    "accessLogsBucketName",
    "accessLogsPrefix",
    "maxIngestGb",
)
# Keys that CDK itself (the CLI, cdk.json's feature flags, cdk.context.json) sets; every other
# key must be one of KNOWN_KEYS: a misspelt key would otherwise be ignored, and the app would
# create a new bucket and a retained, termination-protected store.
CDK_KEY_PREFIXES = ("@", "aws:", "aws-cdk", "cdk-", "cdk:", "cli-", "acknowledged-issue-numbers")
# A key this close to a known one (after normalizing) is named as the likely meant one.
MAX_TYPO_DISTANCE = 2
MIN_PARTIAL_KEY_LENGTH = 6


class ContextError(ValueError):
    """A context value of the default app cannot be used."""


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def _normalized(key: str) -> str:
    return key.replace("-", "").replace("_", "").lower()


def _is_cdk_key(key: str) -> bool:
    # Lookup caches (availability-zones:account=…) and feature flags (@aws-cdk/…) are CDK's.
    return ":" in key or "/" in key or key.startswith(CDK_KEY_PREFIXES)


def _meant_key(key: str) -> str | None:
    """The known key ``key`` most likely misspells, if one is close."""
    typed = _normalized(key)
    for known in KNOWN_KEYS:
        meant = _normalized(known)
        if _edit_distance(typed, meant) <= MAX_TYPO_DISTANCE or (
            len(typed) >= MIN_PARTIAL_KEY_LENGTH and typed in meant
        ):
            return known
    return None


def check_context_keys(keys: Iterable[str]) -> None:
    """Reject every key the app does not read, except CDK's own (see CDK_KEY_PREFIXES)."""
    for key in keys:
        if key in KNOWN_KEYS or _is_cdk_key(key):
            continue
        meant = _meant_key(key)
        hint = f"did you mean {meant}? " if meant else ""
        raise ContextError(
            f"unknown context key {key}: {hint}(the default app reads only: "
            f"{', '.join(KNOWN_KEYS)}; an unread key would leave its default, e.g. a new "
            "bucket and a retained event data store)"
        )


def _check_context_combinations(app: cdk.App) -> None:
    if _text(app, "sourceBucketRegion") and not _text(app, "sourceBucketName"):
        raise ContextError(
            "context sourceBucketRegion needs sourceBucketName: without a bucket name the app "
            "creates a new bucket in the stack's region"
        )
    if _text(app, "completionTimeoutMinutes") and not _flag(app, "waitForCompletion", False):
        raise ContextError(
            "context completionTimeoutMinutes needs waitForCompletion=true: without it the "
            "deployment does not wait for the import"
        )
    if _text(app, "accessLogsPrefix") and not _text(app, "accessLogsBucketName"):
        raise ContextError(
            "context accessLogsPrefix needs accessLogsBucketName: the bucket the new source "
            "bucket's server access logs go to"
        )


def _text(app: cdk.App, key: str) -> str | None:
    value = app.node.try_get_context(key)
    return None if value is None or value == "" else str(value)


def _flag(app: cdk.App, key: str, default: bool) -> bool:
    value = app.node.try_get_context(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise ContextError(f"context {key} must be true or false; got {value!r}")


def _number(app: cdk.App, key: str) -> int | None:
    value = _text(app, key)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ContextError(f"context {key} must be a whole number; got {value!r}") from None


def _positive_number(app: cdk.App, key: str) -> float | None:
    value = _text(app, key)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise ContextError(f"context {key} must be a positive number; got {value!r}")
    return number


def _ids(app: cdk.App, key: str) -> list[str]:
    value = _text(app, key)
    return [] if value is None else [part.strip() for part in value.split(",") if part.strip()]


def _reserved_concurrency(app: cdk.App) -> dict[str, Any]:
    """The prop only when the context sets it: the default lives in the construct."""
    if (_text(app, "reservedConcurrency") or "").lower() == "none":
        return {"reserved_concurrent_executions": None}
    reserved = _number(app, "reservedConcurrency")
    return {} if reserved is None else {"reserved_concurrent_executions": reserved}


def _handler_network(stack: cdk.Stack) -> dict[str, Any]:
    """``vpc``, ``vpc_subnets`` and ``security_groups`` from ids: no lookup."""
    app = stack.node.root
    assert isinstance(app, cdk.App)
    vpc_id = _text(app, "vpcId")
    subnet_ids = _ids(app, "subnetIds")
    group_ids = _ids(app, "securityGroupIds")
    if vpc_id is None:
        if subnet_ids or group_ids:
            raise ContextError("context subnetIds and securityGroupIds need vpcId")
        return {}
    if not subnet_ids:
        raise ContextError("context vpcId needs subnetIds: the handler's subnets, comma-separated")
    # The subnets are given by id, so the zones (a deploy-time token here) are never consulted.
    vpc = ec2.Vpc.from_vpc_attributes(
        stack, "HandlerVpc", vpc_id=vpc_id, availability_zones=cdk.Fn.get_azs()
    )
    return {
        "vpc": vpc,
        "vpc_subnets": ec2.SubnetSelection(
            subnets=[
                ec2.Subnet.from_subnet_id(stack, f"HandlerSubnet{i}", subnet_id)
                for i, subnet_id in enumerate(subnet_ids)
            ]
        ),
        "security_groups": [
            ec2.SecurityGroup.from_security_group_id(stack, f"HandlerSecurityGroup{i}", group_id)
            for i, group_id in enumerate(group_ids)
        ]
        or None,
    }


def _time(app: cdk.App, key: str) -> datetime | None:
    value = _text(app, key)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ContextError(
            f"context {key} must be an ISO-8601 time such as 2024-01-01T00:00:00Z; got {value!r}"
        ) from None
    if parsed.tzinfo is None:
        raise ContextError(f"context {key} must name its timezone (e.g. end with Z); got {value!r}")
    return parsed


def build_app(context: Mapping[str, Any] | None = None) -> cdk.App:
    """The default app; ``context`` adds to (and overrides) cdk.json and ``-c`` values."""
    app = cdk.App(context=dict(context) if context else None)
    check_context_keys(app.node.get_all_context())
    _check_context_combinations(app)
    stack = cdk.Stack(
        app,
        _text(app, "stackName") or "CloudTrailLakeImport",
        description="Imports archived CloudTrail trail logs into CloudTrail Lake",
    )
    bucket_name = _text(app, "sourceBucketName")
    source_bucket = (
        s3.Bucket.from_bucket_attributes(
            stack,
            "ExistingSourceBucket",
            bucket_name=bucket_name,
            region=_text(app, "sourceBucketRegion"),
        )
        if bucket_name
        else None
    )
    key_arn = _text(app, "logEncryptionKeyArn")
    access_logs = _text(app, "accessLogsBucketName")
    retention_days = _number(app, "retentionDays")
    timeout_minutes = _number(app, "completionTimeoutMinutes")
    trail_import = CloudTrailLakeImport(
        stack,
        "TrailArchiveImport",
        source_bucket=source_bucket,
        source_prefix=_text(app, "sourcePrefix") or "",
        event_data_store=_text(app, "eventDataStoreArn"),
        event_data_store_retention=(
            None if retention_days is None else cdk.Duration.days(retention_days)
        ),
        event_data_store_billing_mode=_text(app, "billingMode"),
        start_event_time=_time(app, "startEventTime"),
        end_event_time=_time(app, "endEventTime"),
        wait_for_completion=_flag(app, "waitForCompletion", False),
        completion_timeout=(
            None if timeout_minutes is None else cdk.Duration.minutes(timeout_minutes)
        ),
        stop_on_delete=_flag(app, "stopOnDelete", True),
        retry_token=_text(app, "retryToken"),
        log_encryption_key=(
            kms.Key.from_key_arn(stack, "LogEncryptionKey", key_arn) if key_arn else None
        ),
        server_access_logs_bucket=(
            s3.Bucket.from_bucket_name(stack, "AccessLogsBucket", access_logs)
            if access_logs
            else None
        ),
        server_access_logs_prefix=_text(app, "accessLogsPrefix"),
        max_ingest_gb=_positive_number(app, "maxIngestGb"),
        **_reserved_concurrency(app),
        **_handler_network(stack),
    )
    # What to watch the import with (aws cloudtrail get-import / list-import-failures, the logs).
    cdk.CfnOutput(stack, "ImportId", value=trail_import.import_id)
    cdk.CfnOutput(stack, "ImportStatus", value=trail_import.import_status)
    cdk.CfnOutput(stack, "HandlerLogGroupName", value=trail_import.log_group.log_group_name)
    cdk.CfnOutput(
        stack,
        "HandlerDeadLetterQueueUrl",
        value=trail_import.handler_dead_letter_queue.queue_url,
        description="where Lambda puts a request or continuation of the handler it gave up on",
    )
    if trail_import.import_estimated_gb is not None:
        cdk.CfnOutput(stack, "ImportEstimatedGB", value=trail_import.import_estimated_gb)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


if __name__ == "__main__":
    build_app().synth()
