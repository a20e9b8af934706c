"""Update: what the id points at, an earlier import to go back to, stopping the replaced one.

See docs/DESIGN.md, "Updates: replacement, retry, rollback"; the decision itself is
``decisions.decide_update``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from import_handler import aws, clock, cloudtrail, explain, lookup
from import_handler import properties as props_mod
from import_handler.decisions import (
    HANDOVER_MARGIN_SECONDS,
    choose_earlier,
    decide_update,
    is_import_id,
    wants_retry,
)
from import_handler.invocation import Invocation
from import_handler.model import Action, ImportFailed, ImportRecord
from import_handler.properties import ImportProperties, PropertyError

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient

logger = logging.getLogger(__name__)

# How long a replacement waits for the import it stopped to leave the running states.
STOP_SETTLE_SECONDS = 120.0


def decide(
    inv: Invocation, props: ImportProperties
) -> tuple[Action, ImportRecord | None, list[ImportRecord]]:
    """Observe what an Update needs (the current import; the store's imports unless it keeps
    the current one as it is) and decide. The action, the current import, and the store's
    imports as read (empty when not read)."""
    current = _current_import(inv, props)
    raw_old = inv.event.get("OldResourceProperties")
    old_stop = props_mod.stop_on_delete_leniently(raw_old)
    retry = wants_retry(props, _leniently(raw_old), current)
    if current is not None and current.identity == props.identity and not retry:
        return decide_update(props, old_stop, current, retry_requested=False), current, []
    # Anything else may start an import: look first (rule 1), or start nothing (rule 2).
    # An import that cannot be read may still be one to go back to (say the store's region
    # changed, so the id is unknown where the new properties point): it is not excluded.
    history = lookup.store_history(inv, props.identity)
    exclude = current.import_id if current else ""
    earlier = choose_earlier(
        r for r in lookup.matching(props.identity, history) if r.import_id != exclude
    )
    if earlier is not None:
        inv.log("found-earlier-import", import_id=earlier.import_id, status=earlier.status)
    action = decide_update(props, old_stop, current, earlier, retry_requested=retry)
    return action, current, history


def _leniently(raw: object) -> ImportProperties | None:
    try:
        return props_mod.parse(raw if isinstance(raw, Mapping) else None)
    except PropertyError:
        return None


def _current_import(inv: Invocation, props: ImportProperties) -> ImportRecord | None:
    """The import the PhysicalResourceId points at, read where the old properties' store is.

    Also where the new properties' store is, when the store moved and the old region does not
    know it: the rollback of a failed Update that moved the store has the failed Update's
    properties as its old ones, while the id is still the import in the original region.
    """
    if not is_import_id(inv.physical_id):
        return None
    record = _read_current(inv, props, inv.ct_current())
    if record is None and inv.store_moved():
        record = _read_current(inv, props, inv.ct())
    return record


def _read_current(
    inv: Invocation, props: ImportProperties, client: CloudTrailClient
) -> ImportRecord | None:
    try:
        record = cloudtrail.get_import(client, inv.physical_id)
    except aws.ERRORS as error:
        raise ImportFailed(
            explain.for_error(
                error, operation="GetImport", identity=props.identity, import_id=inv.physical_id
            )
        ) from error
    if record is not None:
        inv.identities[record.import_id] = record.identity  # the look-up needs not read it again
    return record


def stop_and_settle(inv: Invocation, import_id: str) -> None:
    """Stop the replaced import and wait (bounded) until it no longer holds the account."""
    try:
        record = cloudtrail.stop_import(inv.ct_current(), import_id)
    except aws.ERRORS as error:
        raise ImportFailed(
            explain.for_error(error, operation="StopImport", import_id=import_id)
        ) from error
    inv.log("stop-replaced", import_id=import_id, status=record.status if record else None)
    give_up_at = clock.now() + min(STOP_SETTLE_SECONDS, inv.remaining() - HANDOVER_MARGIN_SECONDS)
    while record is not None and record.running and clock.now() + 5 <= give_up_at:
        clock.sleep(5)
        try:
            record = cloudtrail.get_import(inv.ct_current(), import_id)
        except aws.ERRORS as error:
            logger.warning("GetImport of the stopped import failed: %s", aws.error_code(error))


def stop_replaced_quietly(inv: Invocation, import_id: str) -> None:
    """Stop the import an Update leaves for another; best effort: CloudFormation's clean-up
    Delete stops it too, so a refusal here must not fail the Update."""
    try:
        record = cloudtrail.stop_import(inv.ct_current(), import_id)
    except aws.ERRORS as error:
        logger.warning(
            "could not stop the replaced import %s now (%s); the clean-up Delete will",
            import_id,
            aws.error_code(error) or type(error).__name__,
        )
        return
    inv.log("stop-replaced", import_id=import_id, status=record.status if record else None)
