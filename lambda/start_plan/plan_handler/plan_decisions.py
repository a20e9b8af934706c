"""The plan handler's decisions, as pure functions (no AWS calls here)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from import_handler import overlap
from import_handler.decisions import choose_earlier
from import_handler.frozen import replace
from import_handler.model import ImportRecord
from import_handler.properties import ImportIdentity
from plan_handler.plan_properties import PlanProperties

# How many executions of one plan identity a stack can go through (rollbacks bring a plan
# back); Step Functions keeps an execution's name taken for 90 days after it ends.
MAX_GENERATIONS = 50
#: Executions in these states already do (or did) what the plan asks: adopted, not restarted.
ADOPTABLE = frozenset({"RUNNING", "SUCCEEDED"})


def source_key(identity: ImportIdentity) -> ImportIdentity:
    """What makes a plan's segment the same data: the identity without the access role.

    A COMPLETED import of the same source and window holds the segment's events whatever role
    it ran with: a role that a deploy replaces must not make completed years look new and be
    copied again. Anything that still runs with a role (following a running import, resuming a
    FAILED or STOPPED one by ImportId, stopping one) needs the whole identity: another role may
    be gone, or belong to another stack. The single import's rules (``import_handler``) always
    keep the role.
    """
    return replace(identity, s3_bucket_access_role_arn="")


def earlier_for(identity: ImportIdentity, records: Sequence[ImportRecord]) -> ImportRecord | None:
    """Of the earlier imports of a segment's source and window (newest first), the one the
    segment builds on: its own running import, else a COMPLETED one with any role, else its own
    FAILED or STOPPED one to resume."""
    own = choose_earlier(r for r in records if r.identity == identity)
    if own is not None and own.running:
        return own
    completed = (r for r in records if r.status == "COMPLETED" and not imported_nothing(r))
    return next(completed, None) or own


#: Properties that change how CloudFormation or a Delete treats the plan, not what it runs
#: (``AllowOverlap`` only lifts a refusal before the plan starts: setting it later keeps the
#: plan that runs).
NOT_IN_IDENTITY = frozenset(
    {"ServiceToken", "ServiceTimeout", "StopOnDelete", "WaitForCompletion", "AllowOverlap"}
)


def plan_identity(stack_id: str, logical_id: str, raw_properties: Mapping[str, Any]) -> str:
    """A digest of where the plan is declared and everything it runs (``NOT_IN_IDENTITY``
    aside: an Update of only those keeps the running execution)."""
    asked = {k: v for k, v in raw_properties.items() if k not in NOT_IN_IDENTITY}
    text = json.dumps([stack_id, logical_id, asked], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def execution_name(identity: str, generation: int) -> str:
    """Step Functions' names allow 80 characters of ``[A-Za-z0-9_-]``."""
    return f"plan-{identity}" if generation == 0 else f"plan-{identity}-{generation}"


def is_execution_of(identity: str, execution: str) -> bool:
    """True when ``execution`` (an ARN) is one of the generations of the plan ``identity``."""
    if state_machine_of(execution) is None:
        return False
    name = execution.rpartition(":")[2]
    first = execution_name(identity, 0)
    generation = name.removeprefix(f"{first}-")
    return name == first or (generation != name and generation.isdigit())


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
    if earlier is None or imported_nothing(earlier):
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


def imported_nothing(record: ImportRecord) -> bool:
    """A COMPLETED import that found no prefix or copied no file: the Lake completes an import
    of an empty prefix, and the archive copied in later must still be imported."""
    stats = record.statistics
    return record.status == "COMPLETED" and (
        stats.get("PrefixesFound") == 0 or stats.get("FilesCompleted") == 0
    )


def by_source(history: Iterable[ImportRecord]) -> dict[ImportIdentity, list[ImportRecord]]:
    """The store's imports (newest first) keyed by ``source_key``, as ``execution_input``
    takes them."""
    grouped: dict[ImportIdentity, list[ImportRecord]] = {}
    for record in history:
        if record.identity is not None:
            grouped.setdefault(source_key(record.identity), []).append(record)
    return grouped


def execution_input(
    props: PlanProperties, earlier: Mapping[ImportIdentity, Sequence[ImportRecord]]
) -> dict[str, Any]:
    """The execution's input: settings and every segment (docs/DESIGN.md, "Import plans").

    ``earlier`` is keyed by ``source_key``.
    """
    return {
        "Settings": {
            "PollIntervalSeconds": props.poll_interval_seconds,
            "MaxRetries": props.max_retries,
        },
        "Segments": [
            segment_entry(
                index,
                segment.request,
                earlier_for(segment.identity, earlier.get(source_key(segment.identity), ())),
            )
            for index, segment in enumerate(props.segments)
        ],
    }


def overlap_refusal(
    props: PlanProperties, execution_input: Mapping[str, Any], history: Sequence[ImportRecord]
) -> str | None:
    """Rule 6 for a plan: the FAILED reason when a segment that would start or resume an
    import overlaps an import that holds events in the store; None when none does, or with
    ``AllowOverlap``.

    A segment that is skipped (``Completed``) or follows a running import (``Adopt``) starts
    nothing and is not checked. A segment's check leaves out the import it resumes, its
    identical imports that copied nothing, and the imports identical to the plan's *other*
    segments: those are the plan's own earlier work, cut by the plan not to share a file with
    this segment (a piece ends a second before the next begins, which may be the same UTC day).
    An import identical to no segment (another plan's cut, a single import) is an overlap.
    """
    if props.allow_overlap:
        return None
    keys = [source_key(s.identity) for s in props.segments]
    for index, (segment, entry) in enumerate(
        zip(props.segments, execution_input["Segments"], strict=True)
    ):
        adopt = entry.get("Adopt") or {}
        if "Completed" in entry or (adopt and not adopt.get("Resume")):
            continue
        others = set(keys[:index] + keys[index + 1 :]) - {keys[index]}
        exclude = {str(adopt.get("ImportId", ""))} | {
            r.import_id
            for r in history
            if r.identity is not None
            and (
                source_key(r.identity) in others
                or (source_key(r.identity) == keys[index] and imported_nothing(r))
            )
        }
        found = overlap.overlapping(segment.identity, history, exclude)
        if found is not None:
            return overlap.reason(found, f"segment {index} ({_where(segment.request)}): ")
    return None


def _where(request: Mapping[str, Any]) -> str:
    uri = request["ImportSource"]["S3"]["S3LocationUri"]
    start = request.get("StartEventTime") or "the first event"
    end = request.get("EndEventTime") or "the last"
    return f"{uri}, {start}..{end}"


def imports_to_stop(
    running: Iterable[ImportRecord],
    leaving: Iterable[ImportIdentity],
    staying: Iterable[ImportIdentity] = (),
) -> list[ImportRecord]:
    """The running imports of segments that leave the plan and are not in the plan that stays
    (whole identities: a running import of the same source with another role is not this
    plan's to keep, and one of another stack is not this plan's to stop)."""
    stop = set(leaving) - set(staying)
    return [r for r in running if r.running and r.identity is not None and r.identity in stop]


def region_of(arn: str) -> str:
    """The region field of an ARN ("" when it has none)."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 else ""


def region_problem(props: PlanProperties) -> str | None:
    """Why the plan cannot run where it is deployed, None when it can.

    The state machine starts every import in its own region, and an import runs in its event
    data store's region: a store elsewhere would make every call of the plan miss it.
    """
    store = region_of(props.destination)
    machine = region_of(props.state_machine_arn)
    if store == machine:
        return None
    return (
        f"must import into an event data store in {machine}, the region of the plan's stack "
        f"and state machine; {props.destination} is in {store}. Deploy the plan in a stack in "
        f"{store} (CloudTrail starts an import in its store's region)"
    )


def choose_generation(statuses: Sequence[str], *, create: bool) -> tuple[int, bool]:
    """Which generation of a plan identity a request runs, and whether it must start it.

    ``statuses`` are those of the generations that exist, 0 first (names are taken in order).
    A Create keeps the newest execution of its identity, whatever its status: the same Create
    delivered again must never start a second one. An Update (or a rollback) adopts a
    RUNNING or SUCCEEDED generation and runs a stopped plan again under the next name.
    """
    if create:
        return (len(statuses) - 1, False) if statuses else (0, True)
    for generation, status in enumerate(statuses):
        if status in ADOPTABLE:
            return generation, False
    return len(statuses), True


def keeps_previous(status: str, *, rollback: bool) -> bool:
    """An Update whose previous execution is one of the new plan's generations keeps it.

    Only NOT_IN_IDENTITY keys changed (``rollback`` False): the plan is the same, whatever its
    state; a FAILED one runs again only with a new RetryToken. A rollback (the old properties
    are another plan) finds the execution the failed Update stopped: ABORTED, it runs again.
    """
    return not rollback or status != "ABORTED"
