"""One invocation of the handler: the event, the Lambda context, and how it answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from import_handler import aws, logs
from import_handler.decisions import ImportRecord
from import_handler.outcome import Outcome, data_for
from import_handler.responder import failed_create_id

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient


class LambdaContext(Protocol):
    @property
    def invoked_function_arn(self) -> str: ...

    def get_remaining_time_in_millis(self) -> int: ...


@dataclass
class Invocation:
    event: Mapping[str, Any]
    context: LambdaContext
    cloudtrail: CloudTrailClient | None = None

    @property
    def request_type(self) -> str:
        return str(self.event.get("RequestType", ""))

    @property
    def physical_id(self) -> str:
        return str(self.event.get("PhysicalResourceId") or "")

    def remaining(self) -> float:
        return self.context.get_remaining_time_in_millis() / 1000.0

    def ct(self) -> CloudTrailClient:
        if self.cloudtrail is None:
            self.cloudtrail = aws.cloudtrail(store_region(self.event))
        return self.cloudtrail

    def log(self, action: str, **fields: Any) -> None:
        logs.decision(self.event, action, **fields)

    def succeed(self, record: ImportRecord | None, physical_id: str | None = None) -> Outcome:
        pid = physical_id or (record.import_id if record else self.physical_id)
        return Outcome(True, pid, "", data_for(record))

    def fail(self, reason: str, record: ImportRecord | None = None) -> Outcome:
        """FAILED. A Create answers with the import's id when one exists (so the Delete that
        follows can stop it), else with an id that is recognisably not an import id; an Update
        keeps the id it had."""
        if self.request_type == "Create":
            pid = record.import_id if record and record.import_id else failed_create_id(self.event)
        else:
            pid = self.physical_id or failed_create_id(self.event)
        self.log("respond-failed", import_id=record.import_id if record else None, reason=reason)
        return Outcome(False, pid, reason, data_for(record))


def store_region(event: Mapping[str, Any]) -> str | None:
    """The region in the destination store's ARN: imports live in the store's region, which may
    differ from the function's. Read leniently (Delete does not validate properties)."""
    properties = event.get("ResourceProperties")
    destinations = properties.get("Destinations") if isinstance(properties, Mapping) else None
    if isinstance(destinations, list) and len(destinations) == 1:
        parts = str(destinations[0]).split(":")
        if len(parts) >= 6 and parts[0] == "arn" and parts[2] == "cloudtrail" and parts[3]:
            return parts[3]
    return None
