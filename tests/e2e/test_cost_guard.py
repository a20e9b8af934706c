"""The cost guard (``MaxIngestGB``): the estimate before StartImport, over real HTTP and moto S3.

The estimate must be exactly what the archive's log files hold uncompressed (the sum of their
gzip trailers); an import over the limit is never started, and neither is one that could not
be estimated in time.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import UTC, datetime

from tests.e2e.lifecycle_steps import create, started_imports
from tests.e2e.world import World
from tests.lake_emulator.trail_archive import LogFile

GB = 10**9


def uncompressed_gb(files: list[LogFile]) -> float:
    return sum(len(gzip.decompress(f.body)) for f in files) / GB


def test_an_import_within_the_limit_starts_and_reports_its_estimate(world: World) -> None:
    expected = uncompressed_gb(world.archive.in_window())
    response, _ = create(world, world.properties(MaxIngestGB="1"))
    assert response.status == "SUCCESS", response.reason
    assert response.data["ImportEstimatedGB"] == f"{expected:.6f}"
    assert float(response.data["ImportEstimatedGB"]) > 0
    assert len(started_imports(world)) == 1


def test_an_import_over_the_limit_fails_with_the_figures_before_starting(world: World) -> None:
    files = world.archive.in_window()
    expected = uncompressed_gb(files)
    limit = expected / 2
    response, _ = create(world, world.properties(MaxIngestGB=f"{limit:.9f}"))
    assert response.status == "FAILED"
    assert response.reason.startswith(
        f"ImportTooLarge: this import would ingest {expected:,.3f} GB uncompressed "
        f"({len(files):,} log files, "
    )
    assert f"exact), more than MaxIngestGB {float(f'{limit:.9f}'):g};" in response.reason
    assert response.data["ImportEstimatedGB"] == f"{expected:.6f}"
    assert started_imports(world) == []
    assert world.lake.imports == {}


def test_the_estimate_counts_only_the_window_and_prefix(world: World) -> None:
    prefix = "AWSLogs/444455556666/CloudTrail/"
    start = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
    end = datetime(2025, 1, 12, 6, 0, tzinfo=UTC)
    files = world.archive.in_window(prefix, start, end)
    assert 0 < len(files) < len(world.archive.log_files)
    props = world.properties(prefix=prefix, start=start, end=end, MaxIngestGB="1")
    response, _ = create(world, props)
    assert response.status == "SUCCESS", response.reason
    assert response.data["ImportEstimatedGB"] == f"{uncompressed_gb(files):.6f}"


def test_without_time_to_estimate_no_import_starts(world: World) -> None:
    world.cfn.function_timeout = 65.0  # the invocation cannot keep a minute back and list
    response, _ = create(world, world.properties(MaxIngestGB="1"))
    assert response.status == "FAILED"
    assert response.reason.startswith("EstimateTimedOut: could not estimate within ")
    assert f"run `cloudtrail-lake-import estimate s3://{world.bucket}/`" in response.reason
    assert started_imports(world) == []


def test_the_estimate_survives_the_hand_over_to_continuations(world: World) -> None:
    world.cfn.function_timeout = 100.0
    world.lake.files_per_second = 0.1
    expected = uncompressed_gb(world.archive.in_window())
    response, run = create(world, world.properties(wait=True, MaxIngestGB="1"))
    assert response.status == "SUCCESS", response.reason
    assert len([i for i in run.invocations if i.continuation]) >= 2
    assert response.data["ImportStatus"] == "COMPLETED"
    assert response.data["ImportEstimatedGB"] == f"{expected:.6f}"


def test_an_update_that_keeps_the_import_reports_the_estimate_too(world: World) -> None:
    first = world.properties(MaxIngestGB="1")
    created, _ = create(world, first)
    assert created.status == "SUCCESS", created.reason
    second = world.properties(MaxIngestGB="2", StopOnDelete="false")
    update = world.cfn.event(
        "Update", second, physical_id=created.physical_id, old_properties=first
    )
    response, _ = world.cfn.complete(update)
    assert response.status == "SUCCESS", response.reason
    assert response.physical_id == created.physical_id
    assert response.data["ImportEstimatedGB"] == created.data["ImportEstimatedGB"]
    assert len(started_imports(world)) == 1


def test_a_bad_limit_names_the_property(world: World) -> None:
    response, _ = create(world, world.properties(MaxIngestGB="lots"))
    assert response.status == "FAILED"
    assert response.reason == (
        "InvalidProperty: MaxIngestGB must be a positive number of GB like 500 or 0.5, got 'lots'"
    )


def test_a_corrupt_log_file_is_extrapolated_not_read_as_a_huge_size(world: World) -> None:
    """29 bytes of junk named like a log file end in an ISIZE of 555,819,297: the guard must
    not take that as 0.56 GB (no deflate stream of 29 bytes holds it) and refuse the import."""
    world.use_own_bucket(world.archive)  # the shared bucket must stay clean for other tests
    files = world.archive.in_window()
    real = files[0].key
    junk_key = real[: real.rindex("_") + 1] + "junk.json.gz"
    junk = b"this is not a gzip file!!" + (555_819_297).to_bytes(4, "little")
    world.s3.put_object(Bucket=world.bucket, Key=junk_key, Body=junk)
    limit = uncompressed_gb(files) + 0.1  # room for everything but the junk's false 0.56 GB
    response, _ = create(world, world.properties(MaxIngestGB=f"{limit:.9f}"))
    assert response.status == "SUCCESS", response.reason
    assert float(response.data["ImportEstimatedGB"]) < limit
    assert len(started_imports(world)) == 1


def test_the_advice_when_out_of_time_names_the_window(world: World) -> None:
    world.cfn.function_timeout = 65.0
    start = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
    end = datetime(2025, 1, 12, 6, 0, tzinfo=UTC)
    response, _ = create(world, world.properties(start=start, end=end, MaxIngestGB="1"))
    assert response.status == "FAILED"
    assert (
        f"run `cloudtrail-lake-import estimate s3://{world.bucket}/ "
        "--start 2025-01-10T12:00:00Z --end 2025-01-12T06:00:00Z`"
    ) in response.reason


def copy_flat(world: World, folder: str, name: Callable[[LogFile], str]) -> list[LogFile]:
    """Each log file of the archive copied once more, side by side under ``folder``."""
    world.use_own_bucket(world.archive)
    for f in world.archive.log_files:
        world.s3.put_object(Bucket=world.bucket, Key=f"{folder}{name(f)}", Body=f.body)
    return list(world.archive.log_files)


def test_an_archive_copied_flat_under_a_prefix_is_sized_as_the_import_reads_it(
    world: World,
) -> None:
    """StartImport reads every file under a prefix named in the location, trail layout or not:
    a guard counting only the layout's files would let this import through at 0 GB."""
    files = copy_flat(world, "legacy-copy/", lambda f: f.key.rsplit("/", 1)[-1])
    expected = uncompressed_gb(files)
    limit = expected / 2
    response, _ = create(world, world.properties(prefix="legacy-copy/", MaxIngestGB=f"{limit:.9f}"))
    assert response.status == "FAILED"
    assert response.reason.startswith(
        f"ImportTooLarge: this import would ingest {expected:,.3f} GB uncompressed "
        f"({len(files):,} log files, "
    )
    assert started_imports(world) == []


def test_a_flat_copy_is_matched_against_the_window_by_its_names(world: World) -> None:
    copy_flat(world, "legacy-copy/", lambda f: f.key.rsplit("/", 1)[-1])
    start = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
    end = datetime(2025, 1, 12, 6, 0, tzinfo=UTC)
    files = world.archive.in_window("", start, end)
    assert 0 < len(files) < len(world.archive.log_files)
    props = world.properties(
        prefix="legacy-copy/", start=start, end=end, wait=True, MaxIngestGB="1"
    )
    response, _ = create(world, props)
    assert response.status == "SUCCESS", response.reason
    assert response.data["ImportEstimatedGB"] == f"{uncompressed_gb(files):.6f}"
    # the emulated import read exactly the files the guard counted
    (imported,) = world.lake.imports.values()
    assert imported.statistics()["FilesCompleted"] == len(files)


def test_files_whose_names_cannot_be_matched_against_the_window_start_nothing(
    world: World,
) -> None:
    copy_flat(world, "legacy-copy/", lambda f: f"part-{f.key.rsplit('_', 1)[-1]}")
    start = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
    props = world.properties(prefix="legacy-copy/", start=start, MaxIngestGB="1000")
    response, _ = create(world, props)
    assert response.status == "FAILED"
    assert response.reason.startswith(
        f"CouldNotEstimate: cannot tell what an import of s3://{world.bucket}/legacy-copy/ reads"
    )
    assert "hold no date in their name" in response.reason
    assert started_imports(world) == []
    assert world.lake.imports == {}
