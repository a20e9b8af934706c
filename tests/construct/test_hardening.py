"""The hardening props: async failure queue, reserved concurrency, log key, VPC, access logs."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match

from cloudtrail_lake_import import CloudTrailLakeImport
from cloudtrail_lake_import.validation import CloudTrailLakeImportPropsError
from tests.construct.conftest import Synth, hardening_vpc, logical_id, new_app, only, resources

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def build(**props: Any) -> tuple[cdk.Stack, CloudTrailLakeImport, cdk.assertions.Template]:
    """Like the ``synth`` fixture, but props may be functions of the stack (VPCs, keys)."""
    stack = cdk.Stack(new_app(), "TestStack")
    resolved = {name: value(stack) if callable(value) else value for name, value in props.items()}
    construct = CloudTrailLakeImport(stack, "Import", **resolved)
    return stack, construct, cdk.assertions.Template.from_stack(stack)


def checkov_skips(template: cdk.assertions.Template, type_: str) -> list[str]:
    metadata = only(template, type_).get("Metadata", {})
    return [skip["id"] for skip in metadata.get("checkov", {}).get("skip", [])]


def test_lost_async_invocations_go_to_an_encrypted_short_lived_queue(synth: Synth) -> None:
    stack, construct, template = synth()
    queue_id = logical_id(stack, construct.handler_dead_letter_queue)
    function = only(template, "AWS::Lambda::Function")["Properties"]
    assert function["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    queue = only(template, "AWS::SQS::Queue")["Properties"]
    assert queue["KmsMasterKeyId"] == "alias/aws/sqs"
    assert queue["MessageRetentionPeriod"] == 4 * 24 * 3600
    policy = only(template, "AWS::SQS::QueuePolicy")["Properties"]["PolicyDocument"]
    assert policy["Statement"][0]["Effect"] == "Deny"
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize(
    ("props", "max_age"),
    [
        ({}, 300),
        ({"wait_for_completion": True, "completion_timeout": cdk.Duration.minutes(45)}, 3000),
    ],
)
def test_async_retries_are_bounded_by_the_service_timeout(
    synth: Synth, props: dict[str, Any], max_age: int
) -> None:
    _, _, template = synth(**props)
    config = only(template, "AWS::Lambda::EventInvokeConfig")["Properties"]
    assert config["MaximumRetryAttempts"] == 2
    assert config["MaximumEventAgeInSeconds"] == max_age
    custom = only(template, "Custom::CloudTrailLakeImport")["Properties"]
    assert custom["ServiceTimeout"] == str(max_age)


def test_handler_may_send_only_to_its_own_queue(synth: Synth) -> None:
    stack, construct, template = synth()
    queue_arn = {"Fn::GetAtt": [logical_id(stack, construct.handler_dead_letter_queue), "Arn"]}
    sends = [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "sqs" in str(statement["Action"])
    ]
    assert sends == [{"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": queue_arn}]


@pytest.mark.parametrize(
    ("given", "declared"), [({}, 2), ({"reserved_concurrent_executions": 5}, 5)]
)
def test_reserved_concurrency_is_small_by_default_and_configurable(
    synth: Synth, given: dict[str, Any], declared: int
) -> None:
    _, _, template = synth(**given)
    assert (
        only(template, "AWS::Lambda::Function")["Properties"]["ReservedConcurrentExecutions"]
        == declared
    )


def test_reserving_nothing_is_a_choice_checkov_is_told_about(synth: Synth) -> None:
    _, _, template = synth(reserved_concurrent_executions=None)
    assert (
        "ReservedConcurrentExecutions" not in only(template, "AWS::Lambda::Function")["Properties"]
    )
    assert "CKV_AWS_115" in checkov_skips(template, "AWS::Lambda::Function")


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"reserved_concurrent_executions": 0}, "at least 1"),
        ({"reserved_concurrent_executions": 1, "wait_for_completion": True}, "at least 2"),
    ],
)
def test_too_little_reserved_concurrency_fails_synth(
    synth: Synth, props: dict[str, Any], expected: str
) -> None:
    with pytest.raises(CloudTrailLakeImportPropsError) as raised:
        synth(**props)
    assert "reserved_concurrent_executions" in str(raised.value)
    assert expected in str(raised.value)


def test_log_key_in_the_stack_encrypts_the_logs_and_lets_cloudwatch_logs_use_it() -> None:
    stack, _, template = build(
        log_encryption_key=lambda s: kms.Key(s, "LogKey", enable_key_rotation=True)
    )
    key_id = next(iter(resources(template, "AWS::KMS::Key")))
    log_group = only(template, "AWS::Logs::LogGroup")["Properties"]
    assert log_group["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    key_policy = only(template, "AWS::KMS::Key")["Properties"]["KeyPolicy"]["Statement"]
    (for_logs,) = [
        s for s in key_policy if s.get("Sid") == "AllowCloudWatchLogsForCloudTrailLakeImport"
    ]
    assert for_logs["Principal"] == {
        "Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
    }
    assert "kms:GenerateDataKey*" in for_logs["Action"]
    assert "kms:EncryptionContext:aws:logs:arn" in str(for_logs["Condition"])
    assert "CKV_AWS_158" not in checkov_skips(template, "AWS::Logs::LogGroup")
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp("log_encryption"))


def test_imported_log_key_warns_that_its_policy_must_allow_cloudwatch_logs() -> None:
    stack, _, template = build(log_encryption_key=lambda s: kms.Key.from_key_arn(s, "K", KEY_ARN))
    assert only(template, "AWS::Logs::LogGroup")["Properties"]["KmsKeyId"] == KEY_ARN
    Annotations.from_stack(stack).has_warning(
        "/TestStack/Import", Match.string_like_regexp("logs.<region>.amazonaws.com")
    )


def test_handler_in_a_vpc_gets_an_https_only_group_and_network_interface_rights() -> None:
    _, _, template = build(vpc=hardening_vpc)
    function = only(template, "AWS::Lambda::Function")
    config = function["Properties"]["VpcConfig"]
    assert config["SubnetIds"] == ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
    group = only(template, "AWS::EC2::SecurityGroup")
    assert group["Properties"]["SecurityGroupEgress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTPS to AWS APIs",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    assert "SecurityGroupIngress" not in group["Properties"]
    (vpc_policy_id,) = [
        policy_id
        for policy_id, policy in resources(template, "AWS::IAM::Policy").items()
        if "ec2:CreateNetworkInterface" in str(policy)
    ]
    assert vpc_policy_id in function["DependsOn"]
    vpc_policy_skips = resources(template, "AWS::IAM::Policy")[vpc_policy_id]["Metadata"]["checkov"]
    assert [skip["id"] for skip in vpc_policy_skips["skip"]] == ["CKV_AWS_111"]
    assert "CKV_AWS_117" not in checkov_skips(template, "AWS::Lambda::Function")


def test_given_subnets_and_security_groups_place_the_handler() -> None:
    def groups(stack: cdk.Stack) -> list[ec2.ISecurityGroup]:
        return [ec2.SecurityGroup.from_security_group_id(stack, "Sg", "sg-0123456789abcdef0")]

    def subnets(stack: cdk.Stack) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(
            subnets=[ec2.Subnet.from_subnet_id(stack, "Subnet", "subnet-0ccccccccccccccc")]
        )

    _, _, template = build(vpc=hardening_vpc, vpc_subnets=subnets, security_groups=groups)
    config = only(template, "AWS::Lambda::Function")["Properties"]["VpcConfig"]
    assert config == {
        "SecurityGroupIds": ["sg-0123456789abcdef0"],
        "SubnetIds": ["subnet-0ccccccccccccccc"],
    }
    assert resources(template, "AWS::EC2::SecurityGroup") == {}


def test_subnets_without_a_vpc_fail_synth() -> None:
    with pytest.raises(CloudTrailLakeImportPropsError, match="vpc_subnets need vpc"):
        build(vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS))


def test_server_access_logs_of_the_created_bucket_go_where_asked() -> None:
    _, _, template = build(
        server_access_logs_bucket=lambda s: s3.Bucket.from_bucket_name(s, "Logs", "my-s3-logs"),
        server_access_logs_prefix="trail-archive/",
    )
    (source,) = [
        b
        for b in resources(template, "AWS::S3::Bucket").values()
        if "LoggingConfiguration" in b["Properties"]
    ]
    assert source["Properties"]["LoggingConfiguration"] == {
        "DestinationBucketName": "my-s3-logs",
        "LogFilePrefix": "trail-archive/",
    }
    assert "CKV_AWS_18" not in str(source.get("Metadata", {}))


def test_access_logs_props_with_an_existing_bucket_fail_synth() -> None:
    with pytest.raises(CloudTrailLakeImportPropsError) as raised:
        build(
            source_bucket=lambda s: s3.Bucket.from_bucket_name(s, "Archive", "my-trail-archive"),
            server_access_logs_prefix="logs/",
        )
    assert "server_access_logs_prefix" in str(raised.value)
    assert "existing source_bucket" in str(raised.value)


def test_default_props_skip_exactly_the_checks_they_leave_open(synth: Synth) -> None:
    _, _, template = synth()
    assert checkov_skips(template, "AWS::Lambda::Function") == ["CKV_AWS_117"]
    assert checkov_skips(template, "AWS::Logs::LogGroup") == ["CKV_AWS_158"]
    assert checkov_skips(template, "AWS::S3::Bucket") == ["CKV_AWS_18"]
    for resource in template.to_json()["Resources"].values():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(skip["comment"]) > 80, skip


def test_an_existing_bucket_carries_no_skip(synth: Synth) -> None:
    _, _, template = build(
        source_bucket=lambda s: s3.Bucket.from_bucket_name(s, "Archive", "my-trail-archive")
    )
    assert resources(template, "AWS::S3::Bucket") == {}
    assert "CKV_AWS_18" not in str(template.to_json())
