"""What the handler knows and decides: import records, actions, and the one failure it raises.

Failures raise ``ImportFailed``; ``answer.failure`` alone turns one into CloudFormation's answer,
so that the import a request started is never forgotten on the way up (docs/DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from import_handler.frozen import frozen
from import_handler.properties import ImportIdentity

RUNNING = frozenset({"INITIALIZING", "IN_PROGRESS"})
RETRYABLE = frozenset({"FAILED", "STOPPED"})


@frozen
class ImportRecord:
    """What CloudTrail says about one import (GetImport / StartImport / StopImport)."""

    import_id: str
    status: str
    identity: ImportIdentity | None = None
    statistics: Mapping[str, int] = MappingProxyType({})

    @property
    def running(self) -> bool:
        return self.status in RUNNING


class ImportFailed(Exception):  # noqa: N818 - the request failed; the name the issue and docs use
    """The request fails with ``reason``; ``record`` is the import to report, when one is known.

    The imports the request started or adopted travel on the invocation
    (``Invocation.started``), so every failure path knows them, whoever raised.
    """

    def __init__(self, reason: str, record: ImportRecord | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.record = record


# --- Actions for a request -------------------------------------------------------------------


@frozen
class Start:
    """Start a new import; when ``stop_first`` is set, stop that running import first."""

    stop_first: str | None = None


@frozen
class Retry:
    """``StartImport(ImportId=...)``: CloudTrail resumes a FAILED or STOPPED import.

    When ``stop_first`` is set, stop that running import first (as for ``Start``).
    """

    import_id: str
    stop_first: str | None = None


@frozen
class Keep:
    """Keep this import as it is (waiting for it if asked and it runs)."""

    record: ImportRecord


class Adopt(Keep):
    """An import for the same destination, source and window is already running: use it.

    Acted on exactly as ``Keep``; a type of its own so that the decision log tells them apart.
    """


@frozen
class Stop:
    import_id: str


@frozen
class Done:
    """Answer SUCCESS without any further call."""

    why: str


@frozen
class Fail:
    reason: str


@frozen
class KeepTrying:
    """The account is busy with another import: try StartImport again at the next poll."""

    blocker_id: str | None


Action = Start | Retry | Keep | Adopt | Stop | Done | Fail | KeepTrying
