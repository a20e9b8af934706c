"""examples/cross_account.py: one app, two accounts, synthesized from the installed wheel the way
a user runs it, as a pair of ordered stacks and as a CDK Pipelines stage; cdk-nag on both."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks

from tests.cdk_json import ROOT
from tests.construct.conftest import run_user_app

EXAMPLE = ROOT / "examples" / "cross_account.py"
MANAGEMENT = "111111111111"
LOG_ARCHIVE = "222222222222"
KEY_ARN = f"arn:aws:kms:eu-west-1:{LOG_ARCHIVE}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CONTEXT = {"managementAccount": MANAGEMENT, "logArchiveAccount": LOG_ARCHIVE}
STAGE = "assembly-CrossAccountImport"
OWNER_STACK = "CrossAccountImportTrailArchiveC501368A"
IMPORT_STACK = "CrossAccountImportLakeImport5DC5D0A4"


def synth_example(installed_wheel: Path, tmp_path: Path, *args: str, **context: str) -> Path:
    """Run a copy of the example outside the checkout, with context as the CDK CLI passes it."""
    app_file = tmp_path / "cross_account.py"
    shutil.copy(EXAMPLE, app_file)
    out = tmp_path / "cdk.out"
    env = {"CDK_CONTEXT_JSON": json.dumps({**CONTEXT, **context})}
    run_user_app(installed_wheel, app_file, str(out), *args, cwd=tmp_path, env=env)
    return out


@pytest.fixture(scope="module")
def stage(installed_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example with its default context, synthesized once for the tests that only read it."""
    return synth_example(installed_wheel, tmp_path_factory.mktemp("example")) / STAGE


def template(folder: Path, stack: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((folder / f"{stack}.template.json").read_text())
    return loaded


def of_type(template: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == type_]


def bucket_statements(owner: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The archive's grants (the access logs bucket has a policy too, without any)."""
    statements = [
        statement
        for policy in of_type(owner, "AWS::S3::BucketPolicy")
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    return {s["Sid"]: s for s in statements if s.get("Sid", "").startswith("CloudTrailLakeImport")}


def test_the_example_deploys_the_owners_grants_first_then_the_import_in_the_management_account(
    stage: Path,
) -> None:

    artifacts = json.loads((stage / "manifest.json").read_text())["artifacts"]
    owner_stack = artifacts[OWNER_STACK]
    import_stack = artifacts[IMPORT_STACK]
    assert owner_stack["environment"] == f"aws://{LOG_ARCHIVE}/eu-west-1"
    assert import_stack["environment"] == f"aws://{MANAGEMENT}/eu-west-1"
    assert OWNER_STACK in import_stack["dependencies"]


def test_the_owners_stack_grants_exactly_the_two_named_roles_of_the_management_account(
    stage: Path,
) -> None:
    owner = template(stage, OWNER_STACK)
    importer = template(stage, IMPORT_STACK)

    granted = bucket_statements(owner)
    role_names = sorted(r["Properties"]["RoleName"] for r in of_type(importer, "AWS::IAM::Role"))
    assert role_names == ["cloudtrail-lake-import-access", "cloudtrail-lake-import-handler"]
    principals = {
        sid: s["Condition"]["ArnEquals"]["aws:PrincipalArn"] for sid, s in granted.items()
    }
    access = f"arn:aws:iam::{MANAGEMENT}:role/cloudtrail-lake-import-access"
    handler = f"arn:aws:iam::{MANAGEMENT}:role/cloudtrail-lake-import-handler"
    assert principals == {
        "CloudTrailLakeImportListBucket": access,
        "CloudTrailLakeImportReadObjects": access,
        "CloudTrailLakeImportPreflight": handler,
        "CloudTrailLakeImportPreflightList": handler,
    }
    for statement in granted.values():
        principal = json.dumps(statement["Principal"])
        assert principal.endswith(f':iam::{MANAGEMENT}:root"]]}}}}'), principal
    objects = json.dumps(granted["CloudTrailLakeImportReadObjects"]["Resource"])
    assert f"org-trail-archive-{LOG_ARCHIVE}-eu-west-1/AWSLogs/o-exampleorgid/*" in objects


def test_the_import_reads_the_other_accounts_bucket_into_an_organization_store(stage: Path) -> None:
    importer = template(stage, IMPORT_STACK)

    (store,) = of_type(importer, "AWS::CloudTrail::EventDataStore")
    assert store["Properties"]["OrganizationEnabled"] is True
    (resource,) = of_type(importer, "Custom::CloudTrailLakeImport")
    properties = resource["Properties"]
    assert properties["SourceBucketOwner"] == LOG_ARCHIVE
    assert properties["ImportSource"]["S3"]["S3LocationUri"] == (
        f"s3://org-trail-archive-{LOG_ARCHIVE}-eu-west-1/AWSLogs/o-exampleorgid/"
    )
    outputs = importer["Outputs"]
    assert [k for k in outputs if "SourceBucketPolicyStatements" in k]


def test_an_sse_kms_archive_gets_the_keys_statement_printed_for_its_owner(
    installed_wheel: Path, tmp_path: Path
) -> None:
    stage = synth_example(installed_wheel, tmp_path, archiveKeyArn=KEY_ARN) / STAGE
    importer = template(stage, IMPORT_STACK)

    (key_output,) = [v for k, v in importer["Outputs"].items() if "SourceKeyPolicyStatements" in k]
    assert "kms:Decrypt" in json.dumps(key_output["Value"])
    decrypts = [
        statement
        for policy in of_type(importer, "AWS::IAM::Policy")
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Resource") == KEY_ARN
    ]
    assert decrypts, "the access role may decrypt with the archive's key"


def test_the_pipeline_deploys_the_pair_as_one_stage_owner_first(
    installed_wheel: Path, tmp_path: Path
) -> None:
    out = synth_example(installed_wheel, tmp_path, "--pipeline")

    pipeline = template(out, "LakeImportPipeline")
    (codepipeline,) = of_type(pipeline, "AWS::CodePipeline::Pipeline")
    stages = {s["Name"]: s for s in codepipeline["Properties"]["Stages"]}
    deploys = {
        action["Name"]: action["RunOrder"]
        for action in stages["CrossAccountImport"]["Actions"]
        if action["Name"].endswith(".Deploy")
    }
    assert deploys["TrailArchive.Deploy"] < deploys["LakeImport.Deploy"]
    # The log-archive account's stack is deployed through that account's bootstrap roles.
    roles = json.dumps(stages["CrossAccountImport"])
    assert f":iam::{LOG_ARCHIVE}:role/cdk-hnb659fds-deploy-role-{LOG_ARCHIVE}-" in roles
    # The synth step builds this example's pipeline, not the repository's default app.
    commands = [
        command
        for project in of_type(pipeline, "AWS::CodeBuild::Project")
        for phase in json.loads(project["Properties"]["Source"]["BuildSpec"])["phases"].values()
        for command in phase.get("commands", [])
    ]
    assert 'npx cdk synth --app "python3 examples/cross_account.py --pipeline"' in commands


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cross_account_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_both_stacks_of_the_example_pass_cdk_nag() -> None:
    example = load_example()
    app = example.app(context={**CONTEXT, "archiveKeyArn": KEY_ARN})
    (stage,) = [c for c in app.node.children if isinstance(c, cdk.Stage)]
    stacks = [c for c in stage.node.children if isinstance(c, cdk.Stack)]

    assert len(stacks) == 2
    for stack in stacks:
        report = AwsSolutionsChecks(app).validate_scope(stack)
        assert [v.rule_name for v in report.violations] == [], stack.stack_name
