"""The harness itself: Lambda's timeout and async retries, and continuations run as recorded."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.e2e.harness import FUNCTION_ARN, CloudFormation
from tests.e2e.s3_tls import MotoS3Tls
from tests.e2e.world import EmulatedAccount, cloudformation
from tests.lake_emulator.clock import EmulatedClock, LambdaTimeout


@pytest.fixture
def cfn_factory(s3_server: MotoS3Tls, account: EmulatedAccount) -> Any:
    def make(handler: Any) -> CloudFormation:
        return cloudformation(s3_server, account, handler, function_timeout=30.0)

    return make


def test_a_sleep_past_the_timeout_is_killed_and_retried_twice(
    cfn_factory: Any, clock: EmulatedClock
) -> None:
    def sleepy(event: dict[str, Any], context: Any) -> None:
        try:
            clock.sleep(31)
        except Exception:  # the handler cannot swallow Lambda's timeout
            raise AssertionError("LambdaTimeout must not be an Exception") from None

    cfn = cfn_factory(sleepy)
    run = cfn.run(cfn.event("Create", {}))
    assert [i.outcome for i in run.invocations] == ["timeout"] * 3
    starts = [i.started for i in run.invocations]
    assert starts[1] - starts[0] == pytest.approx(30 + 60)
    assert starts[2] - starts[1] == pytest.approx(30 + 120)
    assert cfn.answers(run.event) == []
    with pytest.raises(AssertionError, match="exactly one answer"):
        cfn.response(run.event)
    assert issubclass(LambdaTimeout, BaseException)
    assert not issubclass(LambdaTimeout, Exception)


def test_async_self_invocations_run_with_the_recorded_payload(cfn_factory: Any) -> None:
    seen: list[dict[str, Any]] = []

    def chain(event: dict[str, Any], context: Any) -> None:
        seen.append(event)
        assert context.invoked_function_arn == FUNCTION_ARN
        assert 0 < context.get_remaining_time_in_millis() <= 30_000
        hops = int(event.get("Hops", 0))
        if hops < 3:
            boto3.client("lambda").invoke(
                FunctionName=context.invoked_function_arn,
                InvocationType="Event",
                Payload=json.dumps({**event, "Hops": hops + 1}).encode(),
            )

    cfn = cfn_factory(chain)
    run = cfn.run(cfn.event("Create", {"A": "b"}))
    assert [e.get("Hops") for e in seen] == [None, 1, 2, 3]
    assert all(e["ResourceProperties"] == {"ServiceToken": FUNCTION_ARN, "A": "b"} for e in seen)
    assert [i.continuation for i in run.invocations] == [False, True, True, True]
