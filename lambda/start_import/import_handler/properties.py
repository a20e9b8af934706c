"""Strict parsing of the custom resource properties (CloudFormation sends every value as a string).

Every error names the property and says what is expected, so the FAILED reason is actionable.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .frozen import frozen

logger = logging.getLogger(__name__)

DEFAULT_COMPLETION_TIMEOUT_SECONDS = 3000
MAX_COMPLETION_TIMEOUT_SECONDS = 3600

_STORE_ARN = re.compile(
    r"^arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:eventdatastore/[A-Za-z0-9._-]{3,128}$"
)
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<prefix>.*)$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|\+00:00)$")
_KNOWN = frozenset(
    {
        # Added by CloudFormation itself.
        "ServiceToken",
        "ServiceTimeout",
        "Destinations",
        "ImportSource",
        "StartEventTime",
        "EndEventTime",
        "WaitForCompletion",
        "CompletionTimeoutSeconds",
        # Instead of CompletionTimeoutSeconds when the timeout is a token in minutes.
        "CompletionTimeoutMinutes",
        "StopOnDelete",
        "RetryToken",
        "SourceBucketOwner",
        "HandlerRoleArn",
        "MaxIngestGB",
        "AllowOverlap",
    }
)
_S3_KEYS = ("S3LocationUri", "S3BucketRegion", "S3BucketAccessRoleArn")


class PropertyError(ValueError):
    """A property has a value the handler cannot use; the message starts with its name."""

    def __init__(self, prop: str, message: str) -> None:
        super().__init__(f"{prop} {message}")
        self.prop = prop


@frozen
class ImportIdentity:
    """What makes an import *this* import: changing any of it means a new import."""

    destination: str
    s3_location_uri: str
    s3_bucket_region: str
    s3_bucket_access_role_arn: str
    start_event_time: datetime | None
    end_event_time: datetime | None

    @property
    def bucket(self) -> str:
        match = _S3_URI.match(self.s3_location_uri)
        return match.group("bucket") if match else ""

    @property
    def prefix(self) -> str:
        match = _S3_URI.match(self.s3_location_uri)
        return match.group("prefix") if match else ""


@frozen
class SourceOwner:
    """The other account that owns the bucket, and the role its bucket policy must let read it."""

    account: str
    handler_role_arn: str


@frozen
class ImportProperties:
    identity: ImportIdentity
    wait_for_completion: bool = False
    completion_timeout_seconds: int = DEFAULT_COMPLETION_TIMEOUT_SECONDS
    stop_on_delete: bool = True
    retry_token: str | None = None
    source_owner: SourceOwner | None = None
    max_ingest_gb: float | None = None  # the cost guard: refuse an import ingesting more
    allow_overlap: bool = False  # start even when another import holds part of this window


def parse(raw: Mapping[str, Any] | None) -> ImportProperties:
    if not isinstance(raw, Mapping):
        raise PropertyError("ResourceProperties", "must be an object")
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        # Not an error: CloudFormation may add keys of its own (as it did with ServiceTimeout).
        logger.warning("ignoring unknown properties: %s", ", ".join(unknown))
    start = _time(raw, "StartEventTime")
    end = _time(raw, "EndEventTime")
    if start is not None and end is not None and not start < end:
        raise PropertyError("StartEventTime", "must be before EndEventTime")
    s3 = _import_source(raw.get("ImportSource"))
    identity = ImportIdentity(
        destination=_destination(raw.get("Destinations")),
        s3_location_uri=s3["S3LocationUri"],
        s3_bucket_region=s3["S3BucketRegion"],
        s3_bucket_access_role_arn=s3["S3BucketAccessRoleArn"],
        start_event_time=start,
        end_event_time=end,
    )
    retry_token = raw.get("RetryToken")
    if retry_token is not None and not isinstance(retry_token, str):
        raise PropertyError("RetryToken", "must be a string")
    return ImportProperties(
        identity=identity,
        wait_for_completion=parse_bool(raw, "WaitForCompletion", default=False),
        completion_timeout_seconds=_completion_timeout(raw),
        stop_on_delete=parse_bool(raw, "StopOnDelete", default=True),
        retry_token=retry_token,
        source_owner=_source_owner(raw),
        max_ingest_gb=_max_ingest_gb(raw.get("MaxIngestGB")),
        allow_overlap=parse_bool(raw, "AllowOverlap", default=False),
    )


def stop_on_delete_leniently(raw: Mapping[str, Any] | None) -> bool:
    """StopOnDelete for Delete and replacement: a bad value must not block a stack deletion."""
    if not isinstance(raw, Mapping):
        return True
    try:
        return parse_bool(raw, "StopOnDelete", default=True)
    except PropertyError:
        return True


def parse_bool(raw: Mapping[str, Any], prop: str, *, default: bool) -> bool:
    value = raw.get(prop)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise PropertyError(prop, f'must be "true" or "false", got {_show(value)}')


def _destination(value: Any) -> str:
    if not isinstance(value, list) or len(value) != 1:
        count = len(value) if isinstance(value, list) else "not a list"
        raise PropertyError(
            "Destinations", f"must be a list of exactly one event data store ARN (got {count})"
        )
    arn = value[0]
    if not isinstance(arn, str) or not _STORE_ARN.match(arn):
        raise PropertyError(
            "Destinations",
            "must hold an event data store ARN like "
            f"arn:aws:cloudtrail:<region>:<account>:eventdatastore/<id>, got {_show(arn)}",
        )
    return arn


def _import_source(value: Any) -> dict[str, str]:
    if (
        not isinstance(value, Mapping)
        or set(value) != {"S3"}
        or not isinstance(value["S3"], Mapping)
    ):
        raise PropertyError(
            "ImportSource",
            'must be {"S3": {"S3LocationUri", "S3BucketRegion", "S3BucketAccessRoleArn"}}',
        )
    s3 = value["S3"]
    extra = sorted(set(s3) - set(_S3_KEYS))
    if extra:
        raise PropertyError(f"ImportSource.S3.{extra[0]}", "is not a known property")
    out: dict[str, str] = {}
    for key in _S3_KEYS:
        item = s3.get(key)
        if not isinstance(item, str) or not item:
            raise PropertyError(f"ImportSource.S3.{key}", "is required and must be a string")
        out[key] = item
    if not _S3_URI.match(out["S3LocationUri"]):
        raise PropertyError(
            "ImportSource.S3.S3LocationUri",
            f"must look like s3://<bucket>/<prefix>, got {_show(out['S3LocationUri'])}",
        )
    _check_prefix(out["S3LocationUri"])
    if not _REGION.match(out["S3BucketRegion"]):
        raise PropertyError(
            "ImportSource.S3.S3BucketRegion",
            f"must be a region name like us-east-1, got {_show(out['S3BucketRegion'])}",
        )
    if not _ROLE_ARN.match(out["S3BucketAccessRoleArn"]):
        raise PropertyError(
            "ImportSource.S3.S3BucketAccessRoleArn",
            "must be an IAM role ARN like arn:aws:iam::<account>:role/<name>, got "
            f"{_show(out['S3BucketAccessRoleArn'])}",
        )
    return out


def prefix_problem(prefix: str) -> str | None:
    """What keeps ``prefix`` from being a literal key prefix inside the bucket, or None; the
    construct applies the same rules at synth (``validation.check_source_prefix``)."""
    if prefix.startswith("/"):
        return "starts with '/' (write the prefix without a leading '/')"
    if "://" in prefix:
        return "holds '://' (give the key prefix without a leading 's3://<bucket>/')"
    if any(char in prefix for char in "*?"):
        return "holds a wildcard (the prefix is literal, without wildcards)"
    if any(part in (".", "..") for part in prefix.split("/")):
        return "has a '.' or '..' segment (S3 keys are not paths: it would leave the prefix)"
    return None


def _check_prefix(uri: str) -> None:
    """The key prefix must stay inside the bucket (it may come from a token unchecked at synth)."""
    match = _S3_URI.match(uri)
    prefix = match.group("prefix") if match else ""
    problem = prefix_problem(prefix)
    if problem is None and prefix and not prefix.endswith("/"):
        # The access role may read <prefix>*: without the '/', that reaches sibling folders
        # (AWSLogsOther/). The construct adds it to a literal prefix; a token must carry it.
        problem = "does not end in '/'"
    if problem is None:
        return
    raise PropertyError(
        "ImportSource.S3.S3LocationUri",
        f"must be s3://<bucket>/<key prefix> with a key prefix like "
        f"AWSLogs/123456789012/CloudTrail/; its prefix {problem}, got {_show(uri)}",
    )


def _source_owner(raw: Mapping[str, Any]) -> SourceOwner | None:
    account, role = raw.get("SourceBucketOwner"), raw.get("HandlerRoleArn")
    if account is None and role is None:
        return None
    if not isinstance(account, str) or not re.fullmatch(r"\d{12}", account):
        raise PropertyError(
            "SourceBucketOwner",
            f"must be the 12-digit account id of the bucket's owner, got {_show(account)}",
        )
    if not isinstance(role, str) or not _ROLE_ARN.match(role):
        raise PropertyError(
            "HandlerRoleArn",
            f"must be the handler's IAM role ARN (with SourceBucketOwner), got {_show(role)}",
        )
    return SourceOwner(account, role)


def _time(raw: Mapping[str, Any], prop: str) -> datetime | None:
    value = raw.get(prop)
    if value is None:
        return None
    if not isinstance(value, str) or not _TIME.match(value):
        raise PropertyError(
            prop, f"must be a UTC time like 2024-01-31T00:00:00Z, got {_show(value)}"
        )
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise PropertyError(prop, f"is not a valid date and time, got {_show(value)}") from None


def _completion_timeout(raw: Mapping[str, Any]) -> int:
    """Seconds, from CompletionTimeoutSeconds or (a token in minutes) CompletionTimeoutMinutes."""
    seconds, minutes = raw.get("CompletionTimeoutSeconds"), raw.get("CompletionTimeoutMinutes")
    if seconds is not None and minutes is not None:
        raise PropertyError(
            "CompletionTimeoutMinutes", "cannot be given together with CompletionTimeoutSeconds"
        )
    if minutes is not None:
        return (
            _timeout("CompletionTimeoutMinutes", minutes, MAX_COMPLETION_TIMEOUT_SECONDS // 60) * 60
        )
    if seconds is not None:
        return _timeout("CompletionTimeoutSeconds", seconds, MAX_COMPLETION_TIMEOUT_SECONDS)
    return DEFAULT_COMPLETION_TIMEOUT_SECONDS


def _timeout(prop: str, value: Any, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PropertyError(prop, f"must be an integer, got {_show(value)}")
    text = str(value)
    if not re.fullmatch(r"\d{1,9}", text):
        raise PropertyError(prop, f"must be an integer, got {_show(value)}")
    amount = int(text)
    if not 1 <= amount <= most:
        raise PropertyError(
            prop,
            f"must be between 1 and {most} (CloudFormation waits at most one hour), got {amount}",
        )
    return amount


def _max_ingest_gb(value: Any) -> float | None:
    if value is None:
        return None
    number = isinstance(value, int | float | str) and not isinstance(value, bool)
    text = str(value) if number else ""
    if not re.fullmatch(r"\d{1,12}(\.\d{1,9})?", text) or float(text) <= 0:
        raise PropertyError(
            "MaxIngestGB", f"must be a positive number of GB like 500 or 0.5, got {_show(value)}"
        )
    return float(text)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
