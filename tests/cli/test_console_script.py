"""The installed ``cloudtrail-lake-import`` console script, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.archives import figures, upload
from tests.e2e.harness import REGION
from tests.e2e.s3_tls import MotoS3Tls
from tests.e2e.world import EmulatedAccount
from tests.lake_emulator.trail_archive import generate_archive

SCRIPT = Path(sys.executable).parent / "cloudtrail-lake-import"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The script with the test's environment (endpoints of the emulators, fake keys)."""
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
        check=False,
    )


def test_the_script_is_installed_with_the_package() -> None:
    result = run("--help")
    assert result.returncode == 0, result.stderr
    assert "estimate" in result.stdout
    assert "status" in result.stdout


def test_estimate_prints_exact_json_from_the_s3_endpoint_variable(
    account: EmulatedAccount, s3_server: MotoS3Tls
) -> None:
    archive = generate_archive(seed=9, regions=(REGION,))
    bucket = upload(s3_server.client(), archive)
    result = run("estimate", f"s3://{bucket}/AWSLogs/", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    expected = figures(archive.log_files)
    assert (document["files"], document["uncompressed_bytes"]) == (
        expected.files,
        expected.uncompressed_bytes,
    )
    assert document["uncompressed_exact"] is True


def test_status_of_an_unknown_import_exits_1_without_a_traceback(
    account: EmulatedAccount,
) -> None:
    result = run("status", "00000000-0000-0000-0000-000000000000", "--json")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "cloudtrail-lake-import: error: import 00000000-0000-0000-0000-000000000000 not found "
        "in us-east-1 (ImportNotFoundException); an import lives in its event data store's "
        "region: cloudtrail-lake-import status 00000000-0000-0000-0000-000000000000 --region "
        "<that region>\n"
    )


@pytest.mark.parametrize(
    "args", [["estimate", "s3://UPPER"], ["status"], ["estimate"], ["nonsense"]]
)
def test_bad_input_exits_2(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("cloudtrail-lake-import: error: ")
    assert result.stderr.count("\n") == 1
