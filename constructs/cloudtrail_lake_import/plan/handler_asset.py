"""The import plan handler's Lambda asset: ``lambda/start_plan`` plus the import handler's
CloudTrail layer it reuses (``import_handler``), copied at synth time (no Docker, no network)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from cloudtrail_lake_import.single_import.handler_asset import handler_source_dir

_PLAN_HANDLER_PACKAGE = "cloudtrail_lake_import._plan_handler"
_IGNORED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "*.pyo", "*.pyi", "py.typed", ".mypy_cache", ".ruff_cache"
)


def plan_handler_source_dir() -> Path:
    """The plan handler folder: ``lambda/start_plan`` in a checkout, shipped inside the wheel."""
    spec = importlib.util.find_spec(_PLAN_HANDLER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"the plan handler ({_PLAN_HANDLER_PACKAGE}) is not installed with "
            "cdk-cloudtrail-lake-import; reinstall the package"
        )
    return Path(next(iter(spec.submodule_search_locations)))


@jsii.implements(ILocalBundling)
class _CopyPlanHandler:
    # jsii passes the BundlingOptions positionally, its Python typing declares them keywords.
    def try_bundle(self, output_dir: str, *_options: object, **_kw_options: object) -> bool:
        out = Path(output_dir)
        shutil.copytree(plan_handler_source_dir(), out, dirs_exist_ok=True, ignore=_IGNORED)
        shutil.copytree(
            handler_source_dir() / "import_handler",
            out / "import_handler",
            dirs_exist_ok=True,
            ignore=_IGNORED,
        )
        return True


def plan_handler_code() -> lambda_.Code:
    """Lambda code of the plan handler; local bundling always succeeds, Docker is never used."""
    return lambda_.Code.from_asset(
        str(plan_handler_source_dir()),
        exclude=["__pycache__", "*.pyc"],
        # Hash what ships, so a change of the reused import_handler is a new asset too.
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            image=DockerImage.from_registry("local-bundling-only"),
            local=_CopyPlanHandler(),
        ),
    )
