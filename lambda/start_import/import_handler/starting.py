"""StartImport (or the retry of an import), and what to do when the account is busy."""

from __future__ import annotations

import logging

from import_handler import aws, cloudtrail, continuation, explain
from import_handler.decisions import Adopt, Fail, ImportRecord, KeepTrying, decide_busy
from import_handler.invocation import Invocation
from import_handler.outcome import Outcome
from import_handler.properties import ImportProperties

logger = logging.getLogger(__name__)


def try_start(
    inv: Invocation, props: ImportProperties, state: continuation.State
) -> ImportRecord | KeepTrying | Outcome:
    """StartImport (or the retry of ``state.retry_import_id``); adopt our own running import."""
    operation = "retry-import" if state.retry_import_id else "start-import"
    try:
        if state.retry_import_id:
            record = cloudtrail.retry_import(inv.ct(), state.retry_import_id)
        else:
            record = cloudtrail.start_import(inv.ct(), props.identity)
    except aws.ERRORS as error:
        if aws.error_code(error) != "AccountHasOngoingImportException":
            return inv.fail(
                explain.for_error(
                    error,
                    operation="StartImport",
                    identity=props.identity,
                    import_id=state.retry_import_id or "",
                )
            )
        return _when_busy(inv, props)
    inv.log(operation, import_id=record.import_id, status=record.status)
    return record


def _when_busy(inv: Invocation, props: ImportProperties) -> ImportRecord | KeepTrying | Outcome:
    """Another import holds the account: adopt it when it is ours, else wait or fail."""
    try:
        ongoing = cloudtrail.ongoing_imports(inv.ct(), props.identity.destination)
    except aws.ERRORS as list_error:
        logger.warning("cannot list the running imports: %s", aws.error_code(list_error))
        ongoing = []
    busy = decide_busy(props.identity, ongoing, props.wait_for_completion)
    if isinstance(busy, Adopt):
        inv.log("adopt", import_id=busy.record.import_id, status=busy.record.status)
        return busy.record
    if isinstance(busy, KeepTrying):
        inv.log("wait-for-account", blocker=busy.blocker_id)
        return busy
    return inv.fail(busy.reason if isinstance(busy, Fail) else str(busy))
