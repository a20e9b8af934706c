"""The plan from the built wheel, installed outside the checkout, as a user places it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

USER_APP = """
import json, sys
from datetime import datetime, timezone
import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
import cloudtrail_lake_import
from cloudtrail_lake_import import CloudTrailLakeImportPlan, ImportSpec

app = cdk.App(outdir=sys.argv[1])
stack = cdk.Stack(app, "UserPlanStack")
archive = s3.Bucket.from_bucket_name(stack, "Archive", "user-trail-archive")
utc = timezone.utc
CloudTrailLakeImportPlan(
    stack,
    "Plan",
    event_data_store="arn:aws:cloudtrail:eu-west-1:111122223333:eventdatastore/EXAMPLE-1234",
    imports=[ImportSpec(archive, "AWSLogs/", datetime(2022, 1, 1, tzinfo=utc),
                        datetime(2024, 1, 1, tzinfo=utc))],
    split_window_by=cdk.Duration.days(365),
)
app.synth()
print(json.dumps({"package": cloudtrail_lake_import.__file__}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("plan-wheel")
    pip = [sys.executable, "-m", "pip"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        cwd=out,
    )
    (wheel,) = out.glob("cdk_cloudtrail_lake_import-*.whl")
    target = out / "site"
    subprocess.run(
        [*pip, "install", "--no-deps", "-q", "--target", str(target), str(wheel)], check=True
    )
    return wheel, target


def test_the_wheel_ships_the_plan_handler(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert "cloudtrail_lake_import/_plan_handler/plan_index.py" in names
    assert "cloudtrail_lake_import/_plan_handler/plan_handler/lifecycle.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_an_installed_plan_synthesizes_with_its_handler_and_the_reused_cloudtrail_layer(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, target = installed
    app_file = tmp_path / "user_plan_app.py"
    app_file.write_text(USER_APP)
    out = tmp_path / "cdk.out"
    result = subprocess.run(
        [sys.executable, str(app_file), str(out)],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(target)},
    )
    package_file = json.loads(result.stdout.strip().splitlines()[-1])["package"]
    assert Path(package_file).is_relative_to(target)
    manifest = json.loads((out / "UserPlanStack.assets.json").read_text())
    (asset_path,) = [
        f["source"]["path"] for f in manifest["files"].values() if f["source"]["packaging"] == "zip"
    ]
    asset = out / asset_path
    assert (asset / "plan_index.py").is_file()
    assert (asset / "plan_handler" / "lifecycle.py").is_file()
    assert (asset / "import_handler" / "cloudtrail.py").is_file()
    assert not (asset / "crhelper").exists()
    assert not list(asset.rglob("__pycache__"))
    template = json.loads((out / "UserPlanStack.template.json").read_text())
    (plan,) = [
        r for r in template["Resources"].values() if r["Type"] == "Custom::CloudTrailLakeImportPlan"
    ]
    assert len(plan["Properties"]["Segments"]) == 2
