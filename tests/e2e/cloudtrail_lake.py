"""A local CloudTrail Lake endpoint (JSON 1.1 over HTTP) whose imports really read S3.

Operations: GetEventDataStore, StartImport, GetImport, ListImports, StopImport,
ListImportFailures. Requests carry ``X-Amz-Target: <prefix>.CloudTrail_20131101.<Operation>``
(botocore sends ``com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Operation>``; the bare
``CloudTrail_20131101.<Operation>`` is accepted too). Errors are HTTP 400 with
``{"__type": "<namespace>#<Code>", "message": ...}``, which botocore turns into
``client.exceptions.<Code>``.

Choices where AWS documents nothing (tests depend on them; change them here only)
---------------------------------------------------------------------------------
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
    FailedEntries = failures whose status is FAILED (one per file).
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
the call is processed, then the connection is reset (the answer is lost).
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from tests.e2e.clock import EmulatedClock
from tests.e2e.local_http import RESET, HttpRequest, HttpResponse, _Reset

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

TARGET_PREFIX = "CloudTrail_20131101"
ERROR_NAMESPACE = "com.amazonaws.cloudtrail.v20131101"
CLOUDTRAIL_CATEGORIES = frozenset({"Management", "Data", "NetworkActivity"})
ACTIVE = frozenset({"INITIALIZING", "IN_PROGRESS"})
STORE_ARN = re.compile(r"^arn:aws[a-z-]*:cloudtrail:([a-z0-9-]+):(\d{12}):eventdatastore/(.+)$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")
NAME_STAMP = re.compile(r"_(\d{8}T\d{4})Z_")
FOLDER_DATE = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/")
UUID_RE = re.compile(r"^[a-f0-9-]{36}$")

FaultKind = Literal["throttle", "server_error", "reset", "reset_after"]


class ApiError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass
class EventDataStore:
    arn: str
    name: str
    status: str
    category: str
    retention_days: int
    created: float

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
            "OrganizationEnabled": False,
            "RetentionPeriod": self.retention_days,
            "TerminationProtectionEnabled": False,
            "CreatedTimestamp": self.created,
            "UpdatedTimestamp": self.created,
            "BillingMode": "EXTENDABLE_RETENTION_PRICING",
        }


@dataclass
class _File:
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
    files: list[_File] | None = None
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


@dataclass(frozen=True)
class CallRecord:
    operation: str
    params: dict[str, Any]
    outcome: str  # "ok", an error code, "throttled", "500", "reset", "reset_after"
    at: float


@dataclass
class _Fault:
    kind: FaultKind
    operation: str | None
    remaining: int


class FaultPlan:
    """Faults served to the next matching calls, in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()

    def add(self, kind: FaultKind, count: int = 1, operation: str | None = None) -> None:
        with self._lock:
            self._faults.append(_Fault(kind, operation, count))

    def take(self, operation: str) -> FaultKind | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.operation in (None, operation):
                    fault.remaining -= 1
                    return fault.kind
            return None

    def pending(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


class CloudTrailLake:
    """State and JSON 1.1 app of the emulated CloudTrail Lake (one region)."""

    def __init__(
        self,
        clock: EmulatedClock,
        s3: Callable[[], S3Client],
        *,
        region: str = "us-east-1",
        init_seconds: float = 5.0,
        files_per_second: float = 1.0,
    ) -> None:
        self.clock = clock
        self._s3_factory = s3
        self._s3: S3Client | None = None
        self.region = region
        self.init_seconds = init_seconds
        self.files_per_second = files_per_second
        self.stores: dict[str, EventDataStore] = {}
        self.imports: dict[str, Import] = {}
        self.calls: list[CallRecord] = []
        self.faults = FaultPlan()
        self._lock = threading.RLock()

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
    ) -> EventDataStore:
        store_id = store_id or str(uuid.uuid4())
        arn = f"arn:aws:cloudtrail:{self.region}:{account}:eventdatastore/{store_id}"
        store = EventDataStore(arn, name, status, category, retention_days, self.clock.now())
        with self._lock:
            self.stores[arn] = store
        return store

    def operations(self, outcome: str | None = None) -> list[str]:
        with self._lock:
            return [c.operation for c in self.calls if outcome in (None, c.outcome)]

    def get(self, import_id: str) -> Import:
        with self._lock:
            self._catch_up()
            return self.imports[import_id]

    # ----------------------------------------------------------------------- HTTP app
    def __call__(self, request: HttpRequest) -> HttpResponse | _Reset:
        target = request.headers.get("x-amz-target", "")
        prefix, _, operation = target.rpartition(".")
        try:
            params = json.loads(request.body or b"{}")
        except ValueError:
            params = None
        if request.method != "POST" or not prefix.endswith(TARGET_PREFIX):
            return self._error(ApiError("UnknownOperationException", f"unknown target {target}"))
        fault = self.faults.take(operation)
        outcome: str
        if fault == "reset":
            self._record(operation, params, "reset")
            return RESET
        if fault == "throttle":
            self._record(operation, params, "throttled")
            return self._error(ApiError("ThrottlingException", "Rate exceeded"))
        if fault == "server_error":
            self._record(operation, params, "500")
            return self._error(ApiError("InternalFailure", "Internal server error", 500))
        handler = getattr(self, f"_op_{operation}", None)
        if handler is None or not isinstance(params, dict):
            self._record(operation, params, "UnknownOperationException")
            return self._error(ApiError("UnknownOperationException", f"unknown {operation}"))
        try:
            with self._lock:
                self._catch_up()
                body = handler(params)
            outcome = "ok"
        except ApiError as err:
            self._record(operation, params, err.code)
            return self._error(err)
        if fault == "reset_after":
            self._record(operation, params, "reset_after")
            return RESET
        self._record(operation, params, outcome)
        return self._json(200, body)

    def _record(self, operation: str, params: Any, outcome: str) -> None:
        with self._lock:
            self.calls.append(
                CallRecord(
                    operation, params if isinstance(params, dict) else {}, outcome, self.clock.now()
                )
            )

    @staticmethod
    def _json(status: int, body: dict[str, Any]) -> HttpResponse:
        return HttpResponse(
            status,
            json.dumps(body).encode(),
            {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": str(uuid.uuid4())},
        )

    def _error(self, err: ApiError) -> HttpResponse:
        return self._json(
            err.status, {"__type": f"{ERROR_NAMESPACE}#{err.code}", "message": err.message}
        )

    # ----------------------------------------------------------------------- operations
    def _store(self, ref: object) -> EventDataStore:
        if not isinstance(ref, str) or not ref:
            raise ApiError("InvalidParameterException", "EventDataStore is required")
        if ref.startswith("arn:"):
            if not STORE_ARN.match(ref):
                raise ApiError("EventDataStoreARNInvalidException", f"Invalid ARN: {ref}")
            store = self.stores.get(ref)
        else:
            store = next((s for s in self.stores.values() if s.arn.endswith("/" + ref)), None)
        if store is None:
            raise ApiError(
                "EventDataStoreNotFoundException", f"The event data store {ref} is not found."
            )
        return store

    def _import(self, import_id: object) -> Import:
        if not isinstance(import_id, str) or not UUID_RE.match(import_id):
            raise ApiError("InvalidParameterException", f"Invalid ImportId: {import_id!r}")
        imp = self.imports.get(import_id)
        if imp is None:
            raise ApiError("ImportNotFoundException", f"Import {import_id} not found.")
        return imp

    def _op_GetEventDataStore(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._store(params.get("EventDataStore")).describe()

    def _op_GetImport(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._import(params.get("ImportId")).describe()

    def _op_StopImport(self, params: dict[str, Any]) -> dict[str, Any]:
        imp = self._import(params.get("ImportId"))
        if imp.status in ACTIVE:
            imp.status = "STOPPED"
            imp.updated = self.clock.now()
        return imp.describe()

    def _ongoing(self, account: str, exclude: str | None = None) -> Import | None:
        return next(
            (
                i
                for i in self.imports.values()
                if i.status in ACTIVE and i.store.account == account and i.import_id != exclude
            ),
            None,
        )

    def _op_StartImport(self, params: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        if "ImportId" in params:
            extra = sorted(k for k in params if k != "ImportId")
            if extra:
                raise ApiError(
                    "InvalidParameterException",
                    f"A retry takes only ImportId, not {', '.join(extra)}.",
                )
            imp = self._import(params["ImportId"])
            if imp.status not in ("FAILED", "STOPPED"):
                raise ApiError(
                    "InvalidParameterException",
                    f"Import {imp.import_id} is {imp.status} and cannot be retried.",
                )
            self._check_store(imp.store)
            if self._ongoing(imp.store.account, exclude=imp.import_id):
                raise ApiError(
                    "AccountHasOngoingImportException", "This account has an import in progress."
                )
            for f in imp.files or []:
                if f.state == "failed":
                    f.state = "pending"
                    imp.failures[f"s3://{imp.bucket_and_prefix[0]}/{f.key}"].status = "RETRY"
            # an import that failed as a whole (files never listed) starts over
            imp.failures = {k: v for k, v in imp.failures.items() if v.error_type != "AccessDenied"}
            imp.status, imp.updated, imp.phase_started = "INITIALIZING", now, now
            return imp.describe(statistics=False)
        destinations = params.get("Destinations")
        if not isinstance(destinations, list) or len(destinations) != 1:
            raise ApiError("InvalidParameterException", "Exactly one destination is required.")
        store = self._store(destinations[0])
        self._check_store(store)
        source = (params.get("ImportSource") or {}).get("S3")
        if not isinstance(source, dict):
            raise ApiError("InvalidParameterException", "ImportSource.S3 is required.")
        self._check_source(source)
        start, end = params.get("StartEventTime"), params.get("EndEventTime")
        if start is not None and end is not None and float(start) > float(end):
            raise ApiError(
                "InvalidParameterException", "StartEventTime must not be after EndEventTime."
            )
        if self._ongoing(store.account):
            raise ApiError(
                "AccountHasOngoingImportException", "This account has an import in progress."
            )
        imp = Import(
            import_id=str(uuid.uuid4()),
            store=store,
            source={
                k: source[k] for k in ("S3LocationUri", "S3BucketRegion", "S3BucketAccessRoleArn")
            },
            start=None if start is None else float(start),
            end=None if end is None else float(end),
            status="INITIALIZING",
            created=now,
            updated=now,
            phase_started=now,
        )
        self.imports[imp.import_id] = imp
        return imp.describe(statistics=False)

    def _check_store(self, store: EventDataStore) -> None:
        if store.category not in CLOUDTRAIL_CATEGORIES:
            raise ApiError(
                "InvalidEventDataStoreCategoryException",
                f"The event data store {store.arn} does not hold CloudTrail events.",
            )
        if store.status == "PENDING_DELETION":
            raise ApiError(
                "InactiveEventDataStoreException", f"The event data store {store.arn} is inactive."
            )
        if store.status not in ("ENABLED", "STOPPED_INGESTION"):
            raise ApiError(
                "InvalidEventDataStoreStatusException",
                f"The event data store {store.arn} is {store.status}.",
            )

    def _check_source(self, source: dict[str, Any]) -> None:
        uri, region, role = (
            source.get(k) for k in ("S3LocationUri", "S3BucketRegion", "S3BucketAccessRoleArn")
        )
        if not isinstance(uri, str) or not uri.startswith("s3://") or len(uri) <= len("s3://"):
            raise ApiError("InvalidImportSourceException", f"Invalid S3LocationUri {uri!r}.")
        if not isinstance(role, str) or not ROLE_ARN.match(role):
            raise ApiError(
                "InvalidImportSourceException", f"Invalid S3BucketAccessRoleArn {role!r}."
            )
        bucket = uri[len("s3://") :].partition("/")[0]
        try:
            head = self.s3.head_bucket(Bucket=bucket)
        except Exception as exc:
            raise ApiError(
                "InvalidImportSourceException", f"Bucket {bucket} is not accessible."
            ) from exc
        actual = head["ResponseMetadata"]["HTTPHeaders"].get("x-amz-bucket-region", "us-east-1")
        if actual != region:
            raise ApiError(
                "InvalidImportSourceException", f"Bucket {bucket} is in {actual}, not {region}."
            )

    def _page(
        self, items: list[dict[str, Any]], params: dict[str, Any], key: str
    ) -> dict[str, Any]:
        max_results = int(params.get("MaxResults") or 1000)
        token = params.get("NextToken")
        offset = 0
        if token is not None:
            if not isinstance(token, str) or not re.fullmatch(r"emu-\d+", token):
                raise ApiError("InvalidNextTokenException", "Invalid NextToken.")
            offset = int(token[4:])
        out: dict[str, Any] = {key: items[offset : offset + max_results]}
        if offset + max_results < len(items):
            out["NextToken"] = f"emu-{offset + max_results}"
        return out

    def _op_ListImports(self, params: dict[str, Any]) -> dict[str, Any]:
        destination = params.get("Destination")
        if destination is not None and not STORE_ARN.match(str(destination)):
            raise ApiError("EventDataStoreARNInvalidException", f"Invalid ARN: {destination}")
        status = params.get("ImportStatus")
        items = [
            {
                k: i.describe(statistics=False)[k]
                for k in (
                    "ImportId",
                    "ImportStatus",
                    "Destinations",
                    "CreatedTimestamp",
                    "UpdatedTimestamp",
                )
            }
            for i in sorted(self.imports.values(), key=lambda i: i.created)
            if destination in (None, i.store.arn) and status in (None, i.status)
        ]
        return self._page(items, params, "Imports")

    def _op_ListImportFailures(self, params: dict[str, Any]) -> dict[str, Any]:
        import_id = params.get("ImportId")
        imp = self.imports.get(import_id) if isinstance(import_id, str) else None
        failures = [] if imp is None else [f.describe() for f in imp.failures.values()]
        return self._page(failures, params, "Failures")

    # ----------------------------------------------------------------------- progress
    @property
    def s3(self) -> S3Client:
        if self._s3 is None:
            self._s3 = self._s3_factory()
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

    def _select_files(self, imp: Import) -> list[_File]:
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
                selected.append(_File(key, key.rsplit("/", 1)[0] + "/"))
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

    def _process(self, imp: Import, f: _File) -> None:
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
        f.events = sum(1 for r in records if isinstance(r, dict) and _event_time(r) >= oldest)
        f.state = "done"
        if location in imp.failures:
            imp.failures[location].status = "SUCCEEDED"
            imp.failures[location].updated = imp.work_clock

    def _fail(self, imp: Import, f: _File, location: str, error_type: str, message: str) -> None:
        f.state = "failed"
        imp.failures[location] = ImportFailure(
            location, "FAILED", error_type, message, imp.work_clock
        )


def _event_time(record: dict[str, Any]) -> datetime:
    try:
        return datetime.strptime(str(record["eventTime"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (KeyError, ValueError):
        return datetime.max.replace(tzinfo=UTC)


__all__ = ["ApiError", "CloudTrailLake", "EventDataStore", "FaultPlan", "Import"]
