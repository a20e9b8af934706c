"""The emulated clock shared by the handler, the Lambda context and the CloudTrail emulator.

Time only moves when someone sleeps (the handler's poll loop, botocore's retry back-off routed
here by the harness) or when the harness advances it (the gap before an asynchronous invocation
runs). Nothing waits on the wall clock, so every scenario is fast and deterministic.

While the harness runs one Lambda invocation it arms a deadline: a sleep from that thread that
would cross it moves the clock to the deadline and raises :class:`LambdaTimeout`, which is a
``BaseException`` so that the handler's ``except Exception`` cannot swallow it — Lambda kills a
function at its timeout whatever the function's code does.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

#: 2025-01-20T00:00:00Z — a few days after the default archive's last day.
DEFAULT_START_EPOCH = 1_737_331_200.0


class LambdaTimeout(BaseException):
    """The emulated Lambda invocation ran past its timeout."""


@dataclass
class _Deadline:
    thread_id: int
    epoch: float


class EmulatedClock:
    """Epoch seconds that move only by :meth:`sleep` and :meth:`advance` (thread-safe)."""

    def __init__(self, start: float = DEFAULT_START_EPOCH) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._deadline: _Deadline | None = None
        self.slept: list[float] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Let time pass outside any invocation (never raises)."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        """``time.sleep`` for the handler: advances emulated time at once."""
        seconds = max(0.0, float(seconds))
        with self._lock:
            self.slept.append(seconds)
            deadline = self._deadline
            if (
                deadline is not None
                and deadline.thread_id == threading.get_ident()
                and self._now + seconds > deadline.epoch
            ):
                self._now = max(self._now, deadline.epoch)
                raise LambdaTimeout(f"sleep({seconds:.1f}) crosses the invocation deadline")
            self._now += seconds

    def arm_deadline(self, epoch: float) -> None:
        """Make sleeps of the calling thread past ``epoch`` raise :class:`LambdaTimeout`."""
        with self._lock:
            self._deadline = _Deadline(threading.get_ident(), epoch)

    def disarm_deadline(self) -> None:
        with self._lock:
            self._deadline = None


class SleepRouter:
    """Stands in for the ``time`` module inside botocore's endpoint: its retry back-off
    (``time.sleep``) advances the emulated clock instead of the wall clock."""

    def __init__(self, clock: EmulatedClock) -> None:
        self._clock = clock

    def sleep(self, seconds: float) -> None:
        self._clock.sleep(seconds)

    def __getattr__(self, name: str) -> object:
        import time

        return getattr(time, name)
