"""Fixtures of the offline end-to-end suite: S3 over TLS, CloudTrail Lake, Lambda, the clock.

Servers bind 127.0.0.1:0 and are shut down (threads joined) by their fixtures. Per test: a
fresh clock, CloudTrail Lake and Lambda endpoint, fresh buckets, and an environment that points
every AWS client of the process at them (no profile, fake keys, the test CA bundle).
"""

from __future__ import annotations

import importlib
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import botocore.endpoint
import pytest

from tests.e2e.clock import EmulatedClock, SleepRouter
from tests.e2e.cloudtrail_lake import CloudTrailLake, EventDataStore
from tests.e2e.harness import ACCOUNT, REGION, CloudFormation, Handler
from tests.e2e.lambda_invoke import LambdaEndpoint
from tests.e2e.local_http import LocalHttpServer
from tests.e2e.s3_tls import FAKE_KEY_ID, FAKE_SECRET, MotoS3Tls
from tests.e2e.trail_archive import TrailArchive, generate_archive

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient
    from mypy_boto3_s3 import S3Client

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/CloudTrailLakeImportS3Access"


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3Tls]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with MotoS3Tls(tmp_path_factory.mktemp("e2e-tls")) as server:
        yield server


@pytest.fixture(scope="session")
def archive() -> TrailArchive:
    """Two accounts, two regions, three days, with digest files (about 50 objects)."""
    return generate_archive()


@pytest.fixture(scope="session")
def small_archive() -> TrailArchive:
    """One account and region over two days: for tests that change objects."""
    return generate_archive(
        seed=11,
        accounts=(ACCOUNT,),
        regions=(REGION,),
        days=(date(2025, 1, 10), date(2025, 1, 11)),
        files_per_day=(2, 2),
    )


@pytest.fixture(scope="session")
def archive_bucket(s3_server: MotoS3Tls, archive: TrailArchive) -> str:
    """The archive, uploaded once; read-only (tests that change objects use their own bucket)."""
    s3 = s3_server.client()
    name = make_bucket(s3)
    archive.upload(s3, name)
    return name


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> EmulatedClock:
    fake = EmulatedClock()
    # botocore's retry back-off sleeps on the emulated clock too.
    monkeypatch.setattr(botocore.endpoint, "time", SleepRouter(fake))
    return fake


@pytest.fixture
def lake(clock: EmulatedClock, s3_server: MotoS3Tls) -> Iterator[tuple[CloudTrailLake, str]]:
    emulator = CloudTrailLake(clock, s3_server.client, region=REGION)
    with LocalHttpServer(emulator) as server:
        yield emulator, server.url


@pytest.fixture
def lambda_endpoint() -> Iterator[tuple[LambdaEndpoint, str]]:
    endpoint = LambdaEndpoint()
    with LocalHttpServer(endpoint) as server:
        yield endpoint, server.url


@pytest.fixture
def aws_env(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    s3_server: MotoS3Tls,
    lake: tuple[CloudTrailLake, str],
    lambda_endpoint: tuple[LambdaEndpoint, str],
) -> None:
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "AWS_SAM_LOCAL",
    ):
        monkeypatch.delenv(name, raising=False)
    env = {
        "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_CA_BUNDLE": str(s3_server.ca_bundle),
        "AWS_ENDPOINT_URL_S3": s3_server.url,
        "AWS_ENDPOINT_URL_CLOUDTRAIL": lake[1],
        "AWS_ENDPOINT_URL_LAMBDA": lambda_endpoint[1],
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def _load_handler() -> Any:
    """``index`` and ``import_handler``, imported with the test environment in place."""
    try:
        import_handler_clock = importlib.import_module("import_handler.clock")
        index = importlib.import_module("index")
    except ImportError as error:  # the handler is not there yet
        pytest.skip(f"lambda/start_import/index.py cannot be imported: {error}")
    return index, import_handler_clock


@pytest.fixture
def handler(aws_env: None, clock: EmulatedClock, monkeypatch: pytest.MonkeyPatch) -> Handler:
    index, handler_clock = _load_handler()
    monkeypatch.setattr(handler_clock, "CLOCK", clock)
    entry: Handler = index.handler
    return entry


@dataclass
class World:
    """One test's emulated AWS account, with a trail archive and an event data store."""

    clock: EmulatedClock
    s3: S3Client
    lake: CloudTrailLake
    lake_url: str
    lambda_endpoint: LambdaEndpoint
    cfn: CloudFormation
    bucket: str
    archive: TrailArchive
    store: EventDataStore
    role_arn: str = ROLE_ARN

    def properties(
        self,
        *,
        prefix: str = "",
        start: datetime | None = None,
        end: datetime | None = None,
        wait: bool = False,
        **extra: str,
    ) -> dict[str, Any]:
        """Custom resource properties as CloudFormation delivers them (all strings)."""
        props: dict[str, Any] = {
            "Destinations": [self.store.arn],
            "ImportSource": {
                "S3": {
                    "S3LocationUri": f"s3://{self.bucket}/{prefix}",
                    "S3BucketRegion": REGION,
                    "S3BucketAccessRoleArn": self.role_arn,
                }
            },
            "WaitForCompletion": "true" if wait else "false",
        }
        if start is not None:
            props["StartEventTime"] = start.strftime("%Y-%m-%dT%H:%M:%SZ")
        if end is not None:
            props["EndEventTime"] = end.strftime("%Y-%m-%dT%H:%M:%SZ")
        props.update(extra)
        return props

    def cloudtrail(self) -> CloudTrailClient:
        client: CloudTrailClient = boto3.client(
            "cloudtrail",
            endpoint_url=self.lake_url,
            region_name=REGION,
            aws_access_key_id=FAKE_KEY_ID,
            aws_secret_access_key=FAKE_SECRET,
        )
        return client

    def use_own_bucket(self, archive: TrailArchive, *, acls_enabled: bool = False) -> str:
        """Import from a new bucket holding ``archive`` (which the test may then change)."""
        self.bucket = make_bucket(self.s3, acls_enabled=acls_enabled)
        self.archive = archive
        archive.upload(self.s3, self.bucket)
        return self.bucket


def make_bucket(s3: S3Client, *, acls_enabled: bool = False) -> str:
    name = f"trail-archive-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    ownership = "ObjectWriter" if acls_enabled else "BucketOwnerEnforced"
    s3.put_bucket_ownership_controls(
        Bucket=name,
        OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]},  # type: ignore[misc,arg-type]
    )
    return name


@pytest.fixture
def world(
    s3_server: MotoS3Tls,
    clock: EmulatedClock,
    lake: tuple[CloudTrailLake, str],
    lambda_endpoint: tuple[LambdaEndpoint, str],
    archive: TrailArchive,
    archive_bucket: str,
    handler: Handler,
) -> World:
    s3 = s3_server.client()
    bucket = archive_bucket
    responses = f"cfn-responses-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=responses)
    cfn = CloudFormation(
        s3=s3_server,
        lambda_endpoint=lambda_endpoint[0],
        clock=clock,
        handler=handler,
        response_bucket=responses,
    )
    store = lake[0].add_event_data_store("trail-archive", account=ACCOUNT)
    return World(clock, s3, lake[0], lake[1], lambda_endpoint[0], cfn, bucket, archive, store)


@pytest.fixture(autouse=True)
def _no_leftover_threads() -> Iterator[None]:
    import threading

    before = {t.ident for t in threading.enumerate()}
    yield
    for thread in threading.enumerate():
        if thread.ident not in before and not thread.daemon:
            thread.join(timeout=2)
    extra = [
        t
        for t in threading.enumerate()
        if t.ident not in before
        and t.is_alive()
        and not t.daemon
        and not (isinstance(t, threading.Timer) and t.finished.is_set())
    ]
    assert not extra, f"threads left running: {extra}"
