"""The handler's notion of time, replaceable by tests and by the e2e harness.

Everything that sleeps or looks at the time reads ``CLOCK`` from this module at call time, so
``monkeypatch.setattr(import_handler.clock, "CLOCK", fake)`` drives the whole handler.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Epoch seconds."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


CLOCK: Clock = SystemClock()


def now() -> float:
    return CLOCK.now()


def sleep(seconds: float) -> None:
    CLOCK.sleep(seconds)
