"""A thread pool that drops its queued work when the caller fails or is interrupted."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager


@contextmanager
def worker_pool(workers: int) -> Iterator[ThreadPoolExecutor]:
    """``ThreadPoolExecutor(workers)``; on an exception (or Ctrl-C) its queue is cancelled.

    ``with ThreadPoolExecutor()`` would run every queued request (thousands of ranged GETs)
    before an AccessDenied or a Ctrl-C reached the user; only those already running finish.
    """
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
