"""The reusable-construct case: the built wheel, installed elsewhere, synthesizes on its own."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from tests.construct.conftest import ROOT, run_user_app

USER_APP = """
import json, sys
import aws_cdk as cdk
import cloudtrail_lake_import
from cloudtrail_lake_import import CloudTrailLakeImport

app = cdk.App(outdir=sys.argv[1])
stack = cdk.Stack(app, "UserStack")
CloudTrailLakeImport(stack, "Import", source_prefix="AWSLogs/")
app.synth()
print(json.dumps({"package": cloudtrail_lake_import.__file__}))
"""


def test_wheel_ships_the_handler_and_no_bytecode(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "cloudtrail_lake_import/_handler/index.py" in names
    assert "cloudtrail_lake_import/py.typed" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith(("tests/", "constructs/"))]


def test_the_wheel_ships_exactly_the_handler_of_the_checkout(wheel: Path) -> None:
    shipped = {
        n.removeprefix("cloudtrail_lake_import/_handler/")
        for n in zipfile.ZipFile(wheel).namelist()
        if n.startswith("cloudtrail_lake_import/_handler/")
    }
    handler = ROOT / "lambda" / "start_import"
    expected = {
        p.relative_to(handler).as_posix()
        for p in handler.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert shipped == expected


def test_installed_wheel_synthesizes_a_user_stack_with_its_own_handler(
    installed_wheel: Path, tmp_path: Path
) -> None:
    target = installed_wheel
    app_file = tmp_path / "user_app.py"
    app_file.write_text(USER_APP)
    out = tmp_path / "cdk.out"
    stdout = run_user_app(target, app_file, str(out), cwd=tmp_path)
    package_file = json.loads(stdout.strip().splitlines()[-1])["package"]
    assert Path(package_file).is_relative_to(target)
    manifest = json.loads((out / "UserStack.assets.json").read_text())
    (asset_path,) = [
        f["source"]["path"] for f in manifest["files"].values() if f["source"]["packaging"] == "zip"
    ]
    asset = out / asset_path
    assert (asset / "index.py").is_file()
    assert (asset / "import_handler").is_dir()
    assert (asset / "crhelper" / "resource_helper.py").is_file()
    assert (asset / "crhelper" / "LICENSE").is_file()
    assert not list(asset.rglob("__pycache__"))


def test_the_wheel_carries_the_one_version(wheel: Path) -> None:
    from cloudtrail_lake_import._version import __version__

    assert wheel.name.startswith(f"cdk_cloudtrail_lake_import-{__version__}-")
    (metadata,) = [
        n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".dist-info/METADATA")
    ]
    lines = zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
    assert f"Version: {__version__}" in lines
