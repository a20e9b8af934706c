"""The S3 server over TLS, presigned ResponseURLs with their fault hook, the archive generator."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import ssl
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tests.e2e.s3_tls import MotoS3Tls
from tests.lake_emulator.trail_archive import TrailArchive, generate_archive

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

LOG_KEY = re.compile(
    r"^AWSLogs/(?P<acct>\d{12})/CloudTrail/(?P<region>[a-z0-9-]+)/(?P<y>\d{4})/(?P<m>\d\d)/"
    r"(?P<d>\d\d)/(?P=acct)_CloudTrail_(?P=region)_(?P=y)(?P=m)(?P=d)T\d{4}Z_[A-Za-z0-9]{16}"
    r"\.json\.gz$"
)
DIGEST_KEY = re.compile(
    r"^AWSLogs/(?P<acct>\d{12})/CloudTrail-Digest/(?P<region>[a-z0-9-]+)/\d{4}/\d\d/\d\d/"
    r"(?P=acct)_CloudTrail-Digest_(?P=region)_[\w-]+_[a-z0-9-]+_\d{8}T\d{6}Z\.json\.gz$"
)


def put(url: str, body: bytes, cafile: str | None) -> int:
    parts = urlsplit(url)
    context = ssl.create_default_context(cafile=cafile)
    conn = http.client.HTTPSConnection(parts.netloc, context=context, timeout=10)
    try:
        conn.request(
            "PUT",
            f"{parts.path}?{parts.query}",
            body=body,
            headers={"content-type": "", "content-length": str(len(body))},
        )
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.fixture
def response_url(s3_server: MotoS3Tls) -> tuple[S3Client, str, str, str]:
    s3 = s3_server.client()
    bucket = f"cfn-responses-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    key = f"arn:aws:cloudformation:us-east-1:123456789012:stack/S/1|Res|{uuid.uuid4()}"
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600
    )
    return s3, bucket, key, url


def test_presigned_put_round_trip_over_verified_tls(
    s3_server: MotoS3Tls, response_url: tuple[S3Client, str, str, str]
) -> None:
    s3, bucket, key, url = response_url
    assert url.startswith("https://127.0.0.1:")
    assert "X-Amz-Signature=" in url
    body = json.dumps({"Status": "SUCCESS", "PhysicalResourceId": "x"}).encode()
    assert put(url, body, str(s3_server.ca_bundle)) == 200
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    assert [(p.key, p.status) for p in s3_server.recorder.puts if p.key == key] == [(key, 200)]


def test_tls_is_verified_against_the_test_ca_only(
    response_url: tuple[S3Client, str, str, str], tmp_path: object
) -> None:
    _, _, _, url = response_url
    with pytest.raises(ssl.SSLCertVerificationError):
        put(url, b"{}", None)  # the system trust store does not know the test CA


def test_response_url_fault_hook(
    s3_server: MotoS3Tls, response_url: tuple[S3Client, str, str, str]
) -> None:
    s3, bucket, key, url = response_url
    s3_server.recorder.fail_puts(key, 1, "503")
    s3_server.recorder.fail_puts(key, 1, "reset")
    assert put(url, b'{"n": 1}', str(s3_server.ca_bundle)) == 503
    with pytest.raises((ConnectionError, http.client.HTTPException, ssl.SSLError)):
        put(url, b'{"n": 2}', str(s3_server.ca_bundle))
    assert put(url, b'{"n": 3}', str(s3_server.ca_bundle)) == 200
    assert [p.status for p in s3_server.recorder.puts if p.key == key] == [503, 0, 200]
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b'{"n": 3}'


def test_archive_is_deterministic_and_realistic(archive: TrailArchive) -> None:
    again = generate_archive()
    assert again.objects() == archive.objects()
    assert generate_archive(seed=8).objects() != archive.objects()
    accounts, regions, days = set(), set(), set()
    for f in archive.log_files:
        match = LOG_KEY.match(f.key)
        assert match, f.key
        accounts.add(f.account)
        regions.add(f.region)
        days.add(f.timestamp.date())
        records = json.loads(gzip.decompress(f.body))["Records"]
        assert len(records) == f.events > 0
        for record in records:
            assert record["recipientAccountId"] == f.account
            assert record["awsRegion"] == f.region
            when = datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            assert 0 < (f.timestamp - when).total_seconds() < 300
            assert {"eventID", "eventName", "eventSource", "userIdentity"} <= record.keys()
    assert len(accounts) == 2
    assert len(regions) == 2
    assert len(days) == 3
    assert archive.digest_files
    for key, body in archive.digest_files:
        assert DIGEST_KEY.match(key), key
        assert "logFiles" in json.loads(gzip.decompress(body))


def test_expected_statistics_follow_the_window(archive: TrailArchive) -> None:
    whole = archive.expected()
    assert whole.files == len(archive.log_files)
    assert whole.events == sum(f.events for f in archive.log_files)
    assert whole.prefixes == 2 * 2 * 3  # one folder per account, region and day
    day = archive.expected(
        start=datetime(2025, 1, 11, tzinfo=UTC), end=datetime(2025, 1, 11, 23, 59, tzinfo=UTC)
    )
    assert day.prefixes == 4
    assert 0 < day.files < whole.files
    one = archive.expected("AWSLogs/111122223333/CloudTrail/us-east-1/")
    assert one.prefixes == 3
