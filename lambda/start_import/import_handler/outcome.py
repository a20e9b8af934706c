"""What the handler answers CloudFormation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from import_handler.decisions import ImportRecord


@dataclass(frozen=True)
class Outcome:
    success: bool
    physical_id: str
    reason: str = ""
    data: Mapping[str, str] = field(default_factory=dict)


def data_for(record: ImportRecord | None) -> dict[str, str]:
    """Response Data: ImportId, ImportStatus and the statistics CloudTrail reported, as strings."""
    if record is None:
        return {}
    data = {"ImportId": record.import_id, "ImportStatus": record.status}
    data.update({key: str(value) for key, value in record.statistics.items()})
    return data
