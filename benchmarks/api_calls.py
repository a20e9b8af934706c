"""Figure 5: API calls to CloudTrail and S3 per lifecycle event, counted at the emulated endpoints.

Each lifecycle event runs through ``index.handler`` in the offline emulator (a fresh emulated
account per event). CloudTrail calls are what the emulated CloudTrail Lake endpoint served; S3
calls are the requests the moto S3 server received from the handler's clients (they carry the
``cdk-cloudtrail-lake-import`` User-Agent, so the emulator's own reads of the archive and the
harness's set-up are not counted); Lambda ``Invoke`` (continuations) and the answer PUT to the
ResponseURL are counted on the side. Only the calls made while handling the event are counted
(the Create that an Update or Delete needs first is set-up).

Events:
- Create without waiting (``WaitForCompletion=false``);
- Create with waiting, per minute of import: the calls of the 20-minute imports of the latency
  benchmark divided by the import's minutes (median over those runs);
- Update that retries a FAILED import (``RetryToken`` changed; a corrupt log file made it fail);
- Delete during a running import (``StopOnDelete=true``).

Baseline: the AwsCustomResource twin makes exactly one SDK call per event by construction
(``StartImport`` on create, ``StartImport(ImportId)`` on update, ``StopImport`` on delete) and
cannot wait. It is not executed (its Node.js handler needs the AWS SDK for JavaScript of the
Lambda runtime, which is not available offline). For waiting, the baseline is crhelper's stock
polling: one ``GetImport`` per ``rate(1 minute)`` tick (plus EventBridge ``PutRule``/
``PutTargets``/``RemoveTargets``/``DeleteRule`` and Lambda ``AddPermission``/
``RemovePermission`` once per request, which are neither CloudTrail nor S3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from benchmarks.common import Figure, Section, log
from benchmarks.emulated import Counts, EmulatedAws
from benchmarks.latency import LONG_IMPORT_SECONDS, LatencySample
from tests.e2e.harness import ACCOUNT, REGION
from tests.lake_emulator.trail_archive import generate_archive, log_file_key

CORRUPT_BODY = b'{"Records": []}'  # not gzip: CloudTrail fails the file


@dataclass(frozen=True)
class EventCounts:
    event: str
    counts: Counts
    baseline_calls: float
    baseline_what: str
    minutes: float | None = None  # set for per-minute figures


def create_without_waiting(aws: EmulatedAws) -> Counts:
    bucket, _ = aws.default_archive_bucket()
    with aws.scenario(files_per_second=1.0, bucket=bucket) as scenario:
        event = scenario.cfn.event("Create", scenario.properties(wait=False))
        mark = scenario.mark()
        run = scenario.cfn.run(event)
        _expect(scenario.cfn.response(event).status, "SUCCESS", "Create")
        return scenario.counts_since(mark, event, len(run.invocations))


def update_retry(aws: EmulatedAws) -> Counts:
    archive = generate_archive(
        seed=11,
        accounts=(ACCOUNT,),
        regions=(REGION,),
        days=(date(2025, 1, 10), date(2025, 1, 11)),
        files_per_day=(2, 2),
    )
    bucket = aws.bucket_with(archive)
    bad = log_file_key(ACCOUNT, REGION, datetime(2025, 1, 11, 8, 5, tzinfo=UTC), "CORRUPT")
    aws.s3.put_object(Bucket=bucket, Key=bad, Body=CORRUPT_BODY)
    with aws.scenario(files_per_second=1.0, bucket=bucket) as scenario:
        first = scenario.properties(wait=False, RetryToken="1")
        create = scenario.cfn.event("Create", first)
        scenario.cfn.run(create)
        import_id = scenario.cfn.response(create).physical_id
        scenario.clock.advance(3600)
        _expect(scenario.lake.get(import_id).status, "FAILED", "the import to retry")
        second = scenario.properties(wait=False, RetryToken="2")
        update = scenario.cfn.event("Update", second, physical_id=import_id, old_properties=first)
        mark = scenario.mark()
        run = scenario.cfn.run(update)
        response = scenario.cfn.response(update)
        _expect(response.status, "SUCCESS", "Update")
        _expect(response.physical_id, import_id, "the retried import's id")
        return scenario.counts_since(mark, update, len(run.invocations))


def delete_running(aws: EmulatedAws) -> Counts:
    bucket, _ = aws.default_archive_bucket()
    with aws.scenario(files_per_second=0.1, bucket=bucket) as scenario:
        props = scenario.properties(wait=False)
        create = scenario.cfn.event("Create", props)
        scenario.cfn.run(create)
        import_id = scenario.cfn.response(create).physical_id
        scenario.clock.advance(30)
        _expect(scenario.lake.get(import_id).status, "IN_PROGRESS", "the import to stop")
        delete = scenario.cfn.event("Delete", props, physical_id=import_id)
        mark = scenario.mark()
        run = scenario.cfn.run(delete)
        _expect(scenario.cfn.response(delete).status, "SUCCESS", "Delete")
        _expect(scenario.lake.get(import_id).status, "STOPPED", "the deleted import")
        return scenario.counts_since(mark, delete, len(run.invocations))


def _expect(actual: str, expected: str, what: str) -> None:
    if actual != expected:
        raise RuntimeError(f"{what}: expected {expected}, got {actual}")


def waiting_per_minute(samples: list[LatencySample]) -> tuple[Counts, float]:
    """The median 20-minute waiting Create, and its import's length in minutes."""
    group = sorted(
        (s for s in samples if s.nominal_seconds == LONG_IMPORT_SECONDS),
        key=lambda s: s.counts.cloudtrail_total,
    )
    middle = group[len(group) // 2]
    return middle.counts, middle.import_seconds / 60.0


def measure(aws: EmulatedAws, latency_samples: list[LatencySample]) -> list[EventCounts]:
    waiting, minutes = waiting_per_minute(latency_samples)
    results = [
        EventCounts("Create, not waiting", create_without_waiting(aws), 1, "StartImport"),
        EventCounts(
            "Create, waiting (per minute of import)",
            waiting,
            1,
            "GetImport per rate(1 minute) tick (crhelper stock polling)",
            minutes,
        ),
        EventCounts("Update (retry)", update_retry(aws), 1, "StartImport(ImportId)"),
        EventCounts("Delete (running import)", delete_running(aws), 1, "StopImport"),
    ]
    for item in results:
        log(f"api calls: {item.event}: {item.counts}")
    return results


def _per(item: EventCounts, value: int) -> float:
    return value / item.minutes if item.minutes else float(value)


def _ops(ops: dict[str, int], item: EventCounts) -> str:
    if not ops:
        return "—"
    return ", ".join(f"{name} {_per(item, n):.3g}" for name, n in sorted(ops.items()))


def section(results: list[EventCounts]) -> Section:
    figures: list[Figure] = []
    rows = [
        "| lifecycle event | CloudTrail calls | S3 calls | Lambda Invoke | answer PUTs "
        "| invocations | baseline (AwsCustomResource twin / crhelper) |",
        "|---|---|---|---|---|---|---|",
    ]
    for item in results:
        c = item.counts
        total = _per(item, c.cloudtrail_total + c.s3_total)
        figures.append(
            Figure(
                name=f"API calls (CloudTrail + S3), {item.event}",
                ours=total,
                baseline=item.baseline_calls,
                unit="calls",
                goal="—",
                met=None,
                baseline_name=item.baseline_what,
            )
        )
        minutes = f" over {item.minutes:.1f} min" if item.minutes else ""
        rows.append(
            f"| {item.event} | {_ops(c.cloudtrail, item)} | {_ops(c.s3, item)} "
            f"| {c.lambda_invokes}{minutes} | {c.response_puts} | {c.invocations}{minutes} "
            f"| {item.baseline_calls:g} {item.baseline_what} |"
        )
    details = [
        "API calls per lifecycle event, counted at the emulated endpoints "
        "(per-minute rows are divided by the import's minutes):\n\n" + "\n".join(rows)
    ]
    return Section("API calls", figures, details)
