"""An emulated account for the plan handler, on an emulated clock: Step Functions executions
that run their plan one segment per poll, CloudTrail imports, S3 prefixes and Lambda's
asynchronous invocations, with one-shot faults on any call. CloudFormation (``Stack``) drives
``plan_index.handler`` as it would: presigned response URLs, follow-up requests, continuations
run when Lambda would run them. No thread and no wall clock: every run is the same."""

from __future__ import annotations

import enum
import json
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError

import plan_index
from import_handler import aws, clock, sender

REGION = "eu-west-1"
ACCOUNT = "123456789012"
MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:PlanStateMachine-AbC123"
STORE = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:eventdatastore/EXAMPLE-f852-4e8f-8bd1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/PlanAccessRole0"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:plan-handler"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/PlanStack/6f3c1c52"
RUNNING_IMPORT = frozenset({"INITIALIZING", "IN_PROGRESS"})
#: CloudFormation's wait for a custom resource.
HOUR = 3600.0
T = TypeVar("T")


class Fault(enum.Enum):
    """How one AWS call goes wrong."""

    REFUSED = "refused"
    THROTTLED = "throttled past botocore"
    NOT_SENT = "timed out before processing"
    ANSWER_LOST = "processed then connection lost"


def client_error(code: str, operation: str, status: int = 400) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": f"{code} (emulated)"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)


@dataclass
class FakeImport:
    import_id: str
    request: Mapping[str, Any]
    status: str = "INITIALIZING"
    created: float = 0.0
    started_by: str = ""

    def window(self) -> tuple[str, str, str]:
        return (
            self.request["ImportSource"]["S3"]["S3LocationUri"],
            self.request.get("StartEventTime", ""),
            self.request.get("EndEventTime", ""),
        )

    def describe(self) -> dict[str, Any]:
        return {
            "ImportId": self.import_id,
            "Destinations": list(self.request["Destinations"]),
            "ImportSource": self.request["ImportSource"],
            "StartEventTime": _time(self.request.get("StartEventTime")),
            "EndEventTime": _time(self.request.get("EndEventTime")),
            "ImportStatus": self.status,
            "CreatedTimestamp": datetime.fromtimestamp(self.created, UTC),
            "ImportStatistics": {"PrefixesFound": 1, "FilesCompleted": 2}
            if self.status == "COMPLETED"
            else {},
        }


def _time(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@dataclass
class FakeExecution:
    arn: str
    name: str
    input: str
    status: str = "RUNNING"
    cursor: int = 0
    current: str | None = None
    error: str | None = None
    cause: str | None = None
    started: float = 0.0

    def segments(self) -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = json.loads(self.input)["Segments"]
        return listed


@dataclass
class World:
    """The account: what runs, what was asked, what goes wrong next."""

    epoch: float = 1_780_000_000.0
    executions: dict[str, FakeExecution] = field(default_factory=dict)
    imports: dict[str, FakeImport] = field(default_factory=dict)
    #: Armed faults: (operation such as "states.DescribeExecution", fault, when), each used
    #: once, by the first call of the operation for which ``when`` holds.
    faults: list[tuple[str, Fault, Callable[[], bool]]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    #: (service, region) of every client the handler built.
    clients: list[tuple[str, str | None]] = field(default_factory=list)
    #: Asynchronous invocations Lambda accepted and has not run yet.
    queued: list[bytes] = field(default_factory=list)
    #: Prefixes (s3://bucket/prefix) S3 lists nothing under.
    empty_prefixes: set[str] = field(default_factory=set)
    #: Executions fail at their first segment instead of importing it.
    executions_fail: bool = False
    #: Running imports never complete (a long import, for waits that run out).
    imports_stall: bool = False
    #: Seconds that pass with every AWS call.
    call_seconds: float = 0.5
    #: The most imports one ListImports page holds, whatever MaxResults asks.
    list_page_size: int = 50

    # -- the clock -------------------------------------------------------------------------
    def now(self) -> float:
        return self.epoch

    def sleep(self, seconds: float) -> None:
        self.epoch += max(seconds, 0.0)
        self.advance()

    # -- the account runs ------------------------------------------------------------------
    def advance(self) -> None:
        """One step of every running execution and import: a running import completes; an
        execution with no import running goes to its next segment or ends."""
        for record in self.imports.values():
            if record.status in RUNNING_IMPORT and not self.imports_stall:
                record.status = "COMPLETED"
        for execution in self.executions.values():
            if execution.status == "RUNNING":
                self._step(execution)

    def _step(self, execution: FakeExecution) -> None:
        segments = execution.segments()
        while execution.cursor < len(segments):
            segment = segments[execution.cursor]
            if "Completed" in segment:
                execution.cursor += 1
                continue
            if self.executions_fail:
                execution.status = "FAILED"
                execution.error = "CloudTrailLakeImportPlan.Stopped"
                execution.cause = "a segment failed (emulated)"
                return
            if execution.current is not None:
                if self.imports[execution.current].status in RUNNING_IMPORT:
                    return
                execution.current = None
                execution.cursor += 1
                continue
            if any(i.status in RUNNING_IMPORT for i in self.imports.values()):
                return  # AccountHasOngoingImportException: the execution waits
            adopt = segment.get("Adopt")
            if adopt:
                record = self.imports[adopt["ImportId"]]
                record.status = "IN_PROGRESS"
            else:
                record = self._new_import(segment["Request"], execution.arn)
            execution.current = record.import_id
            return
        execution.status = "SUCCEEDED"

    def _new_import(self, request: Mapping[str, Any], by: str) -> FakeImport:
        import_id = str(uuid.UUID(int=len(self.imports) + 1))
        record = FakeImport(import_id, dict(request), created=self.epoch, started_by=by)
        self.imports[import_id] = record
        return record

    # -- calls -----------------------------------------------------------------------------
    def call(self, operation: str, act: Callable[[], T]) -> T:
        self.calls.append(operation)
        self.epoch += self.call_seconds
        fault = None
        for armed in self.faults:
            if armed[0] == operation and armed[2]():
                self.faults.remove(armed)
                fault = armed[1]
                break
        name = operation.partition(".")[2]
        if fault is Fault.REFUSED:
            raise client_error("AccessDeniedException", name)
        if fault is Fault.THROTTLED:
            code = "TooManyRequestsException" if operation.startswith("lambda.") else ""
            raise client_error(code or "ThrottlingException", name)
        if fault is Fault.NOT_SENT:
            raise ConnectTimeoutError(endpoint_url=f"https://{operation}.example")
        answer = act()
        if fault is Fault.ANSWER_LOST:
            raise ReadTimeoutError(endpoint_url=f"https://{operation}.example")
        return answer

    def arm(self, operation: str, fault: Fault, when: Callable[[], bool] = lambda: True) -> None:
        self.faults.append((operation, fault, when))

    def client(self, service: str, region: str | None) -> Any:
        self.clients.append((service, region))
        made = {
            "stepfunctions": FakeStepFunctions,
            "cloudtrail": FakeCloudTrail,
            "s3": FakeS3,
            "lambda": FakeLambda,
        }[service]
        return made(self, region or REGION)

    # -- what the account holds ------------------------------------------------------------
    def running_executions(self) -> list[str]:
        return [e.arn for e in self.executions.values() if e.status == "RUNNING"]

    def running_imports(self) -> list[FakeImport]:
        return [i for i in self.imports.values() if i.status in RUNNING_IMPORT]

    def windows_imported_twice(self) -> list[tuple[str, str, str]]:
        """Windows that more than one import holds or is copying."""
        held = [
            i.window()
            for i in self.imports.values()
            if i.status == "COMPLETED" or i.status in RUNNING_IMPORT
        ]
        return sorted({w for w in held if held.count(w) > 1})

    def days_imported_twice(self) -> list[tuple[str, str]]:
        """(S3 location, UTC day) pairs that more than one import holds or is copying: windows
        imported twice, even in part."""
        held: Counter[tuple[str, str]] = Counter()
        for record in self.imports.values():
            if record.status == "COMPLETED" or record.status in RUNNING_IMPORT:
                uri, start, end = record.window()
                day, last = date.fromisoformat(start[:10]), date.fromisoformat(end[:10])
                while day <= last:
                    held[(uri, day.isoformat())] += 1
                    day += timedelta(days=1)
        return sorted(where for where, count in held.items() if count > 1)


class _Client:
    def __init__(self, world: World, region: str) -> None:
        self.world = world
        self.region = region


class FakeStepFunctions(_Client):
    def _get(self, arn: str, operation: str) -> FakeExecution:
        found = self.world.executions.get(arn)
        if found is None:
            raise client_error("ExecutionDoesNotExist", operation)
        return found

    def describe_execution(self, *, executionArn: str) -> dict[str, Any]:  # noqa: N803
        def act() -> dict[str, Any]:
            found = self._get(executionArn, "DescribeExecution")
            described: dict[str, Any] = {
                "executionArn": found.arn,
                "name": found.name,
                "status": found.status,
                "input": found.input,
            }
            if found.error:
                described["error"] = found.error
            if found.cause:
                described["cause"] = found.cause
            return described

        return self.world.call("states.DescribeExecution", act)

    def start_execution(self, *, stateMachineArn: str, name: str, input: str) -> dict[str, Any]:  # noqa: N803
        def act() -> dict[str, Any]:
            prefix, _, machine = stateMachineArn.rpartition(":stateMachine:")
            arn = f"{prefix}:execution:{machine}:{name}"
            found = self.world.executions.get(arn)
            if found is not None and not (found.status == "RUNNING" and found.input == input):
                raise client_error("ExecutionAlreadyExists", "StartExecution")
            if found is None:
                found = FakeExecution(arn, name, input, started=self.world.epoch)
                self.world.executions[arn] = found
            return {"executionArn": arn, "startDate": datetime.fromtimestamp(found.started, UTC)}

        return self.world.call("states.StartExecution", act)

    def stop_execution(self, *, executionArn: str, **why: str) -> dict[str, Any]:  # noqa: N803
        def act() -> dict[str, Any]:
            found = self._get(executionArn, "StopExecution")
            if found.status == "RUNNING":
                found.status = "ABORTED"
                found.error, found.cause = why.get("error"), why.get("cause")
            return {"stopDate": datetime.fromtimestamp(self.world.epoch, UTC)}

        return self.world.call("states.StopExecution", act)

    def list_executions(self, *, stateMachineArn: str, **kwargs: Any) -> dict[str, Any]:  # noqa: N803
        def act() -> dict[str, Any]:
            wanted = kwargs.get("statusFilter")
            listed = [
                {"executionArn": e.arn, "name": e.name, "status": e.status}
                for e in reversed(self.world.executions.values())
                if wanted in (None, e.status)
                and e.arn.startswith(_execution_prefix(stateMachineArn))
            ]
            return {"executions": listed[: kwargs.get("maxResults") or 100]}

        return self.world.call("states.ListExecutions", act)


def _execution_prefix(machine: str) -> str:
    prefix, _, name = machine.rpartition(":stateMachine:")
    return f"{prefix}:execution:{name}:"


class FakeCloudTrail(_Client):
    def list_imports(self, **kwargs: Any) -> dict[str, Any]:
        def act() -> dict[str, Any]:
            status = kwargs.get("ImportStatus")
            destination = kwargs.get("Destination")
            listed = [
                {
                    "ImportId": i.import_id,
                    "ImportStatus": i.status,
                    "Destinations": list(i.request["Destinations"]),
                    "CreatedTimestamp": datetime.fromtimestamp(i.created, UTC),
                }
                for i in self.world.imports.values()
                if status in (None, i.status) and destination in (None, *i.request["Destinations"])
            ]
            # Pages as CloudTrail's: at most MaxResults (a page may hold fewer), a NextToken
            # while more remain.
            offset = int(kwargs.get("NextToken") or 0)
            size = min(int(kwargs.get("MaxResults") or 1000), self.world.list_page_size)
            page: dict[str, Any] = {"Imports": listed[offset : offset + size]}
            if offset + size < len(listed):
                page["NextToken"] = str(offset + size)
            return page

        return self.world.call("cloudtrail.ListImports", act)

    def get_import(self, *, ImportId: str) -> dict[str, Any]:  # noqa: N803
        def act() -> dict[str, Any]:
            found = self.world.imports.get(ImportId)
            if found is None:
                raise client_error("ImportNotFoundException", "GetImport")
            return found.describe()

        return self.world.call("cloudtrail.GetImport", act)

    def stop_import(self, *, ImportId: str) -> dict[str, Any]:  # noqa: N803
        def act() -> dict[str, Any]:
            found = self.world.imports.get(ImportId)
            if found is None:
                raise client_error("ImportNotFoundException", "StopImport")
            if found.status in RUNNING_IMPORT:
                found.status = "STOPPED"
            return found.describe()

        return self.world.call("cloudtrail.StopImport", act)


class FakeS3(_Client):
    def list_objects_v2(self, *, Bucket: str, Prefix: str, MaxKeys: int) -> dict[str, Any]:  # noqa: N803
        def act() -> dict[str, Any]:
            if f"s3://{Bucket}/{Prefix}" in self.world.empty_prefixes:
                return {"KeyCount": 0}
            return {"KeyCount": 1, "Contents": [{"Key": f"{Prefix}file.json.gz"}]}

        return self.world.call("s3.ListObjectsV2", act)


class FakeLambda(_Client):
    def invoke(self, *, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803
        def act() -> dict[str, Any]:
            assert InvocationType == "Event"
            self.world.queued.append(Payload)
            return {"StatusCode": 202}

        return self.world.call("lambda.Invoke", act)


# -- CloudFormation ------------------------------------------------------------------------


class Context:
    """A Lambda invocation's context on the world's clock."""

    invoked_function_arn = FUNCTION

    def __init__(self, world: World, timeout_seconds: float) -> None:
        self.world = world
        self.ends = world.now() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(max(self.ends - self.world.now(), 0.0) * 1000)


@dataclass
class Answer:
    body: dict[str, Any]
    at: float
    #: How many AWS calls had been made when it was sent.
    calls: int = 0

    @property
    def status(self) -> str:
        return str(self.body["Status"])

    @property
    def physical_id(self) -> str:
        return str(self.body["PhysicalResourceId"])

    @property
    def reason(self) -> str:
        return str(self.body.get("Reason", ""))


def response_url(signed_at: float, request_id: str) -> str:
    """A presigned URL as CloudFormation sends it (SigV4 query, two hours)."""
    stamp = datetime.fromtimestamp(signed_at, UTC).strftime("%Y%m%dT%H%M%SZ")
    return (
        f"https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/{request_id}"
        f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={stamp}&X-Amz-Expires=7200"
        "&X-Amz-SignedHeaders=host&X-Amz-Signature=secret"
    )


@dataclass
class Stack:
    """One custom resource of one stack, as CloudFormation drives it."""

    world: World
    timeout_seconds: float = 900.0
    answers: dict[str, list[Answer]] = field(default_factory=dict)
    requested: dict[str, float] = field(default_factory=dict)
    #: Seconds between CloudFormation signing a request and Lambda running it.
    queue_seconds: float = 0.0

    def event(self, request_type: str, props: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
        request_id = str(uuid.UUID(int=len(self.requested) + 1))
        self.requested[request_id] = self.world.now()
        return {
            "RequestType": request_type,
            "ResponseURL": response_url(self.world.now(), request_id),
            "StackId": STACK_ID,
            "RequestId": request_id,
            "LogicalResourceId": "PlanDAF4E53A",
            "ResourceType": "Custom::CloudTrailLakeImportPlan",
            "ResourceProperties": dict(props),
            **fields,
        }

    def deliver(self, event: Mapping[str, Any]) -> Answer | None:
        """Run the handler (and every continuation Lambda queued) for ``event``; its first
        answer, which is the one CloudFormation acts on."""
        self.world.sleep(self.queue_seconds)
        plan_index.handler(dict(event), Context(self.world, self.timeout_seconds))
        while self.world.queued:
            payload = json.loads(self.world.queued.pop(0))
            plan_index.handler(payload, Context(self.world, self.timeout_seconds))
        found = self.answers.get(str(event["RequestId"]), [])
        return found[0] if found else None

    def send(self, request_type: str, props: Mapping[str, Any], **fields: Any) -> Answer:
        answer = self.deliver(self.event(request_type, props, **fields))
        assert answer is not None, f"{request_type} was never answered"
        return answer

    def record(self, url: str, body: Mapping[str, Any]) -> None:
        request_id = url.partition(".amazonaws.com/")[2].partition("?")[0]
        self.answers.setdefault(request_id, []).append(
            Answer(dict(body), self.world.now(), len(self.world.calls))
        )

    def late_answers(self) -> list[str]:
        """Requests answered after CloudFormation's hour (or never)."""
        late = []
        for request_id, at in self.requested.items():
            got = self.answers.get(request_id)
            if not got or got[0].at - at > HOUR:
                late.append(request_id)
        return late


def install(monkeypatch: pytest.MonkeyPatch) -> Callable[[], tuple[World, Stack]]:
    """Point the handler's clock, clients and answers at an emulated account; the factory
    returned makes a fresh account and stack (and points everything at them)."""
    current: list[tuple[World, Stack]] = []

    def new_client(service: str, region: str | None, _config: object) -> Any:
        return current[-1][0].client(service, region)

    def send(url: str, body: Mapping[str, Any], *_args: Any, **_kwargs: Any) -> bool:
        assert "secret" not in json.dumps(body), "the response URL must never be answered back"
        current[-1][1].record(url, body)
        return True

    def fresh() -> tuple[World, Stack]:
        emulated = World()
        current.append((emulated, Stack(emulated)))
        monkeypatch.setattr(clock, "CLOCK", emulated)
        return current[-1]

    monkeypatch.setattr(aws, "new_client", new_client)
    monkeypatch.setattr(sender, "send", send)
    monkeypatch.setenv("AWS_REGION", REGION)
    return fresh


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> tuple[World, Stack]:
    return install(monkeypatch)()


@pytest.fixture
def world(account: tuple[World, Stack]) -> World:
    return account[0]


@pytest.fixture
def stack(account: tuple[World, Stack]) -> Stack:
    return account[1]


def segment(day: int, uri: str = "s3://trail-archive/AWSLogs/") -> dict[str, Any]:
    return {
        "Destinations": [STORE],
        "ImportSource": {
            "S3": {"S3LocationUri": uri, "S3BucketRegion": REGION, "S3BucketAccessRoleArn": ROLE}
        },
        "StartEventTime": f"2025-01-{day:02d}T00:00:00Z",
        "EndEventTime": f"2025-01-{day:02d}T23:59:59Z",
    }


def plan(days: tuple[int, ...] = (10, 11, 12), **extra: str) -> dict[str, Any]:
    return {
        "ServiceToken": FUNCTION,
        "StateMachineArn": MACHINE,
        "Segments": [segment(day) for day in days],
        "PollIntervalSeconds": "5",
        "MaxRetries": "0",
        "StopOnDelete": "true",
        **extra,
    }
