"""Shared pieces of the benchmarks: paths, whole-process timing, medians, the result record."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "benchmarks"
PYTHON = sys.executable
KB = 1024


class BenchmarkError(RuntimeError):
    """A measured command failed: the figure would be meaningless."""


@dataclass(frozen=True)
class Figure:
    """One row of the results table (a ratio is ours / baseline)."""

    name: str
    ours: float | None
    baseline: float | None
    unit: str
    goal: str
    met: bool | None  # None: no goal, or not measured
    baseline_name: str = ""
    notes: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.baseline:
            return None
        return self.ours / self.baseline


@dataclass
class Section:
    """What one benchmark module measured: table rows plus free text for RESULTS.md."""

    title: str
    figures: list[Figure] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)  # by how much and why, per missed goal


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("no samples")
    return float(statistics.median(values))


def spread(values: Sequence[float]) -> str:
    """``min-max`` of the samples, for the details."""
    return f"{min(values):.3f}-{max(values):.3f}"


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    env.setdefault("CDK_DISABLE_VERSION_CHECK", "true")
    env.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    if extra:
        env.update(extra)
    return env


def cdk_context_json() -> str:
    """The context the CDK CLI hands an app (``CDK_CONTEXT_JSON``): cdk.json's ``context``."""
    config = json.loads((ROOT / "cdk.json").read_text())
    context = dict(config.get("context", {}))
    user_context = ROOT / "cdk.context.json"
    if user_context.exists():
        context.update(json.loads(user_context.read_text()))
    return json.dumps(context)


def run_process(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    timeout: float = 1800.0,
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """One whole process with its output captured: its wall seconds and its result."""
    started = time.perf_counter()
    result = subprocess.run(
        list(command),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return time.perf_counter() - started, result


def timed_run(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    timeout: float = 1800.0,
) -> float:
    """Wall seconds of one whole process; raises :class:`BenchmarkError` if it fails."""
    elapsed, result = run_process(command, env=env, cwd=cwd, timeout=timeout)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout)[-2000:]
        raise BenchmarkError(f"{' '.join(command)} exited {result.returncode}:\n{tail}")
    return elapsed


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def moto_s3_client(url: str) -> Any:
    """A boto3 S3 client of the moto server at ``url``, with room for parallel uploads."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(max_pool_connections=32, retries={"mode": "standard"}),
    )
