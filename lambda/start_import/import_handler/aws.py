"""boto3 clients, built per invocation, and the handling of transient errors.

Clients use the default endpoint resolution, so ``AWS_ENDPOINT_URL_CLOUDTRAIL``,
``AWS_ENDPOINT_URL_S3`` and ``AWS_ENDPOINT_URL_LAMBDA`` redirect them (the e2e suite relies on
it), and botocore's standard retry mode for throttling and 5xx. Nothing is cached across
invocations: the environment is read when the client is built.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from import_handler import clock

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)
T = TypeVar("T")
# What a failed AWS call raises: the service's refusal, or botocore's own (network, retries).
ERRORS = (ClientError, BotoCoreError)

CLIENT_CONFIG = Config(
    retries={"mode": "standard"},
    connect_timeout=10,
    read_timeout=30,
    user_agent_extra="cdk-cloudtrail-lake-import",
)
# Errors worth another try after botocore's own retries gave up (throttling, 5xx, network).
_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalServerError",
        "InternalError",
    }
)
EXTRA_ATTEMPTS = 3


def new_client(service: str, region: str | None = None) -> Any:
    """A fresh client; tests replace this function to hand out stubbed clients."""
    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        region_name=region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
        config=CLIENT_CONFIG,
    )


def cloudtrail(region: str | None = None) -> CloudTrailClient:
    """CloudTrail in ``region`` (the event data store's); default: the function's region."""
    client: CloudTrailClient = new_client("cloudtrail", region)
    return client


def s3(region: str) -> S3Client:
    client: S3Client = new_client("s3", region)
    return client


def lambda_() -> LambdaClient:
    client: LambdaClient = new_client("lambda")
    return client


def error_code(error: BaseException) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def error_message(error: BaseException) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Message", ""))
    return str(error)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(error) in _TRANSIENT_CODES or int(status or 0) >= 500
    return isinstance(error, BotoCoreError)


def call(operation: str, fn: Callable[[], T]) -> T:
    """Run ``fn``; on a transient error, try again a few times with backoff on ``clock.CLOCK``."""
    for attempt in range(EXTRA_ATTEMPTS + 1):
        try:
            return fn()
        except ERRORS as error:
            if not is_transient(error) or attempt == EXTRA_ATTEMPTS:
                raise
            delay = 2.0 ** (attempt + 1)
            logger.warning(
                "%s: transient error %s, trying again in %.0f s",
                operation,
                error_code(error) or type(error).__name__,
                delay,
            )
            clock.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
