"""The one place that answers CloudFormation, and the shape of the answer.

``failure`` is the only way a request fails: the layers below raise ``ImportFailed`` and the
lifecycle hands it here. So two rules hold by construction, not by remembering them:

* once an import id is known, the answer names it: on Create it is the PhysicalResourceId, so
  the Delete that follows a failed Create can stop the import;
* a failed Update stops (when the old StopOnDelete allows) every import it started or adopted
  that is not the PhysicalResourceId: CloudFormation never learns a failed Update's new id, so
  nothing else would stop it, and it would hold the account's only import slot during the
  rollback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from import_handler import aws, cloudtrail
from import_handler import properties as props_mod
from import_handler.frozen import frozen
from import_handler.invocation import Invocation
from import_handler.model import ImportFailed, ImportRecord
from import_handler.properties import ImportIdentity

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 4096
MAX_REASON_CHARS = 256
MAX_PHYSICAL_ID_CHARS = 1024
# ImportStatus when the prefix held no file and no import was started.
NO_SOURCE_FILES = "NO_SOURCE_FILES"
NO_IMPORT_ID = "none"
# A failed Create whose StartImport may have started an import it could not find: the Delete
# that follows looks for a running import with its properties and stops it.
UNCONFIRMED_START = "unconfirmed-start-"
# What stopping a failed Update's orphans keeps back for the answer itself: less than the
# answer's reserve, so that the stop is still attempted when the failure came late.
ORPHAN_STOP_RESERVE_SECONDS = 5.0


@frozen
class Outcome:
    success: bool
    physical_id: str
    reason: str = ""
    data: Mapping[str, str] = MappingProxyType({})


def success(
    inv: Invocation, record: ImportRecord | None, physical_id: str = "", why: str | None = None
) -> Outcome:
    """SUCCESS, naming ``record`` (the PhysicalResourceId is its id unless one is given)."""
    pid = physical_id or (record.import_id if record else inv.physical_id)
    inv.log("respond-success", import_id=record.import_id if record else None, why=why)
    return Outcome(True, pid, "", {**data_for(record), **inv.data})


def nothing_imported(inv: Invocation, identity: ImportIdentity) -> Outcome:
    """SUCCESS without an import: the prefix holds no file yet. The PhysicalResourceId says so,
    and a later deploy that changes retry_token starts the import."""
    physical_id = f"no-source-files:{identity.s3_location_uri}"[:MAX_PHYSICAL_ID_CHARS]
    inv.log("respond-success", import_id=None, why=NO_SOURCE_FILES)
    data = {"ImportId": NO_IMPORT_ID, "ImportStatus": NO_SOURCE_FILES}
    return Outcome(True, physical_id, "", {**data, **inv.data})


def failure(inv: Invocation, error: ImportFailed) -> Outcome:
    """FAILED, naming the import the request knows of; a failed Update stops its orphans."""
    record = error.record or (inv.started[-1] if inv.started else None)
    physical_id = failed_physical_id(inv.event, record, unconfirmed=inv.start_unconfirmed)
    inv.log("respond-failed", import_id=record.import_id if record else None, reason=error.reason)
    if inv.request_type == "Update":
        _stop_orphans(inv, physical_id)
    return Outcome(False, physical_id, error.reason, {**data_for(record), **inv.data})


def failed_physical_id(
    event: Mapping[str, Any], record: ImportRecord | None, *, unconfirmed: bool = False
) -> str:
    """A failed Create answers with its import's id when it has one (so the Delete that follows
    stops it), else with an id that is recognisably not an import id; Update and Delete keep
    the id they had."""
    if event.get("RequestType") == "Create":
        if record and record.import_id:
            return record.import_id
        return failed_create_id(event, UNCONFIRMED_START if unconfirmed else "failed-create-")
    return str(event.get("PhysicalResourceId") or "") or failed_create_id(event)


def _stop_orphans(inv: Invocation, physical_id: str) -> None:
    # The last status read of each: one that had finished holds no slot and needs no stop.
    orphans = [r.import_id for r in inv.started if r.import_id != physical_id and r.running]
    if not orphans:
        return
    old = inv.event.get("OldResourceProperties")
    if not props_mod.stop_on_delete_leniently(old if isinstance(old, Mapping) else None):
        inv.log("keep-unreported-imports", import_ids=orphans, why="old StopOnDelete is false")
        return
    for import_id in orphans:
        try:
            stopped = cloudtrail.stop_import(inv.ct(ORPHAN_STOP_RESERVE_SECONDS), import_id)
        except aws.ERRORS as error:
            logger.error(
                "could not stop import %s, which this failed update started: %s; stop it with "
                "aws cloudtrail stop-import --import-id %s",
                import_id,
                aws.error_code(error) or type(error).__name__,
                import_id,
            )
            continue
        inv.log("stop-unreported-import", import_id=import_id, status=_status(stopped))


def _status(record: ImportRecord | None) -> str | None:
    return record.status if record else None


def data_for(record: ImportRecord | None) -> dict[str, str]:
    """Response Data: ImportId, ImportStatus and the statistics CloudTrail reported, as strings."""
    if record is None:
        return {}
    data = {"ImportId": record.import_id, "ImportStatus": record.status}
    data.update({key: str(value) for key, value in record.statistics.items()})
    return data


def failed_create_id(event: Mapping[str, Any], prefix: str = "failed-create-") -> str:
    return f"{prefix}{event.get('RequestId', 'unknown')}"[:MAX_PHYSICAL_ID_CHARS]


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
