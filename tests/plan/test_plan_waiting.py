"""The plan handler's wait for its execution (``WaitForCompletion``), on a fake clock."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from import_handler import clock
from plan_handler import waiting

ARN = "arn:aws:states:eu-west-1:123456789012:execution:Plan:plan-abc"


class FakeClock:
    def __init__(self) -> None:
        self.epoch = 1_000.0

    def now(self) -> float:
        return self.epoch

    def sleep(self, seconds: float) -> None:
        self.epoch += seconds


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(clock, "CLOCK", fake)
    return fake


def test_a_plan_still_running_after_58_minutes_fails_the_wait_and_goes_on(
    fake_clock: FakeClock,
) -> None:
    state = waiting.begin(ARN, {"SegmentCount": 5}, fake_clock.epoch)
    polls: list[float] = []

    def describe(_arn: str) -> dict[str, Any]:
        polls.append(fake_clock.epoch)
        return {"status": "RUNNING"}

    with pytest.raises(waiting.ExecutionFailedError, match=r"^PlanStillRunning: .* 58 minutes"):
        waiting.wait(
            state,
            describe=describe,
            hand_over=lambda _s: pytest.fail("no hand-over with time left"),
            remaining=lambda: 10_000.0,
            poll_seconds=300,
        )
    assert polls[-1] - polls[0] >= 58 * 60
    assert all(b - a == waiting.MAX_POLL_SECONDS for a, b in itertools.pairwise(polls))


def test_a_timed_out_execution_is_named_with_its_status_error_and_cause(
    fake_clock: FakeClock,
) -> None:
    with pytest.raises(waiting.ExecutionFailedError) as failed:
        waiting.wait(
            waiting.begin(ARN, {}, fake_clock.epoch),
            describe=lambda _a: {"status": "TIMED_OUT", "error": "States.Timeout"},
            hand_over=lambda _s: None,
            remaining=lambda: 100.0,
            poll_seconds=5,
        )
    assert str(failed.value) == f"PlanExecutionTimedOut: execution {ARN}: States.Timeout: no cause"


def test_a_bad_continuation_is_refused_naming_what_it_must_hold() -> None:
    with pytest.raises(waiting.ExecutionFailedError, match="InvalidContinuation"):
        waiting.read({waiting.KEY: {"ExecutionArn": ARN}})
    assert waiting.read({}) is None


def test_a_continuation_carries_the_request_s_deadline_and_whether_it_started_the_execution() -> (
    None
):
    state = waiting.begin(ARN, {"SegmentCount": 2}, 1_000.0, started=True)
    event = {"RequestType": "Update", "ResponseURL": "https://example/response"}
    continued = waiting.read(json.loads(waiting.payload(event, state)))
    assert continued == state
    assert continued.deadline == 1_000.0 + 58 * 60
