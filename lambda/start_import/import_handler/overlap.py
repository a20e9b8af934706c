"""No overlap, unless asked: is a new import about to copy events the store already holds?

Pure: the handler reads the store's imports (``cloudtrail.store_imports``) and asks
``overlapping`` before any StartImport (docs/DESIGN.md, "Exactly once", rule 6).

CloudTrail picks the files of a window by the date in their prefix and name (REFERENCE:
"checks the prefix and file names for a date"), so two windows overlap when they share a UTC
day: an import from 23:00 and one up to 01:00 the next morning both read that day's files.
Two sources overlap when they are in the same bucket and one prefix contains the other (an
empty prefix contains every other).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from import_handler.frozen import frozen
from import_handler.model import ImportRecord
from import_handler.properties import ImportIdentity

# What "holds events" means: COMPLETED, or running (bringing them in now).
HOLDING = frozenset({"COMPLETED", "INITIALIZING", "IN_PROGRESS"})


@frozen
class Overlap:
    """``import_id`` already holds (or is bringing) ``first``..``last`` of the new window;
    None for an open end."""

    import_id: str
    first: date | None
    last: date | None

    @property
    def days(self) -> str:
        if self.first is None and self.last is None:
            return "every day"
        if self.first is None:
            return f"every day up to {self.last}"
        if self.last is None:
            return f"every day from {self.first}"
        if self.first == self.last:
            return f"{self.first} (1 day)"
        count = (self.last - self.first).days + 1
        return f"{self.first}..{self.last} ({count} days)"


def overlapping(
    identity: ImportIdentity, history: Iterable[ImportRecord], exclude: Iterable[str] = ()
) -> Overlap | None:
    """The first import in ``history`` (newest first) that holds part of ``identity``'s
    source and window in the same store, but for ``exclude`` (the import a retry resumes)."""
    skip = set(exclude)
    for record in history:
        other = record.identity
        if record.import_id in skip or not holds_events(record) or other is None:
            continue
        if other.destination != identity.destination or not sources_overlap(identity, other):
            continue
        shared = shared_days(identity, other)
        if shared is not None:
            return Overlap(record.import_id, *shared)
    return None


def holds_events(record: ImportRecord) -> bool:
    """COMPLETED with files, or running. A COMPLETED import that copied no file (an empty
    prefix) holds nothing to copy twice; its statistics are final once it has ended."""
    if record.status not in HOLDING:
        return False
    return not (record.status == "COMPLETED" and record.statistics.get("FilesCompleted") == 0)


def sources_overlap(a: ImportIdentity, b: ImportIdentity) -> bool:
    if a.bucket != b.bucket:
        return False
    return a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)


def shared_days(a: ImportIdentity, b: ImportIdentity) -> tuple[date | None, date | None] | None:
    """The UTC days both windows touch (None for an open end), or None when they share none."""
    first = _later(_day(a.start_event_time), _day(b.start_event_time))
    last = _earlier(_day(a.end_event_time), _day(b.end_event_time))
    if first is not None and last is not None and first > last:
        return None
    return first, last


def reason(overlap: Overlap, subject: str = "") -> str:
    """The FAILED reason (CloudFormation keeps 256 characters: the advice comes first).
    ``subject`` says whose window it is when the request starts more than one import (a
    plan's segment)."""
    return (
        f"OverlappingImport: {subject}{overlap.import_id} already holds {overlap.days} of this "
        "window; events imported twice are billed twice and cannot be deleted. Narrow the "
        "window or prefix, or set allow_overlap=True"
    )


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment is not None else None


def _later(a: date | None, b: date | None) -> date | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def _earlier(a: date | None, b: date | None) -> date | None:
    if a is None or b is None:
        return a or b
    return min(a, b)
