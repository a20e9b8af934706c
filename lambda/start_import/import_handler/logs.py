"""One structured JSON line per decision, and a filter that keeps presigned URLs out of the logs."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger("import_handler.decision")

_PRESIGNED = re.compile(
    r"https?://[^\s'\"<>]*(?:X-Amz-Signature|X-Amz-Credential|Signature=|AWSAccessKeyId)[^\s'\"<>]*",
    re.IGNORECASE,
)
REDACTED = "<redacted-url>"


def decision(event: Mapping[str, Any], action: str, **fields: Any) -> None:
    """Log what the handler decided; never the ResponseURL or the properties' full values."""
    line = {
        "decision": action,
        "RequestType": event.get("RequestType"),
        "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
        **{key: value for key, value in fields.items() if value is not None},
    }
    logger.info(json.dumps(line, default=str, sort_keys=False))


class RedactUrls(logging.Filter):
    """Replaces presigned URLs, and the exact ResponseURLs it was told about, in every record.

    crhelper logs the whole event (ResponseURL included) at DEBUG and the URL before sending;
    the URL is a credential that lets anyone answer for the stack. This filter sits on crhelper's
    loggers and on every root handler, so whatever logs it, it does not leave the process.
    """

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return _PRESIGNED.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep only its template
            message = str(record.msg)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


REDACT = RedactUrls()
_GUARDED_LOGGERS = ("crhelper", "crhelper.resource_helper", "crhelper.utils", "import_handler")


def guard(response_url: object) -> None:
    """Install the filter (idempotent) and remember this invocation's ResponseURL."""
    # Only this invocation's URL (a warm container serves many); presigned ones match anyway.
    REDACT.secrets = {response_url} if isinstance(response_url, str) and response_url else set()
    for name in _GUARDED_LOGGERS:
        _add(logging.getLogger(name))
    for handler in logging.getLogger().handlers:
        if REDACT not in handler.filters:
            handler.addFilter(REDACT)


def _add(target: logging.Logger) -> None:
    if REDACT not in target.filters:
        target.addFilter(REDACT)
