"""Ctrl-C (a real SIGINT to the installed console script) prints one line, never a traceback,
whether the command waits on S3, on CloudTrail or between refreshes."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import boto3
import pytest

from tests.cli.test_console_script import SCRIPT
from tests.e2e.harness import REGION
from tests.e2e.s3_tls import MotoS3Tls
from tests.e2e.world import ROLE_ARN, EmulatedAccount, make_bucket
from tests.lake_emulator.trail_archive import generate_archive

#: Bound of every wait (the process starting under load, its answer to the signal).
PATIENCE_SECONDS = 60.0
INTERRUPTED = "cloudtrail-lake-import: interrupted\n"


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class SilentServer:
    """A TCP endpoint that accepts connections and never answers: a request in flight."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def silent_s3() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def start(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(SCRIPT), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def interrupt(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGINT)
    try:
        stdout, stderr = process.communicate(timeout=PATIENCE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError("the command went on after Ctrl-C") from None
    return stdout, stderr


def test_ctrl_c_while_s3_has_not_answered_prints_one_line(
    account: EmulatedAccount, silent_s3: SilentServer
) -> None:
    env = {**os.environ, "AWS_ENDPOINT_URL_S3": silent_s3.url}
    process = start("estimate", "s3://trail-archive/AWSLogs/", "--json", env=env)
    wait_for(lambda: bool(silent_s3.accepted), "the estimate's first S3 request")
    stdout, stderr = interrupt(process)
    assert (process.returncode, stdout, stderr) == (130, "", INTERRUPTED)


def test_ctrl_c_between_refreshes_of_a_watch_prints_one_line(
    account: EmulatedAccount, s3_server: MotoS3Tls
) -> None:
    s3 = s3_server.client()
    bucket = make_bucket(s3)
    generate_archive(seed=5, accounts=("111122223333",), regions=(REGION,)).upload(s3, bucket)
    store = account.lake.add_event_data_store("archive", account="111122223333")
    started = boto3.client("cloudtrail").start_import(
        Destinations=[store.arn],
        ImportSource={
            "S3": {
                "S3LocationUri": f"s3://{bucket}/",
                "S3BucketRegion": REGION,
                "S3BucketAccessRoleArn": ROLE_ARN,
            }
        },
    )
    process = start(
        "status",
        started["ImportId"],
        "--watch",
        "--json",
        "--interval",
        "3600",
        env=dict(os.environ),
    )
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        assert selector.select(timeout=PATIENCE_SECONDS), "no first refresh"
    first = process.stdout.readline()
    assert started["ImportId"] in first
    stdout, stderr = interrupt(process)
    assert (process.returncode, stdout, stderr) == (130, "", INTERRUPTED)


def test_ctrl_c_twice_still_prints_one_line(
    account: EmulatedAccount, silent_s3: SilentServer
) -> None:
    env = {**os.environ, "AWS_ENDPOINT_URL_S3": silent_s3.url}
    process = start("estimate", "s3://trail-archive/", env=env)
    wait_for(lambda: bool(silent_s3.accepted), "the estimate's first S3 request")
    process.send_signal(signal.SIGINT)
    stdout, stderr = interrupt(process)
    assert (process.returncode, stdout, stderr) == (130, "", INTERRUPTED)


def test_the_entry_point_loads_nothing_heavy_before_it_handles_ctrl_c() -> None:
    """What the console script imports before ``main`` installs the handler is the window in
    which Ctrl-C could still end in a traceback: keep it to the package's own small modules."""
    probe = (
        "import sys; from cloudtrail_lake_import.cli import main; "
        "print(sorted(m for m in ('click', 'boto3', 'botocore', 'rich', 'aws_cdk') "
        "if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert loaded.stdout == "[]\n"
