"""The import engine of the emulated CloudTrail Lake: stores and imports that really read S3 and
advance on the injected clock. The HTTP front (``server.py``) serves it as JSON 1.1.

Choices where AWS documents nothing (tests depend on them; change them here only)
---------------------------------------------------------------------------------
"Progress and time" and "What is imported" are implemented in this module; the checks listed
under "StartImport", "Other operations" and "Faults" are in the HTTP front.

Progress and time
  * Everything moves by the injected clock (see ``clock.py``); before answering any call the
    emulator catches every import up to ``clock.now()``.
  * An import stays INITIALIZING for ``init_seconds`` (5 s). At the end of it the emulator lists
    the objects under the location once (a snapshot: objects added later are not imported, not
    even by a retry) and turns IN_PROGRESS. It then processes ``files_per_second`` (1) log files
    per emulated second, in key order. When none is left: COMPLETED if no failure is FAILED,
    else FAILED. An empty selection completes with all statistics 0.
  * ImportStatistics are exact as of the last file processed (no extra lag); while
    INITIALIZING they are all 0.
What is imported
  * ``S3LocationUri`` ``s3://bucket[/prefix]``: a non-empty prefix is a folder (a ``/`` is
    appended), so ``AWSLogs/1111`` does not match ``AWSLogs/11112222/``.
  * With no prefix, only keys with a ``CloudTrail`` path segment are candidates ("by default
    only the CloudTrail prefix"); with a prefix, every key under it is. Folder markers and
    digest files (a ``CloudTrail-Digest`` segment or ``_CloudTrail-Digest_`` in the name) are
    never candidates and never counted.
  * Window: the file name's ``YYYYMMDDTHHMMZ`` must lie in [StartEventTime, EndEventTime]
    (both inclusive, minute precision; a missing bound is open). A name without that stamp
    falls back to the ``YYYY/MM/DD`` folder, which must overlap the window; a key with neither
    is taken only when no window is given. Event contents are not filtered by the window.
  * A prefix is the folder (everything up to the last ``/``) of a selected file.
    PrefixesFound = distinct folders of the selection; PrefixesCompleted = folders whose files
    all imported; FilesCompleted = files imported; EventsCompleted = their records whose
    ``eventTime`` lies inside the store's retention (older records are skipped silently);
    FailedEntries = failures whose status is FAILED (one per file). The records counted are
    kept in the store, queryable with StartQuery (see ``queries.py``).
  * Failures (``Location`` = ``s3://bucket/key``): not gzip -> ``InvalidFileFormat``; gzip but
    not JSON with a ``Records`` list -> ``MalformedLogFile``; object gone -> ``NoSuchKey``.
    A bucket whose Object Ownership is not ``BucketOwnerEnforced`` (ACLs enabled) fails the
    whole import at the end of INITIALIZING with one ``AccessDenied`` failure on the location
    (AWS asks for ACLs to be disabled; what it does otherwise is not documented).
StartImport
  * New import: exactly one destination; the store must exist (EventDataStoreNotFound), hold
    CloudTrail events (category Management/Data/NetworkActivity, else
    InvalidEventDataStoreCategory), and be ENABLED or STOPPED_INGESTION (PENDING_DELETION ->
    InactiveEventDataStore; any other status -> InvalidEventDataStoreStatus). The source needs
    an ``s3://`` URI whose bucket exists in ``S3BucketRegion`` and a role ARN of the form
    ``arn:aws:iam::<account>:role/...`` (else InvalidImportSource). StartEventTime after
    EndEventTime -> InvalidParameter. The role is not assumed (there is no IAM here).
  * One import INITIALIZING or IN_PROGRESS per account (the store's account), else
    AccountHasOngoingImportException; its message does not name the other import.
  * Retry ``StartImport(ImportId=...)``: any other parameter with it -> InvalidParameter;
    unknown id -> ImportNotFound; allowed for FAILED and STOPPED (resumes: failed files are
    retried - their failure goes RETRY, then SUCCEEDED or FAILED - and unprocessed files go on;
    the statistics keep counting); for INITIALIZING, IN_PROGRESS or COMPLETED ->
    InvalidParameterException (undocumented, so the emulator is strict).
Other operations
  * StopImport of an INITIALIZING/IN_PROGRESS import -> STOPPED; of a COMPLETED, FAILED or
    STOPPED import: returns it unchanged (no error). Unknown id -> ImportNotFound.
  * ListImports: oldest first; ``NextToken`` opaque, a foreign token -> InvalidNextToken;
    a malformed ``Destination`` -> EventDataStoreARNInvalid. ListImportFailures of an unknown
    id returns no failures (the model has no ImportNotFound for it); oldest first.
  * GetEventDataStore accepts the ARN or the bare id; a string that starts with ``arn:`` but is
    not a store ARN -> EventDataStoreARNInvalid.
Faults (``faults``): ``throttle`` -> 400 ThrottlingException; ``server_error`` -> 500
``InternalFailure``; ``reset`` -> TCP reset before the call is processed; ``reset_after`` ->
the call is processed, then the connection is reset (the answer is lost); ``deny`` -> 400
AccessDeniedException, the call not processed (a refusal no retry gets past). ``after=n``
lets the first n matching calls through, to hit one call position.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tests.lake_emulator.clock import EmulatedClock
from tests.lake_emulator.queries import LakeQueries
from tests.lake_emulator.records import ACTIVE, EventDataStore, Import, ImportFailure, ImportFile

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

NAME_STAMP = re.compile(r"_(\d{8}T\d{4})Z_")
FOLDER_DATE = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/")


@dataclass(eq=False)
class ImportEngine:
    """The stores and imports of one emulated region, moved by the clock (thread-safe).

    ``s3_factory`` makes the S3 client the engine reads the archive with (made on first use).
    """

    clock: EmulatedClock
    s3_factory: Callable[[], S3Client]
    _: KW_ONLY
    region: str = "us-east-1"
    init_seconds: float = 5.0
    files_per_second: float = 1.0
    stores: dict[str, EventDataStore] = field(default_factory=dict, init=False, repr=False)
    imports: dict[str, Import] = field(default_factory=dict, init=False, repr=False)
    _s3: S3Client | None = field(default=None, init=False, repr=False)
    #: Every record imported, queryable in SQL (``queries.py``).
    queries: LakeQueries = field(default_factory=LakeQueries, init=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)

    # ----------------------------------------------------------------- seeding & inspection
    def add_event_data_store(
        self,
        name: str = "trail-archive",
        *,
        account: str = "123456789012",
        status: str = "ENABLED",
        category: str = "Management",
        retention_days: int = 2557,
        store_id: str | None = None,
        organization_enabled: bool = False,
    ) -> EventDataStore:
        store_id = store_id or str(uuid.uuid4())
        arn = f"arn:aws:cloudtrail:{self.region}:{account}:eventdatastore/{store_id}"
        store = EventDataStore(
            arn, name, status, category, retention_days, self.clock.now(), organization_enabled
        )
        with self._lock:
            self.stores[arn] = store
        return store

    def get(self, import_id: str) -> Import:
        with self._lock:
            self._catch_up()
            return self.imports[import_id]

    # ----------------------------------------------------------------- transitions
    def ongoing(self, account: str, exclude: str | None = None) -> Import | None:
        """The import that holds ``account`` (other than ``exclude``), if any."""
        return next(
            (
                i
                for i in self.imports.values()
                if i.status in ACTIVE and i.store.account == account and i.import_id != exclude
            ),
            None,
        )

    def new_import(
        self,
        store: EventDataStore,
        source: dict[str, Any],
        start: float | None,
        end: float | None,
        now: float,
    ) -> Import:
        """A new INITIALIZING import (the front has checked the request)."""
        imp = Import(
            import_id=str(uuid.uuid4()),
            store=store,
            source={
                k: source[k] for k in ("S3LocationUri", "S3BucketRegion", "S3BucketAccessRoleArn")
            },
            start=start,
            end=end,
            status="INITIALIZING",
            created=now,
            updated=now,
            phase_started=now,
        )
        self.imports[imp.import_id] = imp
        return imp

    def resume(self, imp: Import, now: float) -> None:
        """A retry: failed files are tried again, unprocessed ones go on."""
        for f in imp.files or []:
            if f.state == "failed":
                f.state = "pending"
                imp.failures[f"s3://{imp.bucket_and_prefix[0]}/{f.key}"].status = "RETRY"
        # an import that failed as a whole (files never listed) starts over
        imp.failures = {k: v for k, v in imp.failures.items() if v.error_type != "AccessDenied"}
        imp.status, imp.updated, imp.phase_started = "INITIALIZING", now, now

    def stop(self, imp: Import) -> None:
        if imp.status in ACTIVE:
            imp.status = "STOPPED"
            imp.updated = self.clock.now()

    # ----------------------------------------------------------------------- progress
    @property
    def s3(self) -> S3Client:
        if self._s3 is None:
            self._s3 = self.s3_factory()
        return self._s3

    def _catch_up(self) -> None:
        now = self.clock.now()
        for imp in sorted(self.imports.values(), key=lambda i: i.created):
            self._advance(imp, now)

    def _advance(self, imp: Import, now: float) -> None:
        if imp.status == "INITIALIZING":
            ready = imp.phase_started + self.init_seconds
            if now < ready:
                return
            imp.status, imp.updated, imp.work_clock = "IN_PROGRESS", ready, ready
            if imp.files is None:
                if not self._acls_disabled(imp):
                    self._finish(imp)
                    return
                imp.files = self._select_files(imp)
        if imp.status != "IN_PROGRESS":
            return
        assert imp.files is not None
        step = 1.0 / self.files_per_second
        pending = [f for f in imp.files if f.state == "pending"]
        while pending and imp.work_clock + step <= now:
            imp.work_clock += step
            self._process(imp, pending.pop(0))
            imp.updated = imp.work_clock
        if not pending:
            self._finish(imp)

    def _finish(self, imp: Import) -> None:
        failed = any(f.status == "FAILED" for f in imp.failures.values())
        imp.status = "FAILED" if failed else "COMPLETED"
        imp.updated = imp.work_clock

    def _acls_disabled(self, imp: Import) -> bool:
        bucket, _ = imp.bucket_and_prefix
        try:
            rules = self.s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
            enforced = any(r["ObjectOwnership"] == "BucketOwnerEnforced" for r in rules["Rules"])
        except Exception:
            enforced = False
        if not enforced:
            location = imp.source["S3LocationUri"]
            imp.failures[location] = ImportFailure(
                location,
                "FAILED",
                "AccessDenied",
                f"ACLs are enabled on bucket {bucket}; disable them (BucketOwnerEnforced).",
                imp.work_clock,
            )
        return enforced

    def _select_files(self, imp: Import) -> list[ImportFile]:
        bucket, prefix = imp.bucket_and_prefix
        keys: list[str] = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        selected = []
        for key in sorted(keys):
            segments = key.split("/")
            name = segments[-1]
            if not name or "CloudTrail-Digest" in segments or "_CloudTrail-Digest_" in name:
                continue
            if not prefix and "CloudTrail" not in segments[:-1]:
                continue
            if self._in_window(key, imp.start, imp.end):
                selected.append(ImportFile(key, key.rsplit("/", 1)[0] + "/"))
        return selected

    @staticmethod
    def _in_window(key: str, start: float | None, end: float | None) -> bool:
        if start is None and end is None:
            return True
        lo = float("-inf") if start is None else start
        hi = float("inf") if end is None else end
        stamp = NAME_STAMP.search(key.rsplit("/", 1)[-1])
        if stamp:
            at = datetime.strptime(stamp.group(1), "%Y%m%dT%H%M").replace(tzinfo=UTC).timestamp()
            return lo <= at <= hi
        day = FOLDER_DATE.search(key)
        if day:
            year, month, dom = (int(g) for g in day.groups())
            first = datetime(year, month, dom, tzinfo=UTC).timestamp()
            return first <= hi and first + 86400 > lo
        return False

    def _process(self, imp: Import, f: ImportFile) -> None:
        bucket, _ = imp.bucket_and_prefix
        location = f"s3://{bucket}/{f.key}"
        try:
            body = self.s3.get_object(Bucket=bucket, Key=f.key)["Body"].read()
        except Exception:
            self._fail(imp, f, location, "NoSuchKey", f"The object {f.key} does not exist.")
            return
        if body[:2] != b"\x1f\x8b":
            self._fail(
                imp,
                f,
                location,
                "InvalidFileFormat",
                "The file is not a gzip compressed CloudTrail log file.",
            )
            return
        try:
            records = json.loads(gzip.decompress(body))["Records"]
            if not isinstance(records, list):
                raise TypeError("Records is not a list")
        except Exception as exc:
            self._fail(
                imp,
                f,
                location,
                "MalformedLogFile",
                f"The file is not a CloudTrail log file: {type(exc).__name__}.",
            )
            return
        oldest = datetime.fromtimestamp(imp.work_clock, UTC) - timedelta(
            days=imp.store.retention_days
        )
        kept = [r for r in records if isinstance(r, dict) and _event_time(r) >= oldest]
        f.events = len(kept)
        self.queries.ingest(imp.store.arn, kept)
        f.state = "done"
        if location in imp.failures:
            imp.failures[location].status = "SUCCEEDED"
            imp.failures[location].updated = imp.work_clock

    def _fail(
        self, imp: Import, f: ImportFile, location: str, error_type: str, message: str
    ) -> None:
        f.state = "failed"
        imp.failures[location] = ImportFailure(
            location, "FAILED", error_type, message, imp.work_clock
        )


def _event_time(record: dict[str, Any]) -> datetime:
    try:
        return datetime.strptime(str(record["eventTime"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (KeyError, ValueError):
        return datetime.max.replace(tzinfo=UTC)
