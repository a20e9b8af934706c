"""``estimate`` counts what StartImport reads outside the trail layout too, refuses what it
cannot size, and says why: problem files by name, why a result is 0, where the price is from."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cloudtrail_lake_import.cli import cli
from cloudtrail_lake_import.handler_rules import archive_walk, sizing
from tests.cli.archives import figures, upload, write_inventory
from tests.e2e.s3_tls import MotoS3Tls
from tests.lake_emulator.trail_archive import TrailArchive, generate_archive

pytestmark = pytest.mark.usefixtures("account")


@pytest.fixture(scope="session")
def archive() -> TrailArchive:
    return generate_archive(seed=11, accounts=("111122223333",), regions=("us-east-1",))


def run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(cli, list(args), env={"COLUMNS": "400"})


def estimate_json(runner: CliRunner, *args: str) -> dict[str, Any]:
    result = run(runner, "estimate", *args, "--json")
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def flat_copy(archive: TrailArchive, folder: str, *, keep_names: bool = True) -> dict[str, bytes]:
    """The archive's log files side by side under ``folder`` (as ``aws s3 cp`` of each file)."""
    return {
        folder + (f.key.rsplit("/", 1)[-1] if keep_names else f"part-{index:05d}.json.gz"): f.body
        for index, f in enumerate(archive.log_files)
    }


def test_an_archive_copied_flat_under_a_prefix_counts_every_file_the_import_reads(
    runner: CliRunner, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    bucket = upload(s3_server.client(), TrailArchive((), ()), flat_copy(archive, "legacy-copy/"))
    document = estimate_json(runner, f"s3://{bucket}/legacy-copy/")
    expected = figures(archive.log_files)
    assert (document["files"], document["uncompressed_bytes"]) == (
        expected.files,
        expected.uncompressed_bytes,
    )
    assert document["uncompressed_exact"] is True
    assert document["no_file_matched"] is None


def test_a_flat_copy_is_matched_against_the_window_by_the_stamps_in_its_names(
    runner: CliRunner, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    bucket = upload(s3_server.client(), TrailArchive((), ()), flat_copy(archive, "legacy-copy/"))
    first = archive.log_files[0].timestamp
    last = archive.log_files[-1].timestamp
    middle = first + (last - first) / 2
    kept = [f for f in archive.log_files if f.timestamp <= middle]
    assert 0 < len(kept) < len(archive.log_files)
    document = estimate_json(
        runner, f"s3://{bucket}/legacy-copy/", "--end", middle.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    assert document["files"] == len(kept)
    assert document["uncompressed_bytes"] == figures(kept).uncompressed_bytes


def test_names_that_cannot_be_matched_against_the_window_are_refused_not_counted_as_0(
    runner: CliRunner, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    copy = flat_copy(archive, "legacy-copy/", keep_names=False)
    bucket = upload(s3_server.client(), TrailArchive((), ()), copy)
    result = run(runner, "estimate", f"s3://{bucket}/legacy-copy/", "--start", "2025-01-10")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"cloudtrail-lake-import: error: cannot estimate s3://{bucket}/legacy-copy/: "
        f"{len(copy)} files outside the trail layout hold no date in their name"
    )
    assert "legacy-copy/part-00000.json.gz" in result.stderr
    assert result.stderr.count("\n") == 1
    # without a window every file is read, dated or not: that can be sized
    assert estimate_json(runner, f"s3://{bucket}/legacy-copy/")["files"] == len(copy)


def test_corrupt_non_gzip_and_empty_files_are_named_and_never_sized_as_0_bytes(
    runner: CliRunner, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    day = archive.log_files[0].key.rsplit("/", 1)[0]
    stamp = "111122223333_CloudTrail_us-east-1_20250110T2359Z_"
    problems = {
        f"{day}/{stamp}empty.json.gz": b"",
        f"{day}/{stamp}plain.json.gz": b'{"Records": []}' * 3,
    }
    bucket = upload(s3_server.client(), archive, problems)
    document = estimate_json(runner, f"s3://{bucket}")
    named = {p["key"]: p["problem"] for p in document["problem_files"]}
    assert named == {
        f"{day}/{stamp}empty.json.gz": "too small to be gzip (0 bytes): CloudTrail fails it",
        f"{day}/{stamp}plain.json.gz": (
            "corrupt or not gzip (its trailer fits no size): CloudTrail fails it"
        ),
    }
    assert document["unreadable_files"] == 2
    assert document["uncompressed_exact"] is False
    human = run(runner, "estimate", f"s3://{bucket}")
    assert f"{day}/{stamp}empty.json.gz: too small to be gzip (0 bytes)" in human.stdout


def test_a_result_of_0_says_which_layout_it_expected_and_which_prefixes_it_saw(
    runner: CliRunner, s3_server: MotoS3Tls
) -> None:
    bucket = upload(
        s3_server.client(),
        TrailArchive((), ()),
        {"exports/2025/trail.json.gz": b"x" * 40, "backups/AWSLogs/111122223333/x": b"y"},
    )
    document = estimate_json(runner, f"s3://{bucket}")
    assert document["files"] == 0
    why = document["no_file_matched"]
    assert why["expected_layout"].startswith("[<trail prefix>/]AWSLogs/")
    assert why["prefixes_seen"] == [
        "backups/",
        "backups/AWSLogs/",
        "backups/AWSLogs/111122223333/",
        "exports/",
        "exports/2025/",
    ]
    human = run(runner, "estimate", f"s3://{bucket}")
    assert "no file matched: from the bucket root, an import reads" in human.stdout
    assert "exports/2025/" in human.stdout


def test_the_price_says_where_it_is_from_and_price_per_gb_overrides_the_table(
    runner: CliRunner, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    bucket = upload(s3_server.client(), archive)
    table = estimate_json(runner, f"s3://{bucket}", "--billing-mode", "FIXED_RETENTION_PRICING")
    assert table["price_source"] == (
        "AWS CloudTrail pricing, US East (N. Virginia), first tier, as of 2023-09-20 "
        "(https://aws.amazon.com/cloudtrail/pricing/)"
    )
    given = estimate_json(
        runner, f"s3://{bucket}", "--billing-mode", "FIXED_RETENTION_PRICING", "--price-per-gb", "1"
    )
    assert (given["price_per_gb_usd"], given["price_source"]) == (1, "--price-per-gb")
    gb = given["uncompressed_bytes"] / 10**9
    assert given["estimated_cost_usd"] == pytest.approx(gb, abs=1e-6)
    human = run(runner, "estimate", f"s3://{bucket}").stdout
    assert "as of 2023-09-20 (https://aws.amazon.com/cloudtrail/pricing/)" in human


def test_the_region_option_works_after_the_subcommand(
    runner: CliRunner, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    bucket = upload(s3_server.client(), archive)
    document = estimate_json(runner, f"s3://{bucket}", "--region", "eu-west-1")
    assert document["files"] == len(archive.log_files)
    status = run(runner, "status", "00000000-0000-0000-0000-000000000000", "--region", "eu-west-1")
    assert "not found in eu-west-1 (ImportNotFoundException)" in status.stderr


def test_an_inventory_counts_a_flat_copy_as_the_listing_does_and_refuses_alike(
    runner: CliRunner, s3_server: MotoS3Tls, archive: TrailArchive, tmp_path: Path
) -> None:
    s3 = s3_server.client()
    dated = flat_copy(archive, "legacy-copy/")
    undated = flat_copy(archive, "undated-copy/", keep_names=False)
    bucket = upload(s3, archive, {**dated, **undated})
    manifest = write_inventory(s3, bucket, "CSV", tmp_path)
    for location in ("legacy-copy/", ""):
        listed = estimate_json(runner, f"s3://{bucket}/{location}", "--end", "2025-01-12")
        counted = estimate_json(
            runner, f"s3://{bucket}/{location}", "--end", "2025-01-12", "--inventory", manifest
        )
        assert counted["files"] == listed["files"] > 0
        assert counted["compressed_bytes"] == listed["compressed_bytes"]
    refused = run(
        runner,
        "estimate",
        f"s3://{bucket}/undated-copy/",
        "--end",
        "2025-01-12",
        "--inventory",
        manifest,
    )
    assert refused.exit_code == 1
    assert "files outside the trail layout hold no date in their name" in refused.stderr


def test_the_shared_selection_returns_exactly_the_keys_an_import_reads(
    s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    """``archive_walk.files_import_reads``: the one function callers use for that set."""
    copy = flat_copy(archive, "legacy-copy/")
    s3 = s3_server.client()
    bucket = upload(s3, archive, {**copy, "legacy-copy/x_CloudTrail-Digest_y.json.gz": b"d"})
    with ThreadPoolExecutor(4) as pool:
        flat = archive_walk.files_import_reads(
            s3, bucket, "legacy-copy/", sizing.Window(), pool=pool
        )
        layout = archive_walk.files_import_reads(s3, bucket, "", sizing.Window(), pool=pool)
    assert [f.key for f in flat] == sorted(copy)
    assert [f.key for f in layout] == sorted(f.key for f in archive.log_files)


def test_a_subcommands_option_before_the_subcommand_says_where_it_goes(runner: CliRunner) -> None:
    result = run(runner, "--json", "estimate", "s3://trail-archive/")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "(--json is an option of estimate, status and verify: put it after the subcommand, e.g. "
        "cloudtrail-lake-import estimate ... --json)\n"
    )
    assert result.stderr.count("\n") == 1


def test_without_duckdb_the_hint_installs_it_from_pypi_or_the_wheel_not_a_missing_package(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The package is not on a package index yet: ``pip install cdk-cloudtrail-lake-import[…]``
    would not resolve. DuckDB is on PyPI; the extra comes with the wheel or checkout."""
    monkeypatch.setitem(sys.modules, "duckdb", None)  # ``import duckdb`` raises ImportError
    result = run(
        runner, "estimate", "s3://trail-archive/", "--inventory", "s3://inv/x/manifest.json"
    )
    assert result.exit_code == 1
    assert "pip install 'duckdb>=1.1,<3'" in result.stderr
    assert "cdk_cloudtrail_lake_import-<version>-py3-none-any.whl[inventory]" in result.stderr
    assert "pip install 'cdk-cloudtrail-lake-import[inventory]'" not in result.stderr
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert 'inventory = ["duckdb>=1.1,<3"]' in pyproject  # the hint names the extra's pin
