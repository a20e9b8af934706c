"""StartQuery, DescribeQuery, GetQueryResults and CancelQuery of the emulated CloudTrail Lake.

A mix-in of the HTTP front (``server.CloudTrailLake``): each ``_op_<Operation>`` takes the
request's JSON and returns the response's, over the query engine (``queries.py``, whose
docstring lists the choices made where AWS documents nothing).
"""

from __future__ import annotations

from typing import Any

from tests.lake_emulator.queries import LakeQueries, Query, QueryError, describe, results_page
from tests.lake_emulator.records import EventDataStore


class LakeQueryOperations:
    """The query operations; the class it is mixed into has ``stores``, ``queries``, ``clock``."""

    stores: dict[str, EventDataStore]
    queries: LakeQueries

    def _query_now(self) -> float:
        clock: Any = getattr(self, "clock")  # noqa: B009 - the engine's, typed there
        return float(clock.now())

    def _op_StartQuery(self, params: dict[str, Any]) -> dict[str, Any]:
        statement = params.get("QueryStatement")
        if not isinstance(statement, str) or not statement.strip():
            raise _api_error("InvalidParameterException", "QueryStatement is required.")
        if params.get("QueryParameters") or params.get("QueryAlias"):
            raise _api_error(
                "InvalidParameterException", "QueryParameters and QueryAlias are not emulated."
            )
        ids = [arn.rsplit("/", 1)[-1] for arn in self.stores]
        try:
            query = self.queries.start(statement, ids, self._query_now())
        except QueryError as error:
            raise _api_error(error.code, error.message) from error
        return {"QueryId": query.query_id}

    def _polled(self, params: dict[str, Any], *, poll: bool = True) -> Query:
        query_id = params.get("QueryId")
        if not isinstance(query_id, str):
            raise _api_error("InvalidParameterException", "QueryId is required.")
        try:
            query = self.queries.get(query_id)
        except QueryError as error:
            raise _api_error(error.code, error.message) from error
        if poll:
            query.polls += 1
        return query

    def _op_DescribeQuery(self, params: dict[str, Any]) -> dict[str, Any]:
        return describe(self._polled(params))

    def _op_GetQueryResults(self, params: dict[str, Any]) -> dict[str, Any]:
        query = self._polled(params)
        try:
            return results_page(query, params.get("NextToken"), params.get("MaxQueryResults"))
        except QueryError as error:
            raise _api_error(error.code, error.message) from error

    def _op_CancelQuery(self, params: dict[str, Any]) -> dict[str, Any]:
        query = self._polled(params, poll=False)
        if query.status not in ("QUEUED", "RUNNING"):
            raise _api_error("InactiveQueryException", f"Query {query.query_id} is not running.")
        query.cancelled = True
        return {"QueryId": query.query_id, "QueryStatus": query.status}


def _api_error(code: str, message: str) -> Exception:
    # The front's error type; imported here, once the front (which imports this) is loaded.
    from tests.lake_emulator.server import ApiError

    return ApiError(code, message)
