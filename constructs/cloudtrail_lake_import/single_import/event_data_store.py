"""The import-only event data store the construct creates when none is given."""

from __future__ import annotations

from aws_cdk import Annotations, Duration, RemovalPolicy
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from cloudtrail_lake_import.policy.access_role import CLOUDTRAIL_PRINCIPAL
from constructs import Construct


class ImportEventDataStore(Construct):
    """A multi-region event data store that only receives imports (ingestion off), with
    termination protection on unless told otherwise, retained when the stack is deleted.

    :ivar store: the ``CfnEventDataStore`` (the ``Default`` child, so its logical id is this
        construct's).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        retention: Duration,
        termination_protection: bool | None,
        encryption_key: kms.IKey | None,
        billing_mode: str | None,
        organization_enabled: bool | None,
    ) -> None:
        super().__init__(scope, id)
        self.store = cloudtrail.CfnEventDataStore(
            self,
            "Default",
            ingestion_enabled=False,
            retention_period=retention.to_days(),
            termination_protection_enabled=(
                True if termination_protection is None else termination_protection
            ),
            kms_key_id=encryption_key.key_arn if encryption_key else None,
            billing_mode=billing_mode,
            multi_region_enabled=True,
            organization_enabled=organization_enabled or None,
        )
        self.store.apply_removal_policy(RemovalPolicy.RETAIN)


def allow_cloudtrail_to_use(scope: Construct, key: kms.IKey) -> None:
    """Add to ``key``'s policy what CloudTrail needs to encrypt a store's events with it; an
    imported key's policy cannot be changed: warn on ``scope`` instead."""
    # CloudTrail does not support aws:SourceArn/aws:SourceAccount conditions here.
    added = key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudTrailLakeEventDataStore",
            principals=[iam.ServicePrincipal(CLOUDTRAIL_PRINCIPAL)],
            actions=["kms:GenerateDataKey", "kms:Decrypt"],
            resources=["*"],
        )
    )
    if not added.statement_added:
        Annotations.of(scope).add_warning_v2(
            "cloudtrail-lake-import:keyPolicy",
            "event_data_store_encryption_key is an imported key: add a key policy "
            "statement allowing cloudtrail.amazonaws.com kms:GenerateDataKey and "
            "kms:Decrypt, or CloudTrail refuses the store",
        )
