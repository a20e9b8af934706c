"""Ctrl-C: one line on stderr and exit 130, at any moment, never a traceback.

Standard library only, installed before anything else is imported. The first SIGINT raises
``Interrupted`` in the main thread: not a ``KeyboardInterrupt``, which click turns into a blank
line and an ``Abort``, and which ``except Exception`` would not stop either. Context managers
still run (progress bars and live views give the terminal back), then the process ends with
``os._exit``: worker threads in the middle of an S3 request would otherwise hold it open until
their timeouts. A second Ctrl-C ends the process at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from types import FrameType
from typing import NoReturn

EXIT_INTERRUPTED = 128 + signal.SIGINT
MESSAGE = b"cloudtrail-lake-import: interrupted\n"
_said = False


class Interrupted(BaseException):
    """The user pressed Ctrl-C (SIGINT)."""


def install() -> None:
    signal.signal(signal.SIGINT, _first)


def _first(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGINT, _again)
    raise Interrupted


def _again(signum: int, frame: FrameType | None) -> None:
    leave()


def leave() -> NoReturn:
    """Flush what was printed, say ``interrupted`` once, and end the process."""
    global _said
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    if not _said:
        _said = True
        with contextlib.suppress(OSError, ValueError):
            os.write(sys.stderr.fileno(), MESSAGE)
    os._exit(EXIT_INTERRUPTED)
