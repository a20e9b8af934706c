"""Fixtures of the command line's tests: moto S3 over TLS and the CloudTrail Lake emulator.

The environment of each test points every AWS client of the process (and of subprocesses that
inherit it) at them, as a user's ``AWS_ENDPOINT_URL_S3``/``AWS_ENDPOINT_URL_CLOUDTRAIL`` would.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.e2e.s3_tls import MotoS3Tls
from tests.e2e.world import EmulatedAccount, emulated_account, serve_s3


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3Tls]:
    with serve_s3(tmp_path_factory.mktemp("cli-tls")) as server:
        yield server


@pytest.fixture
def account(s3_server: MotoS3Tls, tmp_path: Path) -> Iterator[EmulatedAccount]:
    with emulated_account(s3_server, tmp_path) as emulated:
        yield emulated


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def environment(account: EmulatedAccount) -> dict[str, str]:
    """The process environment pointing at the emulators (for subprocesses)."""
    return dict(os.environ)
