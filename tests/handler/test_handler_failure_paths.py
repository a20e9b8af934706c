"""Every failure path leaves nothing behind: the answer names the import a request started, a
failed Update stops what it started, time runs out for no one (issue 8's seven defects)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.stub import Stubber

import import_handler.aws
import import_handler.lifecycle
from import_handler import waiting
from import_handler.invocation import ANSWER_RESERVE_SECONDS, Invocation

from .conftest import START_EPOCH, FakeContext, Stubs
from .helpers import (
    IMPORT_ID,
    NEW_IMPORT_ID,
    OTHER_URI,
    STORE_ARN,
    create_event,
    import_response,
    import_source,
    listed_import,
    properties,
    update_event,
)

WAIT = properties(WaitForCompletion="true")
CHANGED_WAITING = properties(ImportSource=import_source(OTHER_URI), WaitForCompletion="true")
DENIED = "AccessDeniedException"


def deny(stubs: Stubs, stubber: Stubber, method: str, params: Any) -> None:
    stubs.error(stubber, method, DENIED, params, status=403, message="not authorized")


def continued(event: dict[str, Any], import_id: str) -> dict[str, Any]:
    state = waiting.State(import_id, START_EPOCH + 600, 1)
    return {**event, waiting.KEY: state.to_json()}


def replacement_started(stubs: Stubs) -> None:
    """An Update to CHANGED_WAITING: IMPORT_ID (COMPLETED) is replaced by NEW_IMPORT_ID."""
    stubs.get_import(status="COMPLETED")
    stubs.no_earlier_import()
    stubs.preflight()
    stubs.start_import(NEW_IMPORT_ID, uri=OTHER_URI)


# --- 1. A failed Create names the import it started -----------------------------------------


def test_a_create_whose_poll_is_refused_answers_with_the_import_it_started(
    stubs: Stubs, run: Any
) -> None:
    stubs.preflight()
    stubs.start_import()
    deny(stubs, stubs.cloudtrail, "get_import", {"ImportId": IMPORT_ID})

    response = run(create_event(WAIT))

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(DENIED)
    # The Delete that follows a failed Create stops the import by this id.
    assert response["PhysicalResourceId"] == IMPORT_ID


def test_a_continued_create_whose_poll_is_refused_answers_with_its_import(
    stubs: Stubs, run: Any
) -> None:
    deny(stubs, stubs.cloudtrail, "get_import", {"ImportId": IMPORT_ID})

    response = run(continued(create_event(WAIT), IMPORT_ID))

    assert response["Status"] == "FAILED"
    assert response["PhysicalResourceId"] == IMPORT_ID


# --- 2. A failed Update stops the import it started -----------------------------------------


def test_an_update_whose_poll_is_refused_stops_the_new_import(stubs: Stubs, run: Any) -> None:
    replacement_started(stubs)
    deny(stubs, stubs.cloudtrail, "get_import", {"ImportId": NEW_IMPORT_ID})
    stubs.stop_import(NEW_IMPORT_ID, uri=OTHER_URI)

    response = run(update_event(CHANGED_WAITING))

    assert response["Status"] == "FAILED"
    assert response["PhysicalResourceId"] == IMPORT_ID  # CloudFormation rolls back to it


def test_an_update_whose_hand_over_is_refused_stops_the_new_import(
    stubs: Stubs, run: Any, clock: Any
) -> None:
    replacement_started(stubs)
    deny(stubs, stubs.lambda_, "invoke", None)
    stubs.stop_import(NEW_IMPORT_ID, uri=OTHER_URI)

    response = run(update_event(CHANGED_WAITING), FakeContext(clock, timeout_seconds=65))

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(DENIED)
    assert response["PhysicalResourceId"] == IMPORT_ID


def test_a_continued_update_whose_poll_is_refused_stops_the_new_import(
    stubs: Stubs, run: Any
) -> None:
    deny(stubs, stubs.cloudtrail, "get_import", {"ImportId": NEW_IMPORT_ID})
    stubs.stop_import(NEW_IMPORT_ID, uri=OTHER_URI)

    response = run(continued(update_event(CHANGED_WAITING), NEW_IMPORT_ID))

    assert response["Status"] == "FAILED"
    assert response["PhysicalResourceId"] == IMPORT_ID


def test_a_failed_update_leaves_the_new_import_running_when_the_old_stop_on_delete_is_false(
    stubs: Stubs, run: Any
) -> None:
    replacement_started(stubs)
    deny(stubs, stubs.cloudtrail, "get_import", {"ImportId": NEW_IMPORT_ID})

    response = run(update_event(CHANGED_WAITING, old=properties(StopOnDelete="false")))

    assert response["Status"] == "FAILED"  # and no StopImport: the stubs would say so


# --- 3. A change of the store's region ------------------------------------------------------

EU_STORE_ARN = STORE_ARN.replace(":us-east-1:", ":eu-west-2:")


def in_store(body: dict[str, Any], store: str) -> dict[str, Any]:
    return {**body, "Destinations": [store]}


def test_a_rollback_across_a_store_region_change_goes_back_to_the_original(
    stubs: Stubs, run: Any, monkeypatch: pytest.MonkeyPatch, real_clients: dict[str, Any]
) -> None:
    """A (store in eu-west-2) was replaced by B (store in us-east-1); the rollback brings back
    A's properties: B is read where it lives, A is found and retried, nothing is copied twice."""
    import boto3

    eu = boto3.session.Session(
        region_name="eu-west-2", aws_access_key_id="testing", aws_secret_access_key="testing"
    ).client("cloudtrail")
    eu_stub = Stubber(eu)
    us = stubs.cloudtrail

    def new_client(service: str, region: str | None = None, config: Any = None) -> Any:
        if service == "cloudtrail" and region == "eu-west-2":
            return eu
        return real_clients[service]

    monkeypatch.setattr(import_handler.aws, "new_client", new_client)
    a_props = properties(Destinations=[EU_STORE_ARN])
    b_props = properties(ImportSource=import_source(OTHER_URI))
    b = import_response(NEW_IMPORT_ID, "IN_PROGRESS", uri=OTHER_URI)
    a = in_store(import_response(IMPORT_ID, "STOPPED"), EU_STORE_ARN)
    us.add_response("get_import", b, {"ImportId": NEW_IMPORT_ID})
    eu_stub.add_response(
        "list_imports",
        {"Imports": [in_store(listed_import(IMPORT_ID, "STOPPED"), EU_STORE_ARN)]},
        {"Destination": EU_STORE_ARN, "MaxResults": 50},
    )
    eu_stub.add_response("get_import", a, {"ImportId": IMPORT_ID})
    eu_stub.add_response(
        "get_event_data_store",
        {"EventDataStoreArn": EU_STORE_ARN, "Status": "ENABLED", "AdvancedEventSelectors": []},
        {"EventDataStore": EU_STORE_ARN},
    )
    stubs.s3.add_response(
        "get_bucket_ownership_controls",
        {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}},
        None,
    )
    stubs.source_files("AWSLogs/123456789012/CloudTrail/2023/01/01/file.json.gz")
    us.add_response("stop_import", {**b, "ImportStatus": "STOPPED"}, {"ImportId": NEW_IMPORT_ID})
    eu_stub.add_response(
        "start_import", {**a, "ImportStatus": "INITIALIZING"}, {"ImportId": IMPORT_ID}
    )

    with eu_stub:
        response = run(update_event(a_props, old=b_props, physical_id=NEW_IMPORT_ID))
        eu_stub.assert_no_pending_responses()

    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["PhysicalResourceId"] == IMPORT_ID


# --- 4. The earlier-import lookup reads every page --------------------------------------------


def test_a_rollback_finds_the_original_beyond_the_first_page_of_imports(
    stubs: Stubs, run: Any
) -> None:
    older = [f"1a2b3c4d-0000-4000-8000-0000000002{n:02d}" for n in range(50)]
    stubs.get_import(NEW_IMPORT_ID, "COMPLETED", uri=OTHER_URI)
    stubs.cloudtrail.add_response(
        "list_imports",
        {"Imports": [listed_import(i, "COMPLETED", day=1) for i in older], "NextToken": "page-2"},
        {"Destination": STORE_ARN, "MaxResults": 50},
    )
    stubs.cloudtrail.add_response(
        "list_imports",
        {"Imports": [listed_import(IMPORT_ID, "COMPLETED", day=2)]},
        {"Destination": STORE_ARN, "MaxResults": 50, "NextToken": "page-2"},
    )
    stubs.get_import(IMPORT_ID, "COMPLETED")

    response = run(
        update_event(
            properties(),
            old=properties(ImportSource=import_source(OTHER_URI)),
            physical_id=NEW_IMPORT_ID,
        )
    )

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID


def test_the_earlier_import_lookup_stops_after_twenty_pages(stubs: Stubs, run: Any) -> None:
    stubs.get_import(status="COMPLETED")
    params: dict[str, Any] = {"Destination": STORE_ARN, "MaxResults": 50}
    for page in range(20):
        stubs.cloudtrail.add_response(
            "list_imports",
            {"Imports": [listed_import(IMPORT_ID)], "NextToken": f"page-{page + 1}"},
            dict(params),
        )
        params["NextToken"] = f"page-{page + 1}"
    stubs.preflight()
    stubs.start_import(NEW_IMPORT_ID, uri=OTHER_URI)

    response = run(update_event(properties(ImportSource=import_source(OTHER_URI))))

    assert response["PhysicalResourceId"] == NEW_IMPORT_ID


# --- 5. No call outlives the invocation -----------------------------------------------------


def test_every_call_fits_the_time_the_invocation_has_left(
    stubs: Stubs, run: Any, clock: Any, monkeypatch: pytest.MonkeyPatch, real_clients: Any
) -> None:
    context = FakeContext(clock, timeout_seconds=150)
    built: list[tuple[str, float, float]] = []

    def new_client(service: str, region: str | None, config: Any) -> Any:
        worst = import_handler.aws.worst_case_seconds(config)
        built.append((service, worst, context.get_remaining_time_in_millis() / 1000))
        return real_clients[service]

    monkeypatch.setattr(import_handler.aws, "new_client", new_client)
    event = create_event(WAIT)
    stubs.preflight()
    stubs.start_import()
    for _ in range(8):  # at 10 s, 20 s, ..., 80 s; then 70 s are left: hand over
        stubs.get_import(status="IN_PROGRESS")
    stubs.hand_over(event, waiting.State(IMPORT_ID, START_EPOCH + 3000, 1))

    assert run(event, context) is None

    for service, worst, remaining in built:
        assert worst <= remaining - ANSWER_RESERVE_SECONDS, (service, worst, remaining)
    # Near the end the calls get shorter timeouts and fewer attempts than at the start.
    assert min(w for _, w, _ in built) < max(w for _, w, _ in built)


def test_a_call_with_no_time_left_is_not_made(stubs: Stubs, run: Any, clock: Any) -> None:
    response = run(create_event(), FakeContext(clock, timeout_seconds=ANSWER_RESERVE_SECONDS + 1))

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("NoTimeLeftError")


def test_crhelpers_timeout_answer_names_the_import_the_create_started(
    stubs: Stubs, responses: list[dict[str, Any]], clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import index

    stubs.preflight()
    stubs.start_import()

    def hang(inv: Any, record: Any, physical_id: str = "") -> None:
        time.sleep(0.4)  # real time: crhelper's timer is a real thread

    monkeypatch.setattr(import_handler.lifecycle, "success", hang)
    # The stubbed calls take no time: give them a budget although crhelper's timer is near.
    monkeypatch.setattr(Invocation, "budget", lambda self, reserve=0.0: 900.0)

    index.handler(create_event(), FakeContext(clock, timeout_seconds=0.6))

    assert [r["Status"] for r in responses] == ["FAILED"]  # one answer, the timer's
    assert responses[0]["Reason"] == "Execution timed out"
    assert responses[0]["PhysicalResourceId"] == IMPORT_ID


# --- 6. A retry whose answer was lost -------------------------------------------------------


def test_a_retry_refused_because_its_resent_request_found_it_running_is_adopted(
    stubs: Stubs, run: Any
) -> None:
    stubs.get_import(status="FAILED")
    stubs.preflight()
    # botocore resent StartImport(ImportId) after a reset connection: the first one had worked.
    stubs.error(
        stubs.cloudtrail,
        "start_import",
        "InvalidParameterException",
        {"ImportId": IMPORT_ID},
        message=f"Import {IMPORT_ID} is IN_PROGRESS and cannot be retried.",
    )
    stubs.get_import(status="IN_PROGRESS")

    response = run(update_event(properties(RetryToken="2")))

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID
    assert response["Data"]["ImportStatus"] == "IN_PROGRESS"


# --- 7. Only a new RetryToken retries -------------------------------------------------------


@pytest.mark.parametrize("status", ["FAILED", "STOPPED"])
@pytest.mark.parametrize(
    "change",
    [{"StopOnDelete": "false"}, {"CompletionTimeoutSeconds": "600"}, {"WaitForCompletion": "true"}],
    ids=["stop-on-delete", "timeout", "wait"],
)
def test_an_update_that_keeps_the_retry_token_does_not_start_the_import_again(
    stubs: Stubs, run: Any, status: str, change: dict[str, str]
) -> None:
    stubs.get_import(status=status)

    response = run(
        update_event(properties(RetryToken="1", **change), old=properties(RetryToken="1"))
    )

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID
    assert response["Data"]["ImportStatus"] == status
