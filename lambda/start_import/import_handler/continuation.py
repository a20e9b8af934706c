"""Waiting beyond one invocation: hand over to a fresh asynchronous invocation of this function.

Covers crhelper's polling gaps (see docs/DESIGN.md): the deadline travels in the payload so the
chain always ends, nothing depends on the LogicalResourceId's length, and the state is updated
at every hand-over.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from import_handler import aws

KEY = "CtLakeImportContinuation"


@dataclass(frozen=True)
class State:
    import_id: str | None  # None while another import holds the account
    deadline: float
    attempt: int = 0
    retry_import_id: str | None = None  # when not started yet: retry this import, not a new one

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ImportId": self.import_id,
            "DeadlineEpoch": self.deadline,
            "Attempt": self.attempt,
        }
        if self.retry_import_id:
            out["RetryImportId"] = self.retry_import_id
        return out


def read(event: Mapping[str, Any]) -> State | None:
    """The continuation state of this event, None for a request from CloudFormation."""
    raw = event.get(KEY)
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValueError(f"{KEY} must be an object")
    import_id = raw.get("ImportId")
    deadline = raw.get("DeadlineEpoch")
    attempt = raw.get("Attempt", 0)
    retry = raw.get("RetryImportId")
    if import_id is not None and not isinstance(import_id, str):
        raise ValueError(f"{KEY}.ImportId must be a string or null")
    if isinstance(deadline, bool) or not isinstance(deadline, int | float):
        raise ValueError(f"{KEY}.DeadlineEpoch must be a number")
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 0:
        raise ValueError(f"{KEY}.Attempt must be a non-negative integer")
    if retry is not None and not isinstance(retry, str):
        raise ValueError(f"{KEY}.RetryImportId must be a string")
    return State(import_id, float(deadline), attempt, retry)


def payload(event: Mapping[str, Any], state: State) -> bytes:
    body = {key: value for key, value in event.items() if key != KEY}
    body[KEY] = state.to_json()
    return json.dumps(body).encode()


def hand_over(function_arn: str, event: Mapping[str, Any], state: State) -> None:
    """Invoke this function asynchronously with the event and the new state."""
    client = aws.lambda_()
    aws.call(
        "Invoke",
        lambda: client.invoke(
            FunctionName=function_arn, InvocationType="Event", Payload=payload(event, state)
        ),
    )
