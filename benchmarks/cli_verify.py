"""``verify``'s local engine (the archive side) against what a user would write instead.

Two archives of generated trail logs (``tests/lake_emulator/trail_archive.py``: realistic
records, 100 per file, 12 files per day folder, 2 accounts x 2 regions) in moto S3 run as its
own process: a small one (5 days) and one 10 times larger (50 days).

Ours: a whole ``python`` process running ``verify``'s archive side exactly as ``verify`` does
(``listing.list_window`` for the selection, then ``archive_counts.count_archive``: 16 parallel
GETs, streaming gunzip, orjson, per-group de-duplication by eventID). Baseline: a whole
``python`` process doing the same job the plain boto3 way: list the bucket with the paginator,
then for each log file ``get_object().read()``, ``gzip.decompress``, ``json.loads``, count per
day x account x region and de-duplicate eventIDs in a set, one file after another. Both must
give the same counts. Events per second = records / whole-process seconds; peak memory = the
process's own peak resident set (``VmHWM``).
"""

from __future__ import annotations

import gzip
import json
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import boto3

from benchmarks.cli_estimate import _environment, moto_s3
from benchmarks.common import PYTHON, Figure, Section, log, median, moto_s3_client, run_process

ACCOUNTS = ("111122223333", "444455556666")
REGIONS = ("us-east-1", "eu-west-1")
FILES_PER_DAY = 12
EVENTS_PER_FILE = 100
ARCHIVES = {"small": 5, "10x": 50}  # days
WORKERS = 16
SPEED_GOAL = 3.0
MEMORY_GOAL = 1.2


def _bucket(name: str) -> str:
    return f"bench-verify-{name}"


def upload(url: str) -> dict[str, int]:
    """Both archives, each in its bucket: their log files' records."""
    from tests.lake_emulator.trail_archive import generate_archive

    client = moto_s3_client(url)
    records = {}
    for name, days in ARCHIVES.items():
        archive = generate_archive(
            seed=days,
            accounts=ACCOUNTS,
            regions=REGIONS,
            days=[date(2024, 3, 1) + timedelta(days=d) for d in range(days)],
            files_per_day=(FILES_PER_DAY, FILES_PER_DAY),
            events_per_file=(EVENTS_PER_FILE, EVENTS_PER_FILE),
        )
        client.create_bucket(Bucket=_bucket(name))
        archive.upload(client, _bucket(name), workers=32)
        records[name] = sum(f.events for f in archive.log_files)
    return records


def _ours(bucket: str) -> dict[str, Any]:
    from concurrent.futures import ThreadPoolExecutor

    from cloudtrail_lake_import.cli import archive_counts, clients
    from cloudtrail_lake_import.cli import listing as region_listing
    from cloudtrail_lake_import.handler_rules import archive_walk, sizing

    s3 = clients.s3(pool=WORKERS)
    with ThreadPoolExecutor(WORKERS) as pool:
        listed = region_listing.list_window(
            s3, bucket, "", sizing.Window(), pool=pool, progress=archive_walk.Progress()
        )
        files = [archive_counts.ArchiveFile(bucket, f) for f in listed.files]
        side = archive_counts.count_archive(  # as verify without --report or --details
            s3, files, skip=frozenset(), oldest=None, pool=pool, workers=WORKERS, keep_files=False
        )
    return {
        "files": side.files_counted,
        "records": sum(c.records for c in side.counts.values()),
        "distinct": sum(c.distinct for c in side.counts.values()),
    }


def _baseline(bucket: str) -> dict[str, Any]:
    s3 = boto3.client("s3")
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
        if "/CloudTrail/" in item["Key"] and item["Key"].endswith(".json.gz")
    ]
    records: Counter[tuple[str, str, str]] = Counter()
    ids: dict[tuple[str, str, str], set[str]] = {}
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        for record in json.loads(gzip.decompress(body))["Records"]:
            group = (record["eventTime"][:10], record["recipientAccountId"], record["awsRegion"])
            records[group] += 1
            ids.setdefault(group, set()).add(record["eventID"])
    return {
        "files": len(keys),
        "records": sum(records.values()),
        "distinct": sum(len(v) for v in ids.values()),
    }


@dataclass(frozen=True)
class Run:
    archive: str
    engine: str
    seconds: list[float]
    result: dict[str, Any]

    @property
    def events_per_second(self) -> float:
        return float(self.result["records"]) / median(self.seconds)


def _child(engine: str, bucket: str, env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    seconds, result = run_process(
        [PYTHON, "-m", "benchmarks.cli_verify", engine, bucket], env=env, timeout=3600
    )
    if result.returncode != 0:
        raise RuntimeError(f"{engine} {bucket} exited {result.returncode}: {result.stderr[-800:]}")
    document: dict[str, Any] = json.loads(result.stdout)
    return seconds, document


def measure(repetitions: int) -> tuple[dict[str, int], list[Run]]:
    runs = []
    with moto_s3() as url:
        env = _environment(url)
        log("cli verify: uploading the archives to moto S3")
        records = upload(url)
        for name in ARCHIVES:
            for engine in ("ours", "baseline"):
                seconds: list[float] = []
                document: dict[str, Any] = {}
                for repetition in range(repetitions):
                    log(f"cli verify: {engine}, {name} archive, run {repetition + 1}")
                    took, document = _child(engine, _bucket(name), env)
                    seconds.append(took)
                runs.append(Run(name, engine, seconds, document))
    return records, runs


def section(measured: tuple[dict[str, int], list[Run]]) -> Section:
    records, runs = measured
    by = {(r.archive, r.engine): r for r in runs}
    figures: list[Figure] = []
    misses: list[str] = []
    details: list[str] = []
    for name in ARCHIVES:
        ours, baseline = by[(name, "ours")], by[(name, "baseline")]
        same = all(ours.result[k] == baseline.result[k] for k in ("records", "distinct"))
        ratio = median(ours.seconds) / median(baseline.seconds)
        met = ratio <= 1 / SPEED_GOAL and same
        figures.append(
            Figure(
                name=f"`verify` local engine, {name} archive",
                ours=median(ours.seconds),
                baseline=median(baseline.seconds),
                unit="s",
                goal=f"≤ {1 / SPEED_GOAL:.2f}x ({SPEED_GOAL:.0f}x the events/s)",
                met=met,
                baseline_name="boto3: list, then get + gunzip + json per file, sequentially",
                notes=f"{ours.result['records']:,} records: {ours.events_per_second:,.0f} vs "
                f"{baseline.events_per_second:,.0f} events/s; same counts: "
                f"{'yes' if same else 'NO'}",
            )
        )
        if not met:
            misses.append(
                f"`verify` local engine, {name} archive: {1 / ratio:.2f}x the baseline's "
                f"events/s (goal {SPEED_GOAL:.0f}x){'' if same else '; the counts differ'}."
            )
        details.append(
            f"`verify` {name} archive ({records[name]:,} records, {ours.result['files']:,} "
            f"files): ours {', '.join(f'{s:.2f}' for s in ours.seconds)} s, peak "
            f"{ours.result['peak_kb'] / 1024:.0f} MiB; baseline "
            f"{', '.join(f'{s:.2f}' for s in baseline.seconds)} s, peak "
            f"{baseline.result['peak_kb'] / 1024:.0f} MiB."
        )
    small, large = by[("small", "ours")], by[("10x", "ours")]
    memory_ratio = large.result["peak_kb"] / small.result["peak_kb"]
    figures.append(
        Figure(
            name="`verify` local engine, peak memory, 10x archive",
            ours=large.result["peak_kb"],
            baseline=small.result["peak_kb"],
            unit="KB",
            goal=f"≤ {MEMORY_GOAL}x",
            met=memory_ratio <= MEMORY_GOAL,
            baseline_name="the same engine on the small archive",
            notes="the process's peak resident set (VmHWM), interpreter and libraries included",
        )
    )
    if memory_ratio > MEMORY_GOAL:
        misses.append(
            f"`verify` local engine, peak memory: {memory_ratio:.2f}x on the 10x archive "
            f"(goal {MEMORY_GOAL}x)."
        )
    details.append(
        "`verify` runs in moto S3 on this machine: every GET is served by one moto process on "
        "the same 2 CPUs, so the parallel GETs mostly overlap request handling with parsing; "
        "against S3 itself, where each GET waits on the network, the parallelism counts more."
    )
    return Section("`verify` local engine vs download-then-count", figures, details, misses)


ROW_PREFIX = "`verify`"


def with_placeholders(results_md: str) -> str:
    """``results_md`` with a row and a details paragraph starting with ``ROW_PREFIX`` (for
    ``report.splice`` to replace) when it has none yet."""
    lines = results_md.rstrip("\n").split("\n")
    if any(line.startswith(f"| {ROW_PREFIX}") for line in lines):
        return results_md
    results = lines.index("## Results")
    end = next(i for i in range(results + 1, len(lines)) if lines[i].startswith("## "))
    last_row = max(i for i in range(results, end) if lines[i].startswith("| "))
    lines.insert(last_row + 1, f"| {ROW_PREFIX} (not measured yet) |")
    details = lines.index("## Details")
    lines[details + 1 : details + 1] = ["", f"{ROW_PREFIX} (not measured yet)"]
    return "\n".join(lines) + "\n"


def peak_kb() -> int:
    """This process's peak resident set (``VmHWM``; unlike ``ru_maxrss`` it is not inherited
    from the parent that forked it)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def main(argv: list[str]) -> int:
    engine, bucket = argv
    document = _ours(bucket) if engine == "ours" else _baseline(bucket)
    document["peak_kb"] = peak_kb()
    print(json.dumps(document))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
