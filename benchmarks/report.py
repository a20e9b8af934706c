"""Renders ``benchmarks/RESULTS.md``: the table, the machine, the date, the command, the notes."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.common import Figure, Section, base_env, run_process


@dataclass(frozen=True)
class Machine:
    cpus: int
    cpu_model: str
    memory: str
    os: str
    python: str
    node: str
    cdk_cli: str
    aws_cdk_lib: str
    crhelper: str
    boto3: str


def _first_line(command: Sequence[str]) -> str:
    try:
        _, result = run_process(command, env=base_env(), timeout=120)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unknown ({error})"
    lines = result.stdout.strip().splitlines()
    return lines[0] if result.returncode == 0 and lines else "unknown"


def _proc_field(path: str, key: str) -> str:
    try:
        with open(path) as handle:
            for line in handle:
                name, _, value = line.partition(":")
                if name.strip() == key:
                    return value.strip()
    except OSError:
        pass
    return "unknown"


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine() -> Machine:
    mem = _proc_field("/proc/meminfo", "MemTotal")
    if mem.endswith("kB") and mem[:-2].strip().isdigit():
        mem = f"{int(mem[:-2]) / 1024 / 1024:.1f} GiB"
    return Machine(
        cpus=os.cpu_count() or 0,
        cpu_model=_proc_field("/proc/cpuinfo", "model name"),
        memory=mem,
        os=platform.platform(),
        python=platform.python_version(),
        node=_first_line(["node", "--version"]),
        cdk_cli=_first_line(["npx", "--no-install", "cdk", "--version"]),
        aws_cdk_lib=_version("aws-cdk-lib"),
        crhelper=_version("crhelper"),
        boto3=_version("boto3"),
    )


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "calls":
        return f"{value:.3g}"
    if unit == "KB":
        return f"{value:.1f} KB"
    if unit == "ms":
        return f"{value:.0f} ms"
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def _met(figure: Figure) -> str:
    if figure.met is None:
        return "—"
    return "yes" if figure.met else "**no**"


def table(sections: Sequence[Section]) -> list[str]:
    rows = [
        "| figure | ours | baseline | ratio | goal | met? | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for section in sections:
        for f in section.figures:
            ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "—"
            baseline = _number(f.baseline, f.unit)
            if f.baseline_name and f.baseline is not None:
                baseline = f"{baseline} ({f.baseline_name})"
            rows.append(
                f"| {f.name} | {_number(f.ours, f.unit)} | {baseline} | {ratio} | {f.goal} "
                f"| {_met(f)} | {f.notes} |"
            )
    return rows


def render(
    sections: Sequence[Section],
    *,
    command: str,
    date: str,
    duration_seconds: float,
    failures: Sequence[str],
    misses: Sequence[str],
    method: Sequence[str],
    notes: Sequence[str] = (),
) -> str:
    m = machine()
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m benchmarks.run`); do not edit by hand. Each figure",
        "is a median over repeated whole-process runs (emulated runs for latency and API calls),",
        "quoted against its baseline measured in the same run.",
        "",
        f"- **Date:** {date}",
        f"- **Command:** `{command}` ({duration_seconds / 60:.1f} min)",
        f"- **Machine:** {m.cpus} CPUs ({m.cpu_model}), {m.memory} RAM, {m.os}",
        f"- **Versions:** Python {m.python}, Node {m.node}, CDK CLI {m.cdk_cli}, "
        f"aws-cdk-lib {m.aws_cdk_lib}, crhelper {m.crhelper}, boto3 {m.boto3}",
        "",
        "## Results",
        "",
        *table(sections),
        "",
    ]
    if failures:
        lines += ["## Not measured in this run", ""]
        lines += [f"- {failure}" for failure in failures]
        lines.append("")
    lines += ["## Goals missed", ""]
    lines += [f"- {miss}" for miss in misses] if misses else ["None."]
    lines += ["", "## Details", ""]
    for section in sections:
        for detail in section.details:
            lines += [detail, ""]
    lines += ["## How each figure is measured", ""]
    lines += [f"- {item}" for item in method]
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {note}" for note in notes]
    lines.append("")
    return "\n".join(lines)


def splice(
    results_md: str, section: Section, prefix: str, *, source: str, source_label: str
) -> str:
    """``results_md`` with the rows, goal misses and details whose text starts with ``prefix``
    replaced by ``section``'s (the other figures are kept as they were measured), and a header
    line saying where the replaced rows come from (``source_label``: ``source``)."""
    misses = [f"- {miss}" for miss in section.misses]
    details = [line for detail in section.details for line in (detail, "")]
    out: list[str] = []
    heading = ""
    placed: set[str] = set()
    skipped = False
    for line in results_md.rstrip("\n").split("\n"):
        if line.startswith("## "):
            if heading == "## Goals missed" and "misses" not in placed:
                out[-1:-1] = misses  # before the blank line that ends the list
                placed.add("misses")
            heading = line
        if skipped and not line:
            skipped = False
            continue
        replaced = None
        if line.startswith(f"| {prefix}"):
            replaced = ("rows", table([section])[2:])
        elif heading == "## Goals missed" and (line.startswith(f"- {prefix}") or line == "None."):
            replaced = ("misses", misses if line != "None." or misses else [line])
        elif heading == "## Details" and line.startswith(prefix):
            replaced = ("details", details)
        if replaced is None:
            skipped = False
            out.append(line)
            continue
        what, lines = replaced
        if what not in placed:
            out += lines
            placed.add(what)
        skipped = what == "details"
    if "rows" not in placed:
        raise ValueError(f"no row starting with {prefix!r} to replace")
    label = f"- **{source_label}:**"
    kept = [line for line in out if not line.startswith(label)]
    anchor = max(i for i, line in enumerate(kept[:20]) if line.startswith("- **"))
    kept.insert(anchor + 1, f"{label} {source}")
    return "\n".join(kept) + "\n"
