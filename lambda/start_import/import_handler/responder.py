"""crhelper, with its gaps covered in one place.

We keep crhelper for what it does well: routing by request type, turning an unexpected
exception into FAILED, and its timer that answers FAILED just before the Lambda times out.
Covered here:
- the sender (``_send``): ours keeps the *start* of the reason (crhelper keeps the end, cutting
  off the error's name), keeps the body under 4096 bytes, verifies TLS, retries boundedly, and
  does not log the URL;
- logging: level INFO (crhelper's default DEBUG logs the event with its ResponseURL) and a
  filter that redacts presigned URLs;
- ``sleep_on_delete=0``: no 120-second stall on Delete;
- construction without crhelper's polling clients (``_without_polling_clients``);
- a continuation hand-over returns without answering (``_cfn_response``);
- a failed Create gets a deterministic id that is recognisably not an import id.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from crhelper import CfnResource

from import_handler import logs, sender
from import_handler.outcome import Outcome

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 4096
MAX_REASON_CHARS = 256
MAX_PHYSICAL_ID_CHARS = 1024
SUCCESS = "SUCCESS"
FAILED = "FAILED"

Runner = Callable[[dict[str, Any], Any], Outcome | None]


def failed_create_id(event: Mapping[str, Any]) -> str:
    return f"failed-create-{event.get('RequestId', 'unknown')}"[:MAX_PHYSICAL_ID_CHARS]


def cut_reason(reason: str, limit: int = MAX_REASON_CHARS) -> str:
    """Keep the start: the error's name and the advice come first."""
    reason = " ".join(str(reason).split())
    return reason if len(reason) <= limit else reason[: limit - 3] + "..."


def response_body(
    *,
    status: str,
    reason: str,
    physical_id: str,
    event: Mapping[str, Any],
    data: Mapping[str, Any],
    no_echo: bool = False,
) -> dict[str, Any]:
    """The response, shrunk until it fits CloudFormation's 4096 bytes."""
    body: dict[str, Any] = {
        "Status": status,
        "Reason": cut_reason(reason),
        "PhysicalResourceId": str(physical_id)[:MAX_PHYSICAL_ID_CHARS],
        "StackId": event.get("StackId", ""),
        "RequestId": event.get("RequestId", ""),
        "LogicalResourceId": event.get("LogicalResourceId", ""),
        "NoEcho": no_echo,
        "Data": {str(k): str(v) for k, v in data.items()},
    }
    essential = ("ImportId", "ImportStatus")
    while _size(body) > MAX_BODY_BYTES:
        extra = [k for k in body["Data"] if k not in essential]
        if extra:
            del body["Data"][extra[-1]]
        elif len(body["Reason"]) > 32:
            body["Reason"] = cut_reason(body["Reason"], len(body["Reason"]) // 2)
        elif body["Data"]:
            body["Data"] = {}
        else:
            break
    return body


def _size(body: Mapping[str, Any]) -> int:
    return len(json.dumps(body).encode())


@contextmanager
def _without_polling_clients() -> Iterator[str | None]:
    """crhelper builds Lambda, EventBridge and CloudWatch Logs clients for its EventBridge
    polling, which we do not use (docs/DESIGN.md); on a cold invocation that costs ~130 ms of
    service-model loading. It skips them under AWS_SAM_LOCAL, which changes nothing else while
    no poll function is registered. Yields the variable's previous value."""
    previous = os.environ.get("AWS_SAM_LOCAL")
    os.environ["AWS_SAM_LOCAL"] = "true"
    try:
        yield previous
    finally:
        if previous is None:
            del os.environ["AWS_SAM_LOCAL"]
        else:
            os.environ["AWS_SAM_LOCAL"] = previous


class ImportResource(CfnResource):
    def __init__(self, run: Runner) -> None:
        self._ca_bundle = os.environ.get("AWS_CA_BUNDLE") or None
        with _without_polling_clients() as sam_local:
            super().__init__(
                json_logging=False,
                log_level="INFO",
                boto_level="ERROR",
                sleep_on_delete=0,
                # crhelper accepts a CA bundle path here; its stub says bool only.
                ssl_verify=self._ca_bundle,  # type: ignore[arg-type]
            )
        self._sam_local = sam_local
        self._run = run
        self._handed_over = False
        self._request: dict[str, Any] = {}
        self.create(self._dispatch)
        self.update(self._dispatch)
        self.delete(self._dispatch)

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        logs.guard(event.get("ResponseURL") if isinstance(event, dict) else None)
        self._handed_over = False
        self._request = event if isinstance(event, dict) else {}
        super().__call__(event, context)

    def _dispatch(self, event: dict[str, Any], context: Any) -> str:
        outcome = self._run(event, context)
        if outcome is None:
            self._handed_over = True
            return ""
        self.Status = SUCCESS if outcome.success else FAILED
        self.Reason = outcome.reason
        self.Data = dict(outcome.data)
        return outcome.physical_id

    def _cfn_response(self, event: dict[str, Any]) -> None:
        # crhelper's own version, minus the answer when a continuation took over.
        if self._handed_over:
            logger.info("a continuation took over; it answers CloudFormation")
            return
        if not self.PhysicalResourceId:
            self.PhysicalResourceId = event.get("PhysicalResourceId") or self.generate_physical_id(
                event
            )
        self._send()

    def generate_physical_id(self, event: dict[str, Any]) -> str:
        return failed_create_id(event)

    def _send(
        self, status: str | None = None, reason: str = "", send_response: object = None
    ) -> None:
        physical_id = str(self.PhysicalResourceId or "") or str(
            self._request.get("PhysicalResourceId") or failed_create_id(self._request)
        )
        body = response_body(
            status=status or self.Status,
            reason=reason if status else self.Reason,
            physical_id=physical_id,
            event=self._request,
            data=self.Data or {},
            no_echo=bool(self.NoEcho),
        )
        sender.send(str(self._request.get("ResponseURL", "")), body, self._ca_bundle)
