"""The chaos matrix of the plan's state machine: every SDK call site the definition has, each
refused, throttled, timed out before processing, and processed with the answer lost. After each
run (every link of the chain ended): no window imported twice, no import running that the
plan's result does not name, no execution left running. The matrix and its outcome are printed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk.assertions import Template

from cloudtrail_lake_import.plan import continuation
from tests.lake_emulator.server import FaultKind
from tests.lake_emulator.trail_archive import TrailArchive
from tests.plan.conftest import plan_stack
from tests.plan.engine import Injected, PlanEngine, plan_engine
from tests.plan.scenario import DAYS, NOT_GZIP, Plan

#: What each kind of failure is served as (and how many times in a row).
KINDS: dict[str, tuple[FaultKind, int]] = {
    "refused": ("deny", 1),
    "throttled": ("throttle", 3),
    "timed out before processing": ("reset", 1),
    "processed, answer lost": ("reset_after", 1),
}


def _new(params: dict[str, Any]) -> bool:
    return "ImportId" not in params


def _retry(params: dict[str, Any]) -> bool:
    return "ImportId" in params


def _always(params: dict[str, Any]) -> bool:
    return True


@dataclass(frozen=True)
class Site:
    name: str
    operation: str
    when: Callable[[dict[str, Any]], bool] = _always
    skip: int = 0
    template: str = "stop"
    broken_day: int | None = None
    repair_before_retry: bool = False
    max_retries: int = 2
    #: A StartImport processed with its answer lost first, so that the look-up runs.
    lost_start_first: bool = False


SITES = [
    Site("StartImport (a new segment)", "StartImport", when=_new, skip=1),
    Site(
        "StartImport (retry by ImportId)",
        "StartImport",
        when=_retry,
        broken_day=1,
        repair_before_retry=True,
        max_retries=1,
    ),
    Site("GetImport (poll)", "GetImport", skip=2),
    Site("ListImportFailures", "ListImportFailures", broken_day=1, max_retries=0),
    Site("ListImports (look-up after a lost StartImport)", "ListImports", lost_start_first=True),
    Site("StartExecution (next link of the chain)", "StartExecution", template="chain"),
    Site("PutEvents (segment and plan events)", "PutEvents", skip=1),
]


@pytest.fixture(scope="module")
def chaos_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlanEngine]:
    """One engine for the whole matrix (each run has its own bucket, store and machine)."""
    with plan_engine(tmp_path_factory.mktemp("chaos")) as running:
        yield running


@pytest.fixture(scope="module")
def chaos_templates() -> dict[str, dict[str, Any]]:
    found = {}
    _, stack, _ = plan_stack(with_topic=True)
    found["stop"] = dict(Template.from_stack(stack).to_json())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(continuation, "POLLS_BEFORE_CONTINUING", 1)
        patch.setattr(continuation, "SEGMENTS_PER_EXECUTION", 2)
        _, stack, _ = plan_stack(with_topic=True)
        found["chain"] = dict(Template.from_stack(stack).to_json())
    return found


def run(
    engine: PlanEngine, template: dict[str, Any], archive: TrailArchive, site: Site, kind: str
) -> tuple[str, list[str]]:
    """One cell: (the plan's outcome, the broken promises)."""
    engine.router.injected.clear()
    engine.router.served.clear()
    engine.router.hooks.clear()
    plan = Plan(engine, template, archive)
    if site.broken_day is not None:
        broken = plan.day_keys(DAYS[site.broken_day])[0]
        plan.s3.put_object(Bucket=plan.bucket, Key=broken, Body=NOT_GZIP)
        if site.repair_before_retry:

            def repair(operation: str, params: dict[str, Any]) -> None:
                if operation == "StartImport" and "ImportId" in params:
                    plan.s3.put_object(
                        Bucket=plan.bucket, Key=broken, Body=archive.objects()[broken]
                    )

            engine.router.hooks.append(repair)
    execution_input = plan.execution_input(max_retries=site.max_retries)
    if site.lost_start_first:
        engine.router.inject(Injected("StartImport", "reset_after", when=_new, skip=1))
    fault, count = KINDS[kind]
    root = plan.start(execution_input)
    engine.router.inject(Injected(site.operation, fault, site.when, site.skip, count))
    links = engine.wait_for_chain(root, timeout=240)
    last = links[-1]
    problems = []
    if not any(op == site.operation for op, _ in engine.router.served):
        problems.append("the fault was never served")
    on_store = [i for i in engine.lake.imports.values() if i.store.arn == plan.store.arn]
    windows = [str(i.describe(statistics=False).get("StartEventTime")) for i in on_store]
    twice = sorted({w for w in windows if windows.count(w) > 1})
    if twice:
        problems.append(f"imported twice: {twice}")
    reported = json.dumps([link.get("output") or link.get("cause") for link in links])
    for record in on_store:
        if record.status in ("INITIALIZING", "IN_PROGRESS"):
            if record.import_id not in reported:
                problems.append(f"{record.import_id} runs unseen")
            engine.lake.stop(record)  # no import may hold the account for the next cell
    running = engine.client("stepfunctions").list_executions(
        stateMachineArn=plan.machine, statusFilter="RUNNING"
    )["executions"]
    if running:
        problems.append(f"executions still running: {[e['name'] for e in running]}")
    outcome = (
        f"{last['status']}{'' if last['status'] == 'SUCCEEDED' else ' ' + str(last.get('error'))}"
    )
    return f"{outcome}, {len(links)} link(s)", problems


def test_the_chaos_matrix_imports_no_window_twice_and_leaves_nothing_running_unseen(
    chaos_engine: PlanEngine,
    chaos_templates: dict[str, dict[str, Any]],
    archive: TrailArchive,
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    rows: list[str] = []
    broken: list[str] = []
    for site in SITES:
        for kind in KINDS:
            outcome, problems = run(
                chaos_engine, chaos_templates[site.template], archive, site, kind
            )
            rows.append(f"{site.name:48} | {kind:28} | {outcome}")
            broken.extend(f"{site.name} / {kind}: {p}" for p in problems)
    with capsys.disabled():
        print(f"\nplan state machine chaos matrix: {len(SITES)} call sites x {len(KINDS)} "
              f"failures = {len(rows)} runs, {len(broken)} broken promise(s), "
              f"{time.monotonic() - started:.0f} s")  # fmt: skip
        print("\n".join(rows))
    assert broken == []
