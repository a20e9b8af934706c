"""Lambda entry point of the CloudTrail Lake import custom resource (``index.handler``)."""

from __future__ import annotations

from typing import Any

from import_handler import lifecycle
from import_handler.responder import ImportResource


def handler(event: dict[str, Any], context: Any) -> None:
    # Built per invocation: crhelper reads AWS_REGION and AWS_CA_BUNDLE when it is constructed,
    # and keeps per-request state on the instance.
    ImportResource(lifecycle.handle)(event, context)
