"""One invocation of the handler: the event, the Lambda context, its clients and what it started."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from import_handler import aws, logs
from import_handler.model import ImportRecord
from import_handler.properties import ImportIdentity

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client

# Time kept back, whatever the calls do, to answer CloudFormation (and for a failed Update, to
# stop the import it started) before Lambda ends the invocation.
ANSWER_RESERVE_SECONDS = 15.0
# Time a poll keeps back for the hand-over to a continuation (an Invoke) and the answer.
HANDOVER_RESERVE_SECONDS = 35.0


class LambdaContext(Protocol):
    @property
    def invoked_function_arn(self) -> str: ...

    def get_remaining_time_in_millis(self) -> int: ...


class Invocation:
    def __init__(self, event: Mapping[str, Any], context: LambdaContext) -> None:
        self.event = event
        self.context = context
        # The imports this request started or adopted, oldest first (a continuation's own too).
        self.started: list[ImportRecord] = []
        self.clients = aws.Clients()
        # Response Data beyond the import's own (the cost guard's ImportEstimatedGB).
        self.data: dict[str, str] = {}
        # The identity of every import read so far (it never changes): the look-up's cache.
        self.identities: dict[str, ImportIdentity | None] = {}
        # A new StartImport of this request may have started an import that is not found yet.
        self.start_unconfirmed = False

    @property
    def request_type(self) -> str:
        return str(self.event.get("RequestType", ""))

    @property
    def physical_id(self) -> str:
        return str(self.event.get("PhysicalResourceId") or "")

    def remaining(self) -> float:
        return self.context.get_remaining_time_in_millis() / 1000.0

    def budget(self, reserve: float = ANSWER_RESERVE_SECONDS) -> float:
        """How long the next AWS call may take."""
        return self.remaining() - reserve

    def ct(self, reserve: float = ANSWER_RESERVE_SECONDS) -> CloudTrailClient:
        """CloudTrail where the (new) properties' event data store lives."""
        region = store_region(self.event.get("ResourceProperties"))
        return self.clients.cloudtrail(region, self.budget(reserve))

    def ct_current(self) -> CloudTrailClient:
        """CloudTrail where the import the PhysicalResourceId points at lives: the store of the
        old properties on an Update (a change of store moves the new import elsewhere)."""
        properties = self.event.get("ResourceProperties")
        if self.request_type == "Update":
            properties = self.event.get("OldResourceProperties")
        return self.clients.cloudtrail(store_region(properties), self.budget())

    def store_moved(self) -> bool:
        """An Update whose new properties name a store in another region than the old ones."""
        if self.request_type != "Update":
            return False
        old = store_region(self.event.get("OldResourceProperties"))
        return old != store_region(self.event.get("ResourceProperties"))

    def s3(self, region: str) -> S3Client:
        return self.clients.s3(region, self.budget())

    def lambda_(self) -> LambdaClient:
        return self.clients.lambda_(self.budget())

    def started_import(self, record: ImportRecord) -> ImportRecord:
        """Remember an import this request started or adopted; every answer will name it."""
        self.started = [r for r in self.started if r.import_id != record.import_id] + [record]
        return record

    def log(self, action: str, **fields: Any) -> None:
        logs.decision(self.event, action, **fields)


def store_region(properties: object) -> str | None:
    """The region in the destination store's ARN: imports live in the store's region, which may
    differ from the function's. Read leniently (Delete does not validate properties)."""
    destinations = properties.get("Destinations") if isinstance(properties, Mapping) else None
    if isinstance(destinations, list) and len(destinations) == 1:
        parts = str(destinations[0]).split(":")
        if len(parts) >= 6 and parts[0] == "arn" and parts[2] == "cloudtrail" and parts[3]:
            return parts[3]
    return None
