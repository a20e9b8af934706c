"""A request or continuation Lambda gives up on lands in the dead-letter queue, as documented.

What is played here: Lambda's asynchronous retries and dead-letter queue, by the harness
(``harness.py``: two retries 60 s and 120 s apart, then the payload goes to the queue with
Lambda's ``RequestID``/``ErrorCode``/``ErrorMessage`` attributes). The queue is a real SQS queue
on moto's server; the payload is the one the real handler sent when it handed over; the import
runs in the Lake emulator. What is AWS's, that Lambda does this for the function as the
construct configures it (``MaximumRetryAttempts``, ``DeadLetterConfig``), is checked on the
template in ``tests/construct/test_hardening.py``; the retry count is tied to it below.

The lifecycle guide's "When a message lands in the dead-letter queue" is followed step by step: the
fields it names are in the message, and the commands it gives find (and stop) the import.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import boto3
import pytest

from cloudtrail_lake_import.single_import.handler import ASYNC_RETRY_ATTEMPTS
from tests.cdk_json import ROOT
from tests.e2e.harness import ASYNC_RETRY_DELAYS, REGION, DeadLetterQueue, Handler
from tests.e2e.s3_tls import FAKE_KEY_ID, FAKE_SECRET, MotoS3Tls
from tests.e2e.world import World

CONTINUATION = "CtLakeImportContinuation"
KILLED = "Runtime exited with error: signal: killed (Runtime.OutOfMemory)"


class RuntimeKilled(Exception):  # noqa: N818 - named after what Lambda reports
    """The runtime dies before the handler can do anything (out of memory, a broken deploy)."""


def readme_section() -> str:
    guide = (ROOT / "docs" / "guides" / "lifecycle.md").read_text()
    start = guide.index("## When a message lands in the dead-letter queue")
    end = guide.find("\n## ", start + 1)
    return guide[start : end if end != -1 else len(guide)]


def dead_letter_queue(s3_server: MotoS3Tls) -> DeadLetterQueue:
    """An encrypted queue with the construct's retention, on moto's server."""
    client = boto3.client(
        "sqs",
        endpoint_url=s3_server.url,
        region_name=REGION,
        aws_access_key_id=FAKE_KEY_ID,
        aws_secret_access_key=FAKE_SECRET,
        verify=str(s3_server.ca_bundle),
    )
    url = client.create_queue(
        QueueName=f"handler-dlq-{uuid.uuid4().hex[:8]}",
        Attributes={"KmsMasterKeyId": "alias/aws/sqs", "MessageRetentionPeriod": "345600"},
    )["QueueUrl"]
    return DeadLetterQueue(client, url)


def killed_when(handler: Handler, doomed: Callable[[dict[str, Any]], bool]) -> Handler:
    def run(event: dict[str, Any], context: Any) -> object:
        if doomed(event):
            raise RuntimeKilled(KILLED)
        return handler(event, context)

    return run


def messages(queue: DeadLetterQueue) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = queue.client.receive_message(
        QueueUrl=queue.url, MessageAttributeNames=["All"], MaxNumberOfMessages=10
    ).get("Messages", [])
    return received


def attribute(message: dict[str, Any], name: str) -> str:
    value: str = message["MessageAttributes"][name]["StringValue"]
    return value


@pytest.fixture
def queue(world: World, s3_server: MotoS3Tls) -> DeadLetterQueue:
    world.cfn.dead_letter_queue = dead_letter_queue(s3_server)
    return world.cfn.dead_letter_queue


def test_the_harness_retries_as_often_as_the_construct_tells_lambda_to() -> None:
    assert len(ASYNC_RETRY_DELAYS) == ASYNC_RETRY_ATTEMPTS


def test_a_continuation_that_exhausts_its_retries_lands_in_the_queue(
    world: World, queue: DeadLetterQueue
) -> None:
    # Short invocations and a slow import: the first invocation hands over to a continuation.
    world.cfn.function_timeout = 100.0
    world.lake.files_per_second = 0.05
    world.cfn.handler = killed_when(world.cfn.handler, lambda event: CONTINUATION in event)
    event = world.cfn.event("Create", world.properties(wait=True))

    run = world.cfn.run(event)

    first, *continuations = run.invocations
    assert first.outcome == "returned"
    assert not first.continuation
    assert len(continuations) == 1 + ASYNC_RETRY_ATTEMPTS
    assert all(c.continuation and "RuntimeKilled" in c.outcome for c in continuations)
    gaps = [b.started - a.ended for a, b in pairwise(continuations)]
    assert gaps == list(ASYNC_RETRY_DELAYS)
    assert world.cfn.answers(event) == [], "nobody answered: CloudFormation waits it out"

    (message,) = messages(queue)
    (handed_over,) = world.lambda_endpoint.history
    body = json.loads(message["Body"])
    assert body == handed_over.event()
    assert run.dead_lettered == [body]
    assert attribute(message, "ErrorCode") == "200"
    assert KILLED in attribute(message, "ErrorMessage")
    assert attribute(message, "RequestID") == continuations[-1].request_id

    # The guide's steps: the fields it names are there, and its commands find the import.
    section = readme_section()
    for name in ("ErrorCode", "ErrorMessage", "RequestID"):
        assert f"`{name}`" in section
    for name in ("RequestType", "LogicalResourceId", f"{CONTINUATION}.ImportId"):
        assert f"`{name}`" in section
        value: Any = body
        for part in name.split("."):
            value = value[part]
        assert value, name
    import_id = body[CONTINUATION]["ImportId"]
    assert "aws cloudtrail get-import --import-id" in section
    lake = world.cloudtrail()
    assert lake.get_import(ImportId=import_id)["ImportStatus"] in ("INITIALIZING", "IN_PROGRESS")
    assert "aws cloudtrail stop-import" in section
    assert lake.stop_import(ImportId=import_id)["ImportStatus"] == "STOPPED"


def test_a_request_from_cloudformation_that_exhausts_its_retries_lands_in_the_queue(
    world: World, queue: DeadLetterQueue
) -> None:
    world.cfn.handler = killed_when(world.cfn.handler, lambda _event: True)
    event = world.cfn.event("Create", world.properties())

    run = world.cfn.run(event)

    assert len(run.invocations) == 1 + ASYNC_RETRY_ATTEMPTS
    assert world.cfn.answers(event) == []
    assert list(world.lake.imports) == [], "the runtime died before any call"
    (message,) = messages(queue)
    body = json.loads(message["Body"])
    assert body == event
    assert CONTINUATION not in body
    # Without a continuation the guide points at ListImports on the store.
    assert re.search(r"aws cloudtrail list-imports --destination", readme_section())
    assert world.cloudtrail().list_imports(Destination=world.store.arn)["Imports"] == []


def test_without_a_queue_lambda_drops_the_event_and_nothing_else_changes(world: World) -> None:
    world.cfn.handler = killed_when(world.cfn.handler, lambda _event: True)
    event = world.cfn.event("Create", world.properties())
    run = world.cfn.run(event)
    assert len(run.invocations) == 1 + ASYNC_RETRY_ATTEMPTS
    assert run.dead_lettered == []
