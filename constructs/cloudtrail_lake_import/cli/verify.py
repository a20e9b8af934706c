"""``verify``: prove that the store holds every archived event of the window, once.

The archive side reads exactly the files an import reads (``listing.list_window``, which
applies ``sizing``'s selection, as ``estimate`` and the cost guard do) on this machine
(``archive_counts``); the store side is one CloudTrail Lake query (``lake_query``); the verdict
is ``reconcile``'s. Exit 0 when complete, 1 when anything differs, 2 for usage or access errors.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

from cloudtrail_lake_import.cli import (
    archive_counts,
    clients,
    lake_query,
    reconcile,
    render,
    verify_athena,
)
from cloudtrail_lake_import.cli import listing as region_listing
from cloudtrail_lake_import.cli import verify_render as output
from cloudtrail_lake_import.cli import verify_sources as sources
from cloudtrail_lake_import.cli.errors import EXIT_AWS_ERROR, BadInputError
from cloudtrail_lake_import.cli.params import IsoTime, iso
from cloudtrail_lake_import.cli.workers import worker_pool
from cloudtrail_lake_import.handler_rules import archive_walk

#: Days whose eventIDs ``--details`` compares, at most (one Lake query and a re-read each).
MAX_DETAIL_DAYS = 31
PACKAGE = "cdk-cloudtrail-lake-import"
#: A Glue database name as the Athena statements write it (validated: it goes into the SQL).
ATHENA_NAME = re.compile(r"[a-z0-9_]{1,255}")
# Replaced by tests that run on the emulator's clock.
now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


@click.command()
@click.argument("s3_uri", required=False)
@click.option("--store", metavar="ARN", help="The event data store's ARN (with S3_URI).")
@click.option("--start", type=IsoTime(), help="StartEventTime of the import (ISO 8601).")
@click.option("--end", type=IsoTime(), help="EndEventTime of the import (ISO 8601).")
@click.option(
    "--stack",
    help="A deployed stack whose CloudTrailLakeImport (or every segment of whose "
    "CloudTrailLakeImportPlan) to verify: location, window and store come from it.",
)
@click.option("--logical-id", help="The import's or plan's logical id in --stack.")
@click.option(
    "--details",
    is_flag=True,
    help=f"List the missing or duplicated eventIDs of the days that differ (one more Lake "
    f"query per day, at most {MAX_DETAIL_DAYS} days).",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write an evidence file (JSON) and FILE.sha256 (its SHA-256, for sha256sum -c).",
)
@click.option(
    "--max-cost",
    type=click.FloatRange(min=0),
    metavar="USD",
    help="Refuse (exit 2) when the verification itself is estimated to cost more.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=16,
    show_default=True,
    help="Parallel S3 requests (memory grows with it, not with the archive).",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "athena"]),
    default="local",
    show_default=True,
    help="Where the archive is counted: on this machine, or by Amazon Athena where it lies.",
)
@click.option(
    "--athena-workgroup",
    help="With --engine athena: the workgroup (with an output location) to run in.",
)
@click.option(
    "--athena-database",
    help="With --engine athena: the Glue database the CloudTrail "
    "tables are created in (if absent).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def verify(
    s3_uri: str | None,
    store: str | None,
    start: datetime | None,
    end: datetime | None,
    stack: str | None,
    logical_id: str | None,
    details: bool,
    report: Path | None,
    max_cost: float | None,
    workers: int,
    engine: str,
    athena_workgroup: str | None,
    athena_database: str | None,
    as_json: bool,
) -> None:
    """Prove that the store holds every event of S3_URI's window, exactly once.

    Counts per UTC day x account x region the records of exactly the files an import of S3_URI
    and the window reads (de-duplicated by eventID), and the store's events with one CloudTrail
    Lake query; events older than the store's retention and files the imports failed are
    expected gaps. Exit 0: complete; 1: something differs; 2: usage or access error.
    """
    started = now()
    athena_place = _athena_place(engine, athena_workgroup, athena_database)
    cloudtrail = clients.cloudtrail()
    store_arn, found = _targets(cloudtrail, s3_uri, store, start, end, stack, logical_id)
    region = sources.store_region(store_arn)
    if region is not None and region != cloudtrail.meta.region_name:
        cloudtrail = clients.cloudtrail(region)  # the store answers queries in its region only
    retention = sources.retention_days(cloudtrail, store_arn)
    oldest = _oldest(started, retention)
    s3 = clients.s3(pool=workers)
    console = render.stderr_console()
    with worker_pool(workers) as pool:
        files = _list(s3, found, pool)
        cost = output.estimate_cost([f.file for f in files], engine)
        click.echo(cost.line(), err=True)
        if max_cost is not None and cost.total_usd > max_cost:
            raise BadInputError(
                f"--max-cost: the verification would cost about ${cost.total_usd:,.4f}, "
                f"above ${max_cost:,.4f}; verify a shorter window or raise the bound"
            )
        failed = sources.failed_files(cloudtrail, store_arn, {f.location for f in files})
        # The store first: a refused or failing query ends the run before hours of reading.
        queries: list[lake_query.QueryRun] = []
        queried = _listed_days(files, found)
        in_store = _store_counts(cloudtrail, store_arn, queried, queries)
        if athena_place is not None:
            archive, athena_runs = verify_athena.count(
                clients.athena(), files, found, failed, oldest, *athena_place
            )
        else:
            athena_runs = []
            with output.ReadProgress(console) as progress:
                keep = report is not None or details
                archive = _count(s3, files, failed, oldest, pool, workers, keep, progress)
        for span in _outside(archive.counts, queried):
            in_store.update(_store_counts(cloudtrail, store_arn, span, queries))
        groups = reconcile.reconcile(archive.counts, in_store)
        compared: list[reconcile.Details] = []
        if details:
            compared = _details(
                s3, cloudtrail, store_arn, groups, files, archive, oldest, pool, queries
            )
            groups = reconcile.settle(groups, compared)
    result = _result(store_arn, found, groups, failed, archive, cost, queries, compared, details)
    result["engine"] = engine
    result["queries"] = [q.as_json() for q in athena_runs] + result["queries"]
    result["started"], result["finished"] = iso(started), iso(now())
    if report is not None:
        body = dict(result, files=[f.as_json() for f in archive.files])
        body["tool"] = {"name": PACKAGE, "version": metadata.version(PACKAGE)}
        result["report"] = {"path": str(report), "sha256": output.write_report(report, body)}
    if as_json:
        click.echo(json.dumps(result, allow_nan=False))
    else:
        out = render.stdout_console()
        for table in output.verify_view(result):
            out.print(table)
        if result.get("details"):
            out.print(output.details_view(result["details"]))
    if not result["complete"]:
        click.get_current_context().exit(EXIT_AWS_ERROR)


def _athena_place(
    engine: str, workgroup: str | None, database: str | None
) -> tuple[str, str] | None:
    """(workgroup, database) with ``--engine athena``; None with the local engine."""
    if engine != "athena":
        if workgroup is not None or database is not None:
            raise BadInputError("--athena-workgroup and --athena-database need --engine athena")
        return None
    if not workgroup or not database:
        raise BadInputError("--engine athena needs --athena-workgroup and --athena-database")
    if not ATHENA_NAME.fullmatch(database):
        raise BadInputError(
            f"--athena-database: expected letters, digits and underscores, got {database!r}"
        )
    return workgroup, database


def _targets(
    cloudtrail: Any,
    s3_uri: str | None,
    store: str | None,
    start: datetime | None,
    end: datetime | None,
    stack: str | None,
    logical_id: str | None,
) -> tuple[str, list[sources.Source]]:
    if (s3_uri is None) == (stack is None):
        raise BadInputError("give either S3_URI (with --store) or --stack")
    if stack is None:
        if store is None:
            raise BadInputError("--store: S3_URI needs the event data store's ARN")
        if logical_id is not None:
            raise BadInputError("--logical-id needs --stack")
        assert s3_uri is not None
        return store, [sources.source(s3_uri, start, end, "S3_URI")]
    if store is not None or start is not None or end is not None:
        raise BadInputError(
            "--stack reads the store and window from the stack: leave out "
            "--store, --start and --end"
        )
    return sources.of_stack(cloudtrail, clients.stepfunctions(), stack, logical_id)


def _oldest(at: datetime, retention: int) -> str | None:
    """The first ``eventTime`` the store keeps (text compares as ``eventTime`` does)."""
    if retention <= 0:
        return None
    return (at - timedelta(days=retention)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _list(s3: Any, found: list[sources.Source], pool: Any) -> list[archive_counts.ArchiveFile]:
    files: dict[str, archive_counts.ArchiveFile] = {}
    for source in found:
        try:
            listing = region_listing.list_window(
                s3,
                source.bucket,
                source.prefix,
                source.window,
                pool=pool,
                progress=archive_walk.Progress(),
            )
        except (ClientError, BotoCoreError) as error:
            raise lake_query.refused(
                "ListObjectsV2", error, f"arn:aws:s3:::{source.bucket}", "s3:ListBucket"
            ) from error
        for log_file in listing.files:
            item = archive_counts.ArchiveFile(source.bucket, log_file)
            files[item.location] = item  # a file two segments read counts once
    return sorted(files.values(), key=lambda f: f.location)


def _count(
    s3: Any,
    files: list[archive_counts.ArchiveFile],
    failed: dict[str, str],
    oldest: str | None,
    pool: Any,
    workers: int,
    keep_files: bool,
    progress: output.ReadProgress,
) -> archive_counts.ArchiveSide:
    try:
        return archive_counts.count_archive(
            s3,
            files,
            skip=frozenset(failed),
            oldest=oldest,
            pool=pool,
            workers=workers,
            keep_files=keep_files,
            on_progress=progress.update,
        )
    except (ClientError, BotoCoreError) as error:
        buckets = sorted({f.bucket for f in files})
        resource = ", ".join(f"arn:aws:s3:::{b}/*" for b in buckets)
        raise lake_query.refused("GetObject", error, resource, "s3:GetObject") from error


def _listed_days(
    files: list[archive_counts.ArchiveFile], found: list[sources.Source]
) -> tuple[date, date] | None:
    """The whole days the store query covers: the windows' days and the days of the files'
    events (a file holds events of the minutes before the time in its name)."""
    days: set[date] = set()
    for item in files:
        if item.file.at is not None:  # an undated file's days are queried once it is read
            days.update((item.file.at.date() - timedelta(days=1), item.file.at.date()))
    for source in found:
        for bound in (source.window.start, source.window.end):
            if bound is not None:
                days.add(bound.astimezone(UTC).date())
    return (min(days), max(days)) if days else None


def _outside(
    counts: dict[reconcile.GroupKey, reconcile.Counts], queried: tuple[date, date] | None
) -> list[tuple[date, date]]:
    """Spans of archive days the first query did not cover (events delivered very late)."""
    days = sorted(date.fromisoformat(k[0]) for k in counts if k[0] != archive_counts.UNKNOWN_DAY)
    if not days:
        return []
    if queried is None:
        return [(days[0], days[-1])]
    spans = []
    if days[0] < queried[0]:
        spans.append((days[0], queried[0] - timedelta(days=1)))
    if days[-1] > queried[1]:
        spans.append((queried[1] + timedelta(days=1), days[-1]))
    return spans


def _store_counts(
    cloudtrail: Any,
    store_arn: str,
    days: tuple[date, date] | None,
    queries: list[lake_query.QueryRun],
) -> dict[reconcile.GroupKey, reconcile.Counts]:
    if days is None:
        return {}
    statement = lake_query.counts_statement(store_arn, *days)
    run = lake_query.run_query(cloudtrail, statement, store_arn)
    queries.append(run)
    return lake_query.group_counts(run)


def _details(
    s3: Any,
    cloudtrail: Any,
    store_arn: str,
    groups: list[reconcile.Group],
    files: list[archive_counts.ArchiveFile],
    archive: archive_counts.ArchiveSide,
    oldest: str | None,
    pool: Any,
    queries: list[lake_query.QueryRun],
) -> list[reconcile.Details]:
    """Compare the eventIDs of the days that differ (at most ``MAX_DETAIL_DAYS``)."""
    days = sorted({g.key[0] for g in groups if g.status != "ok"})[:MAX_DETAIL_DAYS]
    by_location = {r.location: r for r in archive.files}
    read = [(f, by_location[f.location]) for f in files if f.location in by_location]
    compared = []
    for day in days:
        run = lake_query.run_query(
            cloudtrail, lake_query.ids_statement(store_arn, date.fromisoformat(day)), store_arn
        )
        queries.append(run)
        store_ids = lake_query.day_ids(run, day)
        archive_ids = archive_counts.event_ids(s3, read, day, oldest, pool)
        for key in sorted(set(store_ids) | set(archive_ids)):
            compared.append(
                reconcile.compare_ids(
                    key, archive_ids.get(key, Counter()), store_ids.get(key, Counter())
                )
            )
    return compared


def _result(
    store_arn: str,
    found: list[sources.Source],
    groups: list[reconcile.Group],
    failed: dict[str, str],
    archive: archive_counts.ArchiveSide,
    cost: output.Cost,
    queries: list[lake_query.QueryRun],
    compared: list[reconcile.Details],
    details: bool,
) -> dict[str, Any]:
    """The ``--json`` document (its first fields are a stable contract)."""
    starts = [s.window.start for s in found]
    ends = [s.window.end for s in found]
    totals = reconcile.totals(groups)
    totals["archive_files"] = archive.files_counted
    totals["unreadable_files"] = len(archive.unreadable)
    totals["late_records"] = archive.late_records
    result: dict[str, Any] = {
        "complete": reconcile.complete(groups),
        "store": store_arn,
        "source": found[0].uri,
        "window": {
            "start": None if None in starts else iso(min(s for s in starts if s is not None)),
            "end": None if None in ends else iso(max(e for e in ends if e is not None)),
        },
        "groups": [g.as_json() for g in groups],
        "expected_gaps": {
            "outside_retention": archive.outside_retention,
            "failed_files": [{"location": k, "error": v} for k, v in failed.items()],
        },
        "totals": totals,
        "sources": [s.as_json() for s in found],
        "unreadable_files": [{"location": k, "error": v} for k, v in archive.unreadable.items()],
        "cost": cost.as_json(),
        "queries": [q.as_json() for q in queries],
    }
    if details:
        result["details"] = [d.as_json() for d in compared if d.differs]
    return result
