"""boto3 clients, each built for the time the invocation has left, and what a failed call means.

Clients use the default endpoint resolution, so ``AWS_ENDPOINT_URL_CLOUDTRAIL``,
``AWS_ENDPOINT_URL_S3`` and ``AWS_ENDPOINT_URL_LAMBDA`` redirect them (the e2e suite relies on
it), and botocore's standard retry mode for throttling, 5xx and network errors: the only retry
layer. Every call gets a budget, the time left before the invocation must answer: its client's
attempts, connect and read timeouts are chosen so that the call, retries and back-off included,
ends within it (``config_for``). A call without a useful budget is not made (``NoTimeLeftError``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client


class NoTimeLeftError(BotoCoreError):
    fmt = "no time left in this invocation for another call to {service}"


# What a failed AWS call raises: the service's refusal, or botocore's own (network, retries).
ERRORS = (ClientError, BotoCoreError)
USER_AGENT = "cdk-cloudtrail-lake-import"

# (budget at least, attempts, connect timeout, read timeout), seconds. The worst case of a tier,
# attempts x (connect + read) + standard mode's back-off (at most 2^(n-1) s before attempt n+1),
# stays within its budget: 5 x 40 + 15 = 215 <= 220; 3 x 30 + 3 = 93; 3 x 12 + 3 = 39;
# 2 x 6 + 1 = 13; 1 x 5 = 5; 1 x 3 = 3.
TIERS: tuple[tuple[float, int, float, float], ...] = (
    (220.0, 5, 10.0, 30.0),
    (100.0, 3, 5.0, 25.0),
    (40.0, 3, 3.0, 9.0),
    (15.0, 2, 2.0, 4.0),
    (6.0, 1, 2.0, 3.0),
    (3.0, 1, 1.0, 2.0),
)
_THROTTLING_CODES = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
)
# Errors that say "not now" rather than "no": worth the next poll.
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


def config_for(budget_seconds: float) -> Config | None:
    """The client configuration whose worst case fits ``budget_seconds``; None below 3 s."""
    for floor, attempts, connect, read in TIERS:
        if budget_seconds >= floor:
            return Config(
                retries={"mode": "standard", "total_max_attempts": attempts},
                connect_timeout=connect,
                read_timeout=read,
                user_agent_extra=USER_AGENT,
            )
    return None


def worst_case_seconds(config: Config) -> float:
    """How long one call on a client with ``config`` can take, retries and back-off included."""
    attempts = int(config.retries["total_max_attempts"])  # type: ignore[attr-defined]
    backoff = sum(2.0 ** (n - 1) for n in range(1, attempts))
    connect = float(config.connect_timeout)  # type: ignore[attr-defined]
    read = float(config.read_timeout)  # type: ignore[attr-defined]
    return attempts * (connect + read) + backoff


def new_client(service: str, region: str | None, config: Config) -> Any:
    """A fresh client; tests replace this function to hand out stubbed clients."""
    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        region_name=region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
        config=config,
    )


class Clients:
    """The clients of one invocation, one per service, region and budget tier."""

    def __init__(self) -> None:
        self._built: dict[tuple[str, str | None, float, bool], Any] = {}

    def get(
        self, service: str, region: str | None, budget_seconds: float, *, single: bool = False
    ) -> Any:
        """A client whose calls fit ``budget_seconds``; with ``single``, one attempt per call."""
        config = config_for(budget_seconds)
        if config is None:
            raise NoTimeLeftError(service=service)
        if single:
            config = config.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))
        read_timeout = float(config.read_timeout)  # type: ignore[attr-defined]
        key = (service, region, read_timeout, single)
        if key not in self._built:
            self._built[key] = new_client(service, region, config)
        return self._built[key]

    def cloudtrail(self, region: str | None, budget_seconds: float) -> CloudTrailClient:
        client: CloudTrailClient = self.get("cloudtrail", region, budget_seconds)
        return client

    def s3(self, region: str, budget_seconds: float) -> S3Client:
        client: S3Client = self.get("s3", region, budget_seconds)
        return client

    def lambda_(self, budget_seconds: float) -> LambdaClient:
        """One attempt per call: botocore resending an Invoke whose 202 was lost would start a
        second continuation (two chains polling, both answering)."""
        client: LambdaClient = self.get("lambda", None, budget_seconds, single=True)
        return client


def safe_to_resend(error: BaseException) -> bool:
    """The service did not act on the request: no connection was made (refused, unresolvable,
    or the connect timed out), so it was not sent; or it was refused as one too many
    (throttled). Sending it again cannot do it twice."""
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError):
        return True
    return error_code(error) in _THROTTLING_CODES


def outcome_unknown(error: BaseException) -> bool:
    """The failed call may have been acted on: a 5xx, a timeout or a lost connection, or an
    answer after botocore resent the call (an earlier attempt's answer may have been lost).
    A call refused outright (4xx at the first attempt) or never made was not."""
    if isinstance(error, NoTimeLeftError):
        return False
    if isinstance(error, ClientError):
        meta = error.response.get("ResponseMetadata", {})
        status = int(meta.get("HTTPStatusCode") or 0)
        return status >= 500 or int(meta.get("RetryAttempts") or 0) > 0
    return isinstance(error, BotoCoreError)


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
