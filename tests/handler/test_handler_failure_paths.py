"""Every failure path leaves nothing behind: the answer names the import a request started, a
failed Update stops what it started, time runs out for no one (issue 8's seven defects)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

import import_handler.aws
import import_handler.lifecycle
from import_handler import answer, continuation
from import_handler.invocation import ANSWER_RESERVE_SECONDS, Invocation
from import_handler.model import ImportFailed, ImportRecord

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
    state = continuation.State(import_id, START_EPOCH + 600, 1)
    return {**event, continuation.KEY: state.to_json()}


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
        {"Destination": EU_STORE_ARN, "MaxResults": 1000},
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
        {"Destination": STORE_ARN, "MaxResults": 1000},
    )
    stubs.store_imports(listed_import(IMPORT_ID, "COMPLETED", day=2), token="page-2")
    stubs.get_import(IMPORT_ID, "COMPLETED")
    for other in older:  # every import is read: another source, no overlap
        stubs.get_import(other, "COMPLETED", uri=f"s3://other-bucket/{other}/")

    response = run(
        update_event(
            properties(),
            old=properties(ImportSource=import_source(OTHER_URI)),
            physical_id=NEW_IMPORT_ID,
        )
    )

    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == IMPORT_ID


def test_the_look_up_follows_every_page_of_the_store_s_imports(stubs: Stubs, run: Any) -> None:
    """No cap on the pages: a plan fills a store with imports, and a cap would hide one."""
    stubs.get_import(status="COMPLETED")
    params: dict[str, Any] = {"Destination": STORE_ARN, "MaxResults": 1000}
    for page in range(25):
        stubs.cloudtrail.add_response(
            "list_imports",
            {"Imports": [listed_import(IMPORT_ID)], "NextToken": f"page-{page + 1}"},
            dict(params),
        )
        params["NextToken"] = f"page-{page + 1}"
    stubs.store_imports(listed_import(IMPORT_ID), token="page-25")
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
    stubs.hand_over(event, continuation.State(IMPORT_ID, START_EPOCH + 3000, 1))

    assert run(event, context) is None

    for service, worst, remaining in built:
        assert worst <= remaining - ANSWER_RESERVE_SECONDS, (service, worst, remaining)
    # Near the end the calls get shorter timeouts and fewer attempts than at the start.
    assert min(w for _, w, _ in built) < max(w for _, w, _ in built)


def test_a_call_with_no_time_left_is_not_made(stubs: Stubs, run: Any, clock: Any) -> None:
    response = run(create_event(), FakeContext(clock, timeout_seconds=ANSWER_RESERVE_SECONDS + 1))

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("ImportLookupFailed: ")
    assert "(no time was left in this invocation), so nothing was started" in response["Reason"]


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


# --- Audit follow-ups -----------------------------------------------------------------------


def eu_cloudtrail(
    monkeypatch: pytest.MonkeyPatch, real_clients: dict[str, Any]
) -> tuple[Any, Stubber]:
    """A CloudTrail client of its own for eu-west-2 (the others stay the shared stubbed ones)."""
    import boto3

    eu = boto3.session.Session(
        region_name="eu-west-2", aws_access_key_id="testing", aws_secret_access_key="testing"
    ).client("cloudtrail")

    def new_client(service: str, region: str | None = None, config: Any = None) -> Any:
        if service == "cloudtrail" and region == "eu-west-2":
            return eu
        return real_clients[service]

    monkeypatch.setattr(import_handler.aws, "new_client", new_client)
    return eu, Stubber(eu)


def test_rolling_back_a_failed_update_that_moved_the_store_keeps_the_original(
    stubs: Stubs, run: Any, monkeypatch: pytest.MonkeyPatch, real_clients: dict[str, Any]
) -> None:
    """A (store in eu-west-2) stays the id after an Update to a us-east-1 store failed; the
    rollback's old properties are the failed Update's, so A is unknown where they point. It is
    read in its own region and kept: no second import copies its window again."""
    _, eu_stub = eu_cloudtrail(monkeypatch, real_clients)
    a_props = properties(Destinations=[EU_STORE_ARN])
    failed_update_props = properties()  # the us-east-1 store
    stubs.error(stubs.cloudtrail, "get_import", "ImportNotFoundException", {"ImportId": IMPORT_ID})
    eu_stub.add_response(
        "get_import",
        in_store(import_response(IMPORT_ID, "COMPLETED"), EU_STORE_ARN),
        {"ImportId": IMPORT_ID},
    )

    with eu_stub:
        response = run(update_event(a_props, old=failed_update_props, physical_id=IMPORT_ID))
        eu_stub.assert_no_pending_responses()

    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["PhysicalResourceId"] == IMPORT_ID
    assert response["Data"]["ImportStatus"] == "COMPLETED"


def test_the_earlier_import_lookup_reads_past_ten_newer_imports_of_other_windows(
    stubs: Stubs, run: Any
) -> None:
    """An import plan writes many imports into one store: the original is found behind them."""
    newer = [f"1a2b3c4d-0000-4000-8000-0000000003{n:02d}" for n in range(15)]
    stubs.get_import(NEW_IMPORT_ID, "COMPLETED", uri=OTHER_URI)
    stubs.store_imports(
        listed_import(IMPORT_ID, "COMPLETED", day=1),
        *(listed_import(other, "COMPLETED", day=n + 2) for n, other in enumerate(newer)),
    )
    for other in reversed(newer):  # newest first, each of another window
        stubs.get_import(other, "COMPLETED", start=None)
    stubs.get_import(IMPORT_ID, "COMPLETED")

    response = run(update_event(properties(), old=CHANGED_WAITING, physical_id=NEW_IMPORT_ID))

    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["PhysicalResourceId"] == IMPORT_ID  # not a second copy of the window


def listed_at(import_id: str, hours: int) -> dict[str, Any]:
    """A listed COMPLETED import created ``hours`` after June 1st."""
    created = datetime(2024, 6, 1, tzinfo=UTC) + timedelta(hours=hours)
    return {**listed_import(import_id, "COMPLETED"), "CreatedTimestamp": created}


class SlowClient:
    """A stubbed client whose every call takes the worst case its configuration allows."""

    def __init__(self, client: Any, config: Any, clock: Any) -> None:
        self._client, self._clock = client, clock
        self._seconds = import_handler.aws.worst_case_seconds(config)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def slow(**kwargs: Any) -> Any:
            self._clock.time += self._seconds
            return method(**kwargs)

        return slow


def test_a_failure_with_little_time_left_still_stops_the_new_import(
    stubs: Stubs, clock: Any
) -> None:
    """17 s left: the answer keeps its 15 s, the stop of the orphan may use all but 5 s."""
    inv = Invocation(update_event(CHANGED_WAITING), FakeContext(clock, timeout_seconds=17))
    inv.started_import(ImportRecord(NEW_IMPORT_ID, "IN_PROGRESS"))
    stubs.stop_import(NEW_IMPORT_ID, uri=OTHER_URI)

    outcome = answer.failure(inv, ImportFailed("AccessDeniedException: not authorized"))

    assert not outcome.success
    assert outcome.physical_id == IMPORT_ID


def test_a_lost_start_answer_then_a_refused_listing_adopts_the_retried_import(
    stubs: Stubs, run: Any
) -> None:
    """The retry ran (its answer was lost, botocore's resend met the busy account), and the
    running imports cannot be listed: the import being retried is read, and it is ours."""
    stubs.get_import(status="FAILED")
    stubs.preflight()
    stubs.account_busy({"ImportId": IMPORT_ID})
    deny(
        stubs, stubs.cloudtrail, "list_imports", {"ImportStatus": "INITIALIZING", "MaxResults": 10}
    )
    stubs.get_import(status="IN_PROGRESS")

    response = run(update_event(properties(RetryToken="2")))

    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["Data"]["ImportStatus"] == "IN_PROGRESS"


def test_a_busy_create_whose_listing_is_refused_says_how_to_find_its_import(
    stubs: Stubs, run: Any
) -> None:
    stubs.preflight()
    stubs.account_busy()
    deny(
        stubs, stubs.cloudtrail, "list_imports", {"ImportStatus": "INITIALIZING", "MaxResults": 10}
    )

    response = run(create_event())

    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("AccountHasOngoingImportException: ListImports refused")
    assert f"list-imports --destination {STORE_ARN}" in response["Reason"]


def lambda_configs(monkeypatch: pytest.MonkeyPatch, real_clients: dict[str, Any]) -> list[Any]:
    """The configuration of every Lambda client the handler builds."""
    configs: list[Any] = []

    def new_client(service: str, region: str | None, config: Any) -> Any:
        if service == "lambda":
            configs.append(config)
        return real_clients[service]

    monkeypatch.setattr(import_handler.aws, "new_client", new_client)
    return configs


INVOKE_EVENT = "provide-client-params.lambda.Invoke"  # emitted before the Stubber's checks


@contextmanager
def failing_invoke(stubs: Stubs, fail: list[Exception]) -> Iterator[list[int]]:
    """Each Invoke first raises the next of ``fail`` (before it is sent), while any is left;
    yields the list of attempts."""
    attempts: list[int] = []

    def hook(**kwargs: Any) -> None:
        attempts.append(1)
        if fail:
            raise fail.pop(0)

    events = stubs.clients["lambda"].meta.events
    events.register(INVOKE_EVENT, hook)
    try:
        yield attempts
    finally:
        events.unregister(INVOKE_EVENT, hook)


def test_the_hand_over_invoke_is_sent_once(
    stubs: Stubs,
    run: Any,
    clock: Any,
    monkeypatch: pytest.MonkeyPatch,
    real_clients: dict[str, Any],
) -> None:
    """A resend of an Invoke whose 202 was lost would start a second continuation."""
    configs = lambda_configs(monkeypatch, real_clients)
    event = continued(create_event(WAIT), IMPORT_ID)
    stubs.get_import()
    stubs.hand_over(event, continuation.State(IMPORT_ID, START_EPOCH + 600, 2))

    assert run(event, FakeContext(clock, timeout_seconds=65)) is None

    assert [c.retries["total_max_attempts"] for c in configs] == [1]


def test_a_hand_over_that_could_not_connect_is_sent_again(
    stubs: Stubs, run: Any, clock: Any
) -> None:
    event = continued(create_event(WAIT), IMPORT_ID)
    stubs.get_import()
    stubs.hand_over(event, continuation.State(IMPORT_ID, START_EPOCH + 600, 2))
    with failing_invoke(
        stubs, [EndpointConnectionError(endpoint_url="https://lambda")]
    ) as attempts:
        assert run(event, FakeContext(clock, timeout_seconds=65)) is None

    assert len(attempts) == 2


def test_a_hand_over_whose_answer_was_lost_is_not_sent_again_nor_answered(
    stubs: Stubs, run: Any, clock: Any
) -> None:
    """Lambda may have queued it: the continuation answers (rule 5, nothing starts after an
    answer); sending it again could fork the chain."""
    event = continued(create_event(WAIT), IMPORT_ID)
    stubs.get_import()
    with failing_invoke(stubs, [ReadTimeoutError(endpoint_url="https://lambda")]) as attempts:
        response = run(event, FakeContext(clock, timeout_seconds=65))

    assert len(attempts) == 1
    assert response is None


READ_IN_TIME = 5


def test_a_slow_lookup_of_earlier_imports_stops_before_the_invocation_ends(
    stubs: Stubs,
    run: Any,
    clock: Any,
    monkeypatch: pytest.MonkeyPatch,
    real_clients: dict[str, Any],
) -> None:
    """Every call takes the worst case its client allows: each of the lookup's calls is
    budgeted when it is made, so the lookup stops in time, and the no-time-left answer comes
    before the invocation ends."""
    context = FakeContext(clock, timeout_seconds=900)

    def new_client(service: str, region: str | None, config: Any) -> Any:
        return SlowClient(real_clients[service], config, clock)

    monkeypatch.setattr(import_handler.aws, "new_client", new_client)
    others = [f"1a2b3c4d-0000-4000-8000-0000000004{n:02d}" for n in range(40)]
    stubs.get_import(status="COMPLETED")
    stubs.store_imports(*(listed_at(other, hours=n) for n, other in enumerate(others)))
    # Newest first, each of another window; the calls get shorter as the time runs out, and
    # the look-up stops with the hand-over margin left (before the fix: 215 s each, past 900 s).
    # Cut short, it starts nothing (rule 2).
    for other in reversed(others[-READ_IN_TIME:]):
        stubs.get_import(other, "COMPLETED", start=None)

    response = run(update_event(CHANGED_WAITING), context)

    assert clock.time <= START_EPOCH + context.timeout_seconds
    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("ImportLookupFailed: ")
    assert "no time was left" in response["Reason"]
    assert response["PhysicalResourceId"] == IMPORT_ID


def test_a_throttled_hand_over_is_sent_again(stubs: Stubs, run: Any, clock: Any) -> None:
    """Lambda refused it as one too many: it did not run, so sending it again is safe."""
    event = continued(create_event(WAIT), IMPORT_ID)
    stubs.get_import()
    stubs.error(stubs.lambda_, "invoke", "TooManyRequestsException", None, status=429)
    stubs.hand_over(event, continuation.State(IMPORT_ID, START_EPOCH + 600, 2))

    assert run(event, FakeContext(clock, timeout_seconds=65)) is None
