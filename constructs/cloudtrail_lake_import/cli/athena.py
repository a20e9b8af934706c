"""``verify --engine athena``: the archive side as one Amazon Athena GROUP BY query.

For archives too big to download: the files are read where they are, by Athena, over a
CloudTrail table as AWS documents it for trail logs (``CloudTrailInputFormat``, JSON SerDe)
with partition projection, created if absent: one table per ``.../AWSLogs/[o-<org>/]`` folder
holding selected files, partitioned by account, region and day folder (``yyyy/MM/dd``), the
projected values those the listing found. The query applies ``sizing``'s selection to each row's
``"$path"`` (the key pattern, the prefix, the window against the name's minute or the day
folder), leaves out the files the imports failed, and counts per UTC day x account x region
the records and distinct ``eventID``s, flagging those older than the store's retention.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cloudtrail_lake_import.cli.errors import CliError
from cloudtrail_lake_import.cli.lake_query import refused
from cloudtrail_lake_import.cli.reconcile import Counts, GroupKey
from cloudtrail_lake_import.handler_rules import sizing

#: Athena's price per TB scanned (US East, AWS's Athena pricing page, 2023-09-20); a query is
#: billed at least 10 MB.
PRICE_PER_TB_SCANNED_USD = 5.0
MINIMUM_SCAN_BYTES = 10 * 10**6
TB = 10**12
ENDED = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
FIRST_POLL_SECONDS = 0.5
LONGEST_POLL_SECONDS = 5.0
KEY_PATTERN = sizing.LOG_KEY_PATTERN.replace("?P<day>", "").replace("?P<stamp>", "")
# Replaced by tests that poll on an emulated clock.
sleep: Callable[[float], None] = time.sleep

#: The columns of AWS's documented CloudTrail table that the query reads, and the others.
COLUMNS = (
    ("eventversion", "STRING"),
    (
        "useridentity",
        "STRUCT<type: STRING, principalid: STRING, arn: STRING, accountid: STRING, "
        "invokedby: STRING, accesskeyid: STRING, username: STRING>",
    ),
    ("eventtime", "STRING"),
    ("eventsource", "STRING"),
    ("eventname", "STRING"),
    ("awsregion", "STRING"),
    ("sourceipaddress", "STRING"),
    ("useragent", "STRING"),
    ("errorcode", "STRING"),
    ("errormessage", "STRING"),
    ("requestparameters", "STRING"),
    ("responseelements", "STRING"),
    ("additionaleventdata", "STRING"),
    ("requestid", "STRING"),
    ("eventid", "STRING"),
    ("readonly", "STRING"),
    ("resources", "ARRAY<STRUCT<arn: STRING, accountid: STRING, type: STRING>>"),
    ("eventtype", "STRING"),
    ("apiversion", "STRING"),
    ("recipientaccountid", "STRING"),
    ("serviceeventdetails", "STRING"),
    ("sharedeventid", "STRING"),
    ("vpcendpointid", "STRING"),
    ("eventcategory", "STRING"),
)


def _text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


@dataclass
class Root:
    """A ``.../AWSLogs/[o-<org>/]`` folder and what the selected files below it span."""

    bucket: str
    prefix: str
    accounts: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    days: set[str] = field(default_factory=set)  # "YYYY/MM/DD"

    @property
    def table(self) -> str:
        digest = hashlib.sha256(f"{self.bucket}/{self.prefix}".encode()).hexdigest()[:16]
        return f"cloudtrail_verify_{digest}"

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def roots(files: Iterable[tuple[str, str]]) -> list[Root]:
    """The roots of (bucket, key) log files (``<root><account>/CloudTrail/<region>/Y/M/D/f``)."""
    found: dict[tuple[str, str], Root] = {}
    for bucket, key in files:
        parts = key.split("/")
        root = "/".join(parts[:-7]) + "/"
        account, region, day = parts[-7], parts[-5], "/".join(parts[-4:-1])
        entry = found.setdefault((bucket, root), Root(bucket, root))
        entry.accounts.add(account)
        entry.regions.add(region)
        entry.days.add(day)
    return [found[k] for k in sorted(found)]


def ddl(root: Root, database: str) -> str:
    """AWS's CloudTrail table with partition projection over the root's accounts, regions, days."""
    columns = ",\n  ".join(f"{name} {kind}" for name, kind in COLUMNS)
    properties = {
        "projection.enabled": "true",
        "projection.account.type": "enum",
        "projection.account.values": ",".join(sorted(root.accounts)),
        "projection.region.type": "enum",
        "projection.region.values": ",".join(sorted(root.regions)),
        "projection.timestamp.type": "date",
        "projection.timestamp.format": "yyyy/MM/dd",
        "projection.timestamp.range": f"{min(root.days)},{max(root.days)}",
        "projection.timestamp.interval": "1",
        "projection.timestamp.interval.unit": "DAYS",
        "storage.location.template": f"{root.location}${{account}}/CloudTrail/${{region}}/"
        "${timestamp}",
    }
    tblproperties = ",\n  ".join(f"{_text(k)}={_text(v)}" for k, v in properties.items())
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS {database}.{root.table} (\n  {columns}\n)\n"
        "PARTITIONED BY (account STRING, region STRING, `timestamp` STRING)\n"
        "ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'\n"
        "STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'\n"
        "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n"
        f"LOCATION {_text(root.location)}\n"
        f"TBLPROPERTIES (\n  {tblproperties}\n)"
    )


def _selected(bucket: str, prefix: str, window: sizing.Window) -> str:
    """Whether a row's file is one an import of (bucket, prefix, window) reads."""
    base = f"s3://{bucket}/"
    key = f"substr(path, {len(base) + 1})"
    day = f"replace(coalesce(regexp_extract({key}, {_text(KEY_PATTERN)}, 1), ''), '/', '')"
    stamp = f"coalesce(regexp_extract({key}, {_text(KEY_PATTERN)}, 2), '')"
    at = f"(CASE WHEN {stamp} <> '' THEN {stamp} ELSE {day} || 'T0000' END)"
    lowest, lowest_day, highest = window.stamp_bounds()
    conditions = [
        f"starts_with(path, {_text(base + prefix)})",
        f"regexp_like({key}, {_text(KEY_PATTERN)})",
    ]
    start = sizing.classify(prefix)
    if start is not None and start.level is sizing.Level.TRAIL_PREFIX:
        depth = sizing.MAX_TRAIL_PREFIX_DEPTH
        below = rf"^(?:[^/]+/){{0,{depth}}}AWSLogs/"
        conditions.append(f"regexp_like(substr({key}, {len(prefix) + 1}), {_text(below)})")
    if lowest is not None and lowest_day is not None:
        conditions.append(
            f"(CASE WHEN {stamp} <> '' THEN {stamp} >= {_text(lowest)} "
            f"ELSE {day} || 'T0000' >= {_text(lowest_day)} END)"
        )
    if highest is not None:
        conditions.append(f"{at} <= {_text(highest)}")
    return "(" + " AND ".join(conditions) + ")"


def counts_query(
    found_roots: list[Root],
    database: str,
    sources: list[tuple[str, str, sizing.Window]],
    oldest: str | None,
    failed: Iterable[str],
) -> str:
    """Records and distinct ``eventID``s per group of the selected files (``old`` flags events
    older than the retention), in one GROUP BY."""
    unions = "\n  UNION ALL\n  ".join(
        'SELECT eventtime, recipientaccountid, awsregion, eventid, "$path" AS path '
        f'FROM {database}.{r.table} WHERE "timestamp" BETWEEN {_text(min(r.days))} '
        f"AND {_text(max(r.days))}"
        for r in found_roots
    )
    selected = " OR ".join(_selected(b, p, w) for b, p, w in sources)
    skipped = sorted(set(failed))
    not_failed = f" AND path NOT IN ({', '.join(_text(f) for f in skipped)})" if skipped else ""
    old = f"eventtime < {_text(oldest)}" if oldest is not None else "false"
    return (
        f"SELECT substr(eventtime, 1, 10) AS day, recipientaccountid AS account_id, "
        f"awsregion AS region_name, {old} AS old, COUNT(*) AS records, "
        "COUNT(DISTINCT eventid) AS distinct_events\n"
        f"FROM (\n  {unions}\n) AS rows_read\n"
        f"WHERE ({selected}){not_failed}\n"
        "GROUP BY 1, 2, 3, 4"
    )


@dataclass
class AthenaRun:
    query_id: str
    statement: str
    rows: list[dict[str, str]] = field(default_factory=list)
    bytes_scanned: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "engine": "athena",
            "query_id": self.query_id,
            "statement": self.statement,
            "bytes_scanned": self.bytes_scanned,
            "rows": len(self.rows),
        }


def run(
    client: Any, statement: str, workgroup: str, database: str, *, results: bool = True
) -> AthenaRun:
    """StartQueryExecution, wait, and every page of the results (the first row: the header);
    a statement without results (DDL) is only waited for."""
    try:
        started = client.start_query_execution(
            QueryString=statement,
            QueryExecutionContext={"Database": database},
            WorkGroup=workgroup,
        )
    except (ClientError, BotoCoreError) as error:
        raise refused(
            "StartQueryExecution", error, f"workgroup {workgroup}", "athena:StartQueryExecution"
        ) from error
    result = AthenaRun(str(started["QueryExecutionId"]), statement)
    pause = FIRST_POLL_SECONDS
    while True:
        try:
            execution = client.get_query_execution(QueryExecutionId=result.query_id)
        except (ClientError, BotoCoreError) as error:
            raise refused(
                "GetQueryExecution", error, f"workgroup {workgroup}", "athena:GetQueryExecution"
            ) from error
        state = execution["QueryExecution"]["Status"]["State"]
        if state in ENDED:
            break
        sleep(pause)
        pause = min(LONGEST_POLL_SECONDS, pause * 2)
    if state != "SUCCEEDED":
        why = execution["QueryExecution"]["Status"].get("StateChangeReason", "no reason given")
        raise CliError(f"the Athena query {result.query_id} ended {state}: {why}")
    statistics = execution["QueryExecution"].get("Statistics", {})
    result.bytes_scanned = int(statistics.get("DataScannedInBytes", 0))
    if not results:
        return result
    header: list[str] | None = None
    request: dict[str, Any] = {"QueryExecutionId": result.query_id}
    while True:
        try:
            page = client.get_query_results(**request)
        except (ClientError, BotoCoreError) as error:
            raise refused(
                "GetQueryResults", error, f"workgroup {workgroup}", "athena:GetQueryResults"
            ) from error
        for row in page["ResultSet"].get("Rows", []):
            values = [d.get("VarCharValue", "") for d in row.get("Data", [])]
            if header is None:
                header = values
                continue
            result.rows.append(dict(zip(header, values, strict=False)))
        token = page.get("NextToken")
        if not token:
            return result
        request["NextToken"] = token


def group_counts(rows: list[dict[str, str]]) -> tuple[dict[GroupKey, Counts], int]:
    """Counts per group of the rows not flagged old, and the old records."""
    counts: dict[GroupKey, Counts] = {}
    old = 0
    for row in rows:
        if row.get("old") == "true":
            old += int(row["records"])
            continue
        key = (row.get("day") or "unknown", row.get("account_id", "None"), row["region_name"])
        counts[key] = Counts(int(row["records"]), int(row["distinct_events"]))
    return counts, old


def scan_usd(compressed_bytes: int) -> float:
    return round(max(compressed_bytes, MINIMUM_SCAN_BYTES) / TB * PRICE_PER_TB_SCANNED_USD, 6)
