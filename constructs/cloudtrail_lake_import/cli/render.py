"""Human output: tables on stdout, progress bars on stderr (only on a terminal)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from cloudtrail_lake_import.handler_rules import archive_walk

#: Problem files named in the table; ``--json`` lists them all.
MAX_PROBLEMS_SHOWN = 10


def stdout_console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def human_bytes(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


class TerminalProgress:
    """Progress bars on stderr, shown only on a terminal and gone once the work ends."""

    def __init__(self, console: Console, *columns: str | ProgressColumn) -> None:
        self._progress = Progress(
            *columns, console=console, transient=True, disable=not console.is_terminal
        )

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()


class EstimateProgress(TerminalProgress):
    """Two bars: date partitions listed, file sizes read."""

    def __init__(self, console: Console) -> None:
        super().__init__(
            console,
            TextColumn("{task.description:<24}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
        )
        self._listing: TaskID | None = None
        self._sizes: TaskID | None = None

    def update(self, counters: archive_walk.Progress) -> None:
        if self._listing is None:
            self._listing = self._progress.add_task("listing date partitions", total=1, note="")
        self._progress.update(
            self._listing,
            total=max(1, counters.folders_found),
            completed=counters.folders_listed,
            note=f"{counters.files_found:,} files",
        )
        if counters.sizes_total:
            if self._sizes is None:
                self._sizes = self._progress.add_task("reading gzip trailers", total=1, note="")
            self._progress.update(
                self._sizes, total=counters.sizes_total, completed=counters.sizes_read
            )

    def step(self, description: str, completed: int, total: int) -> None:
        """A bar of its own (inventory files downloaded, sizes sampled...)."""
        task = next(
            (t.id for t in self._progress.tasks if t.description == description), None
        ) or self._progress.add_task(description, total=total, note="")
        self._progress.update(task, total=max(1, total), completed=completed)


def key_value_table(rows: Sequence[tuple[str, str]], title: str) -> Table:
    table = Table(box=box.SIMPLE, show_header=False, title=title, title_justify="left")
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in rows:
        table.add_row(name, value)
    return table


def estimate_table(result: Mapping[str, Any]) -> None:
    window = f"{result['start'] or 'open'} .. {result['end'] or 'open'}"
    sized = (
        "exact: gzip trailer of every file"
        if result["uncompressed_exact"]
        else f"extrapolated from {result['sized_files']:,} of {result['files']:,} files"
    )
    price = f"${result['price_per_gb_usd']:,.2f} per GB"
    if result["price_source"] == "--price-per-gb":
        price += f" (--price-per-gb, instead of the price table of {result['prices_as_of']})"
    else:
        price += f" ({result['billing_mode']}; {result['price_source']})"
    dates = (
        f"{result['first_event_date']} .. {result['last_event_date']}"
        if result["first_event_date"]
        else "none"
    )
    requests = result["s3_requests"]
    rows = [
        ("window", window),
        ("counted by", "S3 Inventory" if result["method"] == "inventory" else "listing S3"),
        ("log files", f"{result['files']:,}"),
        ("date partitions", f"{result['partitions']:,}"),
        ("event dates", dates),
        (
            "compressed",
            f"{human_bytes(result['compressed_bytes'])} ({result['compressed_bytes']:,} B)",
        ),
        (
            "uncompressed",
            f"{human_bytes(result['uncompressed_bytes'])} ({result['uncompressed_bytes']:,} B), "
            f"{sized}",
        ),
        ("price", price),
        ("estimated cost", f"${result['estimated_cost_usd']:,.2f}"),
        ("S3 requests", f"{requests['list']:,} list, {requests['get']:,} ranged GET"),
    ]
    problems = result["problem_files"]
    if problems:
        shown = [f"{p['key']}: {p['problem']}" for p in problems[:MAX_PROBLEMS_SHOWN]]
        if len(problems) > MAX_PROBLEMS_SHOWN:
            shown.append(f"and {len(problems) - MAX_PROBLEMS_SHOWN:,} more (--json lists all)")
        rows.append(
            (
                "warning",
                f"{len(problems):,} files have a gzip trailer that gives no certain size "
                "(empty, corrupt, not gzip, or possibly 4 GiB or more): their size is "
                "extrapolated from the others",
            )
        )
        rows.append(("problem files", "\n".join(shown)))
    why = result.get("no_file_matched")
    if why:
        rows.append(("why 0", f"no file matched: {why['rule']}"))
        rows.append(("expected layout", why["expected_layout"]))
        rows.append(("prefixes seen", _prefixes_seen(why["prefixes_seen"], why)))
    if result["archived_files"]:
        rows.append(
            (
                "warning",
                f"{result['archived_files']:,} files are in GLACIER or DEEP_ARCHIVE: restore "
                "them before importing (their size is extrapolated)",
            )
        )
    stdout_console().print(key_value_table(rows, f"Import estimate for {result['s3_uri']}"))


def _prefixes_seen(seen: list[str] | None, why: Mapping[str, Any]) -> str:
    if seen is None:
        return "not listed (counted from the S3 Inventory report)"
    if not seen:
        return "none (no folder below the location)"
    more = why["prefixes_seen_total"] - len(seen)
    return "\n".join(seen) + (f"\nand {more:,} more" if more else "")
