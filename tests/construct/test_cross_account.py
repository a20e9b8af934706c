"""A trail archive in another account: the importer publishes what the owner must grant, the
owner's construct grants exactly that, and the handler quotes the same statements."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from cloudtrail_lake_import import CloudTrailLakeImport, CloudTrailLakeImportSourceAccess
from cloudtrail_lake_import.validation import CloudTrailLakeImportPropsError
from import_handler import cross_account
from tests.construct.conftest import new_app, only, resources

IMPORTER = "222222222222"  # management account
OWNER = "111111111111"  # log-archive account
REGION = "eu-west-1"
BUCKET = "org-trail-archive"
PREFIX = "AWSLogs/o-exampleorgid/"
ACCESS_ROLE_ARN = f"arn:aws:iam::{IMPORTER}:role/lake-import-access"
HANDLER_ROLE_ARN = f"arn:aws:iam::{IMPORTER}:role/lake-import-handler"
IMPORTER_STORE_ARN = f"arn:aws:cloudtrail:{REGION}:{IMPORTER}:eventdatastore/EXAMPLE-f852-4e8f"
KEY_ARN = f"arn:aws:kms:{REGION}:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def importer(**props: Any) -> tuple[cdk.App, cdk.Stack, CloudTrailLakeImport]:
    app = new_app()
    stack = cdk.Stack(app, "Importer", env=cdk.Environment(account=IMPORTER, region=REGION))
    bucket = s3.Bucket.from_bucket_attributes(
        stack, "Archive", bucket_name=BUCKET, account=OWNER, region=REGION
    )
    defaults: dict[str, Any] = {
        "source_bucket": bucket,
        "source_prefix": PREFIX,
        "access_role_name": "lake-import-access",
        "handler_role_name": "lake-import-handler",
    }
    construct = CloudTrailLakeImport(stack, "Import", **{**defaults, **props})
    return app, stack, construct


def owner(
    *,
    key: bool = False,
    handler: bool = True,
    imported_bucket: bool = False,
    handler_reads_objects: bool = False,
) -> tuple[cdk.Stack, CloudTrailLakeImportSourceAccess]:
    app = new_app()
    stack = cdk.Stack(app, "Owner", env=cdk.Environment(account=OWNER, region=REGION))
    bucket: s3.IBucket
    if imported_bucket:
        bucket = s3.Bucket.from_bucket_name(stack, "Archive", BUCKET)
    else:
        bucket = s3.Bucket(stack, "Archive", bucket_name=BUCKET, enforce_ssl=True)
    access = CloudTrailLakeImportSourceAccess(
        stack,
        "Access",
        bucket=bucket,
        importer_role_arn=ACCESS_ROLE_ARN,
        handler_role_arn=HANDLER_ROLE_ARN if handler else None,
        prefix=PREFIX,
        key=kms.Key(stack, "Key", enable_key_rotation=True) if key else None,
        handler_reads_objects=handler_reads_objects,
    )
    return stack, access


def granted(stack: cdk.Stack) -> list[dict[str, Any]]:
    """The statements the owner's construct put in the bucket policy (CDK's own SSL deny aside)."""
    policy = only(Template.from_stack(stack), "AWS::S3::BucketPolicy")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    return [s for s in statements if s.get("Sid", "").startswith("CloudTrailLakeImport")]


def literal(stack: cdk.Stack, value: Any) -> Any:
    """``value`` resolved, with the partition the stack's region is in written out."""
    text = json.dumps(stack.resolve(value)).replace('{"Ref": "AWS::Partition"}', '"aws"')
    return json.loads(text)


def joined(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(str(joined(p)) for p in parts)
    if isinstance(value, dict):
        return {k: joined(v) for k, v in value.items()}
    if isinstance(value, list):
        return [joined(v) for v in value]
    return value


# The owner's side ------------------------------------------------------------------------------


def test_the_owner_grants_reads_to_the_access_role_only_and_objects_under_the_prefix_only() -> None:
    stack, _ = owner()

    statements = joined(literal(stack, granted(stack)))

    assert [s["Sid"] for s in statements] == [
        "CloudTrailLakeImportListBucket",
        "CloudTrailLakeImportReadObjects",
        "CloudTrailLakeImportPreflight",
        "CloudTrailLakeImportPreflightList",
    ]
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["CloudTrailLakeImportListBucket"]["Action"] == [
        "s3:GetBucketAcl",
        "s3:ListBucket",
    ]
    assert by_sid["CloudTrailLakeImportReadObjects"]["Action"] == "s3:GetObject"
    assert by_sid["CloudTrailLakeImportReadObjects"]["Resource"] == (
        f"arn:aws:s3:::{BUCKET}/{PREFIX}*"
    )
    assert by_sid["CloudTrailLakeImportPreflight"]["Action"] == "s3:GetBucketOwnershipControls"
    assert by_sid["CloudTrailLakeImportPreflightList"]["Action"] == "s3:ListBucket"
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert statement["Principal"] == {"AWS": f"arn:aws:iam::{IMPORTER}:root"}
    assert [s["Condition"] for s in statements] == [
        {"ArnEquals": {"aws:PrincipalArn": ACCESS_ROLE_ARN}},
        {"ArnEquals": {"aws:PrincipalArn": ACCESS_ROLE_ARN}},
        {"ArnEquals": {"aws:PrincipalArn": HANDLER_ROLE_ARN}},
        {
            "ArnEquals": {"aws:PrincipalArn": HANDLER_ROLE_ARN},
            "StringEquals": {"s3:prefix": PREFIX},
        },
    ]


def test_the_handler_quotes_exactly_what_the_owner_grants() -> None:
    stack, _ = owner()

    quoted = cross_account.bucket_policy_statements(
        bucket=BUCKET,
        prefix=PREFIX,
        access_role_arn=ACCESS_ROLE_ARN,
        handler_role_arn=HANDLER_ROLE_ARN,
    )

    assert joined(literal(stack, granted(stack))) == quoted


def test_without_the_handler_role_the_owner_grants_only_the_reads() -> None:
    stack, _ = owner(handler=False)

    assert [s["Sid"] for s in granted(stack)] == [
        "CloudTrailLakeImportListBucket",
        "CloudTrailLakeImportReadObjects",
    ]


def test_for_the_cost_guard_the_owner_lets_the_handler_list_and_read_under_the_prefix_only() -> (
    None
):
    stack, _ = owner(handler_reads_objects=True)

    statements = joined(literal(stack, granted(stack)))

    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["CloudTrailLakeImportEstimateList"] == {
        "Action": "s3:ListBucket",
        "Condition": {
            "ArnEquals": {"aws:PrincipalArn": HANDLER_ROLE_ARN},
            "StringLike": {"s3:prefix": f"{PREFIX}*"},
        },
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{IMPORTER}:root"},
        "Resource": f"arn:aws:s3:::{BUCKET}",
        "Sid": "CloudTrailLakeImportEstimateList",
    }
    assert by_sid["CloudTrailLakeImportEstimateReads"] == {
        "Action": "s3:GetObject",
        "Condition": {"ArnEquals": {"aws:PrincipalArn": HANDLER_ROLE_ARN}},
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{IMPORTER}:root"},
        "Resource": f"arn:aws:s3:::{BUCKET}/{PREFIX}*",
        "Sid": "CloudTrailLakeImportEstimateReads",
    }
    assert statements == cross_account.bucket_policy_statements(
        bucket=BUCKET,
        prefix=PREFIX,
        access_role_arn=ACCESS_ROLE_ARN,
        handler_role_arn=HANDLER_ROLE_ARN,
        handler_reads_objects=True,
    )


def test_without_handler_reads_objects_the_handler_reads_no_object() -> None:
    stack, _ = owner(key=True)

    handler_statements = [
        s
        for s in joined(literal(stack, granted(stack)))
        if s["Condition"]["ArnEquals"]["aws:PrincipalArn"] == HANDLER_ROLE_ARN
    ]
    assert [s["Action"] for s in handler_statements] == [
        "s3:GetBucketOwnershipControls",
        "s3:ListBucket",
    ]
    key_policy = only(Template.from_stack(stack), "AWS::KMS::Key")["Properties"]["KeyPolicy"]
    assert "CloudTrailLakeImportEstimateDecrypt" not in json.dumps(key_policy)


def test_for_the_cost_guard_the_handler_may_decrypt_this_buckets_objects_only() -> None:
    stack, access = owner(key=True, handler_reads_objects=True)

    key_policy = only(Template.from_stack(stack), "AWS::KMS::Key")["Properties"]["KeyPolicy"]
    (decrypt,) = [
        s for s in key_policy["Statement"] if s.get("Sid") == "CloudTrailLakeImportEstimateDecrypt"
    ]
    decrypt = joined(literal(stack, decrypt))
    assert decrypt["Action"] == "kms:Decrypt"  # it only reads
    assert decrypt["Principal"] == {"AWS": f"arn:aws:iam::{IMPORTER}:root"}
    assert decrypt["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": HANDLER_ROLE_ARN},
        "StringLike": {
            "kms:EncryptionContext:aws:s3:arn": [
                f"arn:aws:s3:::{BUCKET}",
                f"arn:aws:s3:::{BUCKET}/{PREFIX}*",
            ]
        },
    }
    assert [s.sid for s in access.key_policy_statements] == [
        "CloudTrailLakeImportDecrypt",
        "CloudTrailLakeImportEstimateDecrypt",
    ]


def test_handler_reads_objects_without_the_handler_role_fails_synth_naming_both_props() -> None:
    with pytest.raises(
        CloudTrailLakeImportPropsError, match=r"^handler_reads_objects needs handler_role_arn"
    ):
        owner(handler=False, handler_reads_objects=True)


def test_a_key_in_the_owners_stack_grants_the_access_role_as_cloudtrails_documentation_does() -> (
    None
):
    """kms:Decrypt and kms:GenerateDataKey, for this bucket's objects (the encryption context),
    without a kms:ViaService narrowing AWS's tested statements do not use."""
    stack, _ = owner(key=True)

    key_policy = only(Template.from_stack(stack), "AWS::KMS::Key")["Properties"]["KeyPolicy"]
    (decrypt,) = [
        s for s in key_policy["Statement"] if s.get("Sid") == "CloudTrailLakeImportDecrypt"
    ]
    decrypt = joined(literal(stack, decrypt))
    assert decrypt["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert decrypt["Principal"] == {"AWS": f"arn:aws:iam::{IMPORTER}:root"}
    assert decrypt["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": ACCESS_ROLE_ARN},
        "StringLike": {
            "kms:EncryptionContext:aws:s3:arn": [
                f"arn:aws:s3:::{BUCKET}",
                f"arn:aws:s3:::{BUCKET}/{PREFIX}*",
            ]
        },
    }


def test_an_imported_key_gets_a_warning_with_the_statement_for_its_policy() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Owner", env=cdk.Environment(account=OWNER, region=REGION))
    CloudTrailLakeImportSourceAccess(
        stack,
        "Access",
        bucket=s3.Bucket(stack, "Archive", bucket_name=BUCKET),
        importer_role_arn=ACCESS_ROLE_ARN,
        key=kms.Key.from_key_arn(stack, "Key", KEY_ARN),
    )

    (warning,) = [
        m.entry.data
        for m in app.synth().get_stack_artifact("Owner").messages
        if "key is an imported key" in str(m.entry.data)
    ]
    quoted = str(warning).split("in the key's own account: ", 1)[1].split(" [ack: ", 1)[0]
    statement = json.loads(quoted)
    assert (
        f"arn:aws:s3:::{BUCKET}"
        in statement[0]["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"]
    )
    assert statement[0]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statement[0]["Condition"]["ArnEquals"] == {"aws:PrincipalArn": ACCESS_ROLE_ARN}


def imported_key_warning(key_arn: str | None = None) -> str:
    """The imported-key warning of an owner's stack without an account or region."""
    app = new_app()
    stack = cdk.Stack(app, "Owner")
    arn = key_arn or cdk.CfnParameter(stack, "KeyArn").value_as_string
    CloudTrailLakeImportSourceAccess(
        stack,
        "Access",
        bucket=s3.Bucket(stack, "Archive", bucket_name=BUCKET),
        importer_role_arn=ACCESS_ROLE_ARN,
        key=kms.Key.from_key_arn(stack, "Key", arn),
    )
    (warning,) = [
        str(m.entry.data)
        for m in app.synth().get_stack_artifact("Owner").messages
        if "key is an imported key" in str(m.entry.data)
    ]
    return warning


def test_an_environment_agnostic_stack_fills_the_advice_in_from_the_imported_keys_arn() -> None:
    warning = imported_key_warning(KEY_ARN)
    assert "${" not in warning
    quoted = warning.split("in the key's own account: ", 1)[1].split(" [ack: ", 1)[0]
    (statement,) = json.loads(quoted)
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{IMPORTER}:root"}
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert "StringEquals" not in statement["Condition"]  # no kms:ViaService, as AWS writes it
    assert statement["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"] == [
        f"arn:aws:s3:::{BUCKET}",
        f"arn:aws:s3:::{BUCKET}/*",
    ]


def test_an_environment_agnostic_stack_names_what_to_fill_in_when_nothing_tells_it() -> None:
    warning = imported_key_warning()
    assert "${" not in warning
    assert "arn:<partition>:s3:::org-trail-archive" in warning
    assert "<partition> is aws" in warning
    assert "<region>" not in warning  # the documented statement names no region


def test_an_imported_bucket_is_refused_rather_than_its_policy_replaced() -> None:
    with pytest.raises(CloudTrailLakeImportPropsError, match=r"^bucket must be a bucket whose"):
        owner(imported_bucket=True)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"importer_role_arn": "lake-import-access"}, "^importer_role_arn must be an IAM role ARN"),
        ({"handler_role_arn": "arn:aws:iam::2222:role/x"}, "^handler_role_arn must be an IAM role"),
        ({"prefix": "s3://org-trail-archive/AWSLogs/"}, "^prefix must be a key prefix"),
    ],
)
def test_bad_owner_props_fail_synth_naming_the_prop(props: dict[str, Any], message: str) -> None:
    app = new_app()
    stack = cdk.Stack(app, "Owner")
    given: dict[str, Any] = {"importer_role_arn": ACCESS_ROLE_ARN, **props}
    with pytest.raises(CloudTrailLakeImportPropsError, match=message):
        CloudTrailLakeImportSourceAccess(
            stack, "Access", bucket=s3.Bucket(stack, "Archive"), **given
        )


def test_role_arns_that_are_tokens_are_not_validated() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Owner")
    role_arn = cdk.CfnParameter(stack, "ImporterRoleArn").value_as_string
    CloudTrailLakeImportSourceAccess(
        stack, "Access", bucket=s3.Bucket(stack, "Archive"), importer_role_arn=role_arn
    )

    (statement, _) = granted(stack)
    assert statement["Condition"]["ArnEquals"]["aws:PrincipalArn"] == {"Ref": "ImporterRoleArn"}


# The importer's side ---------------------------------------------------------------------------


def test_a_bucket_in_another_account_gets_named_roles_and_the_owner_in_the_properties() -> None:
    _, stack, construct = importer()
    template = Template.from_stack(stack)

    template.has_resource_properties("AWS::IAM::Role", {"RoleName": "lake-import-access"})
    template.has_resource_properties("AWS::IAM::Role", {"RoleName": "lake-import-handler"})
    resource = only(template, "Custom::CloudTrailLakeImport")["Properties"]
    assert resource["SourceBucketOwner"] == OWNER
    handler_role = stack.get_logical_id(construct.handler.role.node.default_child)  # type: ignore[union-attr, arg-type]
    assert resource["HandlerRoleArn"] == {"Fn::GetAtt": [handler_role, "Arn"]}


def test_the_access_role_keeps_its_confused_deputy_conditions_across_accounts() -> None:
    _, stack, construct = importer()
    role = Template.from_stack(stack).to_json()["Resources"][
        stack.get_logical_id(construct.access_role.node.default_child)  # type: ignore[arg-type]
    ]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == IMPORTER
    assert "aws:SourceArn" in trust["Condition"]["StringEquals"]


def test_the_owners_statements_are_outputs_and_synth_messages_with_the_role_arns() -> None:
    app, stack, _ = importer(source_encryption_key=kms.Key.from_key_arn(cdk.Stack(), "K", KEY_ARN))
    artifact = app.synth().get_stack_artifact("Importer")

    outputs = artifact.template["Outputs"]
    (bucket_output,) = [v for k, v in outputs.items() if "SourceBucketPolicyStatements" in k]
    (key_output,) = [v for k, v in outputs.items() if "SourceKeyPolicyStatements" in k]
    bucket_statements = json.loads(joined(literal(stack, bucket_output["Value"])))
    assert bucket_statements == cross_account.bucket_policy_statements(
        bucket=BUCKET,
        prefix=PREFIX,
        access_role_arn=ACCESS_ROLE_ARN,
        handler_role_arn=HANDLER_ROLE_ARN,
    )
    (decrypt,) = json.loads(joined(literal(stack, key_output["Value"])))
    assert decrypt["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert "StringEquals" not in decrypt["Condition"]  # no kms:ViaService
    infos = [str(m.entry.data) for m in artifact.messages if m.level.value == "INFO"]
    assert len(infos) == 2
    assert json.loads(infos[0].split("these role ARNs): ", 1)[1]) == bucket_statements
    assert json.loads(infos[1].split("these role ARNs): ", 1)[1]) == [decrypt]


def test_with_the_cost_guard_the_outputs_add_the_handlers_reads_of_the_objects() -> None:
    app, stack, _ = importer(
        source_encryption_key=kms.Key.from_key_arn(cdk.Stack(), "K", KEY_ARN), max_ingest_gb=500
    )
    artifact = app.synth().get_stack_artifact("Importer")

    outputs = artifact.template["Outputs"]
    (bucket_output,) = [v for k, v in outputs.items() if "SourceBucketPolicyStatements" in k]
    (key_output,) = [v for k, v in outputs.items() if "SourceKeyPolicyStatements" in k]
    bucket_statements = json.loads(joined(literal(stack, bucket_output["Value"])))
    assert bucket_statements == cross_account.bucket_policy_statements(
        bucket=BUCKET,
        prefix=PREFIX,
        access_role_arn=ACCESS_ROLE_ARN,
        handler_role_arn=HANDLER_ROLE_ARN,
        handler_reads_objects=True,
    )
    decrypts = json.loads(joined(literal(stack, key_output["Value"])))
    assert [(d["Sid"], d["Condition"]["ArnEquals"]["aws:PrincipalArn"]) for d in decrypts] == [
        ("CloudTrailLakeImportDecrypt", ACCESS_ROLE_ARN),
        ("CloudTrailLakeImportEstimateDecrypt", HANDLER_ROLE_ARN),
    ]
    assert decrypts[1]["Action"] == "kms:Decrypt"
    assert "StringEquals" not in decrypts[1]["Condition"]  # no kms:ViaService
    infos = [str(m.entry.data) for m in artifact.messages if m.level.value == "INFO"]
    marker = "these role ARNs, handler_reads_objects=True): "
    assert [json.loads(i.split(marker, 1)[1]) for i in infos] == [bucket_statements, decrypts]


@pytest.mark.parametrize("handler_reads_objects", [False, True])
def test_for_the_whole_bucket_both_sides_leave_the_prefix_condition_out(
    handler_reads_objects: bool,
) -> None:
    """A listing without a prefix has no ``s3:prefix`` key, which a condition would refuse."""
    max_ingest_gb = 500 if handler_reads_objects else None
    app, stack, _ = importer(source_prefix="", max_ingest_gb=max_ingest_gb)
    artifact = app.synth().get_stack_artifact("Importer")
    owner_stack = cdk.Stack(new_app(), "Owner", env=cdk.Environment(account=OWNER, region=REGION))
    CloudTrailLakeImportSourceAccess(
        owner_stack,
        "Access",
        bucket=s3.Bucket(owner_stack, "Archive", bucket_name=BUCKET, enforce_ssl=True),
        importer_role_arn=ACCESS_ROLE_ARN,
        handler_role_arn=HANDLER_ROLE_ARN,
        handler_reads_objects=handler_reads_objects,
    )

    (output,) = [
        v for k, v in artifact.template["Outputs"].items() if "SourceBucketPolicyStatements" in k
    ]
    published = json.loads(joined(literal(stack, output["Value"])))
    (info,) = [str(m.entry.data) for m in artifact.messages if m.level.value == "INFO"]
    quoted = cross_account.bucket_policy_statements(
        bucket=BUCKET,
        prefix="",
        access_role_arn=ACCESS_ROLE_ARN,
        handler_role_arn=HANDLER_ROLE_ARN,
        handler_reads_objects=handler_reads_objects,
    )
    assert published == quoted
    assert json.loads(info.split("): ", 1)[1]) == quoted
    assert joined(literal(owner_stack, granted(owner_stack))) == quoted
    # Nor does the importer's own policy (nor its outputs) hold one.
    assert "s3:prefix" not in json.dumps(Template.from_stack(stack).to_json())


def test_a_bucket_in_the_same_account_needs_no_grant_from_an_owner() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Importer", env=cdk.Environment(account=IMPORTER, region=REGION))
    bucket = s3.Bucket.from_bucket_attributes(
        stack, "Archive", bucket_name=BUCKET, account=IMPORTER
    )
    CloudTrailLakeImport(stack, "Import", source_bucket=bucket)
    artifact = app.synth().get_stack_artifact("Importer")

    assert not [k for k in artifact.template.get("Outputs", {}) if "PolicyStatements" in k]
    resource = only(Template.from_stack(stack), "Custom::CloudTrailLakeImport")["Properties"]
    assert "SourceBucketOwner" not in resource
    assert not [m for m in artifact.messages if m.level.value == "INFO"]


def test_the_access_role_may_use_the_source_key_as_cloudtrails_documentation_writes_it() -> None:
    """kms:Decrypt and kms:GenerateDataKey on the key, with no kms:ViaService narrowing."""
    _, stack, _ = importer(source_encryption_key=kms.Key.from_key_arn(cdk.Stack(), "K", KEY_ARN))
    statements = [
        statement
        for policy in resources(Template.from_stack(stack), "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Resource") == KEY_ARN
    ]
    access = [s for s in statements if s["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]]
    assert len(access) == 1
    assert all("Condition" not in s for s in statements)


def describe_organization_granted(template: Template) -> bool:
    for policy in resources(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            if "organizations:DescribeOrganization" in (
                actions if isinstance(actions, list) else [actions]
            ):
                assert statement["Resource"] == "*"
                return True
    return False


def test_a_new_organization_store_and_the_preflight_may_ask_who_manages_the_organization() -> None:
    _, stack, _ = importer(event_data_store_organization_enabled=True)
    template = Template.from_stack(stack)

    template.has_resource_properties(
        "AWS::CloudTrail::EventDataStore", {"OrganizationEnabled": True}
    )
    assert describe_organization_granted(template)


def test_a_new_store_is_not_an_organization_store_by_default() -> None:
    _, stack, _ = importer()
    template = Template.from_stack(stack)

    store = only(template, "AWS::CloudTrail::EventDataStore")["Properties"]
    assert "OrganizationEnabled" not in store
    assert not describe_organization_granted(template)


def test_a_store_given_by_arn_may_be_an_organization_store() -> None:
    _, stack, _ = importer(event_data_store=IMPORTER_STORE_ARN)

    assert describe_organization_granted(Template.from_stack(stack))


def test_organization_enabled_configures_only_a_new_store() -> None:
    with pytest.raises(CloudTrailLakeImportPropsError, match="event_data_store_organization"):
        importer(event_data_store=IMPORTER_STORE_ARN, event_data_store_organization_enabled=True)
