"""The integration tests' Lake query assertion, offline: the statement and the expected rows
committed in each ``integ/*.snapshot`` assertions template, run against the emulated CloudTrail
Lake after the app's seeded archive was imported. A store holding each seeded event once passes;
one holding them twice, or missing a day, does not; events outside the seeded days are not
counted."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import support  # integ/support.py (on pytest's pythonpath)

from tests.e2e.s3_tls import MotoS3Tls
from tests.e2e.test_lake_emulator import client, run_to_end, source
from tests.e2e.test_lake_emulator_queries import finished
from tests.e2e.world import make_bucket
from tests.lake_emulator.clock import EmulatedClock
from tests.lake_emulator.server import CloudTrailLake, EventDataStore

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient

INTEG = Path(support.__file__).resolve().parent


@dataclass(frozen=True)
class App:
    """An integ app's assertions template and the archive it seeds (snapshot mode)."""

    snapshot: str
    account: str
    one_day_each: bool = False


APPS = {
    "same-account": App(
        "integ_same_account.py.snapshot/LakeImportIntegSameAccountAssertions.template.json",
        support.PLACEHOLDER_ACCOUNT,
    ),
    "cross-account": App(
        "integ_cross_account.py.snapshot/LakeImportIntegCrossAccountAssertions.template.json",
        support.PLACEHOLDER_ARCHIVE_ACCOUNT,
    ),
    "existing-kms-bucket": App(
        "integ_existing_kms_bucket.py.snapshot/LakeImportIntegKmsAssertions.template.json",
        support.PLACEHOLDER_ACCOUNT,
    ),
    "plan": App(
        "integ_plan.py.snapshot/LakeImportIntegPlanAssertions.template.json",
        support.PLACEHOLDER_ACCOUNT,
        one_day_each=True,
    ),
}


@dataclass(frozen=True)
class Assertion:
    """What a template's assertion sends (the statement, for a store id) and expects."""

    statement_parts: list[Any]
    expected: dict[str, Any]

    def statement(self, store_id: str) -> str:
        joined = "".join(p if isinstance(p, str) else store_id for p in self.statement_parts)
        decoded: str = json.loads(joined)  # integ-tests sends each parameter JSON-encoded
        return decoded


def _resource(template: dict[str, Any], kind: str) -> dict[str, Any]:
    found = [r for r in template["Resources"].values() if r["Type"] == kind]
    assert len(found) == 1, kind
    properties: dict[str, Any] = found[0]["Properties"]
    return properties


def committed_assertion(app: App) -> Assertion:
    path = INTEG / app.snapshot
    template = json.loads(path.read_text())
    start = _resource(template, "Custom::DeployAssert@SdkCallCloudTrailstartQuery")
    results = _resource(template, "Custom::DeployAssert@SdkCallCloudTrailgetQueryResults")
    parts = start["parameters"]["QueryStatement"]["Fn::Join"][1]
    tokens = [p for p in parts if not isinstance(p, str)]
    # The one token is the store id: an output of the store's stack, the ARN's part after "/".
    assert len(tokens) == 1
    output = tokens[0]["Fn::GetStackOutput"]
    producer = json.loads((path.parent / f"{output['StackName']}.template.json").read_text())
    selected = producer["Outputs"][output["OutputName"]]["Value"]["Fn::Select"]
    assert selected[0] == 1
    assert selected[1]["Fn::Split"][0] == "/"
    assert selected[1]["Fn::Split"][1]["Fn::GetAtt"][1] == "EventDataStoreArn"
    assert results["parameters"]["QueryId"]["Fn::Join"][1][1]["Fn::GetAtt"][1] == (
        "apiCallResponse.QueryId"
    )
    expected: dict[str, Any] = json.loads(results["expected"])["$ObjectLike"]
    return Assertion(parts, expected)


@pytest.fixture
def emulator(lake: tuple[CloudTrailLake, str]) -> CloudTrailLake:
    return lake[0]


@pytest.fixture
def ct(lake: tuple[CloudTrailLake, str]) -> CloudTrailClient:
    return client(lake[1])


@pytest.fixture
def seed_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(support, "SEED_ROOT", tmp_path / "seed")
    return tmp_path


def seeded_bucket(s3_server: MotoS3Tls, archive: support.Seed) -> str:
    s3 = s3_server.client()
    bucket = make_bucket(s3)
    for path in sorted(archive.folder.rglob("*.json.gz")):
        key = path.relative_to(archive.folder).as_posix()
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    return bucket


def imported(
    emulator: CloudTrailLake,
    ct: CloudTrailClient,
    clock: EmulatedClock,
    bucket: str,
    prefixes: list[str],
) -> EventDataStore:
    """A new store, with one import per prefix run to COMPLETED."""
    store = emulator.add_event_data_store()
    for prefix in prefixes:
        started = ct.start_import(Destinations=[store.arn], ImportSource=source(bucket, prefix))
        assert run_to_end(clock, ct, started["ImportId"])["ImportStatus"] == "COMPLETED"
    return store


def query_results(ct: CloudTrailClient, statement: str) -> dict[str, Any]:
    query_id = ct.start_query(QueryStatement=statement)["QueryId"]
    assert finished(ct, query_id)["QueryStatus"] == "FINISHED"
    response = dict(ct.get_query_results(QueryId=query_id))
    assert "NextToken" not in response
    return response


def matches(expected: dict[str, Any], response: dict[str, Any]) -> bool:
    """The assertion's ``objectLike``: its keys as expected (the rows' lists in full and in
    order; each column map here has exactly the expected key)."""
    return all(response.get(key) == value for key, value in expected.items())


def archive_of(name: str, app: App) -> support.Seed:
    return support.trail_archive(
        name,
        of_account=app.account,
        in_region=support.PLACEHOLDER_REGION,
        one_day_each=app.one_day_each,
    )


@pytest.mark.parametrize("name", sorted(APPS))
def test_the_committed_assertion_holds_for_a_store_with_each_seeded_event_once(
    name: str,
    seed_root: Path,
    s3_server: MotoS3Tls,
    emulator: CloudTrailLake,
    ct: CloudTrailClient,
    clock: EmulatedClock,
) -> None:
    app = APPS[name]
    archive = archive_of(name, app)
    assertion = committed_assertion(app)
    store = imported(emulator, ct, clock, seeded_bucket(s3_server, archive), [archive.prefix])
    first, last = archive.events_by_day[0][0], archive.events_by_day[-1][0]
    # Events next to the seeded days (an ingesting store's own, a late delivery): not counted.
    outside = [
        datetime.combine(first, datetime.min.time()) - timedelta(seconds=1),
        datetime.combine(last, datetime.min.time()) + timedelta(days=1),
    ]
    emulator.queries.ingest(
        store.arn,
        [
            {
                "eventTime": f"{at:%Y-%m-%dT%H:%M:%SZ}",
                "eventID": f"outside-{n}",
                "recipientAccountId": app.account,
                "awsRegion": support.PLACEHOLDER_REGION,
            }
            for n, at in enumerate(outside)
        ],
    )

    statement = assertion.statement(store.arn.rsplit("/", 1)[-1])
    response = query_results(ct, statement)

    assert statement == support.seeded_counts_statement(store.arn.rsplit("/", 1)[-1], archive)
    assert assertion.expected == {
        "QueryStatus": "FINISHED",
        "QueryResultRows": support.seeded_count_rows(archive),
    }
    assert sum(int(row[3]["events"]) for row in assertion.expected["QueryResultRows"]) == (
        support.SEEDED_EVENTS
    )
    assert matches(assertion.expected, response), response["QueryResultRows"]


def test_a_store_holding_the_seeded_events_twice_fails_the_assertion(
    seed_root: Path,
    s3_server: MotoS3Tls,
    emulator: CloudTrailLake,
    ct: CloudTrailClient,
    clock: EmulatedClock,
) -> None:
    app = APPS["same-account"]
    archive = archive_of("twice", app)
    bucket = seeded_bucket(s3_server, archive)
    store = imported(emulator, ct, clock, bucket, [archive.prefix, archive.prefix])

    response = query_results(ct, committed_assertion(app).statement(store.arn.rsplit("/", 1)[-1]))

    assert not matches(committed_assertion(app).expected, response)
    assert response["QueryResultRows"][0][3:] == [
        {"events": str(2 * support.SEEDED_EVENTS)},
        {"distinct_events": str(support.SEEDED_EVENTS)},
    ]


def test_a_store_missing_a_seeded_day_fails_the_plans_assertion(
    seed_root: Path,
    s3_server: MotoS3Tls,
    emulator: CloudTrailLake,
    ct: CloudTrailClient,
    clock: EmulatedClock,
) -> None:
    app = APPS["plan"]
    archive = archive_of("missing-day", app)
    bucket = seeded_bucket(s3_server, archive)
    days = [f"{archive.prefix}{support.PLACEHOLDER_REGION}/2025/06/0{d}/" for d in (1, 3)]
    store = imported(emulator, ct, clock, bucket, days)

    response = query_results(ct, committed_assertion(app).statement(store.arn.rsplit("/", 1)[-1]))

    assert not matches(committed_assertion(app).expected, response)
    assert [row[0]["day"] for row in response["QueryResultRows"]] == ["2025-06-01", "2025-06-03"]
