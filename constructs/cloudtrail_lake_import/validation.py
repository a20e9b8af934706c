"""Synth-time checks of the construct's props.

Each check names the prop and says what is expected. Values that are still unresolved tokens
are not checked: they are only known at deploy time, where the handler validates them again.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from aws_cdk import Duration, Token

# CloudTrail retention limits for an event data store, in days.
MIN_RETENTION_DAYS = 7
MAX_RETENTION_DAYS = 3653
MAX_COMPLETION_TIMEOUT = Duration.minutes(60)
MIN_COMPLETION_TIMEOUT = Duration.minutes(1)

_EVENT_DATA_STORE_ARN = re.compile(
    r"^arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:eventdatastore/[A-Za-z0-9._-]{3,128}$"
)


class CloudTrailLakeImportPropsError(ValueError):
    """A prop of CloudTrailLakeImport has a value that cannot work."""


def check_event_data_store_arn(arn: str) -> None:
    if Token.is_unresolved(arn):
        return
    if not _EVENT_DATA_STORE_ARN.match(arn):
        raise CloudTrailLakeImportPropsError(
            f"event_data_store must be a CloudTrail event data store ARN like "
            f"arn:aws:cloudtrail:<region>:<account>:eventdatastore/<id>, got {arn!r}"
        )


def check_source_prefix(prefix: str) -> str:
    """The prefix as it goes into the S3 URI: no leading slash, a trailing slash unless empty."""
    if Token.is_unresolved(prefix):
        return prefix
    if prefix.startswith(("/", "s3://", "S3://")):
        raise CloudTrailLakeImportPropsError(
            "source_prefix must be a key prefix inside the bucket, such as "
            f"'AWSLogs/123456789012/CloudTrail/', without a leading '/' or 's3://'; got {prefix!r}"
        )
    if any(ch in prefix for ch in "*?"):
        raise CloudTrailLakeImportPropsError(
            f"source_prefix must be a literal key prefix without wildcards; got {prefix!r}"
        )
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return prefix


def format_event_time(prop: str, value: datetime | None) -> str | None:
    """ISO-8601 UTC as StartImport expects it: ``YYYY-MM-DDTHH:MM:SSZ``."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise CloudTrailLakeImportPropsError(
            f"{prop} must be a timezone-aware datetime (for example "
            f"datetime(2024, 1, 1, tzinfo=timezone.utc)); got the naive {value.isoformat()}"
        )
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_event_window(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and not start < end:
        raise CloudTrailLakeImportPropsError(
            f"start_event_time must be before end_event_time; got {start.isoformat()} "
            f"and {end.isoformat()}"
        )


def check_completion_timeout(timeout: Duration) -> None:
    if timeout.is_unresolved():
        return
    seconds = timeout.to_seconds()
    if not MIN_COMPLETION_TIMEOUT.to_seconds() <= seconds <= MAX_COMPLETION_TIMEOUT.to_seconds():
        raise CloudTrailLakeImportPropsError(
            "completion_timeout must be between 1 and 60 minutes (CloudFormation waits at most "
            f"one hour for a custom resource); got {timeout.to_human_string()}"
        )


def check_retention(retention: Duration) -> None:
    if retention.is_unresolved():
        return
    days = retention.to_days()
    if not MIN_RETENTION_DAYS <= days <= MAX_RETENTION_DAYS:
        raise CloudTrailLakeImportPropsError(
            f"event_data_store_retention must be between {MIN_RETENTION_DAYS} and "
            f"{MAX_RETENTION_DAYS} days; got {retention.to_human_string()}"
        )


def check_new_store_only(existing_store_given: bool, **props: object) -> None:
    """Props that configure the store we create make no sense with an existing store."""
    if not existing_store_given:
        return
    given = sorted(name for name, value in props.items() if value is not None)
    if given:
        raise CloudTrailLakeImportPropsError(
            f"{', '.join(given)} configure the event data store this construct creates; "
            "they cannot be used with an existing event_data_store (configure that store "
            "where it is defined)"
        )


def oldest_retained_event(retention: Duration, now: datetime | None = None) -> datetime | None:
    """Events with an eventTime before this are outside the store's retention and are not copied."""
    if retention.is_unresolved():
        return None
    return (now or datetime.now(UTC)) - timedelta(days=retention.to_days())
