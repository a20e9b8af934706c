"""The state one invocation of a waiting request hands over to the next, in its event.

Read on every request (a continuation is told apart from CloudFormation's request by it),
apart from ``waiting``, which only a request that waits needs (cold start).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from import_handler.frozen import frozen
from import_handler.model import ImportFailed

KEY = "CtLakeImportContinuation"


@frozen
class State:
    """What one invocation hands over to the next."""

    import_id: str | None  # None while another import holds the account
    deadline: float
    attempt: int = 0
    retry_import_id: str | None = None  # when not started yet: retry this import, not a new one
    estimated_gb: str | None = None  # the cost guard's figure, answered at the end

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ImportId": self.import_id,
            "DeadlineEpoch": self.deadline,
            "Attempt": self.attempt,
        }
        if self.retry_import_id:
            out["RetryImportId"] = self.retry_import_id
        if self.estimated_gb is not None:
            out["EstimatedGB"] = self.estimated_gb
        return out


def read_state(event: Mapping[str, Any]) -> State | None:
    """The continuation state of this event, None for a request from CloudFormation."""
    raw = event.get(KEY)
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ImportFailed(f"InvalidContinuation: {KEY} must be an object")
    import_id = raw.get("ImportId")
    deadline = raw.get("DeadlineEpoch")
    attempt = raw.get("Attempt", 0)
    retry = raw.get("RetryImportId")
    estimated = raw.get("EstimatedGB")
    problem = None
    if import_id is not None and not isinstance(import_id, str):
        problem = "ImportId must be a string or null"
    elif isinstance(deadline, bool) or not isinstance(deadline, int | float):
        problem = "DeadlineEpoch must be a number"
    elif isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 0:
        problem = "Attempt must be a non-negative integer"
    elif retry is not None and not isinstance(retry, str):
        problem = "RetryImportId must be a string"
    elif estimated is not None and not isinstance(estimated, str):
        problem = "EstimatedGB must be a string"
    if problem or not isinstance(deadline, int | float):
        raise ImportFailed(f"InvalidContinuation: {KEY}.{problem}")
    return State(import_id, float(deadline), attempt, retry, estimated)
