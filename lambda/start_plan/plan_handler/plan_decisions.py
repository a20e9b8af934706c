"""The plan handler's decisions, as pure functions (no AWS calls here)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from import_handler.decisions import choose_earlier
from import_handler.model import ImportRecord
from import_handler.properties import ImportIdentity
from plan_handler.plan_properties import PlanProperties

# How many executions of one plan identity a stack can go through (rollbacks bring a plan
# back); Step Functions keeps an execution's name taken for 90 days after it ends.
MAX_GENERATIONS = 50
#: Executions in these states already do (or did) what the plan asks: adopted, not restarted.
ADOPTABLE = frozenset({"RUNNING", "SUCCEEDED"})


def plan_identity(stack_id: str, logical_id: str, raw_properties: Mapping[str, Any]) -> str:
    """A digest of where the plan is declared and everything it asks (ServiceToken aside)."""
    asked = {k: v for k, v in raw_properties.items() if k not in ("ServiceToken", "ServiceTimeout")}
    text = json.dumps([stack_id, logical_id, asked], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def execution_name(identity: str, generation: int) -> str:
    """Step Functions' names allow 80 characters of ``[A-Za-z0-9_-]``."""
    return f"plan-{identity}" if generation == 0 else f"plan-{identity}-{generation}"


def execution_arn(state_machine_arn: str, name: str) -> str:
    prefix, _, machine = state_machine_arn.rpartition(":stateMachine:")
    return f"{prefix}:execution:{machine}:{name}"


def state_machine_of(execution: str) -> str | None:
    """The state machine ARN of an execution ARN, None when ``execution`` is not one."""
    prefix, found, rest = execution.partition(":execution:")
    machine, colon, name = rest.partition(":")
    if not (found and colon and machine and name and prefix.startswith("arn:")):
        return None
    return f"{prefix}:stateMachine:{machine}"


def segment_entry(
    index: int, request: Mapping[str, Any], earlier: ImportRecord | None
) -> dict[str, Any]:
    """One item of the execution's ``Segments``: what to import and what is already there.

    ``Completed``: an identical import COMPLETED on the store; the segment is skipped.
    ``Adopt``: an identical import is running (followed) or FAILED/STOPPED (``Resume``: retried
    by ImportId rather than copied anew).
    """
    entry: dict[str, Any] = {"Index": index, "Request": dict(request)}
    if earlier is None:
        return entry
    if earlier.status == "COMPLETED":
        entry["Completed"] = {
            "ImportId": earlier.import_id,
            "ImportStatistics": dict(earlier.statistics),
        }
    elif earlier.running:
        entry["Adopt"] = {"ImportId": earlier.import_id}
    else:
        entry["Adopt"] = {"ImportId": earlier.import_id, "Resume": True}
    return entry


def execution_input(
    props: PlanProperties, earlier: Mapping[ImportIdentity, Sequence[ImportRecord]]
) -> dict[str, Any]:
    """The execution's input: settings and every segment (docs/DESIGN.md, "Import plans")."""
    return {
        "Settings": {
            "PollIntervalSeconds": props.poll_interval_seconds,
            "MaxRetries": props.max_retries,
        },
        "Segments": [
            segment_entry(index, segment.request, choose_earlier(earlier.get(segment.identity, ())))
            for index, segment in enumerate(props.segments)
        ],
    }


def imports_to_stop(
    running: Iterable[ImportRecord],
    leaving: Iterable[ImportIdentity],
    staying: Iterable[ImportIdentity] = (),
) -> list[ImportRecord]:
    """The running imports of segments that leave the plan and are not in the plan that stays."""
    stop = set(leaving) - set(staying)
    return [r for r in running if r.running and r.identity is not None and r.identity in stop]
