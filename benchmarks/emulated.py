"""A thin adapter over the offline end-to-end emulator (``tests/e2e/``) for the benchmarks.

The e2e suite builds its world from pytest fixtures; the benchmarks build the same world
without pytest: moto S3 over TLS (one per run), and per scenario a fresh emulated clock, an
emulated CloudTrail Lake, a recording Lambda endpoint, and the CloudFormation harness that drives
``index.handler``, its continuations and its answer. The process environment points every AWS
client at them exactly as the ``aws_env`` fixture does, and is restored on exit.

Two things are added here, outside ``tests/e2e``:

* every S3 request is counted at the server (a WSGI middleware in front of moto), with its
  User-Agent, so that the handler's calls (its clients add ``cdk-cloudtrail-lake-import``) are
  told apart from the emulator's and the harness's;
* every PUT the S3 server records gets the emulated time at which it landed, so that an answer
  to CloudFormation can be dated on the same clock as the import's completion.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import botocore.endpoint

from benchmarks.common import ROOT
from tests.e2e.clock import EmulatedClock, SleepRouter
from tests.e2e.cloudtrail_lake import CallRecord, CloudTrailLake, EventDataStore
from tests.e2e.harness import ACCOUNT, REGION, CloudFormation
from tests.e2e.lambda_invoke import AsyncInvocation, LambdaEndpoint
from tests.e2e.local_http import LocalHttpServer
from tests.e2e.s3_tls import FAKE_KEY_ID, FAKE_SECRET, MotoS3Tls, ObservedPut
from tests.e2e.trail_archive import TrailArchive, generate_archive

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

HANDLER_USER_AGENT = "cdk-cloudtrail-lake-import"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/CloudTrailLakeImportS3Access"
# The Lambda timeout the construct gives a waiting handler (WAITING_HANDLER_TIMEOUT).
FUNCTION_TIMEOUT_SECONDS = 900.0
StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class S3Request:
    method: str
    path: str
    query: str
    user_agent: str

    @property
    def operation(self) -> str:
        keys = set(parse_qs(self.query, keep_blank_values=True))
        bucket_only = self.path.strip("/").count("/") == 0
        for key, name in (
            ("ownershipControls", "GetBucketOwnershipControls"),
            ("location", "GetBucketLocation"),
            ("acl", "GetBucketAcl"),
            ("list-type", "ListObjectsV2"),
        ):
            if key in keys and self.method == "GET":
                return name
        if self.method == "HEAD":
            return "HeadBucket" if bucket_only else "HeadObject"
        if self.method == "GET":
            return "ListObjects" if bucket_only else "GetObject"
        if self.method == "PUT":
            return "CreateBucket" if bucket_only else "PutObject"
        return f"{self.method} {self.path}"

    @property
    def by_handler(self) -> bool:
        return HANDLER_USER_AGENT in self.user_agent


class _CountingS3:
    """WSGI middleware in front of moto: remembers every request."""

    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Any]) -> None:
        self._app = app
        self._lock = threading.Lock()
        self.requests: list[S3Request] = []

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        request = S3Request(
            environ.get("REQUEST_METHOD", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_USER_AGENT", ""),
        )
        with self._lock:
            self.requests.append(request)
        return self._app(environ, start_response)


class _TimedPuts(list[ObservedPut]):
    """The S3 server's PUT log, each entry dated on the current scenario's emulated clock."""

    def __init__(self, now: Callable[[], float]) -> None:
        super().__init__()
        self._now = now
        self.times: list[float] = []

    def append(self, put: ObservedPut) -> None:
        self.times.append(self._now())
        super().append(put)


@dataclass
class Counts:
    """What one lifecycle event cost, counted at the emulated endpoints."""

    cloudtrail: dict[str, int]
    s3: dict[str, int]
    lambda_invokes: int
    response_puts: int
    invocations: int

    @property
    def cloudtrail_total(self) -> int:
        return sum(self.cloudtrail.values())

    @property
    def s3_total(self) -> int:
        return sum(self.s3.values())


@dataclass(frozen=True)
class Mark:
    cloudtrail: int
    s3: int
    lambda_invokes: int
    puts: int


class Scenario:
    """One emulated account: a clock, CloudTrail Lake, Lambda, and CloudFormation's harness."""

    def __init__(self, aws: EmulatedAws, *, files_per_second: float, bucket: str) -> None:
        self.aws = aws
        self.clock = EmulatedClock()
        self.lake = CloudTrailLake(
            self.clock, aws.emulator_s3_client, region=REGION, files_per_second=files_per_second
        )
        self.lambda_endpoint = LambdaEndpoint()
        self._stack = ExitStack()
        lake_server = self._stack.enter_context(LocalHttpServer(self.lake))
        lambda_server = self._stack.enter_context(LocalHttpServer(self.lambda_endpoint))
        os.environ["AWS_ENDPOINT_URL_CLOUDTRAIL"] = lake_server.url
        os.environ["AWS_ENDPOINT_URL_LAMBDA"] = lambda_server.url
        botocore.endpoint.time = SleepRouter(self.clock)  # type: ignore[attr-defined]
        aws.handler_clock_module.CLOCK = self.clock
        aws.current_clock = self.clock
        responses = f"cfn-responses-{uuid.uuid4().hex[:12]}"
        aws.s3.create_bucket(Bucket=responses)
        self.cfn = CloudFormation(
            s3=aws.server,
            lambda_endpoint=self.lambda_endpoint,
            clock=self.clock,
            handler=aws.handler,
            response_bucket=responses,
            function_timeout=FUNCTION_TIMEOUT_SECONDS,
        )
        self.bucket = bucket
        self.store: EventDataStore = self.lake.add_event_data_store(
            "trail-archive", account=ACCOUNT
        )

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Scenario:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def properties(self, *, wait: bool, **extra: str) -> dict[str, Any]:
        """Properties as the construct sends them (every value a string)."""
        props: dict[str, Any] = {
            "Destinations": [self.store.arn],
            "ImportSource": {
                "S3": {
                    "S3LocationUri": f"s3://{self.bucket}/",
                    "S3BucketRegion": REGION,
                    "S3BucketAccessRoleArn": ROLE_ARN,
                }
            },
            "WaitForCompletion": "true" if wait else "false",
            "CompletionTimeoutSeconds": "3000",
            "StopOnDelete": "true",
        }
        props.update(extra)
        return props

    def mark(self) -> Mark:
        return Mark(
            len(self.lake.calls),
            len(self.aws.counter.requests),
            len(self.lambda_endpoint.history),
            len(self.aws.puts),
        )

    def counts_since(self, mark: Mark, event: Mapping[str, Any], invocations: int) -> Counts:
        cloudtrail: dict[str, int] = {}
        for call in self.lake.calls[mark.cloudtrail :]:
            cloudtrail[call.operation] = cloudtrail.get(call.operation, 0) + 1
        s3: dict[str, int] = {}
        for request in self.aws.counter.requests[mark.s3 :]:
            if request.by_handler:
                s3[request.operation] = s3.get(request.operation, 0) + 1
        key = self.cfn.response_key(event)
        puts = sum(1 for put in self.aws.puts[mark.puts :] if put.key == key)
        invokes: list[AsyncInvocation] = self.lambda_endpoint.history[mark.lambda_invokes :]
        return Counts(cloudtrail, s3, len(invokes), puts, invocations)

    def answer_times(self, event: Mapping[str, Any]) -> list[float]:
        """Emulated times at which S3 accepted an answer to ``event`` (2xx PUTs)."""
        key = self.cfn.response_key(event)
        return [
            at
            for put, at in zip(self.aws.puts, self.aws.puts.times, strict=True)
            if put.key == key and 200 <= put.status < 300
        ]

    def calls(self, operation: str) -> list[CallRecord]:
        return [c for c in self.lake.calls if c.operation == operation]


class EmulatedAws:
    """The process-wide part: S3 over TLS, the environment, the handler module."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._saved_env = dict(os.environ)
        self._saved_time = botocore.endpoint.time  # type: ignore[attr-defined]
        workdir = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.server = self._stack.enter_context(MotoS3Tls(workdir))
        self.counter = _CountingS3(self.server.recorder._app)
        self.server.recorder._app = self.counter
        self.current_clock: EmulatedClock | None = None
        self.puts = _TimedPuts(self._now)
        self.server.recorder.puts = self.puts
        self._set_env(workdir)
        self.s3: S3Client = self.server.client()
        self.handler_clock_module, self.handler = _load_handler()
        self._saved_clock = self.handler_clock_module.CLOCK
        self._default_archive: tuple[str, TrailArchive] | None = None

    def _now(self) -> float:
        return self.current_clock.now() if self.current_clock else 0.0

    def _set_env(self, workdir: Path) -> None:
        for name in (
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL",
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
            "AWS_SAM_LOCAL",
        ):
            os.environ.pop(name, None)
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
                "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_CONFIG_FILE": str(workdir / "no-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "no-credentials"),
                "AWS_CA_BUNDLE": str(self.server.ca_bundle),
                "AWS_ENDPOINT_URL_S3": self.server.url,
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )

    def emulator_s3_client(self) -> S3Client:
        return self.server.client()

    def default_archive_bucket(self) -> tuple[str, TrailArchive]:
        """A bucket holding the e2e suite's default archive, uploaded once (read-only)."""
        if self._default_archive is None:
            archive = generate_archive()
            self._default_archive = (self.bucket_with(archive), archive)
        return self._default_archive

    def bucket_with(self, archive: TrailArchive) -> str:
        """A new bucket (ACLs disabled, as StartImport requires) holding ``archive``."""
        name = self.new_bucket()
        archive.upload(self.s3, name)
        return name

    def new_bucket(self) -> str:
        name = f"trail-archive-{uuid.uuid4().hex[:12]}"
        self.s3.create_bucket(Bucket=name)
        self.s3.put_bucket_ownership_controls(
            Bucket=name,
            OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        )
        return name

    def scenario(self, *, files_per_second: float, bucket: str) -> Scenario:
        return Scenario(self, files_per_second=files_per_second, bucket=bucket)

    def close(self) -> None:
        try:
            self._stack.close()
        finally:
            botocore.endpoint.time = self._saved_time  # type: ignore[attr-defined]
            self.handler_clock_module.CLOCK = self._saved_clock
            os.environ.clear()
            os.environ.update(self._saved_env)

    def __enter__(self) -> EmulatedAws:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _load_handler() -> tuple[Any, Callable[[dict[str, Any], Any], object]]:
    """``import_handler.clock`` and ``index.handler`` from ``lambda/start_import``."""
    handler_dir = str(ROOT / "lambda" / "start_import")
    if handler_dir not in sys.path:
        sys.path.insert(0, handler_dir)
    clock_module = importlib.import_module("import_handler.clock")
    index = importlib.import_module("index")
    handler: Callable[[dict[str, Any], Any], object] = index.handler
    return clock_module, handler
