"""Athena statements run in DuckDB over the archive in (moto) S3, as Athena would run them.

The ``CREATE EXTERNAL TABLE`` is read with sqlglot (Athena's dialect): its columns become a
DuckDB table (sqlglot's DuckDB rendering), its partition columns and ``"$path"`` are added, and
it is filled as Athena's partition projection and ``CloudTrailInputFormat`` would read it: for
every projected (account, region, day), the objects under ``storage.location.template``, each
``Records`` element a row (columns matched case-insensitively; nested ones left NULL, the
query reads none). The SELECT is transpiled from Athena to DuckDB by sqlglot and run; its rows
come back as Athena's ``GetQueryResults`` sends them (a header row, every value a string).
"""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import duckdb
import sqlglot
from sqlglot import exp

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def _properties(create: exp.Create) -> dict[str, str]:
    found: dict[str, str] = {}
    properties = create.args.get("properties")
    for prop in properties.expressions if properties else []:
        if type(prop) is exp.Property and isinstance(prop.this, exp.Literal):  # TBLPROPERTIES
            found[prop.this.name] = prop.args["value"].name
    return found


def _partitions(create: exp.Create) -> list[str]:
    properties = create.args.get("properties")
    for prop in properties.expressions if properties else []:
        if isinstance(prop, exp.PartitionedByProperty):
            schema = prop.this
            return [column.name for column in schema.expressions]
    raise AssertionError("no PARTITIONED BY")


def _days(text_range: str) -> list[str]:
    first, last = (datetime.strptime(d, "%Y/%m/%d").date() for d in text_range.split(","))
    days = []
    day: date = first
    while day <= last:
        days.append(day.strftime("%Y/%m/%d"))
        day += timedelta(days=1)
    return days


def create_and_fill(connection: duckdb.DuckDBPyConnection, ddl: str, s3: S3Client) -> int:
    """The table of ``ddl``, filled from S3 as Athena's projection reads it: its rows."""
    create = sqlglot.parse_one(ddl, read="athena")
    assert isinstance(create, exp.Create)
    table = create.this.this  # the Table inside the Schema
    schema_name = table.db
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema_name}")
    connection.execute(create.sql(dialect="duckdb"))
    columns = [c.name for c in create.this.expressions]
    nested = {c.name for c in create.this.expressions if c.args["kind"].is_type("struct", "array")}
    partitions = _partitions(create)
    qualified = f"{schema_name}.{table.name}"
    for name in [*partitions, "$path"]:
        connection.execute(f'ALTER TABLE {qualified} ADD COLUMN "{name}" VARCHAR')
    properties = _properties(create)
    assert properties["projection.enabled"] == "true"
    values = {
        name: properties[f"projection.{name}.values"].split(",")
        if properties[f"projection.{name}.type"] == "enum"
        else _days(properties[f"projection.{name}.range"])
        for name in partitions
    }
    rows: list[tuple[Any, ...]] = []
    for account in values["account"]:
        for region in values["region"]:
            for day in values["timestamp"]:
                location = (
                    properties["storage.location.template"]
                    .replace("${account}", account)
                    .replace("${region}", region)
                    .replace("${timestamp}", day)
                )
                bucket, _, prefix = location[len("s3://") :].partition("/")
                for page in s3.get_paginator("list_objects_v2").paginate(
                    Bucket=bucket, Prefix=prefix.rstrip("/") + "/"
                ):
                    for item in page.get("Contents", []):
                        body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                        try:
                            records = json.loads(gzip.decompress(body))["Records"]
                        except (OSError, ValueError, KeyError):
                            continue  # Athena would fail the query; an import fails the file
                        for record in records:
                            lower = {k.lower(): v for k, v in record.items()}
                            rows.append(
                                (
                                    *(
                                        None
                                        if c in nested or lower.get(c.lower()) is None
                                        else str(lower[c.lower()])
                                        for c in columns
                                    ),
                                    account,
                                    region,
                                    day,
                                    f"s3://{bucket}/{item['Key']}",
                                )
                            )
    if rows:
        marks = ", ".join("?" for _ in rows[0])
        connection.executemany(f"INSERT INTO {qualified} VALUES ({marks})", rows)
    return len(rows)


def _athena_text(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def run(statements: list[str], s3: S3Client) -> list[dict[str, Any]]:
    """Every DDL, then the SELECT: its rows as GetQueryResults ``Rows`` (header first)."""
    connection = duckdb.connect()
    *ddls, select = statements
    for ddl in ddls:
        create_and_fill(connection, ddl, s3)
    result = connection.execute(sqlglot.transpile(select, read="athena", write="duckdb")[0])
    header = [d[0] for d in result.description or []]
    rows = [{"Data": [{"VarCharValue": name} for name in header]}]
    rows += [
        {"Data": [{} if v is None else {"VarCharValue": _athena_text(v)} for v in row]}
        for row in result.fetchall()
    ]
    connection.close()
    return rows
