"""Figure 1: synth wall time of the default app vs. the AwsCustomResource twin.

Each sample is one whole ``python app.py`` (resp. ``python benchmarks/twin_app.py``) process,
started the way the CDK CLI starts an app: ``CDK_OUTDIR`` set to a fresh directory and
``CDK_CONTEXT_JSON`` holding cdk.json's context (feature flags). Both apps run cdk-nag's
AwsSolutionsChecks. One warm-up run each fills jsii's package cache and the OS page cache; then
the two apps alternate (ours first on even rounds, the twin first on odd ones) so that a
neighbour's load hits both alike.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import (
    PYTHON,
    ROOT,
    BenchmarkError,
    Figure,
    Section,
    base_env,
    cdk_context_json,
    log,
    median,
    spread,
    timed_run,
)

OURS_STACK = "CloudTrailLakeImport"
TWIN_STACK = "CloudTrailLakeImportTwin"
GOAL_RATIO = 1.1


@dataclass(frozen=True)
class App:
    label: str
    script: str
    stack: str


OURS = App("default app (CloudTrailLakeImport)", "app.py", OURS_STACK)
TWIN = App("AwsCustomResource twin", "benchmarks/twin_app.py", TWIN_STACK)


@dataclass
class SynthResult:
    ours: list[float]
    twin: list[float]
    ours_outdir: Path
    twin_outdir: Path


def synth_once(app: App, outdir: Path) -> float:
    """One whole-process synth of ``app`` into ``outdir`` (emptied first); wall seconds."""
    shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir(parents=True)
    env = base_env({"CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": cdk_context_json()})
    seconds = timed_run([PYTHON, app.script], env=env, cwd=ROOT)
    if not (outdir / f"{app.stack}.template.json").is_file():
        raise BenchmarkError(f"{app.script} wrote no {app.stack}.template.json into {outdir}")
    return seconds


def measure(runs: int, workdir: Path) -> SynthResult:
    ours_dir, twin_dir = workdir / "synth-ours", workdir / "synth-twin"
    log("synth: warm-up (jsii cache)")
    synth_once(OURS, ours_dir)
    synth_once(TWIN, twin_dir)
    ours: list[float] = []
    twin: list[float] = []
    for round_ in range(runs):
        order = (OURS, TWIN) if round_ % 2 == 0 else (TWIN, OURS)
        for app in order:
            seconds = synth_once(app, ours_dir if app is OURS else twin_dir)
            (ours if app is OURS else twin).append(seconds)
        log(f"synth: round {round_ + 1}/{runs}: ours {ours[-1]:.2f} s, twin {twin[-1]:.2f} s")
    return SynthResult(ours, twin, ours_dir, twin_dir)


def section(result: SynthResult) -> Section:
    ours, twin = median(result.ours), median(result.twin)
    ratio = ours / twin
    figure = Figure(
        name="Synth wall time (default app)",
        ours=ours,
        baseline=twin,
        unit="s",
        goal=f"≤ {GOAL_RATIO}x twin",
        met=ratio <= GOAL_RATIO,
        baseline_name="AwsCustomResource twin",
    )
    details = [
        f"Synth: median of {len(result.ours)} whole-process runs each after one warm-up each; "
        f"ours {spread(result.ours)} s, twin {spread(result.twin)} s "
        "(`python app.py` vs `python benchmarks/twin_app.py`, CDK_OUTDIR/CDK_CONTEXT_JSON as "
        "the CDK CLI sets them, both with cdk-nag AwsSolutionsChecks, alternating order).",
    ]
    misses = []
    if not figure.met:
        misses.append(
            f"Synth: {ratio:.2f}x the twin, goal <= {GOAL_RATIO}x "
            f"({(ratio / GOAL_RATIO - 1) * 100:.0f}% over; {ours - twin:.2f} s more per synth)."
        )
    return Section("Synth", [figure], details, misses)
