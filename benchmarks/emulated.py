"""A thin adapter over the offline end-to-end emulator (``tests/e2e/``) for the benchmarks.

The world is built by ``tests/e2e/world.py``, exactly as the e2e suite's fixtures build it:
moto S3 over TLS (one per run), and per scenario a fresh emulated clock, an emulated CloudTrail
Lake, a recording Lambda endpoint, and the CloudFormation harness that drives ``index.handler``,
its continuations and its answer, with the process environment pointing every AWS client at them
(restored when the scenario ends).

Two things are added here, outside ``tests/e2e``:

* every S3 request is counted at the server (a WSGI middleware in front of moto), with its
  User-Agent, so that the handler's calls (its clients add ``cdk-cloudtrail-lake-import``) are
  told apart from the emulator's and the harness's;
* every PUT the S3 server records gets the emulated time at which it landed, so that an answer
  to CloudFormation can be dated on the same clock as the import's completion.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from tests.e2e.lambda_invoke import AsyncInvocation
from tests.e2e.s3_tls import ObservedPut
from tests.e2e.world import World, bucket_holding, emulated_world, serve_s3
from tests.lake_emulator.clock import EmulatedClock
from tests.lake_emulator.server import CallRecord
from tests.lake_emulator.trail_archive import TrailArchive, generate_archive

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

HANDLER_USER_AGENT = "cdk-cloudtrail-lake-import"
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
    """One emulated account (an e2e :class:`World`) and what the benchmarks count in it."""

    def __init__(self, aws: EmulatedAws, world: World) -> None:
        self.aws = aws
        self.world = world
        self.clock = world.clock
        self.lake = world.lake
        self.lambda_endpoint = world.lambda_endpoint
        self.cfn = world.cfn

    def properties(self, *, wait: bool, **extra: str) -> dict[str, Any]:
        """Properties as the construct sends them (every value a string)."""
        props = self.world.properties(
            wait=wait, CompletionTimeoutSeconds="3000", StopOnDelete="true"
        )
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
    """The run-wide part: S3 over TLS with its counters, and the archives' buckets."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._workdir = Path(
            self._stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-"))
        )
        self.server = self._stack.enter_context(serve_s3(self._workdir))
        self.counter = _CountingS3(self.server.recorder._app)
        self.server.recorder._app = self.counter
        self.current_clock: EmulatedClock | None = None
        self.puts = _TimedPuts(self._now)
        self.server.recorder.puts = self.puts
        self.s3: S3Client = self.server.client()
        self._archives: dict[str, TrailArchive] = {}
        self._default_archive: tuple[str, TrailArchive] | None = None

    def _now(self) -> float:
        return self.current_clock.now() if self.current_clock else 0.0

    def default_archive_bucket(self) -> tuple[str, TrailArchive]:
        """A bucket holding the e2e suite's default archive, uploaded once (read-only)."""
        if self._default_archive is None:
            archive = generate_archive()
            self._default_archive = (self.bucket_with(archive), archive)
        return self._default_archive

    def bucket_with(self, archive: TrailArchive) -> str:
        """A new bucket (ACLs disabled, as StartImport requires) holding ``archive``."""
        name = bucket_holding(self.s3, archive)
        self._archives[name] = archive
        return name

    @contextmanager
    def scenario(self, *, files_per_second: float, bucket: str) -> Iterator[Scenario]:
        """A fresh emulated account importing from ``bucket`` (made by :meth:`bucket_with`)."""
        with emulated_world(
            self.server,
            self._workdir,
            bucket=bucket,
            archive=self._archives[bucket],
            files_per_second=files_per_second,
            function_timeout=FUNCTION_TIMEOUT_SECONDS,
        ) as world:
            self.current_clock = world.clock
            try:
                yield Scenario(self, world)
            finally:
                self.current_clock = None

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> EmulatedAws:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
