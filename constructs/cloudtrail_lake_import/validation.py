"""Synth-time checks of the construct's props.

Each check names the prop and says what is expected. Values that are still unresolved tokens
are not checked: they are only known at deploy time, where the handler validates them again.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

from aws_cdk import Duration, Token

from cloudtrail_lake_import.handler_rules import properties

# CloudTrail retention limits for an event data store, in days, by billing mode.
MIN_RETENTION_DAYS = 7
MAX_RETENTION_DAYS = 3653
EXTENDABLE_RETENTION_PRICING = "EXTENDABLE_RETENTION_PRICING"
FIXED_RETENTION_PRICING = "FIXED_RETENTION_PRICING"
MAX_RETENTION_DAYS_BY_BILLING_MODE = {
    EXTENDABLE_RETENTION_PRICING: MAX_RETENTION_DAYS,
    FIXED_RETENTION_PRICING: 2557,
}
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


def check_source_prefix(prefix: str, *, prop: str = "source_prefix") -> str:
    """The prefix as it goes into the S3 URI: no leading slash, a trailing slash unless empty.

    The rules are the handler's (``import_handler.properties.prefix_problem``), applied at synth
    to a literal prefix so that it fails here rather than at deploy.
    """
    if Token.is_unresolved(prefix):
        return prefix
    problem = properties.prefix_problem(prefix)
    if problem is not None:
        raise CloudTrailLakeImportPropsError(
            f"{prop} must be a key prefix inside the bucket, taken literally, such as "
            f"'AWSLogs/123456789012/CloudTrail/'; it {problem}, got {prefix!r}"
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


def check_event_window(start: str | None, end: str | None) -> None:
    """Compares the rendered times: StartImport takes whole seconds, so must the window."""
    # Rendered as YYYY-MM-DDTHH:MM:SSZ, the strings sort like the times they name.
    if start is not None and end is not None and not start < end:
        raise CloudTrailLakeImportPropsError(
            f"start_event_time must be before end_event_time in whole seconds (StartImport "
            f"takes seconds); got {start} and {end}"
        )


def completion_timeout_property(timeout: Duration) -> tuple[str, str]:
    """The property that carries the timeout, and its value: a number, or a token checked by
    the handler at deploy. CloudFormation has no arithmetic, so a token keeps its unit."""
    if not timeout.is_unresolved():
        return "CompletionTimeoutSeconds", str(int(timeout.to_seconds()))
    for name, in_unit in (
        ("CompletionTimeoutSeconds", timeout.to_seconds),
        ("CompletionTimeoutMinutes", timeout.to_minutes),
    ):
        try:
            return name, Token.as_string(in_unit())
        except RuntimeError:
            continue  # CDK converts a token only to its own unit
    raise CloudTrailLakeImportPropsError(
        "completion_timeout from an unresolved value (a parameter or an import) must be given "
        "in seconds or minutes, e.g. Duration.minutes(param.value_as_number); got "
        f"{timeout.to_human_string()}"
    )


def check_completion_timeout(timeout: Duration) -> None:
    if timeout.is_unresolved():
        completion_timeout_property(timeout)
        return
    seconds = timeout.to_seconds()
    if not MIN_COMPLETION_TIMEOUT.to_seconds() <= seconds <= MAX_COMPLETION_TIMEOUT.to_seconds():
        raise CloudTrailLakeImportPropsError(
            "completion_timeout must be between 1 and 60 minutes (CloudFormation waits at most "
            f"one hour for a custom resource); got {timeout.to_human_string()}"
        )


#: The handler reads MaxIngestGB as up to 12 integer digits and 9 decimals.
MAX_INGEST_GB_LIMIT = 10**12


def check_allow_overlap(value: object) -> None:
    """A bool: it decides whether events may be imported (and billed) twice."""
    if not isinstance(value, bool):
        raise CloudTrailLakeImportPropsError(
            f"allow_overlap must be a bool (True imports a window another import already "
            f"holds, billing it twice); got {type(value).__name__} {value!r}"[:200]
        )


def check_max_ingest_gb(value: float | None) -> None:
    if value is None:
        return
    # NaN and infinities first: jsii cannot carry them to Token.is_unresolved.
    if math.isfinite(value) and Token.is_unresolved(value):
        return
    if (
        not math.isfinite(value)
        or not 0 < value < MAX_INGEST_GB_LIMIT
        or max_ingest_gb_property(value) == "0"
    ):
        raise CloudTrailLakeImportPropsError(
            "max_ingest_gb must be a number of GB above 0 (at least 0.000000001) and below "
            f"10^12: the uncompressed GB an import may ingest; got {value!r}"
        )


def max_ingest_gb_property(value: float) -> str | float:
    """The MaxIngestGB property: a plain decimal (no exponent), or the token as it is."""
    if Token.is_unresolved(value):
        return value
    return f"{value:.9f}".rstrip("0").rstrip(".")


def check_billing_mode(billing_mode: str | None) -> None:
    if billing_mode is None or Token.is_unresolved(billing_mode):
        return
    if billing_mode not in MAX_RETENTION_DAYS_BY_BILLING_MODE:
        raise CloudTrailLakeImportPropsError(
            f"event_data_store_billing_mode must be {EXTENDABLE_RETENTION_PRICING} or "
            f"{FIXED_RETENTION_PRICING}; got {billing_mode!r}"
        )


def check_retention(retention: Duration, billing_mode: str | None = None) -> None:
    try:
        days = retention.to_days()
    except RuntimeError:
        # CDK converts an unresolved Duration only to the unit it was given in.
        source = "an unresolved value in another unit" if retention.is_unresolved() else None
        raise CloudTrailLakeImportPropsError(
            "event_data_store_retention must be a whole number of days (e.g. "
            "Duration.days(365), or Duration.days(param.value_as_number) from a parameter); "
            f"got {source or retention.to_human_string()}"
        ) from None
    if retention.is_unresolved():
        return
    mode = billing_mode or EXTENDABLE_RETENTION_PRICING
    most = MAX_RETENTION_DAYS_BY_BILLING_MODE.get(mode, MAX_RETENTION_DAYS)
    if not MIN_RETENTION_DAYS <= days <= most:
        raise CloudTrailLakeImportPropsError(
            f"event_data_store_retention must be between {MIN_RETENTION_DAYS} and "
            f"{most} days with billing mode {mode}; got {retention.to_human_string()}"
        )


def check_store_account(stack_account: str, store_arn: str) -> None:
    """The access role trusts CloudTrail for this account only, and StartImport runs here."""
    if Token.is_unresolved(stack_account) or Token.is_unresolved(store_arn):
        return
    store_account = store_arn.split(":")[4]
    if store_account != stack_account:
        raise CloudTrailLakeImportPropsError(
            f"event_data_store must be in the stack's account {stack_account}; got a store in "
            f"account {store_account}. StartImport runs in the store's account and the access "
            "role's aws:SourceAccount condition names the stack's: deploy this construct in a "
            f"stack of account {store_account}"
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


def check_reserved_concurrency(reserved: int | None, *, wait_for_completion: bool) -> None:
    if reserved is None or Token.is_unresolved(reserved):
        return
    # A waiting handler invokes itself before it returns: two invocations overlap briefly.
    minimum = 2 if wait_for_completion else 1
    if reserved < minimum:
        raise CloudTrailLakeImportPropsError(
            f"reserved_concurrent_executions must be at least {minimum}"
            + (
                " when wait_for_completion is true (the handler hands over to a new invocation "
                "of itself while it still runs)"
                if wait_for_completion
                else ""
            )
            + f", or None to reserve nothing; got {reserved}"
        )


def check_vpc_props(vpc_given: bool, **props: object) -> None:
    """Subnets and security groups place the handler in a VPC: they need the VPC."""
    given = sorted(name for name, value in props.items() if value is not None)
    if given and not vpc_given:
        raise CloudTrailLakeImportPropsError(
            f"{', '.join(given)} need vpc: pass the VPC the handler runs in"
        )


def check_access_logs_prefix(bucket_given: bool, prefix: str | None) -> None:
    """Without a bucket CDK would log the archive into itself (or fail inside CDK)."""
    if prefix is not None and not bucket_given:
        raise CloudTrailLakeImportPropsError(
            "server_access_logs_prefix needs server_access_logs_bucket: pass the bucket the "
            f"new source bucket's server access logs go to; got the prefix {prefix!r} alone"
        )


def check_new_bucket_only(existing_bucket_given: bool, **props: object) -> None:
    """Props that configure the bucket we create make no sense with an existing bucket."""
    given = sorted(name for name, value in props.items() if value is not None)
    if given and existing_bucket_given:
        raise CloudTrailLakeImportPropsError(
            f"{', '.join(given)} configure the source bucket this construct creates; "
            "they cannot be used with an existing source_bucket (configure its server access "
            "logs where it is defined)"
        )
