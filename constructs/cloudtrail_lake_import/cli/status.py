"""``status``: an import's progress and failures, once or until it ends."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from cloudtrail_lake_import.cli import clients, plan_status, render, stack_region
from cloudtrail_lake_import.cli.errors import BadInputError, CliError, aws_error
from cloudtrail_lake_import.cli.params import iso, region_option

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient

RESOURCE_TYPE = "Custom::CloudTrailLakeImport"
#: The PhysicalResourceId of an import resource that found nothing to import.
NO_SOURCE_FILES = "no-source-files:"
#: CloudTrail's ImportId (its API model: 36 characters of ``[a-f0-9-]``, a UUID).
IMPORT_ID = re.compile(r"[a-f0-9-]{36}")
TERMINAL = frozenset({"COMPLETED", "FAILED", "STOPPED"})
#: CloudTrail's control-plane quota is about one call per second: poll gently.
DEFAULT_INTERVAL_SECONDS = 10.0
# Replaced by tests to run a watch on an emulated clock.
sleep: Callable[[float], None] = time.sleep
now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


@dataclass(frozen=True)
class ImportStatus:
    import_id: str
    status: str
    destination: str | None
    source: str | None
    start: datetime | None
    end: datetime | None
    created: datetime | None
    updated: datetime | None
    statistics: dict[str, int]
    failures: list[dict[str, str | None]]

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def elapsed_seconds(self) -> float | None:
        if self.created is None:
            return None
        until = self.updated if self.terminal and self.updated else now()
        return max(0.0, (until - self.created).total_seconds())

    def as_json(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "status": self.status,
            "destination": self.destination,
            "s3_uri": self.source,
            "start": iso(self.start),
            "end": iso(self.end),
            "prefixes_found": self.statistics.get("PrefixesFound", 0),
            "prefixes_completed": self.statistics.get("PrefixesCompleted", 0),
            "files_completed": self.statistics.get("FilesCompleted", 0),
            "events_completed": self.statistics.get("EventsCompleted", 0),
            "failed_entries": self.statistics.get("FailedEntries", 0),
            "created": iso(self.created),
            "updated": iso(self.updated),
            "elapsed_seconds": self.elapsed_seconds(),
            "failures": self.failures,
        }


@click.command()
@click.argument("import_id", required=False)
@click.option(
    "--stack",
    help="A deployed stack whose CloudTrailLakeImport (its import) or CloudTrailLakeImportPlan "
    "(its execution, segment by segment) to show.",
)
@click.option(
    "--logical-id",
    help="The import's or plan's logical id in --stack, when the stack has more than one.",
)
@click.option("--watch", is_flag=True, help="Refresh until the import ends.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=DEFAULT_INTERVAL_SECONDS,
    show_default=True,
    help="Seconds between refreshes with --watch.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON (one line per refresh with --watch).")
@region_option
def status(
    import_id: str | None,
    stack: str | None,
    logical_id: str | None,
    watch: bool,
    interval: float,
    as_json: bool,
) -> None:
    """The status, statistics and failures of IMPORT_ID, or of the import of --stack."""
    if (import_id is None) == (stack is None):
        raise BadInputError("give either IMPORT_ID or --stack")
    if logical_id is not None and stack is None:
        raise BadInputError("--logical-id needs --stack")
    if import_id is not None and not IMPORT_ID.fullmatch(import_id):
        raise BadInputError(
            f"IMPORT_ID: expected a 36-character CloudTrail import id such as "
            f"01234567-89ab-cdef-0123-456789abcdef, got {import_id!r}"
        )
    region: str | None = None
    if stack is not None:
        target = target_of_stack(stack, logical_id)
        region = target.store_region
        if target.execution_arn is not None:
            show_plan(target.execution_arn, watch, interval, as_json, region)
            return
        import_id = target.import_id
    assert import_id is not None
    client = clients.cloudtrail(region)
    if not watch:
        current = read_status(client, import_id)
        if as_json:
            click.echo(json.dumps(current.as_json(), allow_nan=False))
        else:
            render.stdout_console().print(status_view(current))
        return
    if as_json:
        while True:
            current = read_status(client, import_id)
            click.echo(json.dumps(current.as_json(), allow_nan=False))
            if current.terminal:
                return
            sleep(interval)
    current = read_status(client, import_id)
    with Live(status_view(current), console=render.stdout_console(), auto_refresh=False) as live:
        while not current.terminal:
            sleep(interval)
            current = read_status(client, import_id)
            live.update(status_view(current), refresh=True)


def show_plan(
    execution_arn: str, watch: bool, interval: float, as_json: bool, store_region: str | None
) -> None:
    """A plan's status once, or until its execution ends."""
    states = clients.stepfunctions(execution_arn.split(":")[3] or None)
    cloudtrail = clients.cloudtrail(store_region)
    current = plan_status.read_plan(states, cloudtrail, execution_arn)
    if as_json:
        click.echo(json.dumps(current.as_json(), allow_nan=False))
        while watch and not current.terminal:
            sleep(interval)
            current = plan_status.read_plan(states, cloudtrail, execution_arn)
            click.echo(json.dumps(current.as_json(), allow_nan=False))
        return
    view = plan_status.plan_view(current)
    if not watch:
        render.stdout_console().print(view)
        return
    with Live(view, console=render.stdout_console(), auto_refresh=False) as live:
        while not current.terminal:
            sleep(interval)
            current = plan_status.read_plan(states, cloudtrail, execution_arn)
            live.update(plan_status.plan_view(current), refresh=True)


def stack_resources(stack: str, logical_id: str | None) -> list[dict[str, Any]]:
    """The stack's resources: the one named ``logical_id``, else every page of them.

    DescribeStackResources without a logical id returns at most 100 resources: an import in a
    larger stack would be missed.
    """
    client = clients.cloudformation()
    try:
        if logical_id is not None:
            described = client.describe_stack_resources(
                StackName=stack, LogicalResourceId=logical_id
            )
            return [dict(r) for r in described["StackResources"]]
        return [
            dict(summary)
            for page in client.get_paginator("list_stack_resources").paginate(StackName=stack)
            for summary in page["StackResourceSummaries"]
        ]
    except ClientError as error:
        if logical_id is not None and _is_missing_resource(error, stack):
            return []
        operation = "DescribeStackResources" if logical_id else "ListStackResources"
        raise aws_error(operation, error) from error
    except BotoCoreError as error:
        raise aws_error("DescribeStackResources", error) from error


def _is_missing_resource(error: ClientError, stack: str) -> bool:
    """DescribeStackResources' answer for a logical id the (existing) stack does not have."""
    message = str(error.response.get("Error", {}).get("Message", ""))
    return "does not exist" in message and f"Stack with id {stack}" not in message


@dataclass(frozen=True)
class Target:
    """What ``status`` reads: an import (its id) or a plan (its execution ARN)."""

    import_id: str | None = None
    execution_arn: str | None = None
    store_region: str | None = None  # None: the command line's region


def target_of_stack(stack: str, logical_id: str | None) -> Target:
    """The stack's CloudTrailLakeImport (its ImportId) or CloudTrailLakeImportPlan (its ARN)."""
    kinds = (RESOURCE_TYPE, plan_status.RESOURCE_TYPE)
    found = [r for r in stack_resources(stack, logical_id) if r.get("ResourceType") in kinds]
    if logical_id is not None and not found:
        raise BadInputError(
            f"--logical-id: stack {stack} has no {RESOURCE_TYPE} or "
            f"{plan_status.RESOURCE_TYPE} {logical_id!r}"
        )
    if not found:
        raise BadInputError(
            f"--stack: stack {stack} has no {RESOURCE_TYPE} or {plan_status.RESOURCE_TYPE} resource"
        )
    if len(found) > 1:
        names = ", ".join(sorted(r["LogicalResourceId"] for r in found))
        raise BadInputError(
            f"--stack: stack {stack} has several imports, pick one with --logical-id: {names}"
        )
    (resource,) = found
    if resource["ResourceType"] == plan_status.RESOURCE_TYPE:
        # A plan's store is in its stack's region (the construct refuses another): the region
        # its execution's ARN names.
        arn = plan_status.require_execution_arn(resource, stack)
        return Target(execution_arn=arn, store_region=arn.split(":")[3] or None)
    import_id = _import_id(resource, stack)
    return Target(import_id=import_id, store_region=_store_region(stack, resource))


def _store_region(stack: str, resource: dict[str, Any]) -> str | None:
    """The region of the resource's store; None (with a note) when the stack does not say."""
    found = stack_region.store_region(stack, resource["LogicalResourceId"])
    if found.region is None:
        where = clients.region_name() or "the profile's region"
        render.stderr_console().print(
            f"note: could not read the region of {resource['LogicalResourceId']}'s event data "
            f"store from stack {stack} ({found.reason}); reading it in {where}",
            markup=False,
            soft_wrap=True,
        )
    return found.region


def _import_id(resource: dict[str, Any], stack: str) -> str:
    name = resource["LogicalResourceId"]
    physical_id = resource.get("PhysicalResourceId") or ""
    if physical_id.startswith(NO_SOURCE_FILES):
        raise CliError(
            f"{name} in stack {stack} started no import: NO_SOURCE_FILES (the source location "
            f"{physical_id[len(NO_SOURCE_FILES) :]} held no files in the window when deployed)"
        )
    if not IMPORT_ID.fullmatch(physical_id):
        raise CliError(
            f"{name} in stack {stack} has no import id yet "
            f"(resource status {resource.get('ResourceStatus', 'unknown')})"
        )
    return physical_id


def read_status(client: CloudTrailClient, import_id: str) -> ImportStatus:
    """GetImport and every page of ListImportFailures."""
    try:
        response = client.get_import(ImportId=import_id)
    except client.exceptions.ImportNotFoundException as error:
        raise CliError(
            f"import {import_id} not found in {client.meta.region_name} "
            "(ImportNotFoundException); an import lives in its event data store's region: "
            f"cloudtrail-lake-import status {import_id} --region <that region>"
        ) from error
    except (ClientError, BotoCoreError) as error:
        raise aws_error("GetImport", error) from error
    failures: list[dict[str, str | None]] = []
    try:
        for page in client.get_paginator("list_import_failures").paginate(ImportId=import_id):
            failures.extend(
                {
                    "location": f.get("Location"),
                    "status": f.get("Status"),
                    "error_type": f.get("ErrorType"),
                    "error_message": f.get("ErrorMessage"),
                }
                for f in page.get("Failures", [])
            )
    except (ClientError, BotoCoreError) as error:
        raise aws_error("ListImportFailures", error) from error
    destinations = response.get("Destinations") or []
    source = response.get("ImportSource", {}).get("S3", {}).get("S3LocationUri")
    reported: dict[str, Any] = dict(response.get("ImportStatistics", {}))
    statistics = {name: int(value) for name, value in reported.items()}
    return ImportStatus(
        import_id=response.get("ImportId", import_id),
        status=response.get("ImportStatus", "UNKNOWN"),
        destination=destinations[0] if destinations else None,
        source=source,
        start=response.get("StartEventTime"),
        end=response.get("EndEventTime"),
        created=response.get("CreatedTimestamp"),
        updated=response.get("UpdatedTimestamp"),
        statistics=statistics,
        failures=failures,
    )


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def status_view(current: ImportStatus) -> Group:
    """The status table, a bar of prefixes completed / found and the failures."""
    data = current.as_json()
    rows = [
        ("status", current.status),
        ("destination", current.destination or "unknown"),
        ("source", current.source or "unknown"),
        ("window", f"{data['start'] or 'open'} .. {data['end'] or 'open'}"),
        ("created", data["created"] or "unknown"),
        ("updated", data["updated"] or "unknown"),
        ("elapsed", _duration(current.elapsed_seconds())),
        ("prefixes", f"{data['prefixes_completed']:,} of {data['prefixes_found']:,} completed"),
        ("files completed", f"{data['files_completed']:,}"),
        ("events completed", f"{data['events_completed']:,}"),
        ("failed entries", f"{data['failed_entries']:,}"),
    ]
    table = render.key_value_table(rows, f"Import {current.import_id}")
    bar = Progress(
        TextColumn("prefixes"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
    )
    bar.add_task(
        "prefixes", total=max(1, data["prefixes_found"]), completed=data["prefixes_completed"]
    )
    parts: list[Any] = [table, bar]
    if current.failures:
        failures = Table(title=f"Failures ({len(current.failures)})", title_justify="left")
        for column in ("location", "status", "error type", "message"):
            failures.add_column(column, overflow="fold")
        for f in current.failures:
            failures.add_row(
                f["location"] or "",
                f["status"] or "",
                f["error_type"] or "",
                f["error_message"] or "",
            )
        parts.append(failures)
    return Group(*parts)
