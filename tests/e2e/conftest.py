"""Fixtures of the offline end-to-end suite: S3 over TLS, CloudTrail Lake, Lambda, the clock.

Everything is built by ``world.py`` (which the benchmarks use too); the fixtures only decide
what lives for the session and what for one test. Per session: the S3 server and the default
archive's bucket. Per test: a fresh clock, CloudTrail Lake and Lambda endpoint, fresh buckets,
and an environment that points every AWS client of the process at them (no profile, fake keys,
the test CA bundle).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.e2e.harness import ACCOUNT, REGION, Handler
from tests.e2e.lambda_invoke import LambdaEndpoint
from tests.e2e.s3_tls import MotoS3Tls
from tests.e2e.world import (
    EmulatedAccount,
    World,
    bucket_holding,
    emulated_account,
    load_handler,
    patched,
    serve_s3,
)
from tests.lake_emulator.clock import EmulatedClock
from tests.lake_emulator.server import CloudTrailLake
from tests.lake_emulator.trail_archive import TrailArchive, generate_archive


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3Tls]:
    with serve_s3(tmp_path_factory.mktemp("e2e-tls")) as server:
        yield server


@pytest.fixture(scope="session")
def archive() -> TrailArchive:
    """Two accounts, two regions, three days, with digest files (about 50 objects)."""
    return generate_archive()


@pytest.fixture(scope="session")
def small_archive() -> TrailArchive:
    """One account and region over two days: for tests that change objects."""
    return generate_archive(
        seed=11,
        accounts=(ACCOUNT,),
        regions=(REGION,),
        days=(date(2025, 1, 10), date(2025, 1, 11)),
        files_per_day=(2, 2),
    )


@pytest.fixture(scope="session")
def archive_bucket(s3_server: MotoS3Tls, archive: TrailArchive) -> str:
    """The archive, uploaded once; read-only (tests that change objects use their own bucket)."""
    return bucket_holding(s3_server.client(), archive)


@pytest.fixture
def account(s3_server: MotoS3Tls, tmp_path: Path) -> Iterator[EmulatedAccount]:
    """The test's clock and endpoints, with the environment pointing at them."""
    with emulated_account(s3_server, tmp_path) as emulated:
        yield emulated


@pytest.fixture
def clock(account: EmulatedAccount) -> EmulatedClock:
    return account.clock


@pytest.fixture
def lake(account: EmulatedAccount) -> tuple[CloudTrailLake, str]:
    return account.lake, account.lake_url


@pytest.fixture
def lambda_endpoint(account: EmulatedAccount) -> tuple[LambdaEndpoint, str]:
    return account.lambda_endpoint, account.lambda_url


@pytest.fixture
def handler(account: EmulatedAccount) -> Iterator[Handler]:
    """``index.handler``, imported with the test environment in place, on the test's clock."""
    try:
        entry, handler_clock = load_handler()
    except ImportError as error:  # the handler is not there yet
        pytest.skip(f"lambda/start_import/index.py cannot be imported: {error}")
    with patched(handler_clock, "CLOCK", account.clock):
        yield entry


@pytest.fixture
def world(
    s3_server: MotoS3Tls,
    account: EmulatedAccount,
    handler: Handler,
    archive: TrailArchive,
    archive_bucket: str,
) -> World:
    return World.build(s3_server, account, handler, bucket=archive_bucket, archive=archive)


@pytest.fixture(autouse=True)
def _no_leftover_threads() -> Iterator[None]:
    before = {t.ident for t in threading.enumerate()}
    yield
    for thread in threading.enumerate():
        if thread.ident not in before and not thread.daemon:
            thread.join(timeout=2)
    extra = [
        t
        for t in threading.enumerate()
        if t.ident not in before
        and t.is_alive()
        and not t.daemon
        and not (isinstance(t, threading.Timer) and t.finished.is_set())
    ]
    assert not extra, f"threads left running: {extra}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The chaos matrix's size and outcome, when it ran (``tests/e2e/test_chaos.py``)."""
    chaos = sys.modules.get("tests.e2e.test_chaos")
    lines = chaos.summary_lines() if chaos is not None else []
    if lines:
        terminalreporter.section("chaos matrix")
        for line in lines:
            terminalreporter.write_line(line)
