"""Lambda entry point of the CloudTrail Lake import custom resource (``index.handler``)."""

from __future__ import annotations

from typing import Any

# `import a.b as b`, not `from a import b`: measured on Python 3.13, reaching boto3 through a
# `from package import module` at the top of the entry point makes the init phase about 20 ms
# slower (urllib3's URL patterns compile slower under it; benchmarks/RESULTS.md, cold start).
import import_handler.lifecycle as lifecycle
import import_handler.responder as responder


def handler(event: dict[str, Any], context: Any) -> None:
    # Built per invocation: crhelper reads AWS_REGION and AWS_CA_BUNDLE when it is constructed,
    # and keeps per-request state on the instance.
    responder.ImportResource(lifecycle.handle)(event, context)
