"""Update: what the id points at, an earlier import to go back to, stopping the replaced one.

See docs/DESIGN.md, "Updates: replacement, retry, rollback"; the decision itself is
``decisions.decide_update``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from import_handler import aws, clock, cloudtrail, explain
from import_handler import properties as props_mod
from import_handler.decisions import (
    HANDOVER_MARGIN_SECONDS,
    choose_earlier,
    decide_update,
    is_import_id,
    is_replacement,
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


def decide(inv: Invocation, props: ImportProperties) -> tuple[Action, ImportRecord | None]:
    """Observe what an Update needs (the current import, an earlier one) and decide; the
    action with the current import."""
    current = _current_import(inv, props)
    # An import that cannot be read may still be one to go back to (say the store's region
    # changed, so the id is unknown where the new properties point): look for it as well.
    unreadable = current is None and is_import_id(inv.physical_id)
    earlier = None
    if is_replacement(props, current) or unreadable:
        earlier = _earlier_import(inv, props, exclude=current.import_id if current else "")
    raw_old = inv.event.get("OldResourceProperties")
    old_stop = props_mod.stop_on_delete_leniently(raw_old)
    retry = wants_retry(props, _leniently(raw_old), current)
    return decide_update(props, old_stop, current, earlier, retry_requested=retry), current


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
        return cloudtrail.get_import(client, inv.physical_id)
    except aws.ERRORS as error:
        raise ImportFailed(
            explain.for_error(
                error, operation="GetImport", identity=props.identity, import_id=inv.physical_id
            )
        ) from error


def _earlier_import(inv: Invocation, props: ImportProperties, exclude: str) -> ImportRecord | None:
    """An earlier import to go back to instead of starting a new one (see ``decide_update``);
    ``exclude`` is the current import, when it could be read (one that could not may be the
    very import to go back to).

    Best effort: when the lookup fails, the update decides as if there were none.
    """
    # Each call is budgeted when it is made, keeping the hand-over margin for what follows.
    matches = cloudtrail.earlier_imports(
        lambda: inv.ct(HANDOVER_MARGIN_SECONDS), props.identity, exclude=exclude
    )
    try:
        earlier = choose_earlier(matches)
    except aws.ERRORS as error:
        logger.warning(
            "cannot look for an earlier import with these properties (%s); deciding without",
            aws.error_code(error) or type(error).__name__,
        )
        return None
    if earlier is not None:
        inv.log("found-earlier-import", import_id=earlier.import_id, status=earlier.status)
    return earlier


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
