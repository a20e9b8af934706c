"""A user app checked by cdk-nag 2 (Aspects) and by cdk-nag 3 (validation plugins).

Both from the built wheel, in processes of their own: the construct records each justified
exemption so that both versions read it (cdk-nag 2's ``cdk_nag`` resource metadata, cdk-nag 3's
acknowledgments) without depending on cdk-nag at run time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.construct.conftest import PIP

USER_APP = Path(__file__).parent / "user_apps" / "nag_versions.py"
CDK_NAG_2 = Path(__file__).parent / "requirements-cdk-nag2.txt"
# The user's own archive bucket (no server access logs): the finding that shows cdk-nag ran.
USER_BUCKET = ("AwsSolutions-S1", "Audit/TrailArchive/Resource")


@pytest.fixture(scope="module")
def cdk_nag_2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("cdk-nag-2")
    subprocess.run(
        [*PIP, "install", "--no-deps", "-q", "--target", str(target), "-r", str(CDK_NAG_2)],
        check=True,
    )
    return target


def synthesize(sites: list[Path], mode: str, workdir: Path) -> dict[str, Any]:
    """Run the user app outside the checkout with only ``sites`` in front of the venv."""
    app_file = workdir / "app.py"
    app_file.write_text(USER_APP.read_text())
    completed = subprocess.run(
        [sys.executable, str(app_file), str(workdir / "out"), mode],
        check=True,
        capture_output=True,
        text=True,
        cwd=workdir,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(map(str, sites))},
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def test_cdk_nag_2_aspects_find_nothing_the_construct_declares(
    installed_wheel: Path, cdk_nag_2: Path, tmp_path: Path
) -> None:
    # cdk-nag 2 first on the path, in front of the project's cdk-nag 3.
    result = synthesize([cdk_nag_2, installed_wheel], "aspects", tmp_path)
    assert Path(result["cdk_nag"]).is_relative_to(cdk_nag_2)
    assert Path(result["package"]).is_relative_to(installed_wheel)
    findings = [tuple(f) for f in result["findings"]]
    assert USER_BUCKET in findings
    assert [f for f in findings if f != USER_BUCKET] == []


def test_cdk_nag_3_validations_find_nothing_the_construct_declares(
    installed_wheel: Path, tmp_path: Path
) -> None:
    result = synthesize([installed_wheel], "validations", tmp_path)
    assert not Path(result["cdk_nag"]).is_relative_to(installed_wheel)
    assert Path(result["package"]).is_relative_to(installed_wheel)
    findings = [tuple(f) for f in result["findings"]]
    assert USER_BUCKET in findings
    assert [f for f in findings if f != USER_BUCKET] == []
