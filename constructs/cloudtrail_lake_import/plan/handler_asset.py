"""The import plan handler's Lambda asset: ``lambda/start_plan`` plus the import handler's
CloudTrail layer it reuses (``import_handler``), copied at synth time (no Docker, no network)."""

from __future__ import annotations

from pathlib import Path

import jsii
from aws_cdk import ILocalBundling
from aws_cdk import aws_lambda as lambda_

from cloudtrail_lake_import.single_import.handler_asset import (
    copy_sources,
    handler_source_dir,
    installed_dir,
    locally_bundled,
)

_PLAN_HANDLER_PACKAGE = "cloudtrail_lake_import._plan_handler"


def plan_handler_source_dir() -> Path:
    """The plan handler folder: ``lambda/start_plan`` in a checkout, shipped inside the wheel."""
    return installed_dir(_PLAN_HANDLER_PACKAGE, "the plan handler")


@jsii.implements(ILocalBundling)
class _CopyPlanHandler:
    # jsii passes the BundlingOptions positionally, its Python typing declares them keywords.
    def try_bundle(self, output_dir: str, *_options: object, **_kw_options: object) -> bool:
        out = Path(output_dir)
        copy_sources(plan_handler_source_dir(), out)
        copy_sources(handler_source_dir() / "import_handler", out / "import_handler")
        return True


def plan_handler_code() -> lambda_.Code:
    """Lambda code of the plan handler (a change of the reused import_handler is a new asset)."""
    return locally_bundled(plan_handler_source_dir(), _CopyPlanHandler())
