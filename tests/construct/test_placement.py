"""How the construct behaves where users place it and with what they hand it (synth time)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

from cloudtrail_lake_import import CloudTrailLakeImport, CloudTrailLakeImportPropsError
from tests.construct.conftest import STORE_ARN, logical_id, new_app, only, resources

OTHER_ACCOUNT_STORE = "arn:aws:cloudtrail:eu-west-1:999988887777:eventdatastore/EXAMPLE-other"


def statements(template: Template, role_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def two_imports(first_waits: bool) -> tuple[cdk.Stack, CloudTrailLakeImport, CloudTrailLakeImport]:
    stack = cdk.Stack(new_app(), "Years")
    bucket = s3.Bucket.from_bucket_name(stack, "Archive", "my-trail-archive")
    first = CloudTrailLakeImport(
        stack,
        "Import2023",
        source_bucket=bucket,
        event_data_store=STORE_ARN,
        source_prefix="AWSLogs/2023/",
        wait_for_completion=first_waits,
    )
    second = CloudTrailLakeImport(
        stack,
        "Import2024",
        source_bucket=bucket,
        event_data_store=STORE_ARN,
        source_prefix="AWSLogs/2024/",
        wait_for_completion=True,
    )
    return stack, first, second


def test_a_second_import_in_a_stack_starts_after_the_first() -> None:
    stack, first, second = two_imports(first_waits=True)
    template = Template.from_stack(stack)
    first_id = logical_id(stack, first.custom_resource)
    second_id = logical_id(stack, second.custom_resource)
    imports = resources(template, "Custom::CloudTrailLakeImport")
    assert first_id in imports[second_id]["DependsOn"]
    assert second_id not in imports[first_id].get("DependsOn", [])
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp("one import"))


def test_a_sibling_after_an_import_that_does_not_wait_gets_a_warning_with_the_remedy() -> None:
    stack, _, _ = two_imports(first_waits=False)
    Annotations.from_stack(stack).has_warning(
        "/Years/Import2024",
        Match.string_like_regexp(
            "Years/Import2023 .*does not wait.*one import per account.*"
            "Set wait_for_completion=True on Years/Import2023"
        ),
    )


def test_imports_in_different_stacks_are_not_chained() -> None:
    app = new_app()
    first = CloudTrailLakeImport(cdk.Stack(app, "A"), "Import", event_data_store=STORE_ARN)
    second = CloudTrailLakeImport(cdk.Stack(app, "B"), "Import", event_data_store=STORE_ARN)
    assert first.custom_resource not in second.custom_resource.node.dependencies


def test_a_store_in_another_account_than_the_stack_fails_synth_naming_event_data_store() -> None:
    stack = cdk.Stack(new_app(), "Pinned", env=cdk.Environment(account="111122223333"))
    with pytest.raises(CloudTrailLakeImportPropsError, match=r"^event_data_store .*999988887777"):
        CloudTrailLakeImport(stack, "Import", event_data_store=OTHER_ACCOUNT_STORE)


def test_a_store_in_the_stack_account_or_an_environment_agnostic_stack_is_accepted() -> None:
    app = new_app()
    same = cdk.Stack(app, "Same", env=cdk.Environment(account="999988887777"))
    CloudTrailLakeImport(same, "Import", event_data_store=OTHER_ACCOUNT_STORE)
    CloudTrailLakeImport(cdk.Stack(app, "Agnostic"), "Import", event_data_store=OTHER_ACCOUNT_STORE)


def test_the_key_grant_of_a_bucket_in_another_region_has_no_via_service_narrowing() -> None:
    """As CloudTrail's import documentation writes it: Decrypt and GenerateDataKey on the key,
    whichever region the bucket (and so S3's call to KMS) is in."""
    stack = cdk.Stack(new_app(), "Eu", env=cdk.Environment(region="eu-west-1"))
    key = kms.Key.from_key_arn(
        stack, "Key", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    bucket = s3.Bucket.from_bucket_attributes(
        stack, "Archive", bucket_name="us-archive", region="us-east-1", encryption_key=key
    )
    construct = CloudTrailLakeImport(stack, "Import", source_bucket=bucket)
    template = Template.from_stack(stack)
    (kms_statement,) = [
        s
        for s in statements(template, logical_id(stack, construct.access_role))
        if "kms:Decrypt" in s["Action"]
    ]
    assert kms_statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert "Condition" not in kms_statement


def test_an_sse_kms_bucket_declared_in_the_app_lends_its_key_to_the_access_role() -> None:
    stack = cdk.Stack(new_app(), "Kms")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    bucket = s3.Bucket(stack, "Archive", encryption_key=key, enforce_ssl=True)
    construct = CloudTrailLakeImport(stack, "Import", source_bucket=bucket)
    assert construct.source_encryption_key is key
    template = Template.from_stack(stack)
    decrypt = [
        s
        for s in statements(template, logical_id(stack, construct.access_role))
        if "kms:Decrypt" in s["Action"]
    ]
    assert [s["Resource"] for s in decrypt] == [{"Fn::GetAtt": [logical_id(stack, key), "Arn"]}]


@pytest.mark.parametrize(
    ("bucket_props", "named"),
    [
        ({"object_ownership": s3.ObjectOwnership.OBJECT_WRITER}, "ObjectOwnership ObjectWriter"),
        (
            {"object_ownership": s3.ObjectOwnership.BUCKET_OWNER_PREFERRED},
            "ObjectOwnership BucketOwnerPreferred",
        ),
        (
            {"access_control": s3.BucketAccessControl.LOG_DELIVERY_WRITE},
            "ObjectOwnership ObjectWriter, access_control LogDeliveryWrite",
        ),
    ],
)
def test_an_acl_enabled_bucket_in_the_app_is_a_synth_warning_with_the_remedy(
    bucket_props: dict[str, Any], named: str
) -> None:
    stack = cdk.Stack(new_app(), "Acl")
    bucket = s3.Bucket(stack, "Archive", **bucket_props)
    CloudTrailLakeImport(stack, "Import", source_bucket=bucket)
    Annotations.from_stack(stack).has_warning(
        "/Acl/Import",
        Match.string_like_regexp(f"ACLs enabled \\({named}.*BUCKET_OWNER_ENFORCED"),
    )
    warnings = Annotations.from_stack(stack).find_warning("/Acl/Import", Match.any_value())
    assert any("[ack: cloudtrail-lake-import:acl]" in str(w.entry.data) for w in warnings)


def test_a_bucket_with_acls_disabled_gives_no_acl_warning() -> None:
    stack = cdk.Stack(new_app(), "NoAcl")
    bucket = s3.Bucket(stack, "Archive", object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED)
    CloudTrailLakeImport(stack, "Import", source_bucket=bucket)
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp("ACLs"))


@pytest.mark.parametrize(
    "bucket_props",
    [
        {"access_control": s3.BucketAccessControl.PRIVATE},
        {
            "access_control": s3.BucketAccessControl.PRIVATE,
            "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        },
    ],
)
def test_the_private_acl_with_acls_disabled_gives_no_acl_warning(
    bucket_props: dict[str, Any],
) -> None:
    stack = cdk.Stack(new_app(), "PrivateAcl")
    bucket = s3.Bucket(stack, "Archive", **bucket_props)
    CloudTrailLakeImport(stack, "Import", source_bucket=bucket)
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp("ACLs"))


def test_an_import_in_a_nested_stack_starts_after_one_in_its_parent() -> None:
    parent = cdk.Stack(new_app(), "Parent")
    first = CloudTrailLakeImport(parent, "Import2023", event_data_store=STORE_ARN)
    nested = cdk.NestedStack(parent, "Nested")
    CloudTrailLakeImport(nested, "Import2024", event_data_store=STORE_ARN)
    nested_resource = nested.nested_stack_resource
    assert nested_resource is not None
    depends_on = (
        Template.from_stack(parent)
        .to_json()["Resources"][parent.get_logical_id(nested_resource)]
        .get("DependsOn", [])
    )
    assert logical_id(parent, first.custom_resource) in depends_on
    Annotations.from_stack(parent).has_warning(
        "/Parent/Nested/Import2024",
        Match.string_like_regexp("Parent/Import2023 is an earlier CloudTrailLakeImport"),
    )


def test_an_import_in_a_parent_starts_after_one_in_its_nested_stack() -> None:
    parent = cdk.Stack(new_app(), "Parent")
    nested = cdk.NestedStack(parent, "Nested")
    CloudTrailLakeImport(nested, "Import2023", event_data_store=STORE_ARN, wait_for_completion=True)
    second = CloudTrailLakeImport(parent, "Import2024", event_data_store=STORE_ARN)
    nested_resource = nested.nested_stack_resource
    assert nested_resource is not None
    imports = resources(Template.from_stack(parent), "Custom::CloudTrailLakeImport")
    second_id = logical_id(parent, second.custom_resource)
    assert parent.get_logical_id(nested_resource) in imports[second_id]["DependsOn"]
    Annotations.from_stack(parent).has_no_warning("*", Match.string_like_regexp("one import"))


def archive_in(stack: cdk.Stack, account: str) -> s3.IBucket:
    return s3.Bucket.from_bucket_attributes(
        stack, "Archive", bucket_name="org-trail-archive", account=account, region="eu-west-1"
    )


@pytest.mark.parametrize(
    ("names", "missing"),
    [
        ({}, "access_role_name and handler_role_name are not given"),
        ({"access_role_name": "lake-access"}, "handler_role_name is not given"),
        ({"handler_role_name": "lake-handler"}, "access_role_name is not given"),
    ],
)
def test_a_bucket_in_another_account_without_fixed_role_names_warns(
    names: dict[str, Any], missing: str
) -> None:
    stack = cdk.Stack(new_app(), "Importer", env=cdk.Environment(account="111122223333"))
    CloudTrailLakeImport(
        stack,
        "Import",
        source_bucket=archive_in(stack, "999988887777"),
        event_data_store="arn:aws:cloudtrail:eu-west-1:111122223333:eventdatastore/EXAMPLE-1",
        **names,
    )
    warnings = Annotations.from_stack(stack).find_warning(
        "/Importer/Import", Match.string_like_regexp("account 999988887777 and " + missing)
    )
    assert len(warnings) == 1
    assert "[ack: cloudtrail-lake-import:crossAccountRoleNames]" in str(warnings[0].entry.data)


@pytest.mark.parametrize(
    ("bucket_account", "names"),
    [
        ("999988887777", {"access_role_name": "lake-access", "handler_role_name": "lake-handler"}),
        ("111122223333", {}),
    ],
)
def test_named_roles_or_a_bucket_of_the_same_account_give_no_role_name_warning(
    bucket_account: str, names: dict[str, Any]
) -> None:
    stack = cdk.Stack(new_app(), "Importer", env=cdk.Environment(account="111122223333"))
    CloudTrailLakeImport(stack, "Import", source_bucket=archive_in(stack, bucket_account), **names)
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp("role_name"))


def test_the_handler_may_list_only_the_imported_prefix() -> None:
    stack = cdk.Stack(new_app(), "List")
    construct = CloudTrailLakeImport(stack, "Import", source_prefix="AWSLogs/111122223333/")
    template = Template.from_stack(stack)
    listing = [
        s
        for s in statements(template, logical_id(stack, construct.handler.role))
        if "s3:ListBucket" in s["Action"]
    ]
    assert listing == [
        {
            "Action": "s3:ListBucket",
            "Condition": {"StringEquals": {"s3:prefix": "AWSLogs/111122223333/"}},
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [logical_id(stack, construct.source_bucket), "Arn"]},
        }
    ]
    assert only(template, "Custom::CloudTrailLakeImport")
