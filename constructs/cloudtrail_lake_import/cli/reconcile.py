"""What ``verify`` concludes from the two sides' counts: pure, no AWS call.

Events are compared per group: UTC day of ``eventTime`` x ``recipientAccountId`` x
``awsRegion``. The archive side counts the records of the files an import reads, and their
distinct ``eventID``s, leaving out the expected gaps (events older than the store's retention,
the files the window's imports failed); the store side is a Lake query's ``COUNT(*)`` and
``COUNT(DISTINCT eventID)``.

A group is
  * ``missing`` when the store holds fewer distinct events than the archive;
  * ``duplicated`` when the store holds more copies than the archive itself has (CloudTrail
    sometimes delivers an event in two files: an import copies both, which is no fault of it);
  * ``extra`` when the store holds more distinct events than the archive (live events, other
    imports): counts cannot then rule out a missing event hidden by an extra one, which is what
    ``--details`` checks by ``eventID``;
  * ``ok`` otherwise.
The store is complete when no group is missing or duplicated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: (day ``YYYY-MM-DD``, account, region)
GroupKey = tuple[str, str, str]
Status = Literal["ok", "missing", "duplicated", "extra"]
DIFFERING: frozenset[str] = frozenset({"missing", "duplicated", "extra"})
#: The ``eventID``s a report lists per group and kind, at most.
MAX_LISTED_IDS = 1000


@dataclass(frozen=True)
class Counts:
    """One side's figures for a group: records (copies) and distinct ``eventID``s."""

    records: int = 0
    distinct: int = 0


@dataclass(frozen=True)
class Group:
    key: GroupKey
    archive: Counts
    store: Counts
    status: Status

    def as_json(self) -> dict[str, Any]:
        day, account, region = self.key
        return {
            "day": day,
            "account": account,
            "region": region,
            "archive_events": self.archive.distinct,
            "store_events": self.store.records,
            "store_distinct_events": self.store.distinct,
            "status": self.status,
            "archive_records": self.archive.records,
        }


def status_of(archive: Counts, store: Counts) -> Status:
    if store.distinct < archive.distinct:
        return "missing"
    if store.records - store.distinct > archive.records - archive.distinct:
        return "duplicated"
    if store.distinct > archive.distinct:
        return "extra"
    return "ok"


def reconcile(archive: Mapping[GroupKey, Counts], store: Mapping[GroupKey, Counts]) -> list[Group]:
    """Every group either side has, in (day, account, region) order."""
    return [
        Group(
            key, archive.get(key, Counts()), store.get(key, Counts()), _status(archive, store, key)
        )
        for key in sorted(set(archive) | set(store))
    ]


def _status(
    archive: Mapping[GroupKey, Counts], store: Mapping[GroupKey, Counts], key: GroupKey
) -> Status:
    return status_of(archive.get(key, Counts()), store.get(key, Counts()))


@dataclass(frozen=True)
class Details:
    """A group's ``eventID``s that differ, by comparing both sides' ids one by one."""

    key: GroupKey
    missing: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    extra: int = 0
    missing_total: int = 0
    duplicated_total: int = 0

    @property
    def status(self) -> Status:
        if self.missing_total:
            return "missing"
        if self.duplicated_total:
            return "duplicated"
        return "extra" if self.extra else "ok"

    @property
    def differs(self) -> bool:
        return bool(self.missing_total or self.duplicated_total)

    def as_json(self) -> dict[str, Any]:
        day, account, region = self.key
        return {
            "day": day,
            "account": account,
            "region": region,
            "missing_event_ids": self.missing,
            "missing_total": self.missing_total,
            "duplicated_event_ids": self.duplicated,
            "duplicated_total": self.duplicated_total,
            "extra_events": self.extra,
        }


def compare_ids(key: GroupKey, archive: Counter[str], store: Counter[str]) -> Details:
    """Archive ids absent from the store; ids the store holds more often than the archive."""
    missing = sorted(i for i in archive if i not in store)
    duplicated = sorted(i for i, copies in store.items() if i in archive and copies > archive[i])
    return Details(
        key,
        missing[:MAX_LISTED_IDS],
        duplicated[:MAX_LISTED_IDS],
        extra=sum(1 for i in store if i not in archive),
        missing_total=len(missing),
        duplicated_total=len(duplicated),
    )


def settle(groups: list[Group], details: Iterable[Details]) -> list[Group]:
    """Groups whose ``eventID``s were compared take the comparison's verdict: ids decide where
    counts could not (an extra event hiding a missing one, a late copy counted twice)."""
    by_key = {d.key: d for d in details}
    settled = []
    for group in groups:
        found = by_key.get(group.key)
        if found is not None:
            group = Group(group.key, group.archive, group.store, found.status)
        settled.append(group)
    return settled


def complete(groups: Iterable[Group]) -> bool:
    return all(g.status in ("ok", "extra") for g in groups)


def totals(groups: list[Group]) -> dict[str, int]:
    by_status = Counter(g.status for g in groups)
    return {
        "groups": len(groups),
        "groups_ok": by_status["ok"],
        "groups_missing": by_status["missing"],
        "groups_duplicated": by_status["duplicated"],
        "groups_extra": by_status["extra"],
        "archive_events": sum(g.archive.distinct for g in groups),
        "archive_records": sum(g.archive.records for g in groups),
        "store_events": sum(g.store.records for g in groups),
        "store_distinct_events": sum(g.store.distinct for g in groups),
        "missing_events": sum(max(0, g.archive.distinct - g.store.distinct) for g in groups),
        "duplicate_copies": sum(
            max(0, (g.store.records - g.store.distinct) - (g.archive.records - g.archive.distinct))
            for g in groups
        ),
        "extra_events": sum(max(0, g.store.distinct - g.archive.distinct) for g in groups),
    }
