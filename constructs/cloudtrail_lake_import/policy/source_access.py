"""CloudTrailLakeImportSourceAccess: the bucket owner's half of an import from another account."""

from __future__ import annotations

import re

from aws_cdk import Annotations, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from cloudtrail_lake_import.policy import source_statements
from cloudtrail_lake_import.validation import CloudTrailLakeImportPropsError, check_source_prefix
from constructs import Construct

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


class CloudTrailLakeImportSourceAccess(Construct):
    """Lets a ``CloudTrailLakeImport`` in another account read this stack's trail archive.

    Place it in the stack of the account that owns the bucket (the log-archive account of an
    organization). It adds to the bucket policy, for the importer's access role only,
    ``s3:ListBucket`` and ``s3:GetBucketAcl`` on the bucket and ``s3:GetObject`` under
    ``prefix``; for the importer's handler role, ``s3:GetBucketOwnershipControls`` (its preflight
    check); and, when ``key`` is given, ``kms:Decrypt`` via S3 for the access role to the key
    policy. With ``handler_reads_objects`` (an importer with ``max_ingest_gb``), the handler
    role may also list under ``prefix`` and ``s3:GetObject`` under it (and ``kms:Decrypt`` via
    S3), what the cost guard's estimate reads. Nothing else.

    :ivar bucket: the trail archive's bucket, whose policy gets the statements.
    :ivar key: the bucket's KMS key whose policy gets the decrypt statement, if given.
    :ivar bucket_policy_statements: the statements added to the bucket policy.
    :ivar key_policy_statements: the statements for the key policy (the access role's, then the
        handler role's with ``handler_reads_objects``); empty without ``key``.
    :ivar key_policy_statement: the first of them (the access role's), or ``None``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket: s3.IBucket,
        importer_role_arn: str,
        prefix: str = "",
        key: kms.IKey | None = None,
        handler_role_arn: str | None = None,
        handler_reads_objects: bool = False,
    ) -> None:
        """Grant the reads.

        :param bucket: the trail archive's bucket, defined in (or imported into) this stack.
        :param importer_role_arn: ARN of the importer's access role (``access_role_name`` of
            ``CloudTrailLakeImport``), the role CloudTrail reads the bucket with.
        :param prefix: the imported key prefix, the importer's ``source_prefix``, e.g.
            ``AWSLogs/o-exampleorgid/``; default: the whole bucket.
        :param key: the bucket's KMS key when it is SSE-KMS; its policy gets ``kms:Decrypt``.
        :param handler_role_arn: ARN of the importer's handler role (``handler_role_name``);
            without it the importer's preflight cannot read the bucket's ownership controls and
            fails, quoting the statement to add.
        :param handler_reads_objects: also let the handler role list the date folders under
            ``prefix`` and read the objects under it (the last 4 bytes of each), and decrypt
            them via S3 when ``key`` is given: what the cost guard (the importer's
            ``max_ingest_gb``) reads to estimate the import. Needs ``handler_role_arn``.
            Default: false.
        """
        super().__init__(scope, id)
        _check_role_arn("importer_role_arn", importer_role_arn)
        if handler_role_arn is not None:
            _check_role_arn("handler_role_arn", handler_role_arn)
        elif handler_reads_objects:
            raise CloudTrailLakeImportPropsError(
                "handler_reads_objects needs handler_role_arn, the importer's handler role "
                "(handler_role_name of CloudTrailLakeImport)"
            )
        prefix = check_source_prefix(prefix, prop="prefix")
        self.bucket = bucket
        self.key = key
        bucket_arn = _bucket_arn(bucket)
        objects_arn = f"{bucket_arn}/{prefix}*"
        importer_account = source_statements.role_account(importer_role_arn)
        self.bucket_policy_statements = source_statements.bucket_policy_statements(
            importer_account=importer_account,
            bucket_arn=bucket_arn,
            prefix=prefix,
            access_role_arn=importer_role_arn,
            handler_role_arn=handler_role_arn,
            handler_reads_objects=handler_reads_objects,
        )
        for statement in self.bucket_policy_statements:
            if not bucket.add_to_resource_policy(statement).statement_added:
                raise CloudTrailLakeImportPropsError(
                    "bucket must be a bucket whose policy this stack manages (an s3.Bucket, or "
                    "one imported with s3.Bucket.from_cfn_bucket); an imported bucket's policy "
                    "cannot be changed here: add the statements of the importer's output "
                    "SourceBucketPolicyStatements to it by hand"
                )
        self.key_policy_statement: iam.PolicyStatement | None = None
        # The access role's statement first; the handler's when it reads objects.
        self.key_policy_statements: list[iam.PolicyStatement] = []
        if key is not None:
            readers = [(source_statements.SID_DECRYPT, importer_role_arn)]
            if handler_reads_objects and handler_role_arn is not None:
                readers.append((source_statements.SID_ESTIMATE_DECRYPT, handler_role_arn))
            self.key_policy_statements = [
                source_statements.key_policy_statement(
                    importer_account=importer_account,
                    role_arn=role_arn,
                    bucket_arn=bucket_arn,
                    objects_arn=objects_arn,
                    sid=sid,
                )
                for sid, role_arn in readers
            ]
            self.key_policy_statement = self.key_policy_statements[0]
            added = [
                key.add_to_resource_policy(s).statement_added for s in self.key_policy_statements
            ]
            if not all(added):
                Annotations.of(self).add_warning_v2(
                    "cloudtrail-lake-import:sourceKeyPolicy",
                    "key is an imported key, so its policy is not changed here; add these "
                    "statements to it in the key's own account: "
                    + source_statements.for_people(
                        Stack.of(self), self.key_policy_statements, known_arn=key.key_arn
                    ),
                )


def _bucket_arn(bucket: s3.IBucket) -> str:
    """The bucket's ARN, written out when its name is known (readable in the synth messages)."""
    name = bucket.bucket_name
    resource = bucket.node.default_child
    if Token.is_unresolved(name) and isinstance(resource, s3.CfnBucket):
        name = resource.bucket_name or name  # a new bucket's name is a Ref
    if name is None or Token.is_unresolved(name):
        return bucket.bucket_arn
    return Stack.of(bucket).format_arn(service="s3", region="", account="", resource=name)


def _check_role_arn(prop: str, value: str) -> None:
    if Token.is_unresolved(value):
        return
    if not isinstance(value, str) or not _ROLE_ARN.match(value):
        raise CloudTrailLakeImportPropsError(
            f"{prop} must be an IAM role ARN like arn:aws:iam::<account>:role/<name>, got {value!r}"
        )
