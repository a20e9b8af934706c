"""``verify``'s output: the cost line, the progress bar, the tables and the evidence file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from cloudtrail_lake_import.cli import athena, render
from cloudtrail_lake_import.cli.archive_counts import Progress as Counters
from cloudtrail_lake_import.cli.lake_query import PRICE_PER_GB_SCANNED_USD
from cloudtrail_lake_import.cli.render import TerminalProgress
from cloudtrail_lake_import.handler_rules import sizing

#: S3 Standard GET price per 1,000 requests (US East, AWS's S3 pricing page, 2023-09-20).
S3_GET_PER_1000_USD = 0.0004


@dataclass(frozen=True)
class Cost:
    """What the verification itself costs, estimated before anything is read."""

    files: int
    download_bytes: int  # 0 when Athena reads the files
    lake_scan_bytes: int  # at most: the archive's uncompressed size, estimated
    athena_scan_bytes: int = 0  # at least: the selected files' compressed size

    @property
    def lake_usd(self) -> float:
        return round(self.lake_scan_bytes / sizing.GB * PRICE_PER_GB_SCANNED_USD, 6)

    @property
    def s3_usd(self) -> float:
        return round(self.files / 1000 * S3_GET_PER_1000_USD, 6) if self.download_bytes else 0.0

    @property
    def athena_usd(self) -> float:
        return athena.scan_usd(self.athena_scan_bytes) if self.athena_scan_bytes else 0.0

    @property
    def total_usd(self) -> float:
        return round(self.lake_usd + self.s3_usd + self.athena_usd, 6)

    def as_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "download_bytes": self.download_bytes,
            "lake_scan_bytes_estimate": self.lake_scan_bytes,
            "lake_price_per_gb_scanned_usd": PRICE_PER_GB_SCANNED_USD,
            "lake_usd": self.lake_usd,
            "s3_get_usd": self.s3_usd,
            "athena_scan_bytes_estimate": self.athena_scan_bytes,
            "athena_price_per_tb_scanned_usd": athena.PRICE_PER_TB_SCANNED_USD,
            "athena_usd": self.athena_usd,
            "total_usd": self.total_usd,
        }

    def line(self) -> str:
        if self.athena_scan_bytes:
            archive = (
                f"Athena will scan at least ~{render.human_bytes(self.athena_scan_bytes)} of "
                f"{self.files:,} files (${self.athena_usd:,.4f} at "
                f"${athena.PRICE_PER_TB_SCANNED_USD:,.2f}/TB, 10 MB at least)"
            )
        else:
            archive = (
                f"verify will download {self.files:,} files "
                f"({render.human_bytes(self.download_bytes)}, ${self.s3_usd:,.4f} of GETs)"
            )
        return (
            f"{archive} and run a Lake query scanning at most "
            f"~{render.human_bytes(self.lake_scan_bytes)} (${self.lake_usd:,.4f} at "
            f"${PRICE_PER_GB_SCANNED_USD}/GB): about ${self.total_usd:,.4f}"
        )


def estimate_cost(files: list[sizing.LogFile], engine: str = "local") -> Cost:
    compressed = sum(f.size for f in files)
    lake = int(compressed * sizing.TYPICAL_RATIO)
    if engine == "athena":
        return Cost(len(files), 0, lake, athena_scan_bytes=max(compressed, 1))
    return Cost(len(files), compressed, lake)


class ReadProgress(TerminalProgress):
    """One bar (files, bytes, events per second)."""

    def __init__(self, console: Console) -> None:
        super().__init__(
            console,
            TextColumn("reading the archive"),
            BarColumn(),
            MofNCompleteColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
        )
        self._task: TaskID | None = None

    def update(self, counters: Counters) -> None:
        if self._task is None:
            self._task = self._progress.add_task("read", total=counters.files_total, rate="")
        elapsed = self._progress.tasks[0].elapsed or 0.0
        rate = f"{counters.events / elapsed:,.0f} events/s" if elapsed > 0 else ""
        self._progress.update(self._task, completed=counters.files_read, rate=rate)


def verify_view(result: Mapping[str, Any]) -> list[Table]:
    """The groups that differ, the expected gaps and the totals."""
    tables = []
    differing = [g for g in result["groups"] if g["status"] != "ok"]
    if differing:
        table = Table(
            box=box.SIMPLE,
            title=f"Groups that differ ({len(differing)})",
            title_justify="left",
            collapse_padding=True,
            pad_edge=False,
        )
        # The group's identity and verdict are never cut on a narrow terminal.
        for column, width in (("day", 10), ("account", 12), ("region", None), ("status", 10)):
            table.add_column(column, no_wrap=True, min_width=width)
        for column in ("archive", "store", "distinct"):
            table.add_column(column, justify="right", no_wrap=True)
        for g in differing:
            table.add_row(
                g["day"],
                g["account"],
                g["region"],
                g["status"],
                f"{g['archive_events']:,}",
                f"{g['store_events']:,}",
                f"{g['store_distinct_events']:,}",
            )
        tables.append(table)
    gaps = result["expected_gaps"]
    if gaps["failed_files"]:
        failed = Table(
            box=box.SIMPLE,
            title=f"Expected gaps: files the imports failed ({len(gaps['failed_files'])})",
            title_justify="left",
        )
        failed.add_column("location", overflow="fold")
        failed.add_column("error", overflow="fold")
        for f in gaps["failed_files"]:
            failed.add_row(f["location"], f["error"])
        tables.append(failed)
    totals = result["totals"]
    verdict = (
        "complete: every archived event is in the store, once"
        if result["complete"]
        else "INCOMPLETE: see the groups that differ"
    )
    rows = [
        ("verdict", verdict),
        ("store", result["store"]),
        ("source", result["source"]),
        ("window", f"{result['window']['start'] or 'open'} .. {result['window']['end'] or 'open'}"),
        ("archive files", f"{totals['archive_files']:,}"),
        (
            "archive events",
            f"{totals['archive_events']:,} ({totals['archive_records']:,} records)",
        ),
        (
            "store events",
            f"{totals['store_events']:,} ({totals['store_distinct_events']:,} distinct)",
        ),
        (
            "groups",
            f"{totals['groups']:,}: {totals['groups_ok']:,} ok, "
            f"{totals['groups_missing']:,} missing, {totals['groups_duplicated']:,} duplicated, "
            f"{totals['groups_extra']:,} extra",
        ),
        ("older than retention", f"{gaps['outside_retention']:,} events (expected gap)"),
    ]
    if totals["groups_extra"]:
        rows.append(
            (
                "note",
                "extra: the store holds events the archive does not (live events, other imports); "
                "--details compares those days by eventID",
            )
        )
    tables.append(render.key_value_table(rows, "Verification"))
    return tables


def details_view(details: list[Mapping[str, Any]]) -> Table:
    table = Table(box=box.SIMPLE, title="eventIDs that differ", title_justify="left")
    for column in ("day", "account", "region", "kind", "eventID"):
        table.add_column(column, overflow="fold")
    for d in details:
        for kind in ("missing", "duplicated"):
            for event_id in d[f"{kind}_event_ids"]:
                table.add_row(d["day"], d["account"], d["region"], kind, event_id)
    return table


def write_report(path: Path, body: Mapping[str, Any]) -> str:
    """The evidence file (JSON) and ``<file>.sha256`` (``sha256sum -c``): the body's SHA-256."""
    data = (json.dumps(body, indent=2, sort_keys=True, allow_nan=False) + "\n").encode()
    digest = hashlib.sha256(data).hexdigest()
    path.write_bytes(data)
    Path(f"{path}.sha256").write_text(f"{digest}  {path.name}\n")
    return digest
