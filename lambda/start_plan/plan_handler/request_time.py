"""When CloudFormation made a request: the signing time of its presigned ResponseURL.

CloudFormation gives a custom resource an hour from when it sends the request, not from when
Lambda gets round to running the handler (a queued or retried invocation starts late). The
ResponseURL is presigned when the request is made: SigV4 carries the signing time itself
(``X-Amz-Date``), SigV2 only its expiry (``Expires``, epoch seconds), from which the presign
lifetime is taken back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

#: CloudFormation presigns its response URLs for two hours. Taking back the longest lifetime it
#: uses can only make the request look older than it is: the deadline comes earlier, never late.
PRESIGN_LIFETIME_SECONDS = 7200


def request_signed_at(response_url: str) -> float | None:
    """Epoch seconds when ``response_url`` was signed; None when it does not say."""
    query = {k.lower(): v[-1] for k, v in parse_qs(urlsplit(response_url).query).items() if v}
    stamp = query.get("x-amz-date")
    if stamp is not None:
        try:
            return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
        except ValueError:
            return None
    expires = query.get("expires")
    if expires is not None and expires.isdigit():
        return float(int(expires) - PRESIGN_LIFETIME_SECONDS)
    return None
