"""AWS CDK construct that copies archived CloudTrail trail logs from S3 into CloudTrail Lake."""

from cloudtrail_lake_import.lake_import import CloudTrailLakeImport

__all__ = ["CloudTrailLakeImport"]
