"""Runs the plan's synthesized state machine offline: moto's ASL interpreter in front of the
project's CloudTrail Lake emulator.

moto (user config ``stepfunctions: execute_state_machine``) executes the definition; its
``aws-sdk`` and optimized tasks call ``http://localhost:$MOTO_PORT``. That port is a router:
CloudTrail's JSON-1.1 targets go to the Lake emulator (in process), everything else (Step
Functions, EventBridge, SNS, SQS) to a moto server. The emulator's clock moves a fixed step on
every CloudTrail call, so imports progress poll by poll; the Wait seconds come from the
execution input (1 s). Two things are adapted in moto, not in the definition: retry back-off
sleeps are compressed (``RETRY_TIME_SCALE``), since a Retry's IntervalSeconds cannot come from
the input, and moto learns the Pascal-case error prefix ``CloudTrail`` that Step Functions
gives CloudTrail's errors (moto only knows ``DynamoDb`` and ``Sfn``). moto's optimized
``states:startExecution`` (request-response) hands the state's Pascal-case parameters
(``StateMachineArn``, ``Name``, ``Input``) to boto3 unchanged and returns boto3's camel-case
answer; Step Functions takes and answers Pascal case (``ExecutionArn``, ``StartDate``): the
engine converts both ways.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote

import boto3
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk,
    state_task_service_sfn,
)

from tests.e2e.harness import ACCOUNT, REGION
from tests.e2e.s3_tls import FAKE_KEY_ID, FAKE_SECRET, MotoS3Tls
from tests.e2e.world import environment, patched
from tests.lake_emulator.clock import EmulatedClock
from tests.lake_emulator.local_http import (
    RESET,
    HttpRequest,
    HttpResponse,
    LocalHttpServer,
    _Reset,
)
from tests.lake_emulator.server import CloudTrailLake, FaultKind

CLOUDTRAIL_TARGET = "CloudTrail_20131101"
#: Emulated seconds that pass with every CloudTrail call (an import of 2 files takes 7 s).
CLOCK_STEP_SECONDS = 4.0
#: A Retry's 60 s interval sleeps 0.3 s.
RETRY_TIME_SCALE = 0.005
_HOP_HEADERS = frozenset({"connection", "content-length", "transfer-encoding", "keep-alive"})

CallHook = Callable[[str, dict[str, Any]], None]
#: A Lambda function run in process: the invocation's payload in, the result out.
InProcessFunction = Callable[[dict[str, Any]], object]
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:plan-finish"
_INVOCATIONS = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations")


@dataclass
class Injected:
    """A fault for the ``skip``-th next call of ``operation`` whose parameters ``when`` accepts
    (CloudTrail's, served by the Lake emulator's fault plan; any other service's here)."""

    operation: str
    kind: FaultKind
    when: Callable[[dict[str, Any]], bool] = lambda params: True
    skip: int = 0
    count: int = 1


@dataclass
class Router:
    """The app behind ``MOTO_PORT``: CloudTrail to the emulator, the rest to moto."""

    lake: CloudTrailLake
    clock: EmulatedClock
    moto_port: int
    step_seconds: float = CLOCK_STEP_SECONDS
    hooks: list[CallHook] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: Lambda functions by ARN, run in process (moto's Lambda would need Docker).
    functions: dict[str, InProcessFunction] = field(default_factory=dict)
    #: GetImport answers an INITIALIZING import without ImportStatistics (as CloudTrail may).
    omit_statistics_while_initializing: bool = False
    statistics_omitted: int = 0
    injected: list[Injected] = field(default_factory=list)
    #: (operation, kind) of every fault served, in order.
    served: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(self, fault: Injected) -> None:
        with self._lock:
            self.injected.append(fault)

    def _fault(self, operation: str, params: dict[str, Any]) -> FaultKind | None:
        with self._lock:
            for fault in self.injected:
                if fault.count > 0 and fault.operation == operation and fault.when(params):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.count -= 1
                    self.served.append((operation, fault.kind))
                    return fault.kind
            return None

    def __call__(self, request: HttpRequest) -> HttpResponse | _Reset:
        prefix, _, operation = request.headers.get("x-amz-target", "").rpartition(".")
        if prefix.endswith(CLOUDTRAIL_TARGET):
            params = json.loads(request.body or b"{}")
            with self._lock:
                self.calls.append((operation, params))
            for hook in self.hooks:
                hook(operation, params)
            fault = self._fault(operation, params)
            if fault is not None:
                self.lake.faults.add(fault, 1, operation)
            self.clock.advance(self.step_seconds)
            answer = self.lake(request)
            if operation == "GetImport" and self.omit_statistics_while_initializing:
                stripped = _without_statistics_while_initializing(answer)
                self.statistics_omitted += stripped is not answer
                return stripped
            return answer
        invoked = _INVOCATIONS.match(request.path)
        if invoked and unquote(invoked["name"]) in self.functions:
            return self._invoke(unquote(invoked["name"]), request)
        if operation:
            fault = self._fault(operation, json.loads(request.body or b"{}"))
            if fault == "reset_after":
                self._to_moto(request)  # processed; the answer is lost
            if fault in ("reset", "reset_after"):
                return RESET
            if fault is not None:
                code = "ThrottlingException" if fault == "throttle" else "AccessDeniedException"
                body = json.dumps({"__type": code, "message": f"injected {fault}"}).encode()
                headers = {
                    "Content-Type": "application/x-amz-json-1.0",
                    "x-amzn-RequestId": str(uuid.uuid4()),
                }
                return HttpResponse(400, body, headers)
        return self._to_moto(request)

    def _invoke(self, name: str, request: HttpRequest) -> HttpResponse:
        with self._lock:
            self.calls.append(("Invoke", {"FunctionName": name}))
        result = self.functions[name](json.loads(request.body or b"{}"))
        return HttpResponse(
            200,
            json.dumps(result).encode(),
            {"Content-Type": "application/json", "X-Amz-Executed-Version": "$LATEST"},
        )

    def operations(self) -> list[str]:
        with self._lock:
            return [operation for operation, _ in self.calls]

    def _to_moto(self, request: HttpRequest) -> HttpResponse:
        connection = http.client.HTTPConnection("127.0.0.1", self.moto_port, timeout=60)
        try:
            headers = {k: v for k, v in request.headers.items() if k not in _HOP_HEADERS}
            connection.request(request.method, request.path, body=request.body, headers=headers)
            response = connection.getresponse()
            body = response.read()
            kept = {k: v for k, v in response.getheaders() if k.lower() not in _HOP_HEADERS}
            return HttpResponse(response.status, body, kept)
        finally:
            connection.close()


def _without_statistics_while_initializing(
    answer: HttpResponse | _Reset,
) -> HttpResponse | _Reset:
    if not isinstance(answer, HttpResponse) or answer.status != 200:
        return answer
    body = json.loads(answer.body)
    if body.get("ImportStatus") != "INITIALIZING":
        return answer
    body.pop("ImportStatistics", None)
    return HttpResponse(answer.status, json.dumps(body).encode(), answer.headers)


@dataclass
class PlanEngine:
    """One emulated account: S3 (TLS), the Lake emulator, moto behind the router."""

    s3: MotoS3Tls
    clock: EmulatedClock
    lake: CloudTrailLake
    router: Router
    url: str

    def machine_from(self, template: Mapping[str, Any], topic_arn: str | None = None) -> str:
        """Create the template's state machine in moto: its definition as CloudFormation would
        render it (partition ``aws``, the notify topic's ARN, the finish function's
        ``FUNCTION_ARN``)."""
        (machine,) = [
            r
            for r in template["Resources"].values()
            if r["Type"] == "AWS::StepFunctions::StateMachine"
        ]
        parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]

        def render(part: object) -> str:
            if isinstance(part, str):
                return part
            if part == {"Ref": "AWS::Partition"}:
                return "aws"
            if isinstance(part, dict) and "Fn::GetAtt" in part:
                return FUNCTION_ARN
            if isinstance(part, dict) and "Ref" in part and topic_arn is not None:
                return topic_arn
            raise ValueError(f"cannot render {part!r}")

        return self.create_state_machine(
            "".join(render(p) for p in parts), f"plan-{uuid.uuid4().hex[:8]}"
        )

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=FAKE_KEY_ID,
            aws_secret_access_key=FAKE_SECRET,
        )

    def create_state_machine(self, definition: str, name: str) -> str:
        arn: str = self.client("stepfunctions").create_state_machine(
            name=name,
            definition=definition,
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/plan-state-machine",
            type="STANDARD",
        )["stateMachineArn"]
        return arn

    def wait_for_execution(self, arn: str, timeout: float = 120.0) -> dict[str, Any]:
        states = self.client("stepfunctions")
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            described: dict[str, Any] = states.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                return described
            time.sleep(0.2)
        raise AssertionError(f"execution {arn} still runs after {timeout} s")

    def wait_for_chain(self, arn: str, timeout: float = 180.0) -> list[dict[str, Any]]:
        """Every link of the plan's continuation chain, from ``arn`` to the last, each ended."""
        end = time.monotonic() + timeout
        links = [self.wait_for_execution(arn, timeout)]
        while following := json.loads(links[-1].get("output") or "{}").get("ContinuedIn"):
            links.append(self.wait_for_execution(following["ExecutionArn"], end - time.monotonic()))
        return links

    def wait_until(self, condition: Callable[[], bool], timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if condition():
                return
            time.sleep(0.1)
        raise AssertionError("condition not met in time")


def _set_moto_config(port: int, execute: bool) -> None:
    body = json.dumps({"stepfunctions": {"execute_state_machine": execute}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/moto-api/config", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


@contextmanager
def plan_engine(workdir: Path) -> Iterator[PlanEngine]:
    with ExitStack() as stack:
        # moto logs every caught state error with its whole program: only the history counts.
        for name in ("moto", "werkzeug"):
            logger = logging.getLogger(name)
            stack.callback(logger.setLevel, logger.level)
            logger.setLevel(logging.CRITICAL)
        s3 = stack.enter_context(MotoS3Tls(workdir))
        clock = EmulatedClock()
        lake = CloudTrailLake(clock, s3.client, region=REGION)
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        stack.callback(moto.stop)
        _, moto_port = moto.get_host_and_port()
        _set_moto_config(moto_port, True)
        stack.callback(_set_moto_config, moto_port, False)
        router = Router(lake, clock, moto_port)
        server = stack.enter_context(LocalHttpServer(router))
        stack.enter_context(environment({"MOTO_PORT": str(server.port)}))
        stack.enter_context(
            patched(
                retrier_decl,
                "time",
                SimpleNamespace(sleep=lambda seconds: time.sleep(seconds * RETRY_TIME_SCALE)),
            )
        )
        stack.enter_context(
            patched(
                state_task_service_sfn.StateTaskServiceSfn,
                "_eval_service_task",
                _pascal_case_start_execution(
                    state_task_service_sfn.StateTaskServiceSfn._eval_service_task
                ),
            )
        )
        names = dict(state_task_service_aws_sdk._SERVICE_ERROR_NAMES)
        names["cloudtrail"] = "CloudTrail"
        stack.enter_context(patched(state_task_service_aws_sdk, "_SERVICE_ERROR_NAMES", names))
        yield PlanEngine(s3, clock, lake, router, server.url)


def _pascal_case_start_execution(evaluate: Callable[..., None]) -> Callable[..., None]:
    """StartExecution as Step Functions' optimized integration takes and answers it."""

    def converted(self: Any, env: Any, **arguments: Any) -> None:
        parameters = arguments.pop("normalised_parameters")
        camel = {key[0].lower() + key[1:]: value for key, value in parameters.items()}
        evaluate(self, env, normalised_parameters=camel, **arguments)
        answer = env.stack.pop()
        env.stack.append({key[0].upper() + key[1:]: value for key, value in answer.items()})

    return converted
