"""When CloudFormation made the request, read from the presigned ResponseURL it carries.

CloudFormation counts its hour from the request, not from when the handler got round to it
(Lambda's queue, retries after a crash). The URL is signed when the request is made: a SigV4
URL says when (``X-Amz-Date``); a SigV2-style URL says only when it expires (``Expires``),
which is taken as ``URL_VALIDITY_SECONDS`` after the request. The earlier of that and the
time the handler received the request counts, so a URL that says nothing (or the wrong thing)
can only make the deadline earlier. The URL is parsed here and never logged.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

# CloudFormation's response URLs expire two hours after they are signed.
URL_VALIDITY_SECONDS = 7200.0


def signed_at(url: object) -> float | None:
    """Epoch seconds at which ``url`` was signed, or None when it does not say."""
    if not isinstance(url, str) or not url:
        return None
    try:
        query = {k.lower(): v for k, v in parse_qs(urlsplit(url).query).items()}
    except ValueError:
        return None
    amz_date = query.get("x-amz-date", [""])[0]
    if amz_date:
        try:
            return datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
        except ValueError:
            return None
    expires = query.get("expires", [""])[0]
    if expires.isdigit():
        return float(expires) - URL_VALIDITY_SECONDS
    return None


def requested_at(url: object, received: float) -> float:
    """When the request was made: its URL's signing time, never later than ``received``."""
    signed = signed_at(url)
    return received if signed is None else min(received, signed)
