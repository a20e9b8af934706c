"""``cloudtrail-lake-import estimate`` against moto S3: exact figures of generated archives."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner, Result

from cloudtrail_lake_import.cli import cli
from cloudtrail_lake_import.cli import clients as cli_clients
from tests.cli.archives import (
    NOT_IMPORTED,
    ORGANIZATION,
    figures,
    in_window,
    mixed_archive,
    upload,
    write_inventory,
)
from tests.e2e.s3_tls import MotoS3Tls
from tests.e2e.world import EmulatedAccount
from tests.lake_emulator.trail_archive import LogFile, TrailArchive, generate_archive

pytestmark = pytest.mark.usefixtures("account")


@pytest.fixture(scope="session")
def archive() -> TrailArchive:
    return mixed_archive()


@pytest.fixture(scope="session")
def bucket(s3_server: MotoS3Tls, archive: TrailArchive) -> str:
    return upload(s3_server.client(), archive, NOT_IMPORTED)


def run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(cli, list(args))


def estimate_json(runner: CliRunner, *args: str) -> dict[str, Any]:
    result = run(runner, "estimate", *args, "--json")
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def assert_figures(document: dict[str, Any], files: list[Any]) -> None:
    expected = figures(files)
    assert {k: document[k] for k in expected.__dataclass_fields__} == vars(expected)


def test_estimate_counts_exactly_the_trail_log_files_an_import_reads(
    runner: CliRunner, archive: TrailArchive, bucket: str
) -> None:
    document = estimate_json(runner, f"s3://{bucket}")
    assert_figures(document, in_window(archive))
    assert document["uncompressed_exact"] is True
    assert document["method"] == "listing"
    assert document["s3_requests"]["get"] == len(archive.log_files)


def test_estimate_of_a_window_counts_only_its_files_and_lists_only_its_days(
    runner: CliRunner, archive: TrailArchive, bucket: str
) -> None:
    start, end = at("2025-01-11T06:00:00"), at("2025-01-12T12:00:00")
    document = estimate_json(
        runner, f"s3://{bucket}/", "--start", "2025-01-11T06:00:00Z", "--end", "2025-01-12T12:00Z"
    )
    files = in_window(archive, start, end)
    assert 0 < len(files) < len(archive.log_files)
    assert_figures(document, files)
    assert (document["start"], document["end"]) == ("2025-01-11T06:00:00Z", "2025-01-12T12:00:00Z")
    # each region folder is listed flat from the window's first day (one call: < 1,000 keys)
    whole = estimate_json(runner, f"s3://{bucket}")
    assert document["s3_requests"]["list"] == whole["s3_requests"]["list"]


def test_estimate_of_an_organization_prefix_counts_its_accounts_only(
    runner: CliRunner, archive: TrailArchive, bucket: str
) -> None:
    document = estimate_json(runner, f"s3://{bucket}/AWSLogs/{ORGANIZATION}/")
    assert_figures(document, archive.in_window(f"AWSLogs/{ORGANIZATION}/"))


def test_estimate_prices_the_uncompressed_gb_of_the_billing_mode_or_the_given_price(
    runner: CliRunner, bucket: str
) -> None:
    default = estimate_json(runner, f"s3://{bucket}")
    gb = default["uncompressed_bytes"] / 10**9
    assert default["billing_mode"] == "EXTENDABLE_RETENTION_PRICING"
    assert default["price_per_gb_usd"] == 0.75
    assert default["estimated_cost_usd"] == pytest.approx(gb * 0.75, abs=1e-6)
    assert default["prices_as_of"] == "2023-09-20"
    fixed = estimate_json(runner, f"s3://{bucket}", "--billing-mode", "FIXED_RETENTION_PRICING")
    assert fixed["estimated_cost_usd"] == pytest.approx(gb * 2.5, abs=1e-6)
    custom = estimate_json(runner, f"s3://{bucket}", "--price-per-gb", "1000")
    assert (custom["price_per_gb_usd"], custom["billing_mode"]) == (1000, None)
    assert custom["estimated_cost_usd"] == pytest.approx(gb * 1000, abs=1e-6)


def test_a_sample_reads_n_files_and_says_the_size_is_extrapolated(
    runner: CliRunner, archive: TrailArchive, bucket: str
) -> None:
    document = estimate_json(runner, f"s3://{bucket}", "--sample", "10", "--seed", "1")
    expected = figures(archive.log_files)
    assert (document["files"], document["compressed_bytes"]) == (
        expected.files,
        expected.compressed_bytes,
    )
    assert document["uncompressed_exact"] is False
    assert document["sized_files"] == 10
    assert document["s3_requests"]["get"] == 10
    assert document["uncompressed_bytes"] == pytest.approx(expected.uncompressed_bytes, rel=0.25)
    assert estimate_json(runner, f"s3://{bucket}", "--sample", "10", "--seed", "1") == document


def test_the_human_output_is_a_table_that_says_how_the_size_was_found(
    runner: CliRunner, archive: TrailArchive, bucket: str
) -> None:
    expected = figures(archive.log_files)
    exact = run(runner, "estimate", f"s3://{bucket}")
    assert exact.exit_code == 0, exact.stderr
    assert f"log files         {expected.files:,}" in exact.stdout
    assert f"({expected.uncompressed_bytes:,} B), exact: gzip trailer of every file" in (
        exact.stdout
    )
    sampled = run(runner, "estimate", f"s3://{bucket}", "--sample", "5")
    assert f"extrapolated from 5 of {expected.files:,} files" in sampled.stdout


@pytest.mark.parametrize("file_format", ["CSV", "Parquet"])
def test_an_inventory_report_gives_the_figures_of_a_listing(
    runner: CliRunner,
    s3_server: MotoS3Tls,
    archive: TrailArchive,
    bucket: str,
    file_format: str,
    tmp_path: Path,
) -> None:
    old_version = {archive.log_files[0].key: 10**9}  # superseded: not read by an import
    manifest = write_inventory(
        s3_server.client(), bucket, file_format, tmp_path, superseded=old_version
    )
    start, end = at("2025-01-11T00:00:00"), at("2025-01-13T23:59:00")
    window = ["--start", "2025-01-11T00:00:00Z", "--end", "2025-01-13T23:59:00Z"]
    listed = estimate_json(runner, f"s3://{bucket}", *window)
    document = estimate_json(runner, f"s3://{bucket}", *window, "--inventory", manifest)
    assert_figures(document, in_window(archive, start, end))
    assert document["method"] == "inventory"
    assert document["s3_requests"]["list"] == 0
    for same in ("files", "compressed_bytes", "uncompressed_bytes", "uncompressed_exact"):
        assert document[same] == listed[same]


def test_an_inventory_with_a_sample_extrapolates(
    runner: CliRunner, s3_server: MotoS3Tls, archive: TrailArchive, bucket: str, tmp_path: Path
) -> None:
    manifest = write_inventory(s3_server.client(), bucket, "CSV", tmp_path)
    document = estimate_json(runner, f"s3://{bucket}", "--inventory", manifest, "--sample", "7")
    assert (document["files"], document["sized_files"], document["uncompressed_exact"]) == (
        len(archive.log_files),
        7,
        False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["trail-archive"], "S3_URI: expected s3://<bucket>[/<prefix>], got 'trail-archive'"),
        (
            ["s3://b-1", "--start", "2025-02-01", "--end", "2025-01-01"],
            "--start/--end: start (2025-02-01T00:00:00+00:00) must not be after end",
        ),
        (["s3://b-1", "--start", "yesterday"], "expected an ISO 8601 time"),
        (["s3://b-1", "--billing-mode", "CHEAP"], "'CHEAP' is not one of"),
        (["s3://b-1", "--sample", "0"], "--sample"),
        (["s3://b-1", "--inventory", "s3://inv/list.csv"], "--inventory: expected s3://"),
        (["s3://b-1/AWSLogs//111122223333/"], "S3_URI: 's3://b-1/AWSLogs//111122223333/' has an"),
        (["s3://b-1/logs/../AWSLogs/"], "has an empty (//) or relative (. or ..) folder"),
        (["s3://b-1//"], "has an empty (//) or relative (. or ..) folder"),
        (["s3://b-1", "--price-per-gb", "nan"], "--price-per-gb: expected a finite price"),
        (["s3://b-1", "--price-per-gb", "inf"], "--price-per-gb: expected a finite price"),
    ],
)
def test_bad_input_exits_2_with_one_line(runner: CliRunner, args: list[str], message: str) -> None:
    result = run(runner, "estimate", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("cloudtrail-lake-import: error: ")
    assert message in result.stderr


def test_a_missing_bucket_exits_1_with_the_aws_error(runner: CliRunner) -> None:
    result = run(runner, "estimate", "s3://no-such-trail-archive")
    assert result.exit_code == 1
    assert result.stderr == (
        "cloudtrail-lake-import: error: ListObjectsV2 failed: NoSuchBucket: "
        "The specified bucket does not exist\n"
    )


def test_a_missing_inventory_manifest_exits_1(runner: CliRunner, bucket: str) -> None:
    result = run(
        runner, "estimate", f"s3://{bucket}", "--inventory", f"s3://{bucket}/none/manifest.json"
    )
    assert result.exit_code == 1
    assert "GetObject" in result.stderr
    assert "NoSuchKey" in result.stderr
    assert result.stderr.count("\n") == 1


def test_an_inventory_of_another_bucket_is_refused(
    runner: CliRunner, s3_server: MotoS3Tls, bucket: str, tmp_path: Path
) -> None:
    other = upload(s3_server.client(), TrailArchive((), ()))
    manifest = write_inventory(s3_server.client(), other, "CSV", tmp_path)
    result = run(runner, "estimate", f"s3://{bucket}", "--inventory", manifest)
    assert result.exit_code == 2
    assert f"the report lists bucket {other}, not {bucket}" in result.stderr


def test_credentials_come_from_the_standard_chain(
    runner: CliRunner, account: EmulatedAccount, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    result = run(runner, "estimate", f"s3://{bucket}")
    assert result.exit_code == 1
    assert "no-such-profile" in result.stderr
    assert result.stderr.count("\n") == 1


#: 29 bytes of junk named like a log file: its last 4 bytes read as an ISIZE of 555,819,297.
JUNK_KEY = (
    "AWSLogs/111122223333/CloudTrail/us-east-1/2025/01/10/"
    "111122223333_CloudTrail_us-east-1_20250110T0200Z_junk.json.gz"
)
JUNK = b"this is not a gzip file!!" + (555_819_297).to_bytes(4, "little")


def test_a_file_whose_trailer_is_no_plausible_isize_is_unreadable_not_exact(
    runner: CliRunner, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    assert len(JUNK) == 29
    junk_bucket = upload(s3_server.client(), archive, {JUNK_KEY: JUNK})
    document = estimate_json(runner, f"s3://{junk_bucket}")
    expected = figures(archive.log_files)
    assert document["files"] == expected.files + 1
    assert document["uncompressed_exact"] is False
    assert document["unreadable_files"] == 1
    assert document["sized_files"] == expected.files
    # the junk is extrapolated at the archive's ratio, not counted as 555 MB
    assert document["uncompressed_bytes"] < expected.uncompressed_bytes + 29 * 20
    human = run(runner, "estimate", f"s3://{junk_bucket}")
    assert "1 files have a gzip trailer that gives no certain size" in human.stdout


def test_an_exact_estimate_reports_no_unreadable_files(runner: CliRunner, bucket: str) -> None:
    document = estimate_json(runner, f"s3://{bucket}")
    assert (document["unreadable_files"], document["uncompressed_exact"]) == (0, True)


class _CountingS3:
    """The command line's S3 client, its ranged GETs denied and counted."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.gets = 0
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_object(self, **request: Any) -> Any:
        with self._lock:
            self.gets += 1
        time.sleep(0.01)
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject"
        )


def test_an_access_denied_on_the_first_get_stops_the_queued_gets(
    runner: CliRunner, archive: TrailArchive, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    workers = 2
    made: list[_CountingS3] = []
    real_s3 = cli_clients.s3

    def counting_s3(pool: int) -> _CountingS3:
        made.append(_CountingS3(real_s3(pool)))
        return made[-1]

    monkeypatch.setattr(cli_clients, "s3", counting_s3)
    assert len(archive.log_files) > 10 * workers
    result = run(runner, "estimate", f"s3://{bucket}", "--workers", str(workers))
    assert result.exit_code == 1
    assert "GetObject (last 4 bytes) failed: AccessDenied: Access Denied" in result.stderr
    # the GETs running when the first failed, not one per file of the archive
    assert made[0].gets <= 2 * workers


@pytest.mark.parametrize("uri_prefix", ["", "trails/"])
def test_listing_and_inventory_agree_on_deep_trail_prefixes(
    runner: CliRunner, s3_server: MotoS3Tls, tmp_path: Path, uri_prefix: str
) -> None:
    days = [datetime(2025, 3, 1, tzinfo=UTC).date()]
    s3 = s3_server.client()
    deep_bucket = upload(s3, TrailArchive((), ()))
    kept: list[LogFile] = []
    for depth in range(5):  # 0 to 4 folders between the URI's prefix and AWSLogs/
        trail_prefix = uri_prefix + "".join(f"d{i}/" for i in range(depth))
        archive = generate_archive(seed=depth, days=days, trail_prefix=trail_prefix)
        archive.upload(s3, deep_bucket)
        # from the bucket root, trails up to 3 folders deep; below a named prefix, every file
        if depth <= 3 or uri_prefix:
            kept.extend(archive.log_files)
    manifest = write_inventory(s3, deep_bucket, "CSV", tmp_path)
    uri = f"s3://{deep_bucket}/{uri_prefix}"
    listed = estimate_json(runner, uri)
    inventoried = estimate_json(runner, uri, "--inventory", manifest)
    assert listed["files"] == inventoried["files"] == len(kept)
    assert listed["compressed_bytes"] == inventoried["compressed_bytes"]
