"""Starting an import: StartImport or a retry, after the look-up; a busy account; a lost answer.

``start`` is called by the lifecycle (right after its own look-up) and by ``waiting.wait``
before each new try while another import holds the account (then it looks the store up
again: docs/DESIGN.md, "Exactly once", rules 1, 2 and 6).
"""

from __future__ import annotations

import logging

# explain is imported where a failure needs it: most requests never do (cold start).
from import_handler import aws, cloudtrail, lookup
from import_handler.decisions import (
    choose_earlier,
    decide_busy,
    decide_create,
    is_import_id,
    refuse_overlap,
)
from import_handler.invocation import HANDOVER_RESERVE_SECONDS, Invocation
from import_handler.model import (
    RETRYABLE,
    Action,
    Adopt,
    Fail,
    ImportFailed,
    ImportRecord,
    Keep,
    KeepTrying,
    Retry,
    Start,
)
from import_handler.properties import ImportProperties

logger = logging.getLogger(__name__)


def start(
    inv: Invocation,
    props: ImportProperties,
    retry_import_id: str | None,
    *,
    looked_up: bool = False,
) -> ImportRecord | KeepTrying:
    """StartImport (or the retry of ``retry_import_id``); adopt our own running import.

    Unless the caller has just ``looked_up`` the store's imports (and decided on them), they
    are read first (rules 1, 2 and 6 of docs/DESIGN.md, "Exactly once"): an import with this
    identity is kept, adopted or retried instead, an overlap refused.
    """
    retry_id = retry_import_id
    if not looked_up:
        history = lookup.store_history(inv, props.identity, HANDOVER_RESERVE_SECONDS)
        action = refuse_overlap(props, _again(props, retry_id, history), history)
        if isinstance(action, Fail):
            raise ImportFailed(action.reason)
        if isinstance(action, Keep):
            inv.log(type(action).__name__.lower(), import_id=action.record.import_id)
            if isinstance(action, Adopt):
                inv.started_import(action.record)
            return action.record
        retry_id = action.import_id if isinstance(action, Retry) else None
    try:
        if retry_id:
            record = cloudtrail.retry_import(inv.ct(), retry_id)
        else:
            record = cloudtrail.start_import(inv.ct(), props.identity)
    except aws.ERRORS as error:
        unknown = retry_id is None and aws.outcome_unknown(error)
        if unknown:
            return _after_unknown_start(inv, props, error)
        if aws.error_code(error) == "AccountHasOngoingImportException":
            return _when_busy(inv, props, retry_id)
        adopted = _running_after_refused_retry(inv, retry_id) if retry_id else None
        if adopted is None:
            raise _start_failed(props, error, retry_id or "") from error
        record = adopted
    inv.log("retry-import" if retry_id else "start-import", import_id=record.import_id)
    return inv.started_import(record)


def _again(props: ImportProperties, retry_id: str | None, history: list[ImportRecord]) -> Action:
    """What to start now that the store's imports are read again (the account was busy)."""
    earlier = choose_earlier(lookup.matching(props.identity, history))
    if earlier is None:
        return Retry(retry_id) if retry_id else Start()
    if retry_id and earlier.import_id == retry_id and earlier.status in RETRYABLE:
        return Retry(retry_id)
    return decide_create(earlier)


def _start_failed(props: ImportProperties, error: BaseException, import_id: str) -> ImportFailed:
    from import_handler import explain

    return ImportFailed(
        explain.for_error(
            error,
            operation="StartImport",
            identity=props.identity,
            import_id=import_id,
            source_owner=props.source_owner,
        )
    )


def _after_unknown_start(
    inv: Invocation, props: ImportProperties, error: BaseException
) -> ImportRecord:
    """A new StartImport whose outcome is unknown: the import it may have started is found
    by the look-up and adopted; when it is not there, nothing else is sent (rule 2)."""
    code = aws.error_code(error) or type(error).__name__
    inv.log("start-outcome-unknown", error=code)
    inv.start_unconfirmed = True
    history = lookup.store_history(inv, props.identity, HANDOVER_RESERVE_SECONDS)
    earlier = choose_earlier(lookup.matching(props.identity, history))
    if earlier is not None:
        inv.start_unconfirmed = False
        inv.log("adopt", import_id=earlier.import_id, status=earlier.status)
        return inv.started_import(earlier) if earlier.running else earlier
    raise ImportFailed(
        f"StartImportUnconfirmed: StartImport's answer was lost ({code}) and no import with "
        "these properties is listed yet, so no other was started. Check aws cloudtrail "
        f"list-imports --destination {props.identity.destination}, then deploy again"
    ) from error


def _running_after_refused_retry(inv: Invocation, import_id: str) -> ImportRecord | None:
    """A retry is not idempotent: when botocore resends one whose answer was lost, CloudTrail
    refuses it because the import runs again. Read the import: running means it was ours."""
    try:
        record = cloudtrail.get_import(inv.ct(), import_id)
    except aws.ERRORS as error:
        logger.warning("GetImport after a refused retry failed: %s", aws.error_code(error))
        return None
    if record is None or not record.running:
        return None
    inv.log("adopt-retried", import_id=import_id, status=record.status)
    return record


def _when_busy(
    inv: Invocation, props: ImportProperties, retry_id: str | None
) -> ImportRecord | KeepTrying:
    """Another import holds the account: adopt it when it is ours, else wait or fail."""
    unlisted = None  # why the running imports could not be listed
    try:
        ongoing = cloudtrail.running_imports(inv.ct, props.identity.destination)
    except aws.ERRORS as list_error:
        unlisted = aws.error_code(list_error) or type(list_error).__name__
        logger.warning("cannot list the running imports (%s); reading the known ones", unlisted)
        ongoing = _running_known_imports(inv, retry_id)
    busy = decide_busy(props.identity, ongoing, props.wait_for_completion)
    if isinstance(busy, Adopt):
        inv.log("adopt", import_id=busy.record.import_id, status=busy.record.status)
        return inv.started_import(busy.record)
    if isinstance(busy, KeepTrying):
        inv.log("wait-for-account", blocker=busy.blocker_id)
        return busy
    if unlisted is not None:
        raise ImportFailed(_unseen_reason(unlisted, props))
    raise ImportFailed(busy.reason if isinstance(busy, Fail) else str(busy))


def _running_known_imports(inv: Invocation, retry_id: str | None) -> list[ImportRecord]:
    """When ListImports is refused: the imports this request can name (the one it retries, the
    ones it started, the current one), as GetImport reads them now; those still running."""
    known = [retry_id, *(r.import_id for r in inv.started), inv.physical_id]
    found: list[ImportRecord] = []
    for import_id in dict.fromkeys(i for i in known if i and is_import_id(i)):
        try:
            record = cloudtrail.get_import(inv.ct(), import_id)
        except aws.ERRORS as error:
            logger.warning("GetImport of %s failed: %s", import_id, aws.error_code(error))
            continue
        if record is not None and record.running:
            found.append(record)
    return found


def _unseen_reason(list_error: str, props: ImportProperties) -> str:
    """A busy account whose imports cannot be listed: the import holding it may be one this
    request started whose answer was lost; say how to find it (the reason has 256 characters)."""
    return (
        f"AccountHasOngoingImportException: ListImports refused ({list_error}); the running "
        "import may be this request's: aws cloudtrail list-imports --destination "
        f"{props.identity.destination}"
    )
