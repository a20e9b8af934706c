"""The plan handler's pure decisions: execution names, the execution input, imports to stop."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from import_handler.frozen import replace
from import_handler.model import ImportRecord
from import_handler.properties import ImportIdentity, PropertyError
from plan_handler import plan_decisions, plan_properties

STORE = "arn:aws:cloudtrail:eu-west-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1"
MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:PlanStateMachine-AbC123"
ROLE = "arn:aws:iam::123456789012:role/PlanAccessRole0"


def request(year: int) -> dict[str, Any]:
    return {
        "Destinations": [STORE],
        "ImportSource": {
            "S3": {
                "S3LocationUri": "s3://trail-archive/AWSLogs/",
                "S3BucketRegion": "eu-west-1",
                "S3BucketAccessRoleArn": ROLE,
            }
        },
        "StartEventTime": f"{year}-01-01T00:00:00Z",
        "EndEventTime": f"{year}-12-31T23:59:59Z",
    }


def raw_plan(**extra: Any) -> dict[str, Any]:
    return {
        "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:x",
        "StateMachineArn": MACHINE,
        "Segments": [request(2021), request(2022), request(2023)],
        "PollIntervalSeconds": "300",
        "MaxRetries": "2",
        "StopOnDelete": "true",
        **extra,
    }


def identity(year: int) -> ImportIdentity:
    return ImportIdentity(
        STORE,
        "s3://trail-archive/AWSLogs/",
        "eu-west-1",
        ROLE,
        datetime(year, 1, 1, tzinfo=UTC),
        datetime(year, 12, 31, 23, 59, 59, tzinfo=UTC),
    )


def key(year: int) -> ImportIdentity:
    return plan_decisions.source_key(identity(year))


def test_the_execution_name_is_the_same_for_the_same_plan_and_new_for_a_changed_one() -> None:
    one = plan_decisions.plan_identity("stack", "Plan", raw_plan())
    again = plan_decisions.plan_identity("stack", "Plan", raw_plan(ServiceToken="other"))
    retried = plan_decisions.plan_identity("stack", "Plan", raw_plan(RetryToken="2"))
    elsewhere = plan_decisions.plan_identity("stack", "Plan2", raw_plan())
    assert one == again
    assert len({one, retried, elsewhere}) == 3
    name = plan_decisions.execution_name(one, 0)
    assert name == f"plan-{one}"
    assert len(plan_decisions.execution_name(one, plan_decisions.MAX_GENERATIONS)) <= 80


def test_changing_only_stop_on_delete_or_the_service_token_keeps_the_plan_s_executions() -> None:
    one = plan_decisions.plan_identity("stack", "Plan", raw_plan())
    kept = plan_decisions.plan_identity(
        "stack", "Plan", raw_plan(StopOnDelete="false", ServiceTimeout="300")
    )
    assert one == kept
    for generation in (0, 1, 49):
        arn = plan_decisions.execution_arn(MACHINE, plan_decisions.execution_name(one, generation))
        assert plan_decisions.is_execution_of(one, arn)
    other = plan_decisions.plan_identity("stack", "Plan", raw_plan(RetryToken="2"))
    assert not plan_decisions.is_execution_of(
        other, plan_decisions.execution_arn(MACHINE, plan_decisions.execution_name(one, 0))
    )
    assert not plan_decisions.is_execution_of(
        one, plan_decisions.execution_arn(MACHINE, plan_decisions.execution_name(one, 0) + "-x")
    )
    assert not plan_decisions.is_execution_of(one, "plan-not-started")


def test_execution_and_state_machine_arns_convert_both_ways() -> None:
    arn = plan_decisions.execution_arn(MACHINE, "plan-1")
    assert arn == "arn:aws:states:eu-west-1:123456789012:execution:PlanStateMachine-AbC123:plan-1"
    assert plan_decisions.state_machine_of(arn) == MACHINE
    assert plan_decisions.state_machine_of("plan-not-started") is None


def test_the_input_skips_completed_follows_running_and_resumes_failed_segments() -> None:
    props = plan_properties.parse(raw_plan())
    earlier = {
        key(2021): [ImportRecord("done", "COMPLETED", identity(2021), {"FilesCompleted": 3})],
        key(2022): [
            ImportRecord("newer-failed", "FAILED", identity(2022)),
            ImportRecord("older-running", "IN_PROGRESS", identity(2022)),
        ],
    }
    execution_input = plan_decisions.execution_input(props, earlier)
    assert execution_input["Settings"] == {"PollIntervalSeconds": 300, "MaxRetries": 2}
    first, second, third = execution_input["Segments"]
    assert first["Completed"] == {"ImportId": "done", "ImportStatistics": {"FilesCompleted": 3}}
    assert second["Adopt"] == {"ImportId": "older-running"}
    assert "Completed" not in third
    assert "Adopt" not in third
    assert [s["Index"] for s in execution_input["Segments"]] == [0, 1, 2]
    assert third["Request"] == request(2023)

    only_failed = {key(2023): [ImportRecord("failed", "STOPPED", identity(2023))]}
    resumed = plan_decisions.execution_input(props, only_failed)["Segments"][2]
    assert resumed["Adopt"] == {"ImportId": "failed", "Resume": True}


def test_a_completed_import_that_copied_nothing_does_not_count_as_done() -> None:
    props = plan_properties.parse(raw_plan())
    earlier = {
        key(2021): [ImportRecord("empty", "COMPLETED", identity(2021), {"FilesCompleted": 0})],
        key(2022): [ImportRecord("no-prefix", "COMPLETED", identity(2022), {"PrefixesFound": 0})],
        key(2023): [ImportRecord("done", "COMPLETED", identity(2023), {"FilesCompleted": 1})],
    }
    segments = plan_decisions.execution_input(props, earlier)["Segments"]
    assert ["Completed" in s or "Adopt" in s for s in segments] == [False, False, True]


def test_an_import_of_the_same_source_and_window_matches_whatever_role_it_ran_with() -> None:
    props = plan_properties.parse(raw_plan())
    replaced_role = replace(identity(2021), s3_bucket_access_role_arn=ROLE + "Old")
    earlier = {
        plan_decisions.source_key(replaced_role): [
            ImportRecord("done", "COMPLETED", replaced_role, {"FilesCompleted": 3})
        ]
    }
    first = plan_decisions.execution_input(props, earlier)["Segments"][0]
    assert first["Completed"]["ImportId"] == "done"


@pytest.mark.parametrize("status", ["IN_PROGRESS", "FAILED", "STOPPED"])
def test_an_import_that_runs_with_another_role_is_neither_followed_nor_resumed(
    status: str,
) -> None:
    """Its role may be gone (a deploy replaced it): following or resuming it by ImportId would
    fail on every retry; the segment starts anew with its own role."""
    props = plan_properties.parse(raw_plan())
    replaced_role = replace(identity(2021), s3_bucket_access_role_arn=ROLE + "Old")
    earlier = {
        plan_decisions.source_key(replaced_role): [ImportRecord("old", status, replaced_role)]
    }
    first = plan_decisions.execution_input(props, earlier)["Segments"][0]
    assert "Adopt" not in first
    assert "Completed" not in first
    own = {plan_decisions.source_key(identity(2021)): [ImportRecord("own", status, identity(2021))]}
    assert plan_decisions.execution_input(props, own)["Segments"][0]["Adopt"]["ImportId"] == "own"


def test_a_leaving_segments_import_is_stopped_only_with_its_own_role() -> None:
    replaced_role = replace(identity(2021), s3_bucket_access_role_arn=ROLE + "Old")
    running = [ImportRecord("old-role", "IN_PROGRESS", replaced_role)]
    # the new plan does not follow it (see above): it is stopped with the segment that leaves
    assert (
        plan_decisions.imports_to_stop(running, leaving=[replaced_role], staying=[identity(2021)])
        == running
    )
    # another stack's import of the same source and window is not this plan's to stop
    assert plan_decisions.imports_to_stop(running, leaving=[identity(2021)]) == []


def test_only_running_imports_of_segments_that_leave_the_plan_are_stopped() -> None:
    running = [
        ImportRecord("a", "IN_PROGRESS", identity(2021)),
        ImportRecord("b", "COMPLETED", identity(2022)),
        ImportRecord("c", "INITIALIZING", identity(2023)),
        ImportRecord("someone-elses", "IN_PROGRESS", identity(2030)),
    ]
    stop = plan_decisions.imports_to_stop(
        running, leaving=[identity(2021), identity(2022), identity(2023)], staying=[identity(2023)]
    )
    assert [r.import_id for r in stop] == ["a"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"StateMachineArn": "arn:aws:lambda:x"}, "StateMachineArn must be a state machine ARN"),
        ({"Segments": []}, "Segments must be a non-empty list"),
        ({"MaxRetries": "eleven"}, "MaxRetries must be an integer from 0 to 10"),
        ({"PollIntervalSeconds": "0"}, "PollIntervalSeconds must be an integer from 1 to 3600"),
        ({"StopOnDelete": "maybe"}, "StopOnDelete must be"),
    ],
)
def test_bad_properties_fail_with_the_property_named(change: dict[str, Any], message: str) -> None:
    with pytest.raises(PropertyError, match=message):
        plan_properties.parse(raw_plan(**change))


def test_a_bad_segment_is_named_by_its_position() -> None:
    segments = [request(2021), {**request(2022), "StartEventTime": "yesterday"}]
    with pytest.raises(PropertyError, match=r"^Segments\[1\]\.StartEventTime must be a UTC time"):
        plan_properties.parse(raw_plan(Segments=segments))


@pytest.mark.parametrize(
    ("statuses", "create", "chosen"),
    [
        ([], True, (0, True)),
        (["FAILED"], True, (0, False)),
        (["ABORTED", "FAILED"], True, (1, False)),
        ([], False, (0, True)),
        (["RUNNING"], False, (0, False)),
        (["ABORTED"], False, (1, True)),
        (["ABORTED", "SUCCEEDED"], False, (1, False)),
        (["FAILED", "TIMED_OUT"], False, (2, True)),
    ],
)
def test_a_create_keeps_its_identity_s_newest_execution_and_an_update_runs_a_stopped_one_again(
    statuses: list[str], create: bool, chosen: tuple[int, bool]
) -> None:
    assert plan_decisions.choose_generation(statuses, create=create) == chosen


def test_a_rollback_runs_again_only_the_execution_the_failed_update_aborted() -> None:
    assert plan_decisions.keeps_previous("ABORTED", rollback=False)
    assert not plan_decisions.keeps_previous("ABORTED", rollback=True)
    for status in ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT"):
        assert plan_decisions.keeps_previous(status, rollback=True)


def test_a_store_in_another_region_than_the_state_machine_is_refused_naming_both() -> None:
    props = plan_properties.parse(raw_plan())
    assert plan_decisions.region_problem(props) is None
    elsewhere = STORE.replace("eu-west-1", "us-east-1")
    other = plan_properties.parse(
        raw_plan(Segments=[request(2021) | {"Destinations": [elsewhere]}])
    )
    problem = plan_decisions.region_problem(other)
    assert problem is not None
    assert "eu-west-1" in problem
    assert "us-east-1" in problem


def refusal(history: list[ImportRecord], **extra: Any) -> str | None:
    props = plan_properties.parse(raw_plan(**extra))
    execution_input = plan_decisions.execution_input(props, plan_decisions.by_source(history))
    return plan_decisions.overlap_refusal(props, execution_input, history)


def part_of(year: int, status: str = "COMPLETED", **changes: Any) -> ImportRecord:
    """An import of the plan's bucket holding July to September of ``year``."""
    held = replace(
        identity(year),
        start_event_time=datetime(year, 7, 1, tzinfo=UTC),
        end_event_time=datetime(year, 9, 30, tzinfo=UTC),
        **changes,
    )
    return ImportRecord(f"part-{year}", status, held, {"FilesCompleted": 5})


def test_a_segment_an_import_holds_part_of_is_refused_naming_segment_window_and_days() -> None:
    found = refusal([part_of(2022)])
    assert found == (
        "OverlappingImport: segment 1 (s3://trail-archive/AWSLogs/, "
        "2022-01-01T00:00:00Z..2022-12-31T23:59:59Z): part-2022 already holds "
        "2022-07-01..2022-09-30 (92 days) of this window; events imported twice are billed "
        "twice and cannot be deleted. Narrow the window or prefix, or set allow_overlap=True"
    )
    assert refusal([part_of(2022)], AllowOverlap="true") is None
    assert refusal([part_of(2022, "IN_PROGRESS")]) is not None
    assert refusal([part_of(2022, "FAILED")]) is None, "holds no events (rule 6's definition)"
    other_bucket = part_of(2022, s3_location_uri="s3://another-archive/AWSLogs/")
    assert refusal([other_bucket]) is None


def test_a_segment_that_starts_nothing_is_not_checked_and_a_resumed_import_is_its_own() -> None:
    done = ImportRecord("done", "COMPLETED", identity(2022), {"FilesCompleted": 3})
    running = ImportRecord("running", "IN_PROGRESS", identity(2022))
    failed = ImportRecord("failed", "FAILED", identity(2022))
    # Skipped and followed segments start nothing, whatever else holds their days.
    assert refusal([done, part_of(2022)]) is None
    assert refusal([running, part_of(2022)]) is None
    # A resumed segment is checked, without the import it resumes.
    assert refusal([failed]) is None
    assert refusal([failed, part_of(2022)]) is not None


def test_the_plan_s_own_neighbours_are_no_overlap_an_identical_import_of_another_role_is() -> None:
    # Each segment ends on its neighbour's first day here (cut at noon, not midnight): the
    # plan's own cut shares no file, so an import identical to another segment is not one.
    noon = {
        "Segments": [
            {**request(2021), "EndEventTime": "2022-01-01T11:59:59Z"},
            {**request(2022), "StartEventTime": "2022-01-01T12:00:00Z"},
        ]
    }
    props = plan_properties.parse(raw_plan(**noon))
    first = props.segments[0].identity
    neighbour = ImportRecord("first", "COMPLETED", first, {"FilesCompleted": 3})
    history = [neighbour]
    execution_input = plan_decisions.execution_input(props, plan_decisions.by_source(history))
    assert plan_decisions.overlap_refusal(props, execution_input, history) is None
    # The same window run with another role, still running, is not the plan's to follow:
    # a new import of that segment would copy what it copies.
    other_role = replace(first, s3_bucket_access_role_arn=ROLE + "Old")
    history = [ImportRecord("other-role", "IN_PROGRESS", other_role)]
    execution_input = plan_decisions.execution_input(props, plan_decisions.by_source(history))
    found = plan_decisions.overlap_refusal(props, execution_input, history)
    assert found is not None
    assert found.startswith("OverlappingImport: segment 0 ")
    # An identical import that copied nothing holds nothing.
    nothing = ImportRecord("nothing", "COMPLETED", first, {"PrefixesFound": 0})
    execution_input = plan_decisions.execution_input(props, plan_decisions.by_source([nothing]))
    assert plan_decisions.overlap_refusal(props, execution_input, [nothing]) is None


def test_allow_overlap_is_parsed_and_changing_only_it_keeps_the_plan_s_executions() -> None:
    assert plan_properties.parse(raw_plan()).allow_overlap is False
    assert plan_properties.parse(raw_plan(AllowOverlap="true")).allow_overlap is True
    with pytest.raises(PropertyError, match=r'^AllowOverlap must be "true" or "false"'):
        plan_properties.parse(raw_plan(AllowOverlap="yes"))
    one = plan_decisions.plan_identity("stack", "Plan", raw_plan())
    assert one == plan_decisions.plan_identity("stack", "Plan", raw_plan(AllowOverlap="true"))
