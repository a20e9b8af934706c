"""crhelper, and the workarounds it needs, one comment each.

We keep crhelper for what it does well: routing by request type, turning an exception that
escapes into FAILED, and its timer that answers FAILED just before the Lambda times out. The
answer itself is decided in ``answer.py``; this module only wires it into crhelper.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from crhelper import CfnResource

from import_handler import logs, sender
from import_handler.answer import Outcome, failed_physical_id, response_body
from import_handler.invocation import Invocation
from import_handler.model import ImportRecord

logger = logging.getLogger(__name__)

SUCCESS = "SUCCESS"
FAILED = "FAILED"

Runner = Callable[[Invocation], Outcome | None]


@contextmanager
def _without_polling_clients() -> Iterator[str | None]:
    """Workaround: crhelper builds Lambda, EventBridge and CloudWatch Logs clients for its
    EventBridge polling, which we do not use (docs/DESIGN.md); on a cold invocation that costs
    ~130 ms of service-model loading. It skips them under AWS_SAM_LOCAL, which changes nothing
    else while no poll function is registered. Yields the variable's previous value."""
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
                # Workaround: at crhelper's default level (DEBUG) it logs the whole event,
                # ResponseURL included; logs.guard redacts what slips through anyway.
                log_level="INFO",
                boto_level="ERROR",
                # Workaround: crhelper sleeps 120 s on every Delete "for CloudWatch Logs".
                sleep_on_delete=0,
                # crhelper accepts a CA bundle path here; its stub says bool only.
                ssl_verify=self._ca_bundle,  # type: ignore[arg-type]
            )
        self._sam_local = sam_local
        self._run = run
        self._handed_over = False
        self._answered = False
        self._answer_lock = threading.Lock()
        self._invocation: Invocation | None = None
        self.create(self._dispatch)
        self.update(self._dispatch)
        self.delete(self._dispatch)

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        logs.guard(event.get("ResponseURL") if isinstance(event, dict) else None)
        self._handed_over = False
        self._answered = False
        self._invocation = Invocation(event if isinstance(event, dict) else {}, context)
        super().__call__(event, context)

    def _dispatch(self, event: dict[str, Any], context: Any) -> str:
        assert self._invocation is not None
        outcome = self._run(self._invocation)
        if outcome is None:
            self._handed_over = True
            return ""
        self.Status = SUCCESS if outcome.success else FAILED
        self.Reason = outcome.reason
        self.Data = dict(outcome.data)
        return outcome.physical_id

    def _cfn_response(self, event: dict[str, Any]) -> None:
        # Workaround: crhelper answers after every invocation; a continuation that took over
        # answers later, so this one must not.
        if self._handed_over:
            logger.info("a continuation took over; it answers CloudFormation")
            return
        if not self.PhysicalResourceId:
            self.PhysicalResourceId = event.get("PhysicalResourceId") or self._failed_id(event)
        self._send()

    def _known_import(self) -> ImportRecord | None:
        """The import this request started or adopted last, for an answer crhelper makes."""
        inv = self._invocation
        return inv.started[-1] if inv and inv.started else None

    def _failed_id(self, event: Mapping[str, Any]) -> str:
        inv = self._invocation
        unconfirmed = bool(inv and inv.start_unconfirmed)
        return failed_physical_id(event, self._known_import(), unconfirmed=unconfirmed)

    def generate_physical_id(self, event: dict[str, Any]) -> str:
        # Workaround: crhelper's generated id looks like any other; a failed Create's must be
        # recognisably not an import id, so the Delete that follows makes no call (unless the
        # request started one: then it is its id, so the Delete stops it).
        return self._failed_id(event)

    def _send(
        self, status: str | None = None, reason: str = "", send_response: object = None
    ) -> None:
        # Workaround, crhelper's sender: it cuts the *start* of the reason (where the error's
        # name is), ignores the 4096-byte limit, retries a failed PUT forever and logs the URL.
        # Ours keeps the start, shrinks the body, verifies TLS, retries within the time left
        # and never logs the URL. Also called by crhelper's timer ("Execution timed out"),
        # whose answer must name the import the request started, and which must then be the
        # only answer.
        with self._answer_lock:
            answered, self._answered = self._answered, True
        if answered:
            logger.warning("already answered CloudFormation; not answering again")
            return
        inv = self._invocation
        request = dict(inv.event) if inv else {}
        if status is None:
            physical_id = str(self.PhysicalResourceId or "") or self._failed_id(request)
        else:
            physical_id = self._failed_id(request)
        body = response_body(
            status=status or self.Status,
            reason=reason if status else self.Reason,
            physical_id=physical_id,
            event=request,
            data=self.Data or {},
            no_echo=bool(self.NoEcho),
        )
        remaining = inv.remaining() if inv else None
        sender.send(str(request.get("ResponseURL", "")), body, self._ca_bundle, remaining)
