"""``verify --engine athena``: the archive side counted by Amazon Athena (see ``athena.py``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cloudtrail_lake_import.cli import archive_counts, athena
from cloudtrail_lake_import.cli import verify_sources as sources
from cloudtrail_lake_import.cli.errors import BadInputError


def count(
    client: Any,
    files: list[archive_counts.ArchiveFile],
    found: list[sources.Source],
    failed: dict[str, str],
    oldest: str | None,
    workgroup: str,
    database: str,
) -> tuple[archive_counts.ArchiveSide, list[athena.AthenaRun]]:
    """Create the tables if absent, then count the selected files' records in one query."""
    if not files:
        return archive_counts.ArchiveSide({}, [], {}, 0, 0, 0), []
    undated = [f.location for f in files if f.file.at is None]
    if undated:
        raise BadInputError(
            "--engine athena reads the trail layout (AWSLogs/.../CloudTrail/<region>/YYYY/MM/DD/); "
            f"{len(undated)} selected file(s) lie outside it, e.g. {undated[0]}: "
            "verify them with the local engine (leave out --engine)"
        )
    found_roots = athena.roots((f.bucket, f.file.key) for f in files)
    runs = [
        athena.run(client, athena.ddl(root, database), workgroup, database, results=False)
        for root in found_roots
    ]
    statement = athena.counts_query(
        found_roots,
        database,
        [(s.bucket, s.prefix, s.window) for s in found],
        oldest,
        failed,
    )
    counted = athena.run(client, statement, workgroup, database)
    runs.append(counted)
    counts, old = athena.group_counts(counted.rows)
    # Athena reads no file here: the evidence lists the files without ETag or record count, and
    # --details re-reads the files of a day's time and the next day's.
    read = [
        archive_counts.FileResult(
            f.location,
            "",
            f.file.size,
            records=-1,
            first_day=(f.file.at - timedelta(days=1)).date().isoformat(),
            last_day=f.file.at.date().isoformat(),
        )
        for f in files
        if f.location not in failed and f.file.at is not None
    ]
    return archive_counts.ArchiveSide(counts, read, {}, old, 0, len(read)), runs
