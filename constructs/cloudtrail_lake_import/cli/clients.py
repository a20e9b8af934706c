"""boto3 clients with the standard credential chain and endpoint variables."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from cloudtrail_lake_import.cli.errors import CliError

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudtrail import CloudTrailClient
    from mypy_boto3_s3 import S3Client

USER_AGENT = "cloudtrail-lake-import-cli"
#: The command line's ``--region``; set once per invocation by the command group.
region: str | None = None


def region_name() -> str | None:
    """``--region``, else the environment's region, else None (the profile's or none).

    botocore reads only ``AWS_DEFAULT_REGION``; the SDKs' standard ``AWS_REGION`` (set by
    CloudShell, Lambda, CodeBuild...) counts when ``AWS_DEFAULT_REGION`` is unset.
    """
    return region or os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or None


def _config(pool: int = 10) -> Config:
    return Config(
        retries={"mode": "standard", "max_attempts": 8},
        max_pool_connections=pool,
        user_agent_extra=USER_AGENT,
    )


def _session(in_region: str | None = None) -> boto3.session.Session:
    try:
        return boto3.session.Session(region_name=in_region or region_name())
    except BotoCoreError as error:  # e.g. AWS_PROFILE names no profile
        raise CliError(f"cannot set up AWS credentials: {error}") from error


def s3(pool: int) -> S3Client:
    client: S3Client = _session().client("s3", config=_config(pool))
    return client


def cloudtrail(in_region: str | None = None) -> CloudTrailClient:
    """CloudTrail in ``in_region`` (an event data store's), else the command line's region."""
    client: CloudTrailClient = _session(in_region).client("cloudtrail", config=_config())
    return client


def cloudformation() -> CloudFormationClient:
    client: CloudFormationClient = _session().client("cloudformation", config=_config())
    return client


def stepfunctions(in_region: str | None = None) -> Any:
    """Step Functions (no type stubs installed: ``Any``)."""
    return _session(in_region).client("stepfunctions", config=_config())


def athena() -> Any:
    """Amazon Athena (no type stubs installed: ``Any``), for ``verify --engine athena``."""
    return _session().client("athena", config=_config())
