"""The query engine of the emulated CloudTrail Lake: the events imports ingested, queried in SQL.

Every record an import ingests (and every "live" event a test puts) is kept as a row of its
store's table in an in-memory DuckDB database. A Lake statement (Trino SQL, ``FROM <store id>``)
is transpiled from Trino to DuckDB with sqlglot and run there: no SQL is parsed by hand.

Choices where AWS documents nothing (tests depend on them; change them here only)
  * Columns (Lake's documented names and types for CloudTrail events; DuckDB matches names
    case-insensitively, as Lake does): ``eventVersion``, ``eventTime`` (TIMESTAMP, UTC),
    ``eventSource``, ``eventName``, ``awsRegion``, ``sourceIPAddress``, ``userAgent``,
    ``errorCode``, ``errorMessage``, ``requestID``, ``eventID``, ``eventType``,
    ``eventCategory``, ``recipientAccountId``, ``readOnly`` and ``managementEvent`` (BOOLEAN),
    ``userIdentity`` (STRUCT of ``type``, ``principalId``, ``arn``, ``accountId``,
    ``accessKeyId``, ``userName``), ``requestParameters`` and ``responseElements`` (MAP of
    VARCHAR to VARCHAR, non-string values as JSON). Other record fields are not kept.
  * ``FROM`` names a store by its id (the ARN's last part), unquoted as Lake's examples write
    it; the ids of known stores are quoted before parsing. A statement that is not one SELECT,
    that sqlglot cannot read as Trino, or that DuckDB cannot bind or run (an unknown store or
    column included) is refused by StartQuery with ``InvalidQueryStatementException``.
  * A query runs when started; it is ``RUNNING`` on its first DescribeQuery or GetQueryResults
    and ``FINISHED`` from the second (so that callers poll), unless a test made it fail
    (``fail_next``): then ``FAILED`` with that message. Results are every value as a string
    (Lake's wire format), NULL as absent from the row's column maps; pages of
    ``MaxQueryResults`` (default 1,000).
  * Statistics: ``EventsScanned`` is every row of the stores the statement names (no
    partition pruning), ``BytesScanned`` their records' JSON size (an upper bound of Lake's
    columnar scan), ``EventsMatched`` the rows returned.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

COLUMNS = (
    ("eventVersion", "VARCHAR"),
    ("eventTime", "TIMESTAMP"),
    ("eventSource", "VARCHAR"),
    ("eventName", "VARCHAR"),
    ("awsRegion", "VARCHAR"),
    ("sourceIPAddress", "VARCHAR"),
    ("userAgent", "VARCHAR"),
    ("errorCode", "VARCHAR"),
    ("errorMessage", "VARCHAR"),
    ("requestID", "VARCHAR"),
    ("eventID", "VARCHAR"),
    ("eventType", "VARCHAR"),
    ("eventCategory", "VARCHAR"),
    ("recipientAccountId", "VARCHAR"),
    ("readOnly", "BOOLEAN"),
    ("managementEvent", "BOOLEAN"),
    (
        "userIdentity",
        "STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, "
        "accessKeyId VARCHAR, userName VARCHAR)",
    ),
    ("requestParameters", "MAP(VARCHAR, VARCHAR)"),
    ("responseElements", "MAP(VARCHAR, VARCHAR)"),
)
#: Kept beside the columns, not queryable under a Lake name: the record's JSON size.
SIZE_COLUMN = "_record_bytes"
IDENTITY_FIELDS = ("type", "principalId", "arn", "accountId", "accessKeyId", "userName")
DEFAULT_PAGE = 1000


class QueryError(Exception):
    """A refusal, as the API's error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class Query:
    query_id: str
    statement: str
    created: float
    rows: list[list[dict[str, str]]] = field(default_factory=list)
    events_scanned: int = 0
    bytes_scanned: int = 0
    failure: str | None = None
    cancelled: bool = False
    polls: int = 0  # DescribeQuery and GetQueryResults calls so far

    @property
    def status(self) -> str:
        if self.cancelled:
            return "CANCELLED"
        if self.polls < 2:
            return "RUNNING"
        return "FAILED" if self.failure else "FINISHED"


def _table(store_id: str) -> str:
    return '"' + store_id.replace('"', '""') + '"'


def _time(value: object) -> datetime | None:
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=None)
    except ValueError:
        return None


def _string_map(value: object) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}


def _row(record: dict[str, Any]) -> tuple[Any, ...]:
    identity = record.get("userIdentity")
    identity = identity if isinstance(identity, dict) else {}
    values: list[Any] = []
    for name, kind in COLUMNS:
        value = record.get(name)
        if name == "eventTime":
            values.append(_time(value))
        elif name == "userIdentity":
            values.append({k: _text(identity.get(k)) for k in IDENTITY_FIELDS})
        elif kind.startswith("MAP"):
            values.append(_string_map(value))
        elif kind == "BOOLEAN":
            values.append(value if isinstance(value, bool) else None)
        else:
            values.append(_text(value))
    values.append(len(json.dumps(record)))
    return tuple(values)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _wire(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


class LakeQueries:
    """Stores' events in DuckDB and the queries run over them (thread-safe)."""

    def __init__(self) -> None:
        self._db = duckdb.connect(":memory:")
        self._lock = threading.Lock()
        self._tables: set[str] = set()
        self.queries: dict[str, Query] = {}
        self._failures: list[str] = []

    # ------------------------------------------------------------------ events
    def ingest(self, store_arn: str, records: list[dict[str, Any]]) -> None:
        """Keep ``records`` in the store's table (an import's file, or live events)."""
        store_id = store_arn.rsplit("/", 1)[-1]
        with self._lock:
            self._ensure(store_id)
            if records:
                placeholders = ", ".join("?" for _ in range(len(COLUMNS) + 1))
                self._db.executemany(
                    f"INSERT INTO {_table(store_id)} VALUES ({placeholders})",
                    [_row(r) for r in records],
                )

    def events(self, store_arn: str) -> int:
        store_id = store_arn.rsplit("/", 1)[-1]
        with self._lock:
            if store_id not in self._tables:
                return 0
            row = self._db.execute(f"SELECT COUNT(*) FROM {_table(store_id)}").fetchone()
            return int(row[0]) if row else 0

    def _ensure(self, store_id: str) -> None:
        if store_id in self._tables:
            return
        columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS)
        self._db.execute(f"CREATE TABLE {_table(store_id)} ({columns}, {SIZE_COLUMN} BIGINT)")
        self._tables.add(store_id)

    # ------------------------------------------------------------------ queries
    def fail_next(self, message: str) -> None:
        """The next query started fails at run time with ``message`` (a test's fault)."""
        with self._lock:
            self._failures.append(message)

    def start(self, statement: str, store_ids: list[str], now: float) -> Query:
        """Run ``statement`` (Trino SQL) over the known stores ``store_ids``."""
        with self._lock:
            for store_id in store_ids:
                self._ensure(store_id)
            sql, named = self._transpile(statement, store_ids)
            query = Query(str(uuid.uuid4()), statement, now)
            try:
                result = self._db.execute(sql)
                columns = [d[0] for d in result.description or []]
                fetched = result.fetchall()
            except duckdb.Error as error:
                raise QueryError("InvalidQueryStatementException", _first_line(error)) from error
            query.rows = [
                [{c: _wire(v)} for c, v in zip(columns, row, strict=True) if v is not None]
                for row in fetched
            ]
            for store_id in named:
                scanned = self._db.execute(
                    f"SELECT COUNT(*), COALESCE(SUM({SIZE_COLUMN}), 0) FROM {_table(store_id)}"
                ).fetchone()
                assert scanned is not None
                query.events_scanned += int(scanned[0])
                query.bytes_scanned += int(scanned[1])
            if self._failures:
                query.failure = self._failures.pop(0)
            self.queries[query.query_id] = query
            return query

    def _transpile(self, statement: str, store_ids: list[str]) -> tuple[str, list[str]]:
        """The DuckDB SQL of ``statement`` and the store ids it reads."""
        quoted = statement
        for store_id in store_ids:
            quoted = re.sub(
                rf'(?<!["\w-]){re.escape(store_id)}(?![\w"-])', _table(store_id), quoted
            )
        try:
            parsed = sqlglot.parse(quoted, read="trino")
        except SqlglotError as error:
            raise QueryError("InvalidQueryStatementException", _first_line(error)) from error
        if len(parsed) != 1 or not isinstance(parsed[0], exp.Select):
            raise QueryError(
                "InvalidQueryStatementException", "Only one SELECT statement is supported."
            )
        tree = parsed[0]
        named = sorted({t.name for t in tree.find_all(exp.Table)} & set(store_ids))
        return tree.sql(dialect="duckdb"), named

    def get(self, query_id: str) -> Query:
        with self._lock:
            query = self.queries.get(query_id)
        if query is None:
            raise QueryError("QueryIdNotFoundException", f"Query {query_id} not found.")
        return query


def _first_line(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text[:900] or type(error).__name__


def describe(query: Query) -> dict[str, Any]:
    out: dict[str, Any] = {
        "QueryId": query.query_id,
        "QueryString": query.statement,
        "QueryStatus": query.status,
        "QueryStatistics": {
            "EventsMatched": len(query.rows),
            "EventsScanned": query.events_scanned,
            "BytesScanned": query.bytes_scanned,
            "ExecutionTimeInMillis": 1,
            "CreationTime": query.created,
        },
    }
    if query.status == "FAILED" and query.failure:
        out["ErrorMessage"] = query.failure
    return out


def results_page(query: Query, token: object, max_results: object) -> dict[str, Any]:
    """One page of a query's rows (``NextToken`` ``qr-<offset>``)."""
    size = DEFAULT_PAGE if max_results is None else int(str(max_results))
    if not 1 <= size <= DEFAULT_PAGE:
        raise QueryError("InvalidMaxResultsException", "MaxQueryResults must be 1 to 1000.")
    offset = 0
    if token is not None:
        if not isinstance(token, str) or not re.fullmatch(r"qr-\d+", token):
            raise QueryError("InvalidNextTokenException", "Invalid NextToken.")
        offset = int(token[3:])
    out: dict[str, Any] = {"QueryStatus": query.status}
    if query.status != "FINISHED":
        if query.status == "FAILED" and query.failure:
            out["ErrorMessage"] = query.failure
        return out
    page = query.rows[offset : offset + size]
    out["QueryResultRows"] = page
    out["QueryStatistics"] = {
        "ResultsCount": len(page),
        "TotalResultsCount": len(query.rows),
        "BytesScanned": query.bytes_scanned,
    }
    if offset + size < len(query.rows):
        out["NextToken"] = f"qr-{offset + size}"
    return out
