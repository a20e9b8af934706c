"""The plan handler's look for a segment's first file (ListObjectsV2, MaxKeys 1): a refused,
throttled or timed-out listing never fails the deploy or hides a segment; the import judges."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber

from plan_handler import store

BUCKET, PREFIX, REGION = "trail-archive", "AWSLogs/111122223333/CloudTrail/", "eu-west-1"
LISTING = {"Bucket": BUCKET, "Prefix": PREFIX, "MaxKeys": 1}


class StubbedClients:
    """What the lifecycle asks of ``aws.Clients`` here: an S3 client."""

    def __init__(self, arrange: Callable[[Stubber, Any], None]) -> None:
        self.client = boto3.client(
            "s3", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
        )
        self.stubber = Stubber(self.client)
        arrange(self.stubber, self.client)
        self.stubber.activate()

    def s3(self, region: str, budget: float) -> Any:
        assert region == REGION
        return self.client


def is_empty(arrange: Callable[[Stubber, Any], None]) -> bool:
    clients = StubbedClients(arrange)
    empty = store._prefix_is_empty(clients, lambda: 60.0, REGION, BUCKET, PREFIX)  # type: ignore[arg-type]
    clients.stubber.assert_no_pending_responses()
    return empty


def test_a_prefix_without_a_file_is_empty_and_one_with_a_file_is_not() -> None:
    assert is_empty(lambda s, _c: s.add_response("list_objects_v2", {"KeyCount": 0}, LISTING))
    assert not is_empty(
        lambda s, _c: s.add_response(
            "list_objects_v2", {"Contents": [{"Key": PREFIX + "x.json.gz"}]}, LISTING
        )
    )


@pytest.mark.parametrize("code", ["AccessDenied", "SlowDown", "InternalError"])
def test_a_refused_or_throttled_listing_leaves_the_segment_to_run(code: str) -> None:
    assert not is_empty(
        lambda s, _c: s.add_client_error("list_objects_v2", service_error_code=code)
    )


def test_a_timed_out_listing_leaves_the_segment_to_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def arrange(_stubber: Stubber, client: Any) -> None:
        def timed_out(**_kwargs: Any) -> None:
            raise ReadTimeoutError(endpoint_url="https://s3.eu-west-1.amazonaws.com")

        monkeypatch.setattr(client, "list_objects_v2", timed_out)

    assert not is_empty(arrange)
