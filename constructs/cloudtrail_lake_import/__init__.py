"""AWS CDK construct that copies archived CloudTrail trail logs from S3 into CloudTrail Lake."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cloudtrail_lake_import._version import __version__ as __version__

if TYPE_CHECKING:
    from cloudtrail_lake_import.plan.import_plan import CloudTrailLakeImportPlan
    from cloudtrail_lake_import.plan.segments import ImportSpec, PlanSplit
    from cloudtrail_lake_import.policy.source_access import CloudTrailLakeImportSourceAccess
    from cloudtrail_lake_import.single_import.lake_import import CloudTrailLakeImport
    from cloudtrail_lake_import.validation import CloudTrailLakeImportPropsError

__all__ = [
    "CloudTrailLakeImport",
    "CloudTrailLakeImportPlan",
    "CloudTrailLakeImportPropsError",
    "CloudTrailLakeImportSourceAccess",
    "ImportSpec",
    "PlanSplit",
]

# Loaded on first use: the command line (cloudtrail_lake_import.cli) imports this package too,
# and importing aws_cdk starts jsii's Node.js process (seconds, and Node's warnings).
_LAZY = {
    "CloudTrailLakeImport": "cloudtrail_lake_import.single_import.lake_import",
    "CloudTrailLakeImportPropsError": "cloudtrail_lake_import.validation",
    "CloudTrailLakeImportPlan": "cloudtrail_lake_import.plan.import_plan",
    "ImportSpec": "cloudtrail_lake_import.plan.segments",
    "PlanSplit": "cloudtrail_lake_import.plan.segments",
    "CloudTrailLakeImportSourceAccess": "cloudtrail_lake_import.policy.source_access",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
