"""``status --stack`` of a ``CloudTrailLakeImportPlan``: its execution, segment by segment.

The plan's custom resource answers the execution ARN as PhysicalResourceId. The execution's
input lists the segments (``Segments[i].Request`` is a StartImport request); each finished
segment's result is its ``$.Result`` (the output of ``SegmentOutput``/``FailedSegmentOutput``,
or the ``...Result`` state before a stop: in the history while the plan runs or once it failed,
in the execution's output once it succeeded); the running segment's
import id is in the latest state output that holds ``Segment`` and ``Import``, and its progress
comes from GetImport. See docs/DESIGN.md (CloudTrailLakeImportPlan) for the contract.

A plan that runs longer than one execution's history allows continues in the next link of its
chain (``<name>-cont-<N>``): a link that handed over succeeds with ``ContinuedIn`` in its
output. The status follows the chain from the stack's execution to the newest link and merges
the segments' results of every link.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Group
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from cloudtrail_lake_import.cli.errors import CliError, aws_error
from cloudtrail_lake_import.cli.params import iso

RESOURCE_TYPE = "Custom::CloudTrailLakeImportPlan"
RESULT_STATES = frozenset({"SegmentOutput", "FailedSegmentOutput"})
#: A segment's status before its import starts.
PENDING = "PENDING"
#: A segment's status when the execution ended before it (as the engine's failure lists it).
NOT_RUN = "NOT_RUN"
#: Execution statuses after which nothing more runs.
ENDED = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
#: GetExecutionHistory's largest page: a multi-day plan's history has thousands of events.
HISTORY_PAGE_SIZE = 1000
#: A year of continuations at the default poll interval is under 500 links.
MAX_LINKS = 2000


@dataclass(frozen=True)
class Segment:
    index: int
    s3_uri: str | None
    start: str | None
    end: str | None
    import_id: str | None
    status: str
    finished: bool
    skipped: bool
    retries: int
    statistics: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "s3_uri": self.s3_uri,
            "start": self.start,
            "end": self.end,
            "import_id": self.import_id,
            "status": self.status,
            "finished": self.finished,
            "skipped": self.skipped,
            "retries": self.retries,
            "files_completed": self.statistics.get("FilesCompleted", 0),
            "events_completed": self.statistics.get("EventsCompleted", 0),
        }


@dataclass(frozen=True)
class PlanStatus:
    execution_arn: str
    status: str
    started: datetime | None
    stopped: datetime | None
    segments: list[Segment]
    #: Every link of the continuation chain, the stack's execution first.
    chain: tuple[str, ...] = ()

    @property
    def terminal(self) -> bool:
        return self.status != "RUNNING"

    @property
    def done(self) -> int:
        return sum(1 for s in self.segments if s.finished)

    def as_json(self) -> dict[str, Any]:
        return {
            "plan": {
                "execution_arn": self.execution_arn,
                "status": self.status,
                "started": iso(self.started),
                "stopped": iso(self.stopped),
                "segments_done": self.done,
                "segments_total": len(self.segments),
                "segments": [s.as_json() for s in self.segments],
                "chain": list(self.chain or (self.execution_arn,)),
            }
        }


def read_plan(states: Any, cloudtrail: Any, execution_arn: str) -> PlanStatus:
    """Every link of the chain (DescribeExecution, the history unless the link succeeded),
    GetImport of the running segment."""
    links = [_describe(states, execution_arn)]
    while len(links) < MAX_LINKS:
        following = _loads(links[-1].get("output")).get("ContinuedIn")
        if not isinstance(following, dict) or not following.get("ExecutionArn"):
            break
        links.append(_describe(states, str(following["ExecutionArn"])))
    results: dict[int, dict[str, Any]] = {}
    running: dict[int, str] = {}
    for link in links:
        link_results, link_running = _results(states, link)
        for index, result in link_results.items():
            # A later link lists what earlier ones ran without their import ids.
            if not (result.get("EarlierExecution") and index in results):
                results[index] = result
        running.update(link_running)
    newest = links[-1]
    requests = _loads(newest.get("input")).get("Segments", [])
    ended = newest.get("status") in ENDED
    segments = [
        _segment(
            cloudtrail,
            request,
            results.get(request["Index"]),
            running.get(request["Index"]),
            ended=ended,
        )
        for request in requests
    ]
    return PlanStatus(
        str(newest["executionArn"]),
        str(newest.get("status", "UNKNOWN")),
        links[0].get("startDate"),
        newest.get("stopDate"),
        segments,
        tuple(str(link["executionArn"]) for link in links),
    )


def _describe(states: Any, execution_arn: str) -> dict[str, Any]:
    try:
        described: dict[str, Any] = states.describe_execution(executionArn=execution_arn)
    except (ClientError, BotoCoreError) as error:
        raise aws_error("DescribeExecution", error) from error
    return {"executionArn": execution_arn, **described}


def _results(
    states: Any, execution: dict[str, Any]
) -> tuple[dict[int, dict[str, Any]], dict[int, str]]:
    output = _loads(execution.get("output")).get("Segments")
    if isinstance(output, list):
        return {int(r["Index"]): r for r in output}, {}
    return _from_history(states, str(execution["executionArn"]))


def _loads(text: str | None) -> dict[str, Any]:
    try:
        loaded = json.loads(text or "{}")
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _from_history(
    states: Any, execution_arn: str
) -> tuple[dict[int, dict[str, Any]], dict[int, str]]:
    """(finished results by index, import id of each started segment by index)."""
    results: dict[int, dict[str, Any]] = {}
    started: dict[int, str] = {}
    try:
        pages = states.get_paginator("get_execution_history").paginate(
            executionArn=execution_arn,
            includeExecutionData=True,
            PaginationConfig={"PageSize": HISTORY_PAGE_SIZE},
        )
        for page in pages:
            for event in page["events"]:
                details = event.get("stateExitedEventDetails")
                if details:
                    _note(details, results, started)
    except (ClientError, BotoCoreError) as error:
        raise aws_error("GetExecutionHistory", error) from error
    return results, started


def _note(
    details: dict[str, Any], results: dict[int, dict[str, Any]], started: dict[int, str]
) -> None:
    output = _loads(details.get("output"))
    if details.get("name") in RESULT_STATES and "Index" in output:
        results[int(output["Index"])] = output
        return
    result = output.get("Result")  # a segment's result is set before it ends (or fails)
    if isinstance(result, dict) and "Index" in result and "ImportStatus" in result:
        results[int(result["Index"])] = result
        return
    segment, current = output.get("Segment"), output.get("Import")
    if isinstance(segment, dict) and isinstance(current, dict) and current.get("ImportId"):
        started[int(segment["Index"])] = str(current["ImportId"])


def _segment(
    cloudtrail: Any,
    request: dict[str, Any],
    result: dict[str, Any] | None,
    running: str | None,
    *,
    ended: bool = False,
) -> Segment:
    start_import = request.get("Request", {})
    s3_uri = start_import.get("ImportSource", {}).get("S3", {}).get("S3LocationUri")
    window = (start_import.get("StartEventTime"), start_import.get("EndEventTime"))
    if result is not None:
        statistics = result.get("ImportStatistics") or {}
        return Segment(
            int(request["Index"]),
            s3_uri,
            *window,
            result.get("ImportId"),
            str(result.get("ImportStatus", "UNKNOWN")),
            finished=True,
            skipped=bool(result.get("Skipped")),
            retries=int(result.get("Retries", 0)),
            statistics={k: int(v) for k, v in statistics.items()},
        )
    status, statistics = (NOT_RUN if ended else PENDING), {}
    if running is not None:
        status, statistics = _live(cloudtrail, running)
    return Segment(
        int(request["Index"]),
        s3_uri,
        *window,
        running,
        status,
        finished=False,
        skipped=False,
        retries=0,
        statistics=statistics,
    )


def _live(cloudtrail: Any, import_id: str) -> tuple[str, dict[str, int]]:
    try:
        response = cloudtrail.get_import(ImportId=import_id)
    except (ClientError, BotoCoreError) as error:
        raise aws_error("GetImport", error) from error
    statistics = {k: int(v) for k, v in response.get("ImportStatistics", {}).items()}
    return str(response.get("ImportStatus", "UNKNOWN")), statistics


def plan_view(plan: PlanStatus) -> Group:
    """A table of the segments and a bar of segments done / total."""
    table = Table(
        title=f"Plan {plan.execution_arn}: {plan.status}", title_justify="left", expand=False
    )
    table.add_column("#", justify="right")
    table.add_column("window", no_wrap=True)
    table.add_column("source / import id", overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("files", justify="right")
    table.add_column("events", justify="right")
    for s in plan.segments:
        notes = ["skipped: done before"] if s.skipped else []
        notes += [f"{s.retries} {'retry' if s.retries == 1 else 'retries'}"] if s.retries else []
        table.add_row(
            str(s.index),
            f"{s.start or 'open'} ..\n{s.end or 'open'}",
            f"{s.s3_uri or 'unknown'}\n{s.import_id or '(no import yet)'}",
            "\n".join([s.status, *notes]),
            f"{s.statistics.get('FilesCompleted', 0):,}",
            f"{s.statistics.get('EventsCompleted', 0):,}",
        )
    bar = Progress(
        TextColumn("segments"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
    )
    bar.add_task("segments", total=max(1, len(plan.segments)), completed=plan.done)
    return Group(table, bar)


def require_execution_arn(resource: dict[str, Any], stack: str) -> str:
    physical_id = str(resource.get("PhysicalResourceId") or "")
    if not physical_id.startswith("arn:") or ":execution:" not in physical_id:
        raise CliError(
            f"{resource['LogicalResourceId']} in stack {stack} has no plan execution yet "
            f"(resource status {resource.get('ResourceStatus', 'unknown')})"
        )
    return physical_id
