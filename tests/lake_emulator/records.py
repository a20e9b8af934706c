"""What the emulated CloudTrail Lake remembers: event data stores, imports, their files and
failures, each able to describe itself as the API does (``describe()``).

The import engine (``engine.py``) moves these records on the clock; the HTTP front
(``server.py``) reads and changes them on behalf of the operations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

#: The import statuses in which an import holds its account (one such import per account).
ACTIVE = frozenset({"INITIALIZING", "IN_PROGRESS"})
STORE_ARN = re.compile(r"^arn:aws[a-z-]*:cloudtrail:([a-z0-9-]+):(\d{12}):eventdatastore/(.+)$")


@dataclass
class EventDataStore:
    arn: str
    name: str
    status: str
    category: str
    retention_days: int
    created: float
    organization_enabled: bool = False

    @property
    def account(self) -> str:
        match = STORE_ARN.match(self.arn)
        assert match
        return match.group(2)

    def describe(self) -> dict[str, Any]:
        return {
            "EventDataStoreArn": self.arn,
            "Name": self.name,
            "Status": self.status,
            "AdvancedEventSelectors": [
                {
                    "Name": f"{self.category} events",
                    "FieldSelectors": [{"Field": "eventCategory", "Equals": [self.category]}],
                }
            ],
            "MultiRegionEnabled": True,
            "OrganizationEnabled": self.organization_enabled,
            "RetentionPeriod": self.retention_days,
            "TerminationProtectionEnabled": False,
            "CreatedTimestamp": self.created,
            "UpdatedTimestamp": self.created,
            "BillingMode": "EXTENDABLE_RETENTION_PRICING",
        }


@dataclass
class ImportFile:
    """One log file of an import's selection, and what became of it."""

    key: str
    folder: str
    state: Literal["pending", "done", "failed"] = "pending"
    events: int = 0


@dataclass
class ImportFailure:
    location: str
    status: str
    error_type: str
    error_message: str
    updated: float

    def describe(self) -> dict[str, Any]:
        return {
            "Location": self.location,
            "Status": self.status,
            "ErrorType": self.error_type,
            "ErrorMessage": self.error_message,
            "LastUpdatedTime": self.updated,
        }


@dataclass
class Import:
    import_id: str
    store: EventDataStore
    source: dict[str, str]
    start: float | None
    end: float | None
    status: str
    created: float
    updated: float
    phase_started: float
    work_clock: float = 0.0
    files: list[ImportFile] | None = None
    failures: dict[str, ImportFailure] = field(default_factory=dict)

    @property
    def bucket_and_prefix(self) -> tuple[str, str]:
        rest = self.source["S3LocationUri"][len("s3://") :]
        bucket, _, prefix = rest.partition("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return bucket, prefix

    def statistics(self) -> dict[str, int]:
        files = self.files or []
        folders: dict[str, bool] = {}
        for f in files:
            folders[f.folder] = folders.get(f.folder, True) and f.state == "done"
        return {
            "PrefixesFound": len(folders),
            "PrefixesCompleted": sum(folders.values()),
            "FilesCompleted": sum(f.state == "done" for f in files),
            "EventsCompleted": sum(f.events for f in files if f.state == "done"),
            "FailedEntries": sum(x.status == "FAILED" for x in self.failures.values()),
        }

    def describe(self, statistics: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ImportId": self.import_id,
            "Destinations": [self.store.arn],
            "ImportSource": {"S3": dict(self.source)},
            "ImportStatus": self.status,
            "CreatedTimestamp": self.created,
            "UpdatedTimestamp": self.updated,
        }
        if self.start is not None:
            out["StartEventTime"] = self.start
        if self.end is not None:
            out["EndEventTime"] = self.end
        if statistics:
            out["ImportStatistics"] = self.statistics()
        return out
