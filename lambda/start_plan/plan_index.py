"""Lambda entry point of the import plan's custom resource (``plan_index.handler``)."""

from __future__ import annotations

from typing import Any

from plan_handler import lifecycle


def handler(event: dict[str, Any], context: Any) -> None:
    lifecycle.handle(event, context)
