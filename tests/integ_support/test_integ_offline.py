"""The integration tests' pieces that need no account: the trail archive they seed their
buckets with (the same bytes on every synth, in a trail's layout, with the events the assertions
count), the placeholders of snapshot mode, and their committed templates under cfn-lint."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import support  # integ/support.py (on pytest's pythonpath)

INTEG = Path(support.__file__).resolve().parent


@pytest.fixture
def seed_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(support, "SEED_ROOT", tmp_path)
    return tmp_path


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*.json.gz")}


def test_the_archive_is_the_same_bytes_on_every_synth(seed_root: Path) -> None:
    first = _files(
        support.trail_archive("a", of_account="123456789012", in_region="eu-west-1").folder
    )
    again = _files(
        support.trail_archive("a", of_account="123456789012", in_region="eu-west-1").folder
    )

    assert first == again
    assert len(first) == support.SEED_FILES


def test_the_files_lie_under_the_prefix_in_a_trails_layout_and_hold_the_counted_events(
    seed_root: Path,
) -> None:
    seed = support.trail_archive("b", of_account="123456789012", in_region="eu-west-1")
    files = _files(seed.folder)
    events = [
        record for body in files.values() for record in json.loads(gzip.decompress(body))["Records"]
    ]

    assert seed.prefix == "AWSLogs/123456789012/CloudTrail/"
    assert all(
        key.startswith(f"{seed.prefix}eu-west-1/2025/06/01/123456789012_CloudTrail_eu-west-1_")
        for key in files
    )
    assert len(events) == seed.events == support.SEEDED_EVENTS
    assert len({e["eventID"] for e in events}) == seed.events


def test_one_day_each_puts_the_files_on_consecutive_days(seed_root: Path) -> None:
    seed = support.trail_archive(
        "c", of_account="123456789012", in_region="eu-west-1", one_day_each=True
    )

    days = sorted({key.split("/")[4:7][2] for key in _files(seed.folder)})

    assert days == ["01", "02", "03"]


def test_snapshot_mode_uses_placeholders_whatever_the_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "999999999999")
    monkeypatch.setenv("CDK_INTEG_SNAPSHOT", "1")

    assert support.account() == support.PLACEHOLDER_ACCOUNT
    monkeypatch.delenv("CDK_INTEG_SNAPSHOT")
    assert support.account() == "999999999999"
    monkeypatch.setenv("CDK_INTEG_ACCOUNT", "12345678")  # integ-runner's placeholder
    assert support.account() == "999999999999"


def test_cfn_lint_accepts_the_integration_tests_templates() -> None:
    templates = sorted(str(p) for p in INTEG.glob("*.snapshot/*.template.json"))
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent))
    assert cfn_lint is not None

    result = subprocess.run(
        [cfn_lint, *templates], capture_output=True, text=True, check=False, cwd=INTEG.parent
    )

    assert len(templates) == 10
    assert result.returncode == 0, result.stdout + result.stderr
