"""The look-up before any StartImport: every import already in the store, or no start at all.

Rules 1 and 2 of docs/DESIGN.md, "Exactly once": before a new import or a retry, the handler
reads the store's imports (``cloudtrail.store_imports``) to keep or adopt one with this
identity and to refuse an overlap; when that reading fails or is cut short by the time
budget, nothing is started and the request answers FAILED saying what to check.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from import_handler import aws, cloudtrail
from import_handler.decisions import HANDOVER_MARGIN_SECONDS
from import_handler.invocation import Invocation
from import_handler.model import ImportFailed, ImportRecord
from import_handler.properties import ImportIdentity


def store_history(
    inv: Invocation, identity: ImportIdentity, reserve: float = HANDOVER_MARGIN_SECONDS
) -> list[ImportRecord]:
    """Every import into ``identity.destination``, newest first; raises ``ImportFailed`` when
    they cannot all be read. Each call keeps ``reserve`` seconds back for what follows."""
    try:
        history = cloudtrail.store_imports(
            lambda: inv.ct(reserve), identity.destination, inv.identities
        )
    except aws.ERRORS as error:
        raise ImportFailed(failed_reason(error)) from error
    inv.log("look-up", imports=len(history))
    return history


def matching(identity: ImportIdentity, history: list[ImportRecord]) -> list[ImportRecord]:
    return [record for record in history if record.identity == identity]


def failed_reason(error: BaseException) -> str:
    if isinstance(error, aws.NoTimeLeftError):
        why = "no time was left in this invocation"
    else:
        operation = error.operation_name if isinstance(error, ClientError) else "a call"
        why = f"{operation}: {aws.error_code(error) or type(error).__name__}"
    return (
        f"ImportLookupFailed: the imports already in the event data store could not all be read "
        f"({why}), so nothing was started. Check the handler role's cloudtrail:ListImports and "
        "GetImport, or wait out throttling, then deploy again"
    )
