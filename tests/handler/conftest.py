"""Fixtures for the handler tests: region env, a fake clock and Lambda context, stubbed clients
validated against the botocore model, and a response-capturing sender."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

import import_handler.aws
import import_handler.clock
import import_handler.sender
import index
from import_handler import continuation, waiting

from .helpers import (
    BUCKET,
    FUNCTION_ARN,
    IMPORT_ID,
    REGION,
    STORE_ARN,
    URI,
    import_response,
    listed_import,
    start_params,
)

START_EPOCH = 1_717_200_000.0
# Stubber's own errors are BotoCoreErrors: a best-effort call (which logs and goes on) must not
# hide an unexpected or mismatched request, so the stubs fixture fails a test that logged one.
STUB_ERRORS = ("StubResponseError", "StubAssertionError", "UnStubbedResponseError")


class FakeClock:
    """Time that only moves when the handler sleeps (or a test advances it)."""

    def __init__(self, start: float = START_EPOCH) -> None:
        self.time = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += max(0.0, seconds)


@dataclass
class FakeContext:
    """A Lambda context whose remaining time follows the fake clock."""

    clock: FakeClock
    timeout_seconds: float = 900.0
    invoked_function_arn: str = FUNCTION_ARN
    function_name: str = "ImportHandler"
    aws_request_id: str = "00000000-aaaa-4bbb-8ccc-dddddddddddd"
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.clock.now()

    def get_remaining_time_in_millis(self) -> int:
        return int(max(0.0, self.started + self.timeout_seconds - self.clock.now()) * 1000)


@dataclass
class Stubs:
    cloudtrail: Stubber
    s3: Stubber
    lambda_: Stubber
    clients: dict[str, Any]
    organizations: Stubber
    # A listing of the store was queued since the last ``preflight``: it is the look-up.
    looked_up: bool = False

    def all(self) -> list[Stubber]:
        return [self.cloudtrail, self.s3, self.lambda_, self.organizations]

    # Shorthands for the common calls -------------------------------------------------------
    def preflight(
        self,
        status: str = "ENABLED",
        ownership: str = "BucketOwnerEnforced",
        *,
        files: bool | None = True,
    ) -> None:
        """The look-up of the store's imports (an empty store, unless a listing was queued
        already) and the checks before StartImport; ``files``: whether the prefix lists a
        file (None: the caller queues the listing itself)."""
        if not self.looked_up:
            self.store_imports()
        self.looked_up = False
        self.cloudtrail.add_response(
            "get_event_data_store",
            {
                "EventDataStoreArn": STORE_ARN,
                "Name": "trail-archive-store",
                "Status": status,
                "AdvancedEventSelectors": [
                    {
                        "Name": "Management events",
                        "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
                    }
                ],
            },
            {"EventDataStore": STORE_ARN},
        )
        self.s3.add_response(
            "get_bucket_ownership_controls",
            {"OwnershipControls": {"Rules": [{"ObjectOwnership": ownership}]}},
            {"Bucket": BUCKET},
        )
        ready = ownership == "BucketOwnerEnforced" and status in ("ENABLED", "STOPPED_INGESTION")
        if ready and files is not None:
            # The preflight lists only when nothing else stops it.
            archive = ("AWSLogs/123456789012/CloudTrail/2023/01/01/file.json.gz",)
            self.source_files(*(archive if files else ()))

    def look_up_once(self) -> None:
        """The look-up of an empty store, unless a listing is queued already."""
        if not self.looked_up:
            self.store_imports()

    def source_files(self, *keys: str, prefix: Any = ANY) -> None:
        """The preflight's listing of one key under the prefix: ``keys`` (none: an empty prefix).

        ``prefix`` pins the prefix the listing must ask for; by default any (an Update may move
        the import to another prefix)."""
        contents = [{"Key": key} for key in keys]
        self.s3.add_response(
            "list_objects_v2",
            {"Contents": contents, "KeyCount": len(contents)} if contents else {"KeyCount": 0},
            {"Bucket": BUCKET, "Prefix": prefix, "MaxKeys": 1},
        )

    def get_import(
        self, import_id: str = IMPORT_ID, status: str = "IN_PROGRESS", **kw: Any
    ) -> None:
        self.cloudtrail.add_response(
            "get_import", import_response(import_id, status, **kw), {"ImportId": import_id}
        )

    def start_import(
        self, import_id: str = IMPORT_ID, status: str = "INITIALIZING", *, uri: str = URI, **kw: Any
    ) -> None:
        """StartImport of the properties' window, from ``uri``; ``kw`` as ``import_response``'s."""
        self.cloudtrail.add_response(
            "start_import", import_response(import_id, status, uri=uri, **kw), start_params(uri=uri)
        )

    def retry_import(
        self, import_id: str = IMPORT_ID, status: str = "INITIALIZING", **kw: Any
    ) -> None:
        """StartImport(ImportId=...): CloudTrail resumes that import."""
        self.cloudtrail.add_response(
            "start_import", import_response(import_id, status, **kw), {"ImportId": import_id}
        )

    def stop_import(self, import_id: str = IMPORT_ID, status: str = "STOPPED", **kw: Any) -> None:
        self.cloudtrail.add_response(
            "stop_import", import_response(import_id, status, **kw), {"ImportId": import_id}
        )

    def account_busy(self, params: dict[str, Any] | None = None) -> None:
        """StartImport (``params``, by default the properties' import) refused: one at a time."""
        self.error(
            self.cloudtrail,
            "start_import",
            "AccountHasOngoingImportException",
            start_params() if params is None else params,
        )

    def running_imports(self, status: str, *listed: dict[str, Any]) -> None:
        """ListImports of one running status, as the busy-account check asks it."""
        self.cloudtrail.add_response(
            "list_imports", {"Imports": list(listed)}, {"ImportStatus": status, "MaxResults": 10}
        )

    def hand_over(self, event: dict[str, Any], state: continuation.State) -> None:
        """The asynchronous Invoke of this function with ``event`` and the continuation state."""
        self.lambda_.add_response(
            "invoke",
            {"StatusCode": 202},
            {
                "FunctionName": FUNCTION_ARN,
                "InvocationType": "Event",
                "Payload": waiting.payload(event, state),
            },
        )

    def store_imports(self, *listed: dict[str, Any], token: str | None = None) -> None:
        """ListImports of the destination store, as the look-up before any start asks it
        (``token``: the NextToken of this page's request)."""
        params: dict[str, Any] = {"Destination": STORE_ARN, "MaxResults": 1000}
        if token is not None:
            params["NextToken"] = token
        self.cloudtrail.add_response("list_imports", {"Imports": list(listed)}, params)
        self.looked_up = True

    def no_earlier_import(self, current: str = IMPORT_ID) -> None:
        """The store lists only the import being replaced: nothing to go back to."""
        self.store_imports(listed_import(current))

    def error(
        self,
        stubber: Stubber,
        method: str,
        code: str,
        params: Any,
        status: int = 400,
        message: str = "",
    ) -> None:
        stubber.add_client_error(
            method,
            service_error_code=code,
            service_message=message or f"{code} message from AWS",
            http_status_code=status,
            expected_params=params,
        )


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AWS_CA_BUNDLE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_CLOUDTRAIL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ENDPOINT_URL_LAMBDA",
        "AWS_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(import_handler.clock, "CLOCK", fake)
    return fake


@pytest.fixture
def context(clock: FakeClock) -> FakeContext:
    return FakeContext(clock)


@pytest.fixture
def responses(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every response body the handler sends to CloudFormation."""
    sent: list[dict[str, Any]] = []

    def capture(
        url: str, body: dict[str, Any], ca_bundle: str | None, budget: float | None = None
    ) -> bool:
        sent.append({"url": url, "ca_bundle": ca_bundle, **body})
        return True

    monkeypatch.setattr(import_handler.sender, "send", capture)
    return sent


@pytest.fixture(scope="session")
def real_clients() -> dict[str, Any]:
    """Built once (building clients is slow); each test gets fresh Stubbers on them."""
    session = boto3.session.Session(
        region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    config = import_handler.aws.config_for(900.0)
    return {
        service: session.client(service, config=config)
        for service in ("cloudtrail", "s3", "lambda", "organizations")
    }


@pytest.fixture
def stubs(
    monkeypatch: pytest.MonkeyPatch,
    real_clients: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> Iterator[Stubs]:
    clients = real_clients
    stubbers = Stubs(
        Stubber(clients["cloudtrail"]),
        Stubber(clients["s3"]),
        Stubber(clients["lambda"]),
        clients,
        Stubber(clients["organizations"]),
    )

    def new_client(service: str, region: str | None, config: Any) -> Any:
        return clients[service]

    monkeypatch.setattr(import_handler.aws, "new_client", new_client)
    for stubber in stubbers.all():
        stubber.activate()
    yield stubbers
    for stubber in stubbers.all():
        stubber.deactivate()
    hidden = [
        r.getMessage()
        for r in caplog.get_records("call")
        if any(name in r.getMessage() for name in STUB_ERRORS)
    ]
    assert not hidden, f"a stub error was logged and swallowed: {hidden}"
    for stubber in stubbers.all():
        stubber.assert_no_pending_responses()


@pytest.fixture
def run(responses: list[dict[str, Any]], context: FakeContext) -> Any:
    """Invoke the Lambda entry point and return the one response it sent (or None)."""

    def invoke(event: dict[str, Any], ctx: FakeContext | None = None) -> dict[str, Any] | None:
        before = len(responses)
        index.handler(event, ctx or context)
        sent = responses[before:]
        assert len(sent) <= 1, f"answered CloudFormation {len(sent)} times"
        return sent[0] if sent else None

    return invoke
