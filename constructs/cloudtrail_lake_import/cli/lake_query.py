"""The store side of ``verify``: CloudTrail Lake queries (StartQuery, DescribeQuery,
GetQueryResults with paging), their statements, and refusals named as what to grant."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from cloudtrail_lake_import.cli.errors import EXIT_BAD_INPUT, BadInputError, CliError, aws_error
from cloudtrail_lake_import.cli.reconcile import Counts, GroupKey

#: Lake's price per GB scanned by a query (US East, AWS's CloudTrail pricing page, 2023-09-20).
PRICE_PER_GB_SCANNED_USD = 0.005
#: An event data store id as statements name it (validated: it is written into the SQL).
STORE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,127}")
ENDED = frozenset({"FINISHED", "FAILED", "CANCELLED", "TIMED_OUT"})
ACCESS_DENIED = frozenset(
    {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "NotAuthorized"}
)
FIRST_POLL_SECONDS = 0.5
LONGEST_POLL_SECONDS = 5.0
#: A query still running after this long is cancelled (Lake's own limit is about an hour).
QUERY_TIMEOUT_SECONDS = 3600.0
# Replaced by tests that poll on an emulated clock.
sleep: Callable[[float], None] = time.sleep
monotonic: Callable[[], float] = time.monotonic


@dataclass
class QueryRun:
    query_id: str
    statement: str
    rows: list[dict[str, str]] = field(default_factory=list)
    bytes_scanned: int = 0
    events_scanned: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "query_id": self.query_id,
            "statement": self.statement,
            "bytes_scanned": self.bytes_scanned,
            "events_scanned": self.events_scanned,
            "rows": len(self.rows),
        }


def store_id(store_arn: str) -> str:
    """The id a statement names the store by (the ARN's last part; only letters, digits, -)."""
    found = store_arn.rsplit("/", 1)[-1]
    if not STORE_ID.fullmatch(found):
        raise BadInputError(
            f"--store: expected arn:aws:cloudtrail:<region>:<account>:eventdatastore/<id>, "
            f"got {store_arn!r}"
        )
    return found


def _bound(day: date) -> str:
    return f"'{day.isoformat()} 00:00:00'"


def counts_statement(store_arn: str, first_day: date, last_day: date) -> str:
    """COUNT(*) and COUNT(DISTINCT eventID) per group, bounded to whole days of ``eventTime``."""
    return counts_statement_from(store_id(store_arn), first_day, last_day)


def counts_statement_from(store: str, first_day: date, last_day: date) -> str:
    """``counts_statement`` with the store as the statement names it: an id ``store_id``
    checked, or a CloudFormation token that resolves to one (the integration tests' stores).
    Ordered, so that the rows of several groups come in the same order on every run."""
    day = "date_format(eventTime, '%Y-%m-%d')"
    return (
        f"SELECT {day} AS day, recipientAccountId AS account, awsRegion AS region, "
        "COUNT(*) AS events, COUNT(DISTINCT eventID) AS distinct_events "
        f"FROM {store} "
        f"WHERE eventTime >= {_bound(first_day)} "
        f"AND eventTime < {_bound(last_day + timedelta(days=1))} "
        f"GROUP BY {day}, recipientAccountId, awsRegion "
        "ORDER BY day, account, region"
    )


def ids_statement(store_arn: str, day: date) -> str:
    """Every ``eventID`` of a day, with its copies (``--details``)."""
    return (
        "SELECT recipientAccountId AS account, awsRegion AS region, eventID AS event_id, "
        f"COUNT(*) AS copies FROM {store_id(store_arn)} "
        f"WHERE eventTime >= {_bound(day)} AND eventTime < {_bound(day + timedelta(days=1))} "
        "GROUP BY recipientAccountId, awsRegion, eventID"
    )


def group_counts(run: QueryRun) -> dict[GroupKey, Counts]:
    return {
        (r["day"], r.get("account", "None"), r.get("region", "None")): Counts(
            int(r["events"]), int(r["distinct_events"])
        )
        for r in run.rows
    }


def day_ids(run: QueryRun, day: str) -> dict[GroupKey, Counter[str]]:
    found: dict[GroupKey, Counter[str]] = {}
    for r in run.rows:
        key = (day, r.get("account", "None"), r.get("region", "None"))
        found.setdefault(key, Counter())[r.get("event_id", "None")] += int(r["copies"])
    return found


def refused(
    operation: str, error: ClientError | BotoCoreError, resource: str, action: str | None = None
) -> CliError:
    """A refusal as what to grant (``action``, by default ``cloudtrail:<operation>``) on
    ``resource`` (exit 2); any other error as it came (exit 1)."""
    if isinstance(error, NoCredentialsError):
        return CliError(
            "no AWS credentials found: set AWS_PROFILE or the standard credential variables",
            EXIT_BAD_INPUT,
        )
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in ACCESS_DENIED:
            return CliError(
                f"{operation} was refused ({code}): grant "
                f"{action or 'cloudtrail:' + operation} on {resource}",
                EXIT_BAD_INPUT,
            )
    return aws_error(operation, error)


def run_query(client: Any, statement: str, store_arn: str) -> QueryRun:
    """Start ``statement``, wait for it, and read every page of its results."""
    try:
        query_id = str(client.start_query(QueryStatement=statement)["QueryId"])
    except (ClientError, BotoCoreError) as error:
        raise refused("StartQuery", error, store_arn) from error
    run = QueryRun(query_id, statement)
    described = _wait(client, run, store_arn)
    statistics = described.get("QueryStatistics", {})
    run.bytes_scanned = int(statistics.get("BytesScanned", 0))
    run.events_scanned = int(statistics.get("EventsScanned", 0))
    request: dict[str, Any] = {"QueryId": query_id, "MaxQueryResults": 1000}
    while True:
        try:
            page = client.get_query_results(**request)
        except (ClientError, BotoCoreError) as error:
            raise refused("GetQueryResults", error, store_arn) from error
        for row in page.get("QueryResultRows", []):
            run.rows.append({k: v for column in row for k, v in column.items()})
        token = page.get("NextToken")
        if not token:
            return run
        request["NextToken"] = token


def _wait(client: Any, run: QueryRun, store_arn: str) -> dict[str, Any]:
    deadline = monotonic() + QUERY_TIMEOUT_SECONDS
    pause = FIRST_POLL_SECONDS
    while True:
        try:
            described: dict[str, Any] = dict(client.describe_query(QueryId=run.query_id))
        except (ClientError, BotoCoreError) as error:
            raise refused("DescribeQuery", error, store_arn) from error
        status = described.get("QueryStatus")
        if status == "FINISHED":
            return described
        if status in ENDED:
            why = described.get("ErrorMessage") or "no error message"
            raise CliError(f"the Lake query {run.query_id} ended {status}: {why}")
        if monotonic() > deadline:
            client.cancel_query(QueryId=run.query_id)
            raise CliError(
                f"the Lake query {run.query_id} still ran after {QUERY_TIMEOUT_SECONDS:.0f} s: "
                "cancelled; verify a shorter window"
            )
        sleep(pause)
        pause = min(LONGEST_POLL_SECONDS, pause * 2)
