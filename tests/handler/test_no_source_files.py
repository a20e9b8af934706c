"""A prefix with no file yet (a new bucket): no import is started, a later deploy starts it.

An import of an empty prefix would complete with nothing, and a COMPLETED import is kept, so
the archive copied in afterwards could never be imported. The handler answers SUCCESS with
ImportStatus NO_SOURCE_FILES instead; the next deploy that changes a property (retry_token)
sends an Update, which finds no import behind that id and starts one.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Stubs
from .helpers import (
    BUCKET,
    IMPORT_ID,
    URI,
    create_event,
    delete_event,
    properties,
    update_event,
)

EMPTY_ID = f"no-source-files:{URI}"
PREFIX = URI.split("/", 3)[3]


def test_a_create_over_an_empty_prefix_starts_no_import_and_says_so(stubs: Stubs, run: Any) -> None:
    stubs.preflight(files=False)

    response = run(create_event())

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == EMPTY_ID
    assert response["Data"] == {"ImportId": "none", "ImportStatus": "NO_SOURCE_FILES"}


def test_the_listing_asks_for_one_key_under_the_imported_prefix_only(
    stubs: Stubs, run: Any
) -> None:
    stubs.preflight(files=None)
    stubs.source_files(prefix=PREFIX)

    assert run(create_event())["PhysicalResourceId"] == EMPTY_ID


def test_a_new_retry_token_after_the_archive_is_copied_in_starts_the_import(
    stubs: Stubs, run: Any
) -> None:
    stubs.preflight()
    stubs.start_import()

    response = run(update_event(properties(RetryToken="2"), old=properties(), physical_id=EMPTY_ID))

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID


def test_an_update_while_the_prefix_is_still_empty_keeps_the_same_id(
    stubs: Stubs, run: Any
) -> None:
    stubs.preflight(files=False)

    response = run(update_event(properties(RetryToken="2"), old=properties(), physical_id=EMPTY_ID))

    # The same id: CloudFormation sends no Delete for a resource that never imported.
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == EMPTY_ID


def test_deleting_a_resource_that_never_imported_calls_nothing(stubs: Stubs, run: Any) -> None:
    response = run(delete_event(physical_id=EMPTY_ID))

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == EMPTY_ID


@pytest.mark.parametrize(("code", "status"), [("AccessDenied", 403), ("SlowDown", 503)])
def test_a_listing_s3_refuses_or_throttles_leaves_the_judgement_to_start_import(
    stubs: Stubs, run: Any, code: str, status: int
) -> None:
    stubs.preflight(files=None)
    stubs.error(
        stubs.s3,
        "list_objects_v2",
        code,
        {"Bucket": BUCKET, "Prefix": PREFIX, "MaxKeys": 1},
        status=status,
    )
    stubs.start_import()

    response = run(create_event())

    assert response["PhysicalResourceId"] == IMPORT_ID
