"""What the integration test apps share: the accounts and region they deploy to, and the small
trail archive they seed a bucket with.

In snapshot mode (``make test``, ``CDK_INTEG_SNAPSHOT=1``) nothing is deployed and the accounts
and region are placeholders, whatever credentials the machine has; in deploy mode
(``make integ``) they come from the environment:

- ``CDK_INTEG_ACCOUNT`` (else the CLI's ``CDK_DEFAULT_ACCOUNT``): the importing account;
- ``CDK_INTEG_REGION`` (else ``CDK_DEFAULT_REGION``): the region of every stack;
- ``CDK_INTEG_ARCHIVE_ACCOUNT``: the account that owns the archive in the cross-account test
  (bootstrapped to trust the importing account: ``cdk bootstrap --trust <importing account>``).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import integ_tests_alpha as integ

from cloudtrail_lake_import.cli.lake_query import counts_statement_from
from constructs import Construct

PLACEHOLDER_ACCOUNT = "111111111111"
PLACEHOLDER_ARCHIVE_ACCOUNT = "222222222222"
PLACEHOLDER_REGION = "eu-west-1"
# integ-runner synthesizes snapshots with CDK_INTEG_ACCOUNT=12345678 (8 digits, no account).
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
#: The seeded events' day: fixed (the snapshot must not change with the date), and inside the
#: new store's default retention (seven years) for years to come.
SEED_DAY = datetime(2025, 6, 1, tzinfo=UTC)
SEED_ROOT = Path(__file__).resolve().parent / ".seed"
SEED_FILES = 3
EVENTS_PER_FILE = 4
SEEDED_EVENTS = SEED_FILES * EVENTS_PER_FILE


def _from_environment(names: tuple[str, ...], pattern: re.Pattern[str], default: str) -> str:
    if os.environ.get("CDK_INTEG_SNAPSHOT") == "1":
        return default
    for name in names:
        value = os.environ.get(name, "")
        if pattern.match(value):
            return value
    return default


def account() -> str:
    return _from_environment(
        ("CDK_INTEG_ACCOUNT", "CDK_DEFAULT_ACCOUNT"), _ACCOUNT, PLACEHOLDER_ACCOUNT
    )


def archive_account() -> str:
    return _from_environment(("CDK_INTEG_ARCHIVE_ACCOUNT",), _ACCOUNT, PLACEHOLDER_ARCHIVE_ACCOUNT)


def region() -> str:
    return _from_environment(
        ("CDK_INTEG_REGION", "CDK_DEFAULT_REGION"), _REGION, PLACEHOLDER_REGION
    )


def environment(of_account: str | None = None) -> cdk.Environment:
    return cdk.Environment(account=of_account or account(), region=region())


@dataclass(frozen=True)
class Seed:
    """A generated trail archive: ``folder`` holds it as a trail lays it out under ``prefix``;
    its records are ``account``'s in ``region``, ``events_by_day`` of them on each UTC day of
    their ``eventTime`` (in the order of the days), every one with its own ``eventID``."""

    folder: Path
    prefix: str
    events: int
    account: str
    region: str
    events_by_day: tuple[tuple[date, int], ...]


def trail_archive(
    name: str, *, of_account: str, in_region: str, one_day_each: bool = False
) -> Seed:
    """Write ``SEED_FILES`` gzip log files of ``EVENTS_PER_FILE`` events each into
    ``integ/.seed/<name>/``, byte for byte the same on every synth for the same account and
    region (gzip's mtime is fixed). All on ``SEED_DAY``, or with ``one_day_each`` the n-th file
    on the n-th day from it."""
    folder = SEED_ROOT / name
    shutil.rmtree(folder, ignore_errors=True)
    prefix = f"AWSLogs/{of_account}/CloudTrail/"
    days: Counter[date] = Counter()
    for n in range(SEED_FILES):
        written = SEED_DAY + timedelta(days=n if one_day_each else 0, minutes=5 * (n + 1))
        day = f"{prefix}{in_region}/{written:%Y/%m/%d}/"
        name = f"{of_account}_CloudTrail_{in_region}_{written:%Y%m%dT%H%MZ}_integ{n:011d}.json.gz"
        records = [
            _record(of_account, in_region, written - timedelta(seconds=30 * (e + 1)), n, e)
            for e in range(EVENTS_PER_FILE)
        ]
        days.update(datetime.fromisoformat(str(r["eventTime"])).date() for r in records)
        path = folder / day / name
        path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"Records": records}, sort_keys=True).encode()
        path.write_bytes(gzip.compress(body, mtime=0))
    return Seed(
        folder=folder,
        prefix=prefix,
        events=SEED_FILES * EVENTS_PER_FILE,
        account=of_account,
        region=in_region,
        events_by_day=tuple(sorted(days.items())),
    )


def _record(
    of_account: str, in_region: str, at: datetime, file: int, event: int
) -> dict[str, object]:
    identity = f"integ-{of_account}-{file}-{event}"
    return {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLEINTEG",
            "arn": f"arn:aws:iam::{of_account}:user/integ",
            "accountId": of_account,
            "userName": "integ",
        },
        "eventTime": f"{at:%Y-%m-%dT%H:%M:%SZ}",
        "eventSource": "s3.amazonaws.com",
        "eventName": "ListBuckets",
        "awsRegion": in_region,
        "sourceIPAddress": "192.0.2.10",
        "userAgent": "cdk-cloudtrail-lake-import-integ",
        "requestParameters": None,
        "responseElements": None,
        "requestID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"request/{identity}")),
        "eventID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"event/{identity}")),
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": of_account,
        "eventCategory": "Management",
    }


TAG = "cdk-cloudtrail-lake-import-integ"


def assertion_stack(app: cdk.App, id: str) -> cdk.Stack:
    """Where the assertions run: the importing account and region (they read its import)."""
    return cdk.Stack(app, id, env=environment())


def tag(stack: cdk.Stack, test: str) -> None:
    """Tags every resource of ``stack`` with ``TAG``: what a test retains (the event data store,
    the archive's buckets) is found after it with ``aws resourcegroupstaggingapi get-resources
    --tag-filters Key=cdk-cloudtrail-lake-import-integ``."""
    cdk.Tags.of(stack).add(TAG, test)


def archive_bucket(scope: Construct, id: str, **props: Any) -> s3.Bucket:
    """A bucket as StartImport needs it (ACLs disabled), retained: it holds the archive."""
    return s3.Bucket(
        scope,
        id,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        **props,
    )


def seed(scope: Construct, bucket: s3.IBucket, archive: Seed) -> s3deploy.BucketDeployment:
    """Copies the generated archive into ``bucket`` (aws-cdk-lib's own Lambda, no Docker);
    deleting the stack leaves the files, as the bucket is retained."""
    return s3deploy.BucketDeployment(
        scope,
        "SeedArchive",
        sources=[s3deploy.Source.asset(str(archive.folder))],
        destination_bucket=bucket,
        prune=False,
        retain_on_delete=True,
    )


def retained(stack: cdk.Stack, **names: str) -> None:
    """Outputs naming what the stack leaves behind when it is destroyed."""
    for name, value in names.items():
        cdk.CfnOutput(stack, f"Retained{name}", value=value, description="retained: delete by hand")


def import_completed(test: integ.IntegTest, import_id: str, events: int) -> integ.IApiCall:
    """GetImport: COMPLETED, with every seeded event copied (statistics may lag: polled)."""
    call = test.assertions.aws_api_call("CloudTrail", "getImport", {"ImportId": import_id})
    call.expect(
        integ.ExpectedResult.object_like(
            {"ImportStatus": "COMPLETED", "ImportStatistics": {"EventsCompleted": events}}
        )
    )
    call.wait_for_assertions(
        total_timeout=cdk.Duration.hours(1), interval=cdk.Duration.minutes(1), backoff_rate=1
    )
    return call


def seeded_counts_statement(store: str, archive: Seed) -> str:
    """``verify``'s Lake query over the seeded days of ``store`` (its id, or a token)."""
    days = [day for day, _ in archive.events_by_day]
    return counts_statement_from(store, days[0], days[-1])


def seeded_count_rows(archive: Seed) -> list[list[dict[str, str]]]:
    """GetQueryResults' ``QueryResultRows`` for ``seeded_counts_statement`` when the store holds
    each seeded event exactly once: per day (in order), ``COUNT(*)`` and
    ``COUNT(DISTINCT eventID)`` both the day's seeded events; Lake answers every value as a
    string."""
    return [
        [
            {"day": day.isoformat()},
            {"account": archive.account},
            {"region": archive.region},
            {"events": str(events)},
            {"distinct_events": str(events)},
        ]
        for day, events in archive.events_by_day
    ]


def store_holds_each_seeded_event_once(
    test: integ.IntegTest,
    after: integ.IApiCall,
    store_stack: cdk.Stack,
    store_arn: str,
    archive: Seed,
) -> integ.IApiCall:
    """After ``after`` (the imports are done), ``seeded_counts_statement`` must answer
    ``seeded_count_rows``: every seeded event in the store, each once. Imported events keep
    their original ``eventTime``, so the seeded days bound the query; the store is new. The
    query runs once; its results are polled until it has finished."""
    # The id a statement names the store by is the ARN's last part. Split where the ARN is a
    # GetAtt: Fn::Split does not take the Fn::GetStackOutput another stack would read it with.
    store_id = cdk.CfnOutput(
        store_stack,
        "EventDataStoreId",
        value=cdk.Fn.select(1, cdk.Fn.split("/", store_arn)),
        description="the store's id, as the assertions' Lake query names it",
    )
    store = cdk.Fn.get_stack_output(
        store_stack.stack_name, store_id.logical_id, region=store_stack.region
    )
    start = test.assertions.aws_api_call(
        "CloudTrail", "startQuery", {"QueryStatement": seeded_counts_statement(store, archive)}
    )
    cdk.Stack.of(start).add_dependency(store_stack, "the query names the store's id")
    results = test.assertions.aws_api_call(
        "CloudTrail", "getQueryResults", {"QueryId": start.get_att_string("QueryId")}
    )
    results.expect(
        integ.ExpectedResult.object_like(
            {"QueryStatus": "FINISHED", "QueryResultRows": seeded_count_rows(archive)}
        )
    )
    results.wait_for_assertions(
        total_timeout=cdk.Duration.minutes(30), interval=cdk.Duration.seconds(30), backoff_rate=1
    )
    after.next(start).next(results)
    return results
