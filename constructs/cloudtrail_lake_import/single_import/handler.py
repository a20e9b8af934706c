"""The custom resource's handler: the function with its role, log group and dead-letter queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

from cloudtrail_lake_import.policy.handler_policies import self_invoke_policy
from cloudtrail_lake_import.single_import.handler_asset import handler_code
from cloudtrail_lake_import.single_import.handler_permissions import grant_handler_permissions
from constructs import Construct

# A handler that waits polls inside one invocation for up to 15 minutes, then continues itself.
WAITING_HANDLER_TIMEOUT = Duration.minutes(15)
QUICK_HANDLER_TIMEOUT = Duration.minutes(3)
# The guard holds every selected file's key in memory (about 300 B each): 1 GB for a window of
# a few million files, and Lambda's CPU and network grow with it.
GUARDED_MEMORY_MB = 1024
QUICK_MEMORY_MB = 256
# Lambda's own maximum: a crash or timeout is retried twice (1 and 2 minutes later), and the
# handler tolerates a repeated request (it adopts the import it already started).
ASYNC_RETRY_ATTEMPTS = 2
# Messages in the dead-letter queue hold a CloudFormation request whose ResponseURL expires
# within hours; four days cover a weekend of not looking.
DEAD_LETTER_RETENTION = Duration.days(4)


@dataclass(frozen=True)
class HandlerNetwork:
    """Where the handler runs: outside any VPC unless ``vpc`` is given."""

    vpc: ec2.IVpc | None
    vpc_subnets: ec2.SubnetSelection | None
    security_groups: Sequence[ec2.ISecurityGroup] | None


@dataclass(frozen=True)
class HandlerSource:
    """What the handler reads and hands to CloudTrail: the archive, the store, the access role."""

    bucket: s3.IBucket
    prefix: str
    encryption_key: kms.IKey | None
    event_data_store_arn: str
    may_be_organization_store: bool
    access_role: iam.IRole


class ImportHandler(Construct):
    """The Lambda function that serves ``Custom::CloudTrailLakeImport``, with its role, log
    group, dead-letter queue and (in a VPC) security group and network-interface policy.

    :ivar function: the function (the ``Default`` child, so its logical id is this construct's).
    :ivar role: its execution role.
    :ivar log_group: its log group.
    :ivar dead_letter_queue: where Lambda puts a request or continuation it gave up on.
    :ivar self_invoke_policy: lets a waiting invocation continue in a fresh one; the custom
        resource depends on it.
    :ivar vpc_access_policy: the network-interface rights Lambda needs in a VPC, else None.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        source: HandlerSource,
        waits: bool,
        guarded: bool,
        max_event_age: Duration,
        role_name: str | None,
        log_retention: logs.RetentionDays,
        log_encryption_key: kms.IKey | None,
        reserved_concurrency: int | None,
        network: HandlerNetwork,
    ) -> None:
        super().__init__(scope, id)
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Runs the CloudTrail Lake import custom resource",
        )
        self.log_group = self._new_log_group(log_retention, log_encryption_key)
        self.log_group.grant_write(self.role)
        grant_handler_permissions(self.role, source, reads_objects=guarded)
        # Where Lambda puts a request or continuation it gave up on (retries exhausted or older
        # than max_event_age): without it a lost continuation is invisible and the stack waits
        # out its service timeout. AWS-managed SQS key: free, and usable by the handler role.
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS_MANAGED,
            enforce_ssl=True,
            retention_period=DEAD_LETTER_RETENTION,
        )
        self.function = lambda_.Function(
            self,
            "Default",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler="index.handler",
            code=handler_code(),
            role=self.role,
            log_group=self.log_group,
            memory_size=GUARDED_MEMORY_MB if guarded else QUICK_MEMORY_MB,
            timeout=WAITING_HANDLER_TIMEOUT if waits or guarded else QUICK_HANDLER_TIMEOUT,
            description="CloudTrail Lake import custom resource (cdk-cloudtrail-lake-import)",
            reserved_concurrent_executions=reserved_concurrency,
            # CloudFormation and the handler itself invoke asynchronously. A request older than
            # the service timeout has no listener left and must not start an import late.
            retry_attempts=ASYNC_RETRY_ATTEMPTS,
            max_event_age=max_event_age,
            dead_letter_queue=self.dead_letter_queue,
            vpc=network.vpc,
            vpc_subnets=network.vpc_subnets,
            security_groups=self._security_groups(network),
        )
        self.vpc_access_policy: iam.Policy | None = None
        if network.vpc is not None:
            # Lambda checks these permissions when it creates the function in the VPC.
            self.vpc_access_policy = self._new_vpc_access_policy()
            self.function.node.add_dependency(self.vpc_access_policy)
        self.self_invoke_policy = self_invoke_policy(
            self, self.role, self.function, id="SelfInvokePolicy"
        )

    def _new_log_group(
        self, retention: logs.RetentionDays, encryption_key: kms.IKey | None
    ) -> logs.LogGroup:
        return logs.LogGroup(self, "Logs", retention=retention, encryption_key=encryption_key)

    def _security_groups(self, network: HandlerNetwork) -> list[ec2.ISecurityGroup] | None:
        if network.vpc is None:
            return None
        if network.security_groups:
            return list(network.security_groups)
        # Every endpoint the handler calls (AWS APIs, the response URL) speaks HTTPS.
        group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=network.vpc,
            description="CloudTrail Lake import handler: HTTPS out only",
            allow_all_outbound=False,
        )
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs")
        return [group]

    def _new_vpc_access_policy(self) -> iam.Policy:
        # What AWS's AWSLambdaVPCAccessExecutionRole grants, inline: Lambda manages the
        # function's network interfaces with the execution role (no resource-level scoping).
        return iam.Policy(
            self,
            "VpcAccessPolicy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    actions=[
                        "ec2:CreateNetworkInterface",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DescribeSubnets",
                        "ec2:DeleteNetworkInterface",
                        "ec2:AssignPrivateIpAddresses",
                        "ec2:UnassignPrivateIpAddresses",
                    ],
                    resources=["*"],
                )
            ],
        )
