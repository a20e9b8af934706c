"""Figure 6: test-suite wall time — ``python -m pytest -q`` with warm caches, and ``make test``
on a fresh clone.

Warm: one untimed run fills the caches (bytecode, jsii's package cache, pytest's cache), then
the median of N whole ``python -m pytest -q`` processes in the checkout.

Fresh clone (only with ``--fresh-clone``; it takes minutes): ``git clone`` of the checkout into
a temporary directory and ``make test`` there, which creates the virtualenv, installs the
pinned requirements and node_modules from the package registries, and runs pytest, cfn-lint,
ruff and mypy. A clone holds the committed ``HEAD`` only, so uncommitted work is not measured;
the commit is recorded. The last measurement is kept in ``benchmarks/fresh_clone.json`` and
quoted by later runs.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import (
    BENCH_DIR,
    PYTHON,
    ROOT,
    Figure,
    Section,
    base_env,
    log,
    median,
    run_process,
    spread,
)

FRESH_CLONE_RECORD = BENCH_DIR / "fresh_clone.json"
FRESH_CLONE_ROW = "`make test` on a fresh clone"
_SUMMARY = re.compile(r"(\d+ (?:passed|failed|error|errors|skipped)[^\n]*) in [\d.]+s")


@dataclass(frozen=True)
class SuiteResult:
    seconds: list[float]
    summaries: list[str]  # pytest's last line, per timed run
    passed: list[bool]

    @property
    def notes(self) -> str:
        if all(self.passed):
            return self.summaries[-1]
        failing = [s for s, ok in zip(self.summaries, self.passed, strict=True) if not ok]
        return f"{len(failing)} of {len(self.passed)} runs failing: " + "; ".join(failing)


@dataclass(frozen=True)
class FreshClone:
    seconds: float
    ok: bool
    commit: str
    measured: str  # ISO date-time (UTC)
    tail: str


def _pytest_once() -> tuple[float, str, bool]:
    seconds, result = run_process([PYTHON, "-m", "pytest", "-q"], env=base_env(), timeout=3600)
    found = _SUMMARY.findall(result.stdout)
    lines = result.stdout.strip().splitlines()
    summary = found[-1] if found else (lines[-1] if lines else f"exit {result.returncode}")
    return seconds, summary, result.returncode == 0


def measure_warm(runs: int) -> SuiteResult:
    log("suite: warm-up run of pytest")
    _pytest_once()
    result = SuiteResult([], [], [])
    for round_ in range(runs):
        elapsed, summary, passed = _pytest_once()
        result.seconds.append(elapsed)
        result.summaries.append(summary)
        result.passed.append(passed)
        log(f"suite: run {round_ + 1}/{runs}: {elapsed:.1f} s ({summary})")
    return result


def measure_fresh_clone() -> FreshClone:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="bench-clone-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        env = base_env()
        for name in ("VIRTUAL_ENV", "PYTHONPATH", "CDK_OUTDIR", "CDK_CONTEXT_JSON"):
            env.pop(name, None)
        log(f"suite: make test on a fresh clone of {commit} (minutes)")
        seconds, result = run_process(["make", "test"], cwd=clone, env=env, timeout=3600)
    tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-5:])
    record = FreshClone(
        seconds=seconds,
        ok=result.returncode == 0,
        commit=commit,
        measured=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        tail=tail,
    )
    FRESH_CLONE_RECORD.write_text(json.dumps(asdict(record), indent=2) + "\n")
    return record


def last_fresh_clone() -> FreshClone | None:
    if not FRESH_CLONE_RECORD.exists():
        return None
    return FreshClone(**json.loads(FRESH_CLONE_RECORD.read_text()))


def section(warm: SuiteResult | None, fresh: FreshClone | None, fresh_now: bool) -> Section:
    figures: list[Figure] = []
    details: list[str] = []
    if warm is not None:
        figures.append(
            Figure(
                name="Test suite, warm cache (`python -m pytest -q`)",
                ours=median(warm.seconds),
                baseline=None,
                unit="s",
                goal="—",
                met=None,
                notes=warm.notes,
            )
        )
        details.append(
            f"Test suite: median of {len(warm.seconds)} runs after one warm-up; "
            f"{spread(warm.seconds)} s; pytest said: {'; '.join(warm.summaries)}."
        )
    if fresh is None:
        figures.append(
            Figure(
                name=FRESH_CLONE_ROW,
                ours=None,
                baseline=None,
                unit="s",
                goal="—",
                met=None,
                notes="not measured yet (run `python -m benchmarks.run --fresh-clone`)",
            )
        )
    else:
        when = "this run" if fresh_now else f"last measured {fresh.measured}"
        figures.append(
            Figure(
                name=FRESH_CLONE_ROW,
                ours=fresh.seconds,
                baseline=None,
                unit="s",
                goal="—",
                met=None,
                notes=f"{when}, commit {fresh.commit}"
                + ("" if fresh.ok else ", FAILED (see details)"),
            )
        )
        details.append(
            f"{FRESH_CLONE_ROW} ({when}): `git clone` + `make test` (venv, pip and npm "
            "installs from the registries, pytest, cfn-lint, ruff, mypy and the other checks) of "
            f"commit {fresh.commit}: {fresh.seconds:.0f} s, {'passed' if fresh.ok else 'failed'}. "
            "A clone holds committed work only."
        )
        if not fresh.ok:
            details.append("Fresh clone output tail:\n\n```\n" + fresh.tail + "\n```")
    return Section("Test suite", figures, details)
