"""A local CloudTrail Lake endpoint (JSON 1.1 over HTTP) whose imports really read S3.

Operations: GetEventDataStore, StartImport, GetImport, ListImports, StopImport,
ListImportFailures; StartQuery, DescribeQuery, GetQueryResults, CancelQuery (``query_api.py``).
Requests carry ``X-Amz-Target: <prefix>.CloudTrail_20131101.<Operation>``
(botocore sends ``com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Operation>``; the bare
``CloudTrail_20131101.<Operation>`` is accepted too). Errors are HTTP 400 with
``{"__type": "<namespace>#<Code>", "message": ...}``, which botocore turns into
``client.exceptions.<Code>``.

This module is the HTTP front: the wire format, the fault plan, the call log and the checks
of each operation. The stores and imports, and how imports progress on the clock, are the
import engine's (``engine.py``, whose docstring lists every choice made where AWS
documents nothing - the operations' checks included); the records are in ``records.py``.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from tests.lake_emulator.engine import ImportEngine
from tests.lake_emulator.local_http import RESET, HttpRequest, HttpResponse, _Reset
from tests.lake_emulator.query_api import LakeQueryOperations
from tests.lake_emulator.records import STORE_ARN, EventDataStore, Import

TARGET_PREFIX = "CloudTrail_20131101"
ERROR_NAMESPACE = "com.amazonaws.cloudtrail.v20131101"
CLOUDTRAIL_CATEGORIES = frozenset({"Management", "Data", "NetworkActivity"})
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")
UUID_RE = re.compile(r"^[a-f0-9-]{36}$")
DENIED_PRINCIPAL = "arn:aws:sts::123456789012:assumed-role/ImportHandlerRole/ImportHandler"

FaultKind = Literal["throttle", "server_error", "reset", "reset_after", "deny"]


class ApiError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


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
    skip: int = 0


class FaultPlan:
    """Faults served to the next matching calls, in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()

    def add(
        self, kind: FaultKind, count: int = 1, operation: str | None = None, *, after: int = 0
    ) -> None:
        """Serve ``kind`` to ``count`` calls of ``operation`` (any when None), once ``after``
        matching calls have passed untouched (a fault still skipping leaves the call to the
        faults added after it)."""
        with self._lock:
            self._faults.append(_Fault(kind, operation, count, after))

    def take(self, operation: str) -> FaultKind | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.operation in (None, operation):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.remaining -= 1
                    return fault.kind
            return None

    def pending(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


@dataclass(eq=False)
class CloudTrailLake(LakeQueryOperations, ImportEngine):
    """The JSON 1.1 app of the emulated CloudTrail Lake (one region), over its import engine."""

    calls: list[CallRecord] = field(default_factory=list, init=False, repr=False)
    faults: FaultPlan = field(default_factory=FaultPlan, init=False, repr=False)
    #: Items of a List* page when the request gives no MaxResults (AWS documents no default);
    #: tests lower it to make several pages.
    default_page_size: int = field(default=1000, init=False, repr=False)

    def operations(self, outcome: str | None = None) -> list[str]:
        with self._lock:
            return [c.operation for c in self.calls if outcome in (None, c.outcome)]

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
        if fault == "deny":
            self._record(operation, params, "AccessDeniedException")
            return self._error(
                ApiError(
                    "AccessDeniedException",
                    f"User: {DENIED_PRINCIPAL} is not authorized to perform: "
                    f"cloudtrail:{operation} because no identity-based policy allows it",
                )
            )
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
        self.stop(imp)
        return imp.describe()

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
            if self.ongoing(imp.store.account, exclude=imp.import_id):
                raise ApiError(
                    "AccountHasOngoingImportException", "This account has an import in progress."
                )
            self.resume(imp, now)
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
        if self.ongoing(store.account):
            raise ApiError(
                "AccountHasOngoingImportException", "This account has an import in progress."
            )
        imp = self.new_import(
            store,
            source,
            None if start is None else float(start),
            None if end is None else float(end),
            now,
        )
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
        max_results = int(params.get("MaxResults") or self.default_page_size)
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


__all__ = ["ApiError", "CallRecord", "CloudTrailLake", "EventDataStore", "FaultPlan", "Import"]
