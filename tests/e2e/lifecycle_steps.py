"""Steps shared by the lifecycle tests (``test_lifecycle*.py``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.e2e.harness import ACCOUNT, REGION, CfnResponse, Run
from tests.e2e.world import World
from tests.lake_emulator.trail_archive import log_file_key


def create(world: World, props: dict[str, Any], **kwargs: Any) -> tuple[CfnResponse, Run]:
    return world.cfn.complete(world.cfn.event("Create", props), **kwargs)


def started_imports(world: World) -> list[dict[str, Any]]:
    return [
        c.params
        for c in world.lake.calls
        if c.operation == "StartImport" and c.outcome in ("ok", "reset_after")
    ]


def corrupt_key(day: int = 11) -> str:
    when = datetime(2025, 1, day, 8, 5, tzinfo=UTC)
    return log_file_key(ACCOUNT, REGION, when, "CORRUPTED0000000")
