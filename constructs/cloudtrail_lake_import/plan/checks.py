"""The plan's prop checks at synth time: every refusal names the prop and what it accepts."""

from __future__ import annotations

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_cloudtrail as cloudtrail

from cloudtrail_lake_import import validation
from constructs import Construct

#: CloudFormation's limit for a WaitCondition's Timeout.
MAX_WAIT_CONDITION_TIMEOUT = Duration.hours(12)


def checked_store_arn(
    scope: Construct, event_data_store: cloudtrail.CfnEventDataStore | str
) -> str:
    """The destination store's ARN; an ARN given as text must be one, in the stack's region."""
    if not isinstance(event_data_store, str):
        return event_data_store.attr_event_data_store_arn
    validation.check_event_data_store_arn(event_data_store)
    check_store_region(Stack.of(scope).region, event_data_store)
    return event_data_store


def check_settings(
    *,
    max_retries: int,
    reserved_concurrent_executions: int | None,
    wait_for_completion: bool,
    poll_interval: Duration,
    busy_account_wait: Duration,
    wait_condition_timeout: Duration | None,
) -> None:
    """The plan's settings, each within what the state machine and CloudFormation accept."""
    check_range("max_retries", max_retries, 0, 10)
    validation.check_reserved_concurrency(
        reserved_concurrent_executions, wait_for_completion=wait_for_completion
    )
    check_duration("poll_interval", poll_interval, Duration.seconds(10), Duration.hours(1))
    check_duration("busy_account_wait", busy_account_wait, Duration.minutes(1), Duration.days(30))
    if wait_condition_timeout is not None:
        check_wait_condition_timeout(wait_condition_timeout)
    check_wait_props(
        wait_for_completion=wait_for_completion, wait_condition_timeout=wait_condition_timeout
    )


def check_wait_props(*, wait_for_completion: bool, wait_condition_timeout: Duration | None) -> None:
    """A deploy blocks on the plan one way: the handler's hour, or a WaitCondition."""
    if wait_for_completion and wait_condition_timeout is not None:
        raise validation.CloudTrailLakeImportPropsError(
            "wait_for_completion and wait_condition_timeout exclude each other: "
            "wait_for_completion waits within CloudFormation's hour for a custom resource, "
            "wait_condition_timeout up to 12 hours on a WaitCondition; choose one"
        )


def check_store_region(stack_region: str, store_arn: str) -> None:
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


def check_range(prop: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise validation.CloudTrailLakeImportPropsError(
            f"{prop} must be between {low} and {high}; got {value}"
        )


def check_wait_condition_timeout(value: Duration) -> None:
    """CloudFormation's Timeout is whole seconds, 1 to 43,200 (12 hours)."""
    if value.is_unresolved() or value.to_milliseconds() % 1000:
        raise validation.CloudTrailLakeImportPropsError(
            "wait_condition_timeout must be a concrete whole number of seconds; "
            f"got {value.to_human_string()}"
        )
    check_duration("wait_condition_timeout", value, Duration.seconds(1), MAX_WAIT_CONDITION_TIMEOUT)


def check_duration(prop: str, value: Duration, low: Duration, high: Duration) -> None:
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
