"""The command-line guide's way to try ``status`` without AWS:
``python -m tests.lake_emulator --demo`` serves an archive and an import, and the variables it
prints point the installed command line at them."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_console_script import SCRIPT

ROOT = Path(__file__).resolve().parents[2]
DEMO = [sys.executable, "-m", "tests.lake_emulator", "--demo"]
PATIENCE_SECONDS = 90.0
READY = "# the demo is ready"


@contextlib.contextmanager
def running_demo(*, parent_ignores_ctrl_c: bool = False) -> Iterator[list[str]]:
    """The demo's instructions (its stdout up to READY); the demo stopped with Ctrl-C after."""
    process = subprocess.Popen(
        DEMO,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},  # SIGABRT dumps every thread's stack
        # As a job started with `&` from a script inherits it.
        preexec_fn=_ignore_ctrl_c if parent_ignores_ctrl_c else None,
    )
    assert process.stdout is not None
    output: queue.Queue[str] = queue.Queue()

    # A reader thread, not select(): readline() buffers lines that select() would not see.
    def read() -> None:
        for line in process.stdout or ():
            output.put(line)

    reader = threading.Thread(target=read)
    reader.start()
    lines: list[str] = []
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not lines or not lines[-1].startswith(READY):
        try:
            line = output.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            process.kill()
            pytest.fail(f"the demo did not get ready: {lines}, {process.communicate()}")
        lines.append(line.rstrip("\n"))
    yield lines
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=PATIENCE_SECONDS)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        process.wait(timeout=PATIENCE_SECONDS)
        reader.join(timeout=PATIENCE_SECONDS)
        dump = "".join(output.get() for _ in range(output.qsize()))
        pytest.fail(f"the demo did not stop on Ctrl-C; its threads then:\n{dump}")
    finally:
        process.kill()
        reader.join(timeout=PATIENCE_SECONDS)


def _ignore_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.fixture(scope="module")
def demo() -> Iterator[list[str]]:
    with running_demo() as lines:
        yield lines


def test_ctrl_c_stops_the_demo_even_when_its_parent_ignores_ctrl_c() -> None:
    with running_demo(parent_ignores_ctrl_c=True) as lines:
        assert lines[-1].startswith(READY)


def shell_environment(lines: list[str]) -> dict[str, str]:
    """What a POSIX shell has after the demo's ``export`` and ``unset`` lines."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    for line in lines:
        if line.startswith("export "):
            name, _, value = line[len("export ") :].partition("=")
            env[name] = value
        elif line.startswith("unset "):
            for name in line.split()[1:]:
                env.pop(name, None)
    return env


def command(lines: list[str], name: str) -> list[str]:
    (line,) = [line for line in lines if line.startswith(f"cloudtrail-lake-import {name} ")]
    return line.split()[1:]


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_the_command_line_guide_documents_the_demo() -> None:
    guide = (ROOT / "docs" / "guides" / "cli.md").read_text()
    assert "python -m tests.lake_emulator --demo" in guide


def test_status_runs_against_the_demo_with_the_variables_it_prints(demo: list[str]) -> None:
    env = shell_environment(demo)
    status = command(demo, "status")
    assert status[-3:] == ["--watch", "--interval", "2"]
    once = run(env, *status[:-3], "--json")
    assert once.returncode == 0, once.stderr
    document = json.loads(once.stdout)
    assert document["import_id"] == status[1]
    assert document["status"] in ("INITIALIZING", "IN_PROGRESS")  # it runs for minutes
    human = run(env, *status[:-3])
    assert human.returncode == 0, human.stderr
    assert f"Import {status[1]}" in human.stdout


def test_estimate_runs_against_the_demo_and_names_its_broken_files(demo: list[str]) -> None:
    result = run(shell_environment(demo), *command(demo, "estimate"), "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["files"] > 2
    assert len(document["problem_files"]) == 2
