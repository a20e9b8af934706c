"""Strict parsing of the plan's custom resource properties; errors name the property."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from import_handler import properties
from import_handler.frozen import frozen
from import_handler.properties import ImportIdentity, PropertyError

_STATE_MACHINE_ARN = re.compile(
    r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$"
)
_INT = re.compile(r"^\d{1,6}$")


@frozen
class PlanSegment:
    identity: ImportIdentity
    request: Mapping[str, Any]  # StartImport's request, as the state machine sends it


@frozen
class PlanProperties:
    state_machine_arn: str
    segments: tuple[PlanSegment, ...]
    poll_interval_seconds: int
    max_retries: int
    stop_on_delete: bool
    retry_token: str | None
    wait_for_completion: bool = False
    #: Start segments that overlap imports already in the store (rule 6 lifted).
    allow_overlap: bool = False

    @property
    def destination(self) -> str:
        return self.segments[0].identity.destination


def parse(raw: Mapping[str, Any] | None) -> PlanProperties:
    if not isinstance(raw, Mapping):
        raise PropertyError("ResourceProperties", "must be an object")
    arn = raw.get("StateMachineArn")
    if not isinstance(arn, str) or not _STATE_MACHINE_ARN.match(arn):
        raise PropertyError(
            "StateMachineArn",
            "must be a state machine ARN like "
            "arn:aws:states:<region>:<account>:stateMachine:<name>",
        )
    listed = raw.get("Segments")
    if not isinstance(listed, list) or not listed:
        raise PropertyError("Segments", "must be a non-empty list of StartImport requests")
    segments: list[PlanSegment] = []
    for number, request in enumerate(listed):
        try:
            identity = properties.parse(request).identity
        except PropertyError as error:
            raise PropertyError(f"Segments[{number}].{error.prop}", _after(error)) from None
        segments.append(PlanSegment(identity, dict(request)))
    destinations = {s.identity.destination for s in segments}
    if len(destinations) != 1:
        raise PropertyError("Segments", "must all import into the same event data store")
    retry_token = raw.get("RetryToken")
    if retry_token is not None and not isinstance(retry_token, str):
        raise PropertyError("RetryToken", "must be a string")
    return PlanProperties(
        state_machine_arn=arn,
        segments=tuple(segments),
        poll_interval_seconds=_int(raw, "PollIntervalSeconds", 1, 3600),
        max_retries=_int(raw, "MaxRetries", 0, 10),
        stop_on_delete=properties.parse_bool(raw, "StopOnDelete", default=True),
        retry_token=retry_token,
        wait_for_completion=properties.parse_bool(raw, "WaitForCompletion", default=False),
        allow_overlap=properties.parse_bool(raw, "AllowOverlap", default=False),
    )


def stop_on_delete_leniently(raw: Mapping[str, Any] | None) -> bool:
    return properties.stop_on_delete_leniently(raw)


def _int(raw: Mapping[str, Any], prop: str, low: int, high: int) -> int:
    value = raw.get(prop)
    text = str(value)
    if isinstance(value, bool) or not _INT.match(text) or not low <= int(text) <= high:
        raise PropertyError(prop, f"must be an integer from {low} to {high}, got {value!r}")
    return int(text)


def _after(error: PropertyError) -> str:
    return str(error)[len(error.prop) + 1 :]
