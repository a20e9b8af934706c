"""AWS CDK construct that copies archived CloudTrail trail logs from S3 into CloudTrail Lake."""

from cloudtrail_lake_import.lake_import import CloudTrailLakeImport
from cloudtrail_lake_import.validation import CloudTrailLakeImportPropsError

__all__ = ["CloudTrailLakeImport", "CloudTrailLakeImportPropsError"]
