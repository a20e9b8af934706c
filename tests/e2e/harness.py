"""CloudFormation and Lambda, played by the test: events, invocations, continuations, answers.

* Every request gets its own ResponseURL: a real presigned (SigV4) ``PutObject`` URL on the TLS
  S3 server, with a key built like CloudFormation's (``<StackId>|<LogicalResourceId>|<RequestId>``).
* One invocation = ``handler(event, context)`` in this thread, with a Lambda context whose
  remaining time follows the emulated clock, and a deadline armed on that clock (a sleep past
  it raises :class:`~tests.lake_emulator.clock.LambdaTimeout`, as Lambda kills the function).
* Asynchronous invocations the handler registers on the Lambda endpoint are run afterwards with
  exactly the recorded payload, after ``async_delay`` emulated seconds, until none is left.
  An invocation that timed out or raised is retried twice, after 60 s and 120 s, as Lambda does
  for asynchronous invocations (CloudFormation invokes custom resources asynchronously). When
  the retries are exhausted, Lambda sends the payload to the function's dead-letter queue with
  the attributes ``RequestID``, ``ErrorCode`` and ``ErrorMessage`` (first 1 KB): so does the
  harness when ``dead_letter_queue`` is set (an SQS client and queue URL, on moto's server).
  Lambda's other reason to give up, an event older than ``MaximumEventAgeInSeconds``, is not
  played: the harness has no queueing delay that could age an event.
* The answer is read back from S3; the PUT log says how many answers were written.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.lambda_invoke import LambdaEndpoint
from tests.e2e.s3_tls import MotoS3Tls
from tests.lake_emulator.clock import EmulatedClock, LambdaTimeout

ACCOUNT = "123456789012"
REGION = "us-east-1"
STACK_ID = (
    f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/CloudTrailLakeImport/{uuid.UUID(int=7)}"
)
FUNCTION_NAME = "CloudTrailLakeImport-StartImportFunction"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION_NAME}"
SERVICE_TOKEN = FUNCTION_ARN
ASYNC_RETRY_DELAYS = (60.0, 120.0)

Handler = Callable[[dict[str, Any], Any], object]


class LambdaContext:
    """The parts of Lambda's context object a handler uses; time comes from the clock."""

    def __init__(self, clock: EmulatedClock, timeout_seconds: float, function_arn: str) -> None:
        self._clock = clock
        self.deadline = clock.now() + timeout_seconds
        self.invoked_function_arn = function_arn
        self.function_name = function_arn.rsplit(":", 1)[-1]
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = "256"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "2025/01/20/[$LATEST]e2e"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - self._clock.now()) * 1000))


@dataclass(frozen=True)
class DeadLetterQueue:
    """The function's dead-letter queue: an SQS client (``boto3.client("sqs")``) and queue URL."""

    client: Any
    url: str


@dataclass(frozen=True)
class CfnResponse:
    status: str
    reason: str
    physical_id: str
    data: Mapping[str, str]
    stack_id: str
    request_id: str
    logical_id: str
    raw: Mapping[str, Any]


@dataclass(frozen=True)
class Invocation:
    event: Mapping[str, Any]
    started: float
    ended: float
    outcome: str  # "returned", "timeout", "raised: <error>"
    continuation: bool
    request_id: str = ""
    timeout: float = 0.0


@dataclass
class Run:
    """Everything that happened for one CloudFormation request."""

    event: dict[str, Any]
    invocations: list[Invocation] = field(default_factory=list)
    dead_lettered: list[dict[str, Any]] = field(default_factory=list)

    @property
    def timeouts(self) -> int:
        return sum(i.outcome == "timeout" for i in self.invocations)


class CloudFormation:
    def __init__(
        self,
        *,
        s3: MotoS3Tls,
        lambda_endpoint: LambdaEndpoint,
        clock: EmulatedClock,
        handler: Handler,
        response_bucket: str,
        function_arn: str = FUNCTION_ARN,
        function_timeout: float = 900.0,
        async_delay: float = 1.0,
    ) -> None:
        self.s3 = s3
        self.lambda_endpoint = lambda_endpoint
        self.clock = clock
        self.handler = handler
        self.response_bucket = response_bucket
        self.function_arn = function_arn
        self.function_timeout = function_timeout
        self.async_delay = async_delay
        self.dead_letter_queue: DeadLetterQueue | None = None
        self._client = s3.client()

    # ------------------------------------------------------------------ events
    def event(
        self,
        request_type: str,
        properties: Mapping[str, Any],
        *,
        logical_id: str = "TrailArchiveImport",
        physical_id: str | None = None,
        old_properties: Mapping[str, Any] | None = None,
        resource_type: str = "Custom::CloudTrailLakeImport",
    ) -> dict[str, Any]:
        request_id = str(uuid.uuid4())
        key = f"{STACK_ID}|{logical_id}|{request_id}"
        url = self._client.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.response_bucket, "Key": key},
            ExpiresIn=7200,
        )
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": SERVICE_TOKEN,
            "ResponseURL": url,
            "StackId": STACK_ID,
            "RequestId": request_id,
            "LogicalResourceId": logical_id,
            "ResourceType": resource_type,
            "ResourceProperties": {"ServiceToken": SERVICE_TOKEN, **properties},
        }
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        if old_properties is not None:
            event["OldResourceProperties"] = {"ServiceToken": SERVICE_TOKEN, **old_properties}
        return event

    @staticmethod
    def response_key(event: Mapping[str, Any]) -> str:
        return f"{event['StackId']}|{event['LogicalResourceId']}|{event['RequestId']}"

    # ------------------------------------------------------------------ invocations
    def invoke(
        self, event: Mapping[str, Any], *, timeout: float | None = None, continuation: bool = False
    ) -> Invocation:
        """One Lambda invocation of the handler (a fresh context, the deadline armed)."""
        context = LambdaContext(self.clock, timeout or self.function_timeout, self.function_arn)
        payload = json.loads(json.dumps(event))  # Lambda hands over a fresh JSON copy
        timers_before = _live_timers()
        started = self.clock.now()
        self.clock.arm_deadline(context.deadline)
        outcome = "returned"
        try:
            self.handler(payload, context)
        except LambdaTimeout:
            outcome = "timeout"
        except Exception as error:  # Lambda records the error and retries the async event
            outcome = f"raised: {type(error).__name__}: {error}"
        finally:
            self.clock.disarm_deadline()
        if outcome == "returned" and self.clock.now() > context.deadline:
            outcome = "timeout"  # worked past its timeout without sleeping: Lambda killed it
        leaked = _live_timers() - timers_before
        for timer in leaked:
            timer.cancel()
        assert not leaked, f"the handler left {len(leaked)} timer thread(s) running"
        return Invocation(
            event,
            started,
            self.clock.now(),
            outcome,
            continuation,
            context.aws_request_id,
            context.deadline - started,
        )

    def run(
        self,
        event: dict[str, Any],
        *,
        first_timeout: float | None = None,
        max_invocations: int = 400,
    ) -> Run:
        """Deliver ``event`` and every continuation it causes, until nothing is queued."""
        run = Run(event)
        queue: list[tuple[float, dict[str, Any], bool, int]] = [(0.0, event, False, 0)]
        first = True
        while queue:
            assert len(run.invocations) < max_invocations, "the continuation chain does not end"
            queue.sort(key=lambda item: item[0])
            delay, payload, is_continuation, retries = queue.pop(0)
            self.clock.advance(delay)
            inv = self.invoke(
                payload,
                timeout=first_timeout if first else None,
                continuation=is_continuation,
            )
            first = False
            run.invocations.append(inv)
            if inv.outcome != "returned" and retries < len(ASYNC_RETRY_DELAYS):
                queue.append((ASYNC_RETRY_DELAYS[retries], payload, is_continuation, retries + 1))
            elif inv.outcome != "returned" and self._dead_letter(payload, inv):
                run.dead_lettered.append(payload)
            for async_call in self.lambda_endpoint.pop_all():
                assert async_call.function_name == self.function_arn, async_call.function_name
                queue.append((self.async_delay, async_call.event(), True, 0))
        return run

    def _dead_letter(self, payload: dict[str, Any], last: Invocation) -> bool:
        """What Lambda does with an event whose retries are exhausted: queue it, if it can."""
        if self.dead_letter_queue is None:
            return False  # Lambda drops it
        if last.outcome == "timeout":
            message = f"Task timed out after {last.timeout:.2f} seconds"
        else:
            message = last.outcome.removeprefix("raised: ")
        self.dead_letter_queue.client.send_message(
            QueueUrl=self.dead_letter_queue.url,
            MessageBody=json.dumps(payload),
            MessageAttributes={
                "RequestID": {"DataType": "String", "StringValue": last.request_id},
                # The Invoke call itself succeeded (200); the function failed.
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {"DataType": "String", "StringValue": message[:1024]},
            },
        )
        return True

    # ------------------------------------------------------------------ answers
    def answers(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every answer S3 accepted for this request, oldest first."""
        key = self.response_key(event)
        return [
            json.loads(put.body)
            for put in self.s3.recorder.puts
            if put.bucket == self.response_bucket and put.key == key and 200 <= put.status < 300
        ]

    def put_attempts(self, event: Mapping[str, Any]) -> int:
        key = self.response_key(event)
        return sum(
            1 for p in self.s3.recorder.puts if p.bucket == self.response_bucket and p.key == key
        )

    def response(self, event: Mapping[str, Any]) -> CfnResponse:
        """The one answer to ``event``, read back from S3 (fails unless exactly one was sent)."""
        answers = self.answers(event)
        assert len(answers) == 1, f"expected exactly one answer, S3 accepted {len(answers)}"
        body = self._client.get_object(Bucket=self.response_bucket, Key=self.response_key(event))
        raw: dict[str, Any] = json.loads(body["Body"].read())
        assert raw == answers[0]
        assert len(json.dumps(raw).encode()) <= 4096, "response body over 4096 bytes"
        return CfnResponse(
            status=raw["Status"],
            reason=raw.get("Reason", ""),
            physical_id=raw["PhysicalResourceId"],
            data=raw.get("Data") or {},
            stack_id=raw["StackId"],
            request_id=raw["RequestId"],
            logical_id=raw["LogicalResourceId"],
            raw=raw,
        )

    def complete(self, event: dict[str, Any], **kwargs: Any) -> tuple[CfnResponse, Run]:
        """Run ``event`` to its end and return its single answer, checked against the event."""
        run = self.run(event, **kwargs)
        response = self.response(event)
        assert response.stack_id == event["StackId"]
        assert response.request_id == event["RequestId"]
        assert response.logical_id == event["LogicalResourceId"]
        assert response.status in ("SUCCESS", "FAILED")
        assert len(response.reason) <= 256
        assert response.physical_id, "an answer needs a PhysicalResourceId"
        return response, run


def _live_timers() -> set[threading.Timer]:
    return {
        t
        for t in threading.enumerate()
        if isinstance(t, threading.Timer) and t.is_alive() and not t.finished.is_set()
    }
