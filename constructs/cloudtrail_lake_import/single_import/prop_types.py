"""Type checks at the construct's boundary: a wrong type names the prop, what it got and takes.

Python does not check annotations, so a string where a datetime belongs would otherwise end in
an ``AttributeError`` deep inside the construct or in CDK internals.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs

from cloudtrail_lake_import.validation import CloudTrailLakeImportPropsError


# jsii hands some interfaces back as proxies that are not Construct subclasses: check the shape.
def _is_bucket(value: object) -> bool:
    return hasattr(value, "node") and hasattr(value, "arn_for_objects")


def _is_key(value: object) -> bool:
    return hasattr(value, "node") and hasattr(value, "key_arn")


def _is_aware_or_naive_datetime(value: object) -> bool:
    # Timezone awareness is checked by validation.format_event_time with its own message.
    return isinstance(value, datetime)


# prop -> (accepts the value?, what it takes); None is accepted for every optional prop.
_EXPECTED: dict[str, tuple[Callable[[object], bool], str]] = {
    "source_bucket": (_is_bucket, "an s3.IBucket (e.g. s3.Bucket.from_bucket_name(...))"),
    "source_encryption_key": (_is_key, "a kms.IKey"),
    "event_data_store": (
        lambda v: isinstance(v, cloudtrail.CfnEventDataStore | str),
        "a cloudtrail.CfnEventDataStore or an event data store ARN string",
    ),
    "event_data_store_retention": (
        lambda v: isinstance(v, Duration),
        "a Duration in whole days (e.g. Duration.days(365))",
    ),
    "event_data_store_termination_protection": (lambda v: isinstance(v, bool), "a bool"),
    "event_data_store_encryption_key": (_is_key, "a kms.IKey"),
    "event_data_store_billing_mode": (lambda v: isinstance(v, str), "a billing mode string"),
    "event_data_store_organization_enabled": (lambda v: isinstance(v, bool), "a bool"),
    "access_role_name": (lambda v: isinstance(v, str), "an IAM role name string"),
    "handler_role_name": (lambda v: isinstance(v, str), "an IAM role name string"),
    "start_event_time": (_is_aware_or_naive_datetime, "a timezone-aware datetime"),
    "end_event_time": (_is_aware_or_naive_datetime, "a timezone-aware datetime"),
    "completion_timeout": (lambda v: isinstance(v, Duration), "a Duration"),
    "retry_token": (lambda v: isinstance(v, str), "a string"),
    "max_ingest_gb": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "a number of GB (e.g. 500 or 0.5)",
    ),
    "log_retention": (lambda v: isinstance(v, logs.RetentionDays), "a logs.RetentionDays"),
    "log_encryption_key": (_is_key, "a kms.IKey"),
    "reserved_concurrent_executions": (
        lambda v: isinstance(v, int) and not isinstance(v, bool),
        "a whole number of executions, or None to reserve nothing",
    ),
    "vpc": (lambda v: hasattr(v, "node") and hasattr(v, "vpc_id"), "an ec2.IVpc"),
    "vpc_subnets": (lambda v: isinstance(v, ec2.SubnetSelection), "an ec2.SubnetSelection"),
    "security_groups": (
        lambda v: isinstance(v, list | tuple) and all(hasattr(g, "security_group_id") for g in v),
        "a list of ec2.ISecurityGroup",
    ),
    "server_access_logs_bucket": (_is_bucket, "an s3.IBucket"),
    "server_access_logs_prefix": (lambda v: isinstance(v, str), "a string key prefix"),
}
# Props with a non-None default, where None is a mistake too.
_REQUIRED: dict[str, tuple[Callable[[object], bool], str]] = {
    "source_prefix": (lambda v: isinstance(v, str), "a string key prefix ('' for the bucket)"),
    "wait_for_completion": (lambda v: isinstance(v, bool), "a bool"),
    "stop_on_delete": (lambda v: isinstance(v, bool), "a bool"),
}


def check_prop_types(**props: Any) -> None:
    for name, value in props.items():
        if name in _REQUIRED:
            accepts, takes = _REQUIRED[name]
        elif name in _EXPECTED:
            if value is None:
                continue
            accepts, takes = _EXPECTED[name]
        else:
            raise TypeError(f"no type is declared for prop {name}")
        if not accepts(value):
            raise CloudTrailLakeImportPropsError(f"{name} must be {takes}; got {_describe(value)}")


def _describe(value: object) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"
