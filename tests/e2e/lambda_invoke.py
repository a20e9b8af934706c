"""A local Lambda endpoint that records asynchronous invocations (REST-JSON ``Invoke``).

``POST /2015-03-31/functions/{FunctionName}/invocations`` with ``X-Amz-Invocation-Type: Event``
answers 202 with an empty body, as Lambda does, and queues the payload; the harness then runs
the handler with exactly that payload, as Lambda's async queue would. Other invocation types
are refused (the handler has no reason to call itself synchronously). ``fail_next`` makes the
next N calls fail with 429 TooManyRequestsException (botocore retries it), 500 ServiceException,
403 AccessDeniedException (``lambda:InvokeFunction`` refused: no retry gets past it), a TCP
reset before the call is processed (``reset``: nothing queued), or a reset after it was
processed (``reset_after``: the payload is queued, the answer is lost).
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote

from tests.lake_emulator.local_http import RESET, HttpRequest, HttpResponse, _Reset

PATH_PREFIX = "/2015-03-31/functions/"
PATH_SUFFIX = "/invocations"

FaultKind = Literal["throttle", "server_error", "deny", "reset", "reset_after"]


@dataclass(frozen=True)
class AsyncInvocation:
    function_name: str
    payload: bytes

    def event(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.payload)
        return decoded


class LambdaEndpoint:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[AsyncInvocation] = []
        self.history: list[AsyncInvocation] = []
        self.refused: list[str] = []
        self._faults: list[FaultKind | None] = []  # None: let that call through

    def fail_next(self, kind: FaultKind, count: int = 1, *, after: int = 0) -> None:
        """Fail ``count`` calls with ``kind`` once ``after`` calls have passed untouched."""
        with self._lock:
            self._faults.extend([None] * after + [kind] * count)

    def pop_all(self) -> list[AsyncInvocation]:
        with self._lock:
            queued, self._queue = self._queue, []
            return queued

    def faults_pending(self) -> int:
        with self._lock:
            return sum(kind is not None for kind in self._faults)

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def __call__(self, request: HttpRequest) -> HttpResponse | _Reset:
        path = request.path.split("?", 1)[0]
        if (
            request.method != "POST"
            or not path.startswith(PATH_PREFIX)
            or not path.endswith(PATH_SUFFIX)
        ):
            return self._error(404, "ResourceNotFoundException", f"no route {path}")
        name = unquote(path[len(PATH_PREFIX) : -len(PATH_SUFFIX)])
        kind = request.headers.get("x-amz-invocation-type", "RequestResponse")
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
            if fault == "throttle":
                return self._error(429, "TooManyRequestsException", "Rate exceeded")
            if fault == "server_error":
                return self._error(500, "ServiceException", "Internal failure")
            if fault == "reset":
                return RESET
            if fault == "deny":
                return self._error(
                    403, "AccessDeniedException", "not authorized to perform lambda:InvokeFunction"
                )
            if kind != "Event":
                self.refused.append(kind)
                return self._error(
                    400,
                    "InvalidParameterValueException",
                    f"the emulator only takes Event invocations, not {kind}",
                )
            if len(request.body) > 256 * 1024:
                return self._error(413, "RequestTooLargeException", "payload over 256 KB")
            try:
                json.loads(request.body or b"null")
            except ValueError:
                return self._error(400, "InvalidRequestContentException", "payload is not JSON")
            invocation = AsyncInvocation(name, request.body)
            self._queue.append(invocation)
            self.history.append(invocation)
            if fault == "reset_after":
                return RESET
        return HttpResponse(202, b"", {"x-amzn-RequestId": str(uuid.uuid4())})

    @staticmethod
    def _error(status: int, code: str, message: str) -> HttpResponse:
        body = json.dumps({"Type": "User", "message": message}).encode()
        return HttpResponse(
            status,
            body,
            {
                "Content-Type": "application/json",
                "x-amzn-ErrorType": code,
                "x-amzn-RequestId": str(uuid.uuid4()),
            },
        )
