"""Argument types shared by the commands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


class IsoTime(click.ParamType[datetime]):
    """An ISO 8601 time (``2024-01-01``, ``2024-01-01T00:00:00Z``, ``...+02:00``); UTC if naive."""

    name = "ISO8601"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"expected an ISO 8601 time such as 2024-01-01T00:00:00Z, got {value!r}")
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def iso(value: datetime | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SSZ``, as StartImport's window is sent."""
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _set_region(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from cloudtrail_lake_import.cli import clients

    if value is not None:
        clients.region = value
    return value


def region_option(command: F) -> F:
    """``--region`` after the subcommand too (``estimate ... --region eu-west-1``), as users
    type it; either place sets the region of the calls."""
    return click.option(
        "--region",
        metavar="REGION",
        expose_value=False,
        is_eager=True,
        callback=_set_region,
        help="AWS Region of the calls (also accepted before the subcommand).",
    )(command)
