"""The archive side of ``verify`` on this machine: every record of the files an import reads.

Files are read with parallel GETs, gunzipped as they stream in and parsed with orjson; at most
``2 x workers`` files are in flight, so memory follows the parallelism, not the archive. Each
file's records are counted per group (UTC day of ``eventTime`` x ``recipientAccountId`` x
``awsRegion``) and de-duplicated by ``eventID`` across files: a group keeps the 64-bit hashes of
its ids while files of its days can still come (files are read in the order of their time, and
a file holds events of the minutes before it), then only its counts. Events older than the
store's retention and the files the imports failed are counted apart, as expected gaps.
"""

from __future__ import annotations

import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import orjson

from cloudtrail_lake_import.cli.reconcile import Counts, GroupKey
from cloudtrail_lake_import.handler_rules import sizing

#: Days after a group's day during which files may still hold its events (CloudTrail delivers
#: within minutes; a late delivery beyond this is counted, its id no longer de-duplicated).
OPEN_DAYS = 2
CHUNK_BYTES = 1 << 20
#: ``eventTime`` of a record without one (it counts in the group of that day).
UNKNOWN_DAY = "unknown"


@dataclass(frozen=True)
class ArchiveFile:
    """A log file an import reads (``sizing``'s selection) and its bucket."""

    bucket: str
    file: sizing.LogFile

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.file.key}"


@dataclass
class FileResult:
    """What one file held (its id hashes are dropped once merged)."""

    location: str
    etag: str
    size: int
    records: int = 0
    outside_retention: int = 0
    first_day: str | None = None
    last_day: str | None = None
    groups: dict[GroupKey, list[int]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """(ETag and records are None for a file the local engine did not read.)"""
        return {
            "location": self.location,
            "etag": self.etag or None,
            "size": self.size,
            "records": self.records if self.records >= 0 else None,
        }


class UnreadableFileError(Exception):
    """A selected file that is no gzip JSON trail log (the import fails it too)."""


def read_records(body: Any) -> list[Any]:
    """The ``Records`` of a streamed gzip body (all members, as gzip readers do)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    data = bytearray()
    for chunk in body.iter_chunks(CHUNK_BYTES):
        while chunk:
            data += inflater.decompress(chunk)
            if not inflater.eof:
                break
            chunk = inflater.unused_data
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    data += inflater.flush()
    try:
        records = orjson.loads(data)["Records"]
    except (orjson.JSONDecodeError, KeyError, TypeError) as error:
        raise UnreadableFileError(f"not a CloudTrail log file ({type(error).__name__})") from error
    if not isinstance(records, list):
        raise UnreadableFileError("not a CloudTrail log file (Records is not a list)")
    return records


def count_file(s3: Any, item: ArchiveFile, oldest: str | None) -> FileResult:
    """GET, gunzip and count one file; ``oldest`` is the retention's first ``eventTime``."""
    response = s3.get_object(Bucket=item.bucket, Key=item.file.key)
    try:
        records = read_records(response["Body"])
    except zlib.error as error:
        raise UnreadableFileError(f"not gzip ({error})") from error
    finally:
        response["Body"].close()
    result = FileResult(item.location, str(response.get("ETag", "")).strip('"'), item.file.size)
    for record in records:
        if not isinstance(record, dict):
            continue
        result.records += 1
        at = str(record.get("eventTime") or "")
        if oldest is not None and at and at < oldest:
            result.outside_retention += 1
            continue
        day = at[:10] if len(at) >= 10 else UNKNOWN_DAY
        key = (day, str(record.get("recipientAccountId")), str(record.get("awsRegion")))
        result.groups.setdefault(key, []).append(hash(str(record.get("eventID"))))
        if result.first_day is None or day < result.first_day:
            result.first_day = day
        if result.last_day is None or day > result.last_day:
            result.last_day = day
    return result


@dataclass
class Tally:
    """Counts per group, de-duplicating ids while a group's days are open."""

    records: Counter[GroupKey] = field(default_factory=Counter)
    distinct: Counter[GroupKey] = field(default_factory=Counter)
    open_ids: dict[GroupKey, set[int]] = field(default_factory=dict)
    late_records: int = 0

    def add(self, result: FileResult) -> None:
        for key, hashes in result.groups.items():
            self.records[key] += len(hashes)
            if key in self.open_ids or key not in self.distinct:
                ids = self.open_ids.setdefault(key, set())
                before = len(ids)
                ids.update(hashes)
                self.distinct[key] += len(ids) - before
            else:  # closed: counted, no longer de-duplicated
                self.distinct[key] += len(hashes)
                self.late_records += len(hashes)
        result.groups = {}

    def close_before(self, day: date) -> None:
        """Forget the ids of groups of days before ``day``."""
        cutoff = day.isoformat()
        for key in [k for k in self.open_ids if k[0] < cutoff]:
            del self.open_ids[key]

    def counts(self) -> dict[GroupKey, Counts]:
        return {k: Counts(self.records[k], self.distinct[k]) for k in self.records}


@dataclass
class Progress:
    files_total: int = 0
    files_read: int = 0
    bytes_total: int = 0
    bytes_read: int = 0
    events: int = 0


@dataclass
class ArchiveSide:
    counts: dict[GroupKey, Counts]
    files: list[FileResult]  # each file's figures, when kept (a report, --details)
    unreadable: dict[str, str]  # location -> why
    outside_retention: int
    late_records: int
    files_counted: int


def count_archive(
    s3: Any,
    files: Iterable[ArchiveFile],
    *,
    skip: frozenset[str],
    oldest: str | None,
    pool: ThreadPoolExecutor,
    workers: int,
    keep_files: bool = True,
    on_progress: Callable[[Progress], None] = lambda _: None,
) -> ArchiveSide:
    """Count ``files`` (those in ``skip``, by location, are the imports' failed files); each
    file's own figures are kept only with ``keep_files`` (millions of files take memory)."""
    # Undated files (a flat copy below a named prefix) first: they may hold any day, so no day
    # is closed while they are read.
    ordered = sorted(
        (f for f in files if f.location not in skip),
        key=lambda f: (f.file.at is not None, f.file.at or datetime.min, f.location),
    )
    progress = Progress(len(ordered), 0, sum(f.file.size for f in ordered))
    tally = Tally()
    results: list[FileResult] = []
    unreadable: dict[str, str] = {}
    in_flight: deque[tuple[ArchiveFile, Future[FileResult]]] = deque()
    queue = iter(ordered)
    outside = 0

    def submit() -> None:
        item = next(queue, None)
        if item is not None:
            in_flight.append((item, pool.submit(count_file, s3, item, oldest)))

    for _ in range(2 * workers):
        submit()
    while in_flight:
        item, future = in_flight.popleft()
        try:
            result = future.result()
        except UnreadableFileError as error:
            unreadable[item.location] = str(error)
            result = FileResult(item.location, "", item.file.size)
        submit()
        if item.file.at is not None:
            tally.close_before(item.file.at.date() - timedelta(days=OPEN_DAYS))
        progress.events += sum(len(h) for h in result.groups.values())
        tally.add(result)
        outside += result.outside_retention
        if keep_files:
            results.append(result)
        progress.files_read += 1
        progress.bytes_read += item.file.size
        on_progress(progress)
    return ArchiveSide(
        tally.counts(), results, unreadable, outside, tally.late_records, progress.files_read
    )


def event_ids(
    s3: Any,
    files: Iterable[tuple[ArchiveFile, FileResult]],
    day: str,
    oldest: str | None,
    pool: ThreadPoolExecutor,
) -> dict[GroupKey, Counter[str]]:
    """The ``eventID``s (with copies) of the groups of ``day``, from the files that hold it."""
    holding = [
        item
        for item, result in files
        if result.first_day is not None
        and result.last_day is not None
        and result.first_day <= day <= result.last_day
    ]
    found: dict[GroupKey, Counter[str]] = {}
    for ids in pool.map(lambda item: _ids_of_day(s3, item, day, oldest), holding):
        for key, counter in ids.items():
            found.setdefault(key, Counter()).update(counter)
    return found


def _ids_of_day(
    s3: Any, item: ArchiveFile, day: str, oldest: str | None
) -> dict[GroupKey, Counter[str]]:
    response = s3.get_object(Bucket=item.bucket, Key=item.file.key)
    try:
        records = read_records(response["Body"])
    finally:
        response["Body"].close()
    ids: dict[GroupKey, Counter[str]] = {}
    for record in records:
        if not isinstance(record, dict):
            continue
        at = str(record.get("eventTime") or "")
        if at[:10] != day or (oldest is not None and at < oldest):
            continue
        key = (day, str(record.get("recipientAccountId")), str(record.get("awsRegion")))
        ids.setdefault(key, Counter())[str(record.get("eventID"))] += 1
    return ids
