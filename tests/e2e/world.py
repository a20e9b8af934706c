"""The emulated AWS of the offline end-to-end suite, built without pytest.

The fixtures in ``conftest.py`` and the benchmarks (``benchmarks/emulated.py``) both build their
world here, so the set-up lives in one place:

* :func:`serve_s3`: moto S3 over TLS (one per session or benchmark run);
* :func:`emulated_account`: per test or scenario, a fresh emulated clock (botocore's retry
  back-off sleeps on it too), the CloudTrail Lake and Lambda endpoints on 127.0.0.1, and a
  process environment that points every AWS client at them and at S3 (no profile, fake keys,
  the test CA bundle); all of it undone on exit;
* :func:`handler_on`: ``index.handler`` with ``import_handler.clock.CLOCK`` replaced by the
  account's clock until exit;
* :meth:`World.build` / :func:`emulated_world`: the above plus CloudFormation's harness (with
  its response bucket), a trail archive's bucket and an event data store.

Servers bind 127.0.0.1:0 and are shut down (threads joined) on exit.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import boto3
import botocore.endpoint

from tests.e2e.harness import ACCOUNT, REGION, CloudFormation, Handler
from tests.e2e.lambda_invoke import LambdaEndpoint
from tests.e2e.s3_tls import FAKE_KEY_ID, FAKE_SECRET, MotoS3Tls
from tests.lake_emulator.clock import EmulatedClock, SleepRouter
from tests.lake_emulator.local_http import LocalHttpServer
from tests.lake_emulator.server import CloudTrailLake, EventDataStore
from tests.lake_emulator.trail_archive import TrailArchive

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient
    from mypy_boto3_cloudtrail.type_defs import ImportSourceTypeDef
    from mypy_boto3_s3 import S3Client

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/CloudTrailLakeImportS3Access"
HANDLER_DIR = Path(__file__).resolve().parents[2] / "lambda" / "start_import"
#: Removed from the environment: each could send a client somewhere else than the emulators.
UNSET_VARIABLES = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_SAM_LOCAL",
)


def serve_s3(workdir: Path) -> MotoS3Tls:
    """moto S3 over TLS (a context manager), its CA bundle in ``workdir``."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    return MotoS3Tls(workdir)


@contextmanager
def patched(target: object, name: str, value: object) -> Iterator[None]:
    """``target.name = value`` until exit."""
    saved = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, saved)


@contextmanager
def environment(values: Mapping[str, str], unset: Iterable[str] = ()) -> Iterator[None]:
    """``os.environ`` with ``values`` set and ``unset`` removed, until exit."""
    saved = {name: os.environ.get(name) for name in (*unset, *values)}
    for name in unset:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def aws_environment(
    workdir: Path, s3: MotoS3Tls, *, cloudtrail_url: str, lambda_url: str
) -> dict[str, str]:
    """The variables that point every AWS client of the process at the emulators."""
    return {
        "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(workdir / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "no-credentials"),
        "AWS_CA_BUNDLE": str(s3.ca_bundle),
        "AWS_ENDPOINT_URL_S3": s3.url,
        "AWS_ENDPOINT_URL_CLOUDTRAIL": cloudtrail_url,
        "AWS_ENDPOINT_URL_LAMBDA": lambda_url,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@dataclass(frozen=True)
class EmulatedAccount:
    """One test's (or benchmark scenario's) clock and endpoints."""

    clock: EmulatedClock
    lake: CloudTrailLake
    lake_url: str
    lambda_endpoint: LambdaEndpoint
    lambda_url: str


@contextmanager
def emulated_account(
    s3: MotoS3Tls, workdir: Path, *, files_per_second: float = 1.0
) -> Iterator[EmulatedAccount]:
    """A fresh clock, CloudTrail Lake and Lambda endpoint, and the environment pointing at them.

    ``workdir`` holds the (absent) AWS config and credentials files the environment names.
    """
    clock = EmulatedClock()
    lake = CloudTrailLake(clock, s3.client, region=REGION, files_per_second=files_per_second)
    lambda_endpoint = LambdaEndpoint()
    with (
        patched(botocore.endpoint, "time", SleepRouter(clock)),
        LocalHttpServer(lake) as lake_server,
        LocalHttpServer(lambda_endpoint) as lambda_server,
    ):
        env = aws_environment(
            workdir, s3, cloudtrail_url=lake_server.url, lambda_url=lambda_server.url
        )
        with environment(env, unset=UNSET_VARIABLES):
            yield EmulatedAccount(clock, lake, lake_server.url, lambda_endpoint, lambda_server.url)


def load_handler() -> tuple[Handler, ModuleType]:
    """``index.handler`` and ``import_handler.clock`` (ImportError while the handler is absent)."""
    if str(HANDLER_DIR) not in sys.path:
        sys.path.insert(0, str(HANDLER_DIR))
    clock_module = importlib.import_module("import_handler.clock")
    index = importlib.import_module("index")
    handler: Handler = index.handler
    return handler, clock_module


@contextmanager
def handler_on(clock: EmulatedClock) -> Iterator[Handler]:
    """``index.handler``, reading the time from ``clock`` until exit."""
    handler, clock_module = load_handler()
    with patched(clock_module, "CLOCK", clock):
        yield handler


def cloudformation(
    s3: MotoS3Tls,
    account: EmulatedAccount,
    handler: Handler,
    *,
    function_timeout: float = 900.0,
) -> CloudFormation:
    """CloudFormation's harness for ``handler``, answering into a new response bucket."""
    responses = f"cfn-responses-{uuid.uuid4().hex[:12]}"
    s3.client().create_bucket(Bucket=responses)
    return CloudFormation(
        s3=s3,
        lambda_endpoint=account.lambda_endpoint,
        clock=account.clock,
        handler=handler,
        response_bucket=responses,
        function_timeout=function_timeout,
    )


def make_bucket(s3: S3Client, *, acls_enabled: bool = False) -> str:
    """A new bucket; ACLs disabled (``BucketOwnerEnforced``, as StartImport requires) or not."""
    name = f"trail-archive-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    ownership = "ObjectWriter" if acls_enabled else "BucketOwnerEnforced"
    s3.put_bucket_ownership_controls(
        Bucket=name,
        OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]},  # type: ignore[misc,arg-type]
    )
    return name


def bucket_holding(s3: S3Client, archive: TrailArchive, *, acls_enabled: bool = False) -> str:
    """A new bucket (see :func:`make_bucket`) with ``archive`` uploaded."""
    name = make_bucket(s3, acls_enabled=acls_enabled)
    archive.upload(s3, name)
    return name


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

    @classmethod
    def build(
        cls,
        s3: MotoS3Tls,
        account: EmulatedAccount,
        handler: Handler,
        *,
        bucket: str,
        archive: TrailArchive,
        function_timeout: float = 900.0,
    ) -> World:
        """The world of ``account``: ``bucket`` holds ``archive``; a new store is seeded."""
        cfn = cloudformation(s3, account, handler, function_timeout=function_timeout)
        store = account.lake.add_event_data_store("trail-archive", account=ACCOUNT)
        return cls(
            account.clock,
            s3.client(),
            account.lake,
            account.lake_url,
            account.lambda_endpoint,
            cfn,
            bucket,
            archive,
            store,
        )

    def import_source(self, prefix: str = "") -> ImportSourceTypeDef:
        """``ImportSource`` for this world's bucket, as StartImport takes it."""
        return {
            "S3": {
                "S3LocationUri": f"s3://{self.bucket}/{prefix}",
                "S3BucketRegion": REGION,
                "S3BucketAccessRoleArn": self.role_arn,
            }
        }

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
            "ImportSource": self.import_source(prefix),
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
        self.bucket = bucket_holding(self.s3, archive, acls_enabled=acls_enabled)
        self.archive = archive
        return self.bucket


@contextmanager
def emulated_world(
    s3: MotoS3Tls,
    workdir: Path,
    *,
    bucket: str,
    archive: TrailArchive,
    files_per_second: float = 1.0,
    function_timeout: float = 900.0,
) -> Iterator[World]:
    """A :class:`World` on a fresh :func:`emulated_account`, its handler on the account's clock."""
    with (
        emulated_account(s3, workdir, files_per_second=files_per_second) as account,
        handler_on(account.clock) as handler,
    ):
        yield World.build(
            s3, account, handler, bucket=bucket, archive=archive, function_timeout=function_timeout
        )
