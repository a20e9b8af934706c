"""What the construct declares: the properties that protect data or narrow access."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from cloudtrail_lake_import import CloudTrailLakeImport
from cloudtrail_lake_import.single_import.lake_import import IMPORT_ACTIONS
from tests.construct.conftest import STORE_ARN, Synth, logical_id, new_app, only, resources


def statements(template: Any, role_logical_id_prefix: str) -> list[dict[str, Any]]:
    """Every statement of the inline policies attached to the role whose id starts so."""
    found: list[dict[str, Any]] = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        roles = [r["Ref"] for r in policy["Properties"]["Roles"]]
        if any(r.startswith(role_logical_id_prefix) for r in roles):
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_new_source_bucket_disables_acls_blocks_public_access_and_is_retained(synth: Synth) -> None:
    _, _, template = synth()
    bucket = only(template, "AWS::S3::Bucket")
    props = bucket["Properties"]
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["UpdateReplacePolicy"] == "Retain"


def test_new_source_bucket_denies_requests_without_tls(synth: Synth) -> None:
    _, _, template = synth()
    policy = only(template, "AWS::S3::BucketPolicy")["Properties"]["PolicyDocument"]
    deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny
    assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny[0]["Action"] == "s3:*"


def test_source_encryption_key_encrypts_the_new_bucket_and_the_role_may_decrypt(
    synth: Synth,
) -> None:
    stack, construct, template = synth(
        source_encryption_key=kms.Key.from_key_arn(
            cdk.Stack(new_app(), "KeyStack"),
            "Key",
            "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        )
    )
    props = only(template, "AWS::S3::Bucket")["Properties"]
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    role_id = logical_id(stack, construct.access_role)
    kms_statements = [
        s for s in statements(template, role_id) if "kms:Decrypt" in as_list(s["Action"])
    ]
    assert len(kms_statements) == 1
    assert kms_statements[0]["Resource"].endswith("key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert kms_statements[0]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert "Condition" not in kms_statements[0]  # no kms:ViaService, as AWS documents it


def test_new_event_data_store_is_import_only_protected_and_retained(synth: Synth) -> None:
    _, _, template = synth(event_data_store_retention=cdk.Duration.days(3000))
    store = only(template, "AWS::CloudTrail::EventDataStore")
    assert store["Properties"]["IngestionEnabled"] is False
    assert store["Properties"]["TerminationProtectionEnabled"] is True
    assert store["Properties"]["RetentionPeriod"] == 3000
    assert store["DeletionPolicy"] == "Retain"
    assert store["UpdateReplacePolicy"] == "Retain"


def test_store_encryption_key_policy_lets_cloudtrail_use_the_key(synth: Synth) -> None:
    app = new_app()
    stack = cdk.Stack(app, "KeyedStack")
    key = kms.Key(stack, "StoreKey", enable_key_rotation=True)
    CloudTrailLakeImport(stack, "Import", event_data_store_encryption_key=key)
    template = cdk.assertions.Template.from_stack(stack)
    store = only(template, "AWS::CloudTrail::EventDataStore")
    assert store["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [logical_id(stack, key), "Arn"]}
    key_policy = only(template, "AWS::KMS::Key")["Properties"]["KeyPolicy"]["Statement"]
    cloudtrail_statement = [
        {**s, "Action": sorted(as_list(s["Action"]))}
        for s in key_policy
        if s.get("Sid") == "AllowCloudTrailLakeEventDataStore"
    ]
    assert cloudtrail_statement == [
        {
            "Sid": "AllowCloudTrailLakeEventDataStore",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
        }
    ]


def test_access_role_trusts_only_cloudtrail_for_this_account_and_store(synth: Synth) -> None:
    stack, construct, template = synth(event_data_store=STORE_ARN)
    role_id = logical_id(stack, construct.access_role)
    role = template.to_json()["Resources"][role_id]
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Condition": {
                "StringEquals": {
                    "aws:SourceAccount": {"Ref": "AWS::AccountId"},
                    "aws:SourceArn": STORE_ARN,
                }
            },
        }
    ]


def test_access_role_reads_only_the_bucket_and_the_prefix(synth: Synth) -> None:
    stack, construct, template = synth(
        event_data_store=STORE_ARN, source_prefix="AWSLogs/123456789012/CloudTrail"
    )
    role_id = logical_id(stack, construct.access_role)
    bucket_id = logical_id(stack, construct.source_bucket)
    found = statements(template, role_id)
    actions = sorted(a for s in found for a in as_list(s["Action"]))
    assert actions == ["s3:GetBucketAcl", "s3:GetObject", "s3:ListBucket"]
    by_action = {a: s for s in found for a in as_list(s["Action"])}
    assert by_action["s3:ListBucket"]["Resource"] == {"Fn::GetAtt": [bucket_id, "Arn"]}
    assert by_action["s3:GetObject"]["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/AWSLogs/123456789012/CloudTrail/*"]]
    }
    for statement in found:
        assert statement["Condition"]["StringEquals"]["aws:SourceArn"] == STORE_ARN


def test_handler_may_pass_the_access_role_only_to_cloudtrail(synth: Synth) -> None:
    stack, construct, template = synth()
    role_id = logical_id(stack, construct.handler.role)
    access_role_id = logical_id(stack, construct.access_role)
    pass_role = [s for s in statements(template, role_id) if "iam:PassRole" in as_list(s["Action"])]
    assert pass_role == [
        {
            "Action": "iam:PassRole",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [access_role_id, "Arn"]},
            "Condition": {"StringEquals": {"iam:PassedToService": "cloudtrail.amazonaws.com"}},
        }
    ]


def test_handler_wildcard_is_only_for_the_import_actions_that_have_no_resource_type(
    synth: Synth,
) -> None:
    stack, construct, template = synth()
    role_id = logical_id(stack, construct.handler.role)
    found = statements(template, role_id)
    wildcard = [s for s in found if s["Resource"] == "*"]
    assert len(wildcard) == 1
    assert sorted(as_list(wildcard[0]["Action"])) == sorted(IMPORT_ACTIONS)
    all_actions = sorted(a for s in found for a in as_list(s["Action"]))
    assert all_actions == sorted(
        [
            *IMPORT_ACTIONS,
            "cloudtrail:GetEventDataStore",
            "iam:PassRole",
            "lambda:InvokeFunction",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "s3:GetBucketOwnershipControls",
            "s3:ListBucket",
            "sqs:SendMessage",
        ]
    )
    for statement in found:
        assert not any(a.endswith("*") for a in as_list(statement["Action"]))


def test_handler_can_invoke_only_itself_and_the_import_waits_for_that_permission(
    synth: Synth,
) -> None:
    stack, construct, template = synth(wait_for_completion=True)
    function_id = logical_id(stack, construct.handler)
    invoke_policies = [
        (policy_id, p)
        for policy_id, p in resources(template, "AWS::IAM::Policy").items()
        if "lambda:InvokeFunction" in json.dumps(p)
    ]
    assert len(invoke_policies) == 1
    policy_id, policy = invoke_policies[0]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": "lambda:InvokeFunction",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [function_id, "Arn"]},
        }
    ]
    custom = only(template, "Custom::CloudTrailLakeImport")
    assert policy_id in custom["DependsOn"]


def test_handler_runs_the_newest_python_on_arm64_with_a_log_retention(synth: Synth) -> None:
    _, _, template = synth()
    function = only(template, "AWS::Lambda::Function")["Properties"]
    assert function["Runtime"] == "python3.14"
    assert function["Architectures"] == ["arm64"]
    assert function["Handler"] == "index.handler"
    log_group = only(template, "AWS::Logs::LogGroup")["Properties"]
    assert log_group["RetentionInDays"] == 365


def test_custom_resource_properties_are_the_handler_contract(synth: Synth) -> None:
    stack, construct, template = synth(
        event_data_store=STORE_ARN,
        source_prefix="AWSLogs/",
        start_event_time=datetime(2024, 1, 1, 1, 2, 3, tzinfo=UTC),
        end_event_time=datetime(2024, 2, 1, tzinfo=UTC),
        wait_for_completion=True,
        completion_timeout=cdk.Duration.minutes(30),
        stop_on_delete=False,
        retry_token="2",
    )
    custom = only(template, "Custom::CloudTrailLakeImport")
    props = custom["Properties"]
    access_role_id = logical_id(stack, construct.access_role)
    bucket_id = logical_id(stack, construct.source_bucket)
    assert props["Destinations"] == [STORE_ARN]
    assert props["ImportSource"] == {
        "S3": {
            "S3LocationUri": {"Fn::Join": ["", ["s3://", {"Ref": bucket_id}, "/AWSLogs/"]]},
            "S3BucketRegion": {"Ref": "AWS::Region"},
            "S3BucketAccessRoleArn": {"Fn::GetAtt": [access_role_id, "Arn"]},
        }
    }
    assert props["StartEventTime"] == "2024-01-01T01:02:03Z"
    assert props["EndEventTime"] == "2024-02-01T00:00:00Z"
    assert props["WaitForCompletion"] == "true"
    assert props["CompletionTimeoutSeconds"] == "1800"
    assert props["StopOnDelete"] == "false"
    assert props["RetryToken"] == "2"
    assert props["ServiceTimeout"] == "2100"


def test_window_and_retry_token_are_omitted_when_not_set(synth: Synth) -> None:
    _, _, template = synth()
    props = only(template, "Custom::CloudTrailLakeImport")["Properties"]
    assert "StartEventTime" not in props
    assert "EndEventTime" not in props
    assert "RetryToken" not in props
    assert props["WaitForCompletion"] == "false"
    assert props["StopOnDelete"] == "true"


def test_existing_bucket_and_store_construct_are_used_as_given(synth: Synth) -> None:
    app = new_app()
    stack = cdk.Stack(app, "Existing")
    bucket = s3.Bucket.from_bucket_name(stack, "Archive", "my-trail-archive")
    store = cloudtrail.CfnEventDataStore(stack, "Store", ingestion_enabled=False)
    construct = CloudTrailLakeImport(stack, "Import", source_bucket=bucket, event_data_store=store)
    template = cdk.assertions.Template.from_stack(stack)
    assert resources(template, "AWS::S3::Bucket") == {}
    assert len(resources(template, "AWS::CloudTrail::EventDataStore")) == 1
    assert construct.event_data_store is store
    props = only(template, "Custom::CloudTrailLakeImport")["Properties"]
    assert props["ImportSource"]["S3"]["S3LocationUri"] == "s3://my-trail-archive/"
    assert props["Destinations"] == [
        {"Fn::GetAtt": [stack.get_logical_id(store), "EventDataStoreArn"]}
    ]


def test_attributes_expose_the_import_id_and_status(synth: Synth) -> None:
    stack, construct, _ = synth()
    custom_id = logical_id(stack, construct.custom_resource)
    assert stack.resolve(construct.import_id) == {"Fn::GetAtt": [custom_id, "ImportId"]}
    assert stack.resolve(construct.import_status) == {"Fn::GetAtt": [custom_id, "ImportStatus"]}
    assert construct.event_data_store is not None
    assert stack.resolve(construct.event_data_store_arn) == {
        "Fn::GetAtt": [stack.get_logical_id(construct.event_data_store), "EventDataStoreArn"]
    }
