"""Figure 4: completion latency — from the import reaching COMPLETED to the answer at the
ResponseURL — for an import of about 30 s and one of about 20 minutes, in the offline emulator.

Ours is measured: a Create with ``WaitForCompletion=true`` runs through ``index.handler`` (and
its asynchronous continuations, with the construct's 900 s Lambda timeout) against the emulated
CloudTrail Lake, whose import speed is set so that the import completes after the wanted time.
Both instants are read on the same emulated clock: COMPLETED is the import's ``UpdatedTimestamp``
when its last file was processed; the answer is the moment S3 accepted the PUT to the
ResponseURL. The emulator's HTTP calls take no emulated time, so the figure is the waiting
mechanism's own delay (a real deployment adds the round trips of one GetImport and one PUT).

Where COMPLETED falls relative to the poll grid decides the delay, so each nominal duration is
run at several durations spread evenly over one 10 s poll period around it (e.g. 25.5 s to 34.5 s
for "30 s"), and the figure is the median over those runs (worst case in the notes).

Baseline (crhelper's stock polling): not run (it needs EventBridge), but derived from the same
emulated timelines. crhelper's create handler calls StartImport, then puts an EventBridge rule
``rate(1 minute)`` and returns; every tick invokes the poll function, which answers at the first
tick that sees COMPLETED. With ticks exactly every 60 s from StartImport (best case for crhelper:
EventBridge only promises minute granularity, and each tick is a fresh Lambda invocation), the
answer lands at ``start + 60 s x ceil((completed - start) / 60 s)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from benchmarks.common import Figure, Section, log, median
from benchmarks.emulated import Counts, EmulatedAws

POLL_PERIOD_SECONDS = 10.0
CRHELPER_RATE_SECONDS = 60.0
SHORT_IMPORT_SECONDS = 30.0
LONG_IMPORT_SECONDS = 20 * 60.0
GOALS = {SHORT_IMPORT_SECONDS: 10.0, LONG_IMPORT_SECONDS: 70.0}


@dataclass(frozen=True)
class LatencySample:
    nominal_seconds: float
    import_seconds: float  # StartImport → COMPLETED, as the emulator ran it
    started_at: float
    completed_at: float
    answered_at: float
    invocations: int
    continuations: int
    counts: Counts

    @property
    def ours_seconds(self) -> float:
        return self.answered_at - self.completed_at

    @property
    def crhelper_seconds(self) -> float:
        """First ``rate(1 minute)`` tick at or after COMPLETED, minus COMPLETED."""
        elapsed = self.completed_at - self.started_at
        ticks = max(1, math.ceil(elapsed / CRHELPER_RATE_SECONDS - 1e-9))
        return self.started_at + ticks * CRHELPER_RATE_SECONDS - self.completed_at


def durations(nominal: float, phases: int) -> list[float]:
    """``phases`` durations evenly spread over one poll period centred on ``nominal``."""
    step = POLL_PERIOD_SECONDS / phases
    return [nominal - POLL_PERIOD_SECONDS / 2 + (k + 0.5) * step for k in range(phases)]


def run_one(aws: EmulatedAws, nominal: float, duration: float) -> LatencySample:
    bucket, archive = aws.default_archive_bucket()
    files = archive.expected().files
    with aws.scenario(files_per_second=1.0, bucket=bucket) as scenario:
        lake = scenario.lake
        lake.files_per_second = files / (duration - lake.init_seconds)
        event = scenario.cfn.event("Create", scenario.properties(wait=True))
        mark = scenario.mark()
        run = scenario.cfn.run(event)
        response = scenario.cfn.response(event)
        if response.status != "SUCCESS":
            raise RuntimeError(f"import of {duration:.1f} s was not answered SUCCESS: {response}")
        imported = lake.get(response.physical_id)
        if imported.status != "COMPLETED":
            raise RuntimeError(f"import {response.physical_id} is {imported.status}")
        started = next(c.at for c in scenario.calls("StartImport") if c.outcome == "ok")
        [answered, *_] = scenario.answer_times(event)
        return LatencySample(
            nominal_seconds=nominal,
            import_seconds=imported.updated - started,
            started_at=started,
            completed_at=imported.updated,
            answered_at=answered,
            invocations=len(run.invocations),
            continuations=sum(1 for i in run.invocations if i.continuation),
            counts=scenario.counts_since(mark, event, len(run.invocations)),
        )


def measure(aws: EmulatedAws, phases: int) -> list[LatencySample]:
    samples: list[LatencySample] = []
    for nominal in (SHORT_IMPORT_SECONDS, LONG_IMPORT_SECONDS):
        for duration in durations(nominal, phases):
            sample = run_one(aws, nominal, duration)
            samples.append(sample)
            log(
                f"latency: import {sample.import_seconds:.1f} s → answered "
                f"{sample.ours_seconds:.1f} s after COMPLETED (crhelper: "
                f"{sample.crhelper_seconds:.1f} s), {sample.invocations} invocation(s)"
            )
    return samples


def _label(nominal: float) -> str:
    return f"{nominal:.0f} s" if nominal < 60 else f"{nominal / 60:.0f} min"


def section(samples: list[LatencySample]) -> Section:
    figures: list[Figure] = []
    details: list[str] = []
    for nominal, goal in GOALS.items():
        group = [s for s in samples if s.nominal_seconds == nominal]
        ours = [s.ours_seconds for s in group]
        base = [s.crhelper_seconds for s in group]
        figures.append(
            Figure(
                name=f"Completion latency, {_label(nominal)} import",
                ours=median(ours),
                baseline=median(base),
                unit="s",
                goal=f"≤ {goal:.0f} s",
                met=median(ours) <= goal,
                baseline_name="crhelper stock polling, rate(1 minute) (derived)",
                notes=f"worst {max(ours):.1f} s (crhelper {max(base):.1f} s)",
            )
        )
        durations_text = ", ".join(f"{s.import_seconds:.1f}" for s in group)
        details.append(
            f"Latency, {_label(nominal)}: {len(group)} emulated imports lasting "
            f"{durations_text} s; ours answered {', '.join(f'{x:.1f}' for x in ours)} s after "
            f"COMPLETED; crhelper's rate(1 minute) would answer "
            f"{', '.join(f'{x:.1f}' for x in base)} s after. Invocations per request: "
            f"{sorted({s.invocations for s in group})} (continuations "
            f"{sorted({s.continuations for s in group})})."
        )
    return Section("Completion latency", figures, details)
