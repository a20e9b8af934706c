"""Snapshots of the synthesized templates: stable across runs, machines and bytecode caches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from app import build_app
from cloudtrail_lake_import import CloudTrailLakeImport
from tests.cdk_json import RECOMMENDED_CONTEXT
from tests.construct.conftest import hardening_vpc, new_app

HANDLER_DIR = Path(__file__).resolve().parents[2] / "lambda" / "start_import"


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@contextmanager
def stray_bytecode_in_handler_folder() -> Iterator[None]:
    """Put stray bytecode where Python would, as on any machine that ran the handler's tests."""
    created: list[Path] = []
    for folder in (HANDLER_DIR / "__pycache__", HANDLER_DIR / "import_handler" / "__pycache__"):
        folder.mkdir(exist_ok=True)
        stray = folder / "snapshot_probe.cpython-311.pyc"
        stray.write_bytes(b"not the same on every machine")
        created.append(stray)
    try:
        yield
    finally:
        for stray in created:
            stray.unlink()


def default_app_template() -> dict[str, Any]:
    app = build_app(RECOMMENDED_CONTEXT)
    (stack,) = [c for c in app.node.children if isinstance(c, cdk.Stack)]
    return dict(Template.from_stack(stack).to_json())


def fully_configured_template() -> dict[str, Any]:
    app = new_app()
    stack = cdk.Stack(app, "FullyConfigured")
    key = kms.Key(stack, "ArchiveKey", enable_key_rotation=True)
    CloudTrailLakeImport(
        stack,
        "Import",
        source_prefix="AWSLogs/111122223333/CloudTrail/",
        source_encryption_key=key,
        event_data_store_retention=cdk.Duration.days(3653),
        event_data_store_encryption_key=key,
        start_event_time=datetime(2024, 1, 1, tzinfo=UTC),
        end_event_time=datetime(2025, 1, 1, tzinfo=UTC),
        wait_for_completion=True,
        completion_timeout=cdk.Duration.minutes(45),
        stop_on_delete=False,
        retry_token="1",
        log_encryption_key=key,
        reserved_concurrent_executions=3,
        vpc=hardening_vpc(stack),
        server_access_logs_bucket=s3.Bucket.from_bucket_name(stack, "AccessLogs", "my-s3-logs"),
        server_access_logs_prefix="trail-archive/",
    )
    return dict(Template.from_stack(stack).to_json())


def test_default_app_template(snapshot_json: SnapshotAssertion) -> None:
    assert default_app_template() == snapshot_json


def test_fully_configured_template(snapshot_json: SnapshotAssertion) -> None:
    assert fully_configured_template() == snapshot_json


def test_template_is_the_same_on_every_synth() -> None:
    assert default_app_template() == default_app_template()


def test_bytecode_caches_do_not_change_the_template() -> None:
    without = default_app_template()
    with stray_bytecode_in_handler_folder():
        assert default_app_template() == without
