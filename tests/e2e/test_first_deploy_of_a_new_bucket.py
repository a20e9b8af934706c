"""The lifecycle guide's two-step workflow for a new bucket, over real HTTP against moto's S3.

Deploy (the bucket is empty: no import, NO_SOURCE_FILES) → copy the archive in → deploy with a
new RetryToken (an Update that starts the import) → CloudFormation deletes the old id.
"""

from __future__ import annotations

from tests.e2e.lifecycle_steps import create, started_imports
from tests.e2e.world import World, make_bucket
from tests.lake_emulator.trail_archive import TrailArchive


def test_an_empty_bucket_imports_nothing_until_a_new_retry_token_after_the_copy(
    world: World, small_archive: TrailArchive
) -> None:
    world.bucket = make_bucket(world.s3)
    first = world.properties(wait=True, RetryToken="1")

    created, _ = create(world, first)

    assert created.status == "SUCCESS", created.reason
    assert created.physical_id == f"no-source-files:s3://{world.bucket}/"
    assert created.data == {"ImportId": "none", "ImportStatus": "NO_SOURCE_FILES"}
    assert started_imports(world) == []

    small_archive.upload(world.s3, world.bucket)
    world.archive = small_archive
    second = world.properties(wait=True, RetryToken="2")
    updated, _ = world.cfn.complete(
        world.cfn.event("Update", second, physical_id=created.physical_id, old_properties=first)
    )

    assert updated.status == "SUCCESS", updated.reason
    assert updated.physical_id == updated.data["ImportId"]
    assert updated.data["ImportStatus"] == "COMPLETED"
    assert updated.data["FilesCompleted"] == str(small_archive.expected().files)
    assert len(started_imports(world)) == 1

    # The clean-up of the replaced id: nothing to stop, the import stays.
    cleanup, _ = world.cfn.complete(
        world.cfn.event("Delete", first, physical_id=created.physical_id)
    )
    assert cleanup.status == "SUCCESS", cleanup.reason
    assert world.lake.get(updated.physical_id).status == "COMPLETED"


def test_a_prefix_without_files_in_a_full_bucket_starts_nothing(world: World) -> None:
    response, _ = create(world, world.properties(prefix="AWSLogs/000000000000/CloudTrail/"))

    assert response.status == "SUCCESS", response.reason
    assert response.data["ImportStatus"] == "NO_SOURCE_FILES"
    assert started_imports(world) == []
