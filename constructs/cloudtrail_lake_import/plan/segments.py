"""What a plan imports: ``ImportSpec``s, split into the segments that run one after another."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from cloudtrail_lake_import import validation

#: Step Functions keeps an execution's input under 256 KiB; 100 segments stay far below it.
MAX_SEGMENTS = 100
MIN_SPLIT = Duration.days(1)
LAST_PIECE_FRACTION = 10


class PlanSplit(StrEnum):
    """Calendar pieces for ``split_window_by``: each piece ends where a UTC calendar year (or
    month) ends, so a yearly segment holds exactly that year (365-day steps drift by a day
    every leap year). The first and last pieces may be partial."""

    YEAR = "year"
    MONTH = "month"


@dataclass(frozen=True)
class ImportSpec:
    """One import of a plan: a bucket (and prefix) and an optional time window.

    :param source_bucket: the bucket holding the trail archive.
    :param source_prefix: key prefix to import, e.g. ``AWSLogs/123456789012/CloudTrail/``;
        default: the whole bucket.
    :param start_event_time: timezone-aware start of the window; default: no lower bound.
    :param end_event_time: timezone-aware end of the window, exclusive (the segment ends a
        second before it, so the next import may start at it); default: no upper bound.
    :param source_encryption_key: the KMS key of an SSE-KMS source bucket.
    """

    source_bucket: s3.IBucket
    source_prefix: str = ""
    start_event_time: datetime | None = None
    end_event_time: datetime | None = None
    source_encryption_key: kms.IKey | None = None


@dataclass(frozen=True)
class Segment:
    """One StartImport of the plan, in the order the plan runs them."""

    spec: ImportSpec
    prefix: str  # as it goes into the S3 URI (see validation.check_source_prefix)
    start: str | None  # YYYY-MM-DDTHH:MM:SSZ
    end: str | None


def plan_segments(
    imports: list[ImportSpec], split_window_by: Duration | PlanSplit | str | None
) -> list[Segment]:
    """Validate ``imports`` and cut each window into pieces of ``split_window_by`` (a duration
    or a ``PlanSplit`` calendar unit).

    Pieces do not overlap: one ends a second before the next starts (CloudTrail matches the
    minute-precise dates in file names, so no file falls in two pieces or between them); so
    does every import, its ``end_event_time`` being exclusive. A remainder shorter than a tenth
    of the step is added to the last piece.
    """
    if not imports:
        raise validation.CloudTrailLakeImportPropsError("imports must list at least one ImportSpec")
    step = _split_step(split_window_by)
    segments: list[Segment] = []
    for number, spec in enumerate(imports):
        where = f"imports[{number}]"
        prefix = validation.check_source_prefix(spec.source_prefix)
        validation.check_event_window(
            validation.format_event_time(f"{where}.start_event_time", spec.start_event_time),
            validation.format_event_time(f"{where}.end_event_time", spec.end_event_time),
        )
        for start, end in _windows(where, spec, step):
            segments.append(
                Segment(
                    spec,
                    prefix,
                    validation.format_event_time("start_event_time", start),
                    validation.format_event_time("end_event_time", end),
                )
            )
    if len(segments) > MAX_SEGMENTS:
        raise validation.CloudTrailLakeImportPropsError(
            f"a plan runs at most {MAX_SEGMENTS} segments, these imports make {len(segments)}: "
            "raise split_window_by or use fewer imports"
        )
    return segments


def _split_step(split_window_by: Duration | PlanSplit | str | None) -> timedelta | PlanSplit | None:
    if split_window_by is None:
        return None
    if isinstance(split_window_by, str):
        try:
            return PlanSplit(split_window_by)
        except ValueError:
            raise validation.CloudTrailLakeImportPropsError(
                "split_window_by must be a Duration or one of "
                f"{', '.join(repr(p.value) for p in PlanSplit)}; got {split_window_by!r}"
            ) from None
    if split_window_by.is_unresolved():
        raise validation.CloudTrailLakeImportPropsError(
            "split_window_by must be a concrete duration (the segments are decided at synth time)"
        )
    seconds = split_window_by.to_seconds()
    if seconds < MIN_SPLIT.to_seconds():
        raise validation.CloudTrailLakeImportPropsError(
            f"split_window_by must be at least one day; got {seconds:g} seconds"
        )
    return timedelta(seconds=seconds)


def _windows(
    where: str, spec: ImportSpec, step: timedelta | PlanSplit | None
) -> list[tuple[datetime | None, datetime | None]]:
    start, end = spec.start_event_time, spec.end_event_time
    if step is None:
        return [(start, _last_second_before(end))]
    if start is None or end is None:
        raise validation.CloudTrailLakeImportPropsError(
            f"split_window_by needs both start_event_time and end_event_time; {where} lacks "
            f"{'start_event_time' if start is None else 'end_event_time'}"
        )
    if isinstance(step, PlanSplit):
        return _calendar_pieces(start, end, step)
    pieces: list[tuple[datetime | None, datetime | None]] = []
    piece_start = start
    while piece_start < end:
        piece_end = min(piece_start + step, end)
        # A remainder under a tenth of the step joins the last piece: three calendar years cut
        # by 365 days stay three segments despite a leap day.
        last = piece_end + step / LAST_PIECE_FRACTION >= end
        if last:
            pieces.append((piece_start, _last_second_before(end)))
            break
        pieces.append((piece_start, _last_second_before(piece_end)))
        piece_start = piece_end
    return pieces


def _calendar_pieces(
    start: datetime, end: datetime, unit: PlanSplit
) -> list[tuple[datetime | None, datetime | None]]:
    pieces: list[tuple[datetime | None, datetime | None]] = []
    piece_start = start.astimezone(UTC)
    end = end.astimezone(UTC)
    while piece_start < end:
        piece_end = min(_next_boundary(piece_start, unit), end)
        pieces.append((piece_start, _last_second_before(piece_end)))
        piece_start = piece_end
    return pieces


def _next_boundary(moment: datetime, unit: PlanSplit) -> datetime:
    """The first instant of the UTC calendar year (or month) after the one ``moment`` is in."""
    if unit is PlanSplit.YEAR:
        return datetime(moment.year + 1, 1, 1, tzinfo=UTC)
    year, month = divmod(moment.year * 12 + moment.month, 12)  # month is 0-based here
    return datetime(year, month + 1, 1, tzinfo=UTC)


def _last_second_before(end: datetime | None) -> datetime | None:
    """An ImportSpec's end is exclusive, like a piece's: adjacent specs ([2019, 2022) then
    [2022, 2024)) share no second, so no event at the shared bound is imported twice."""
    return None if end is None else end - timedelta(seconds=1)


def check_no_overlap(
    imports: list[ImportSpec], bucket_key: Callable[[s3.IBucket], str], *, allow_overlap: bool
) -> None:
    """Two specs of a plan must not read the same files: same bucket, one prefix inside the
    other, and windows sharing a UTC day partition (CloudTrail picks files by the dates in
    their prefixes). Every event of the shared days would be billed and stored twice, and a
    Lake event can never be deleted. ``allow_overlap`` accepts that."""
    if allow_overlap:
        return
    for later in range(len(imports)):
        for earlier in range(later):
            a, b = imports[earlier], imports[later]
            if bucket_key(a.source_bucket) != bucket_key(b.source_bucket):
                continue
            prefix_a = validation.check_source_prefix(a.source_prefix)
            prefix_b = validation.check_source_prefix(b.source_prefix)
            if not (prefix_a.startswith(prefix_b) or prefix_b.startswith(prefix_a)):
                continue
            shared = _shared_days(_days(a), _days(b))
            if shared is None:
                continue
            raise validation.CloudTrailLakeImportPropsError(
                f"imports[{earlier}] and imports[{later}] overlap: the same bucket, prefix "
                f"{prefix_a or '(whole bucket)'!r} and {prefix_b or '(whole bucket)'!r}, and "
                f"both windows hold the UTC days {_describe(shared)}: those events would be "
                "imported (billed and stored for good) twice. Cut the windows apart, or pass "
                "allow_overlap=True to import both"
            )


DayRange = tuple[date | None, date | None]


def _days(spec: ImportSpec) -> DayRange:
    """The UTC days a spec's window touches (its end is exclusive); None: unbounded."""
    first = None if spec.start_event_time is None else spec.start_event_time.astimezone(UTC)
    last = _last_second_before(spec.end_event_time)
    return (
        None if first is None else first.date(),
        None if last is None else last.astimezone(UTC).date(),
    )


def _shared_days(a: DayRange, b: DayRange) -> DayRange | None:
    starts = [d for d in (a[0], b[0]) if d is not None]
    ends = [d for d in (a[1], b[1]) if d is not None]
    first = max(starts) if starts else None
    last = min(ends) if ends else None
    if first is not None and last is not None and first > last:
        return None
    return first, last


def _describe(days: DayRange) -> str:
    first, last = days
    return f"{first or 'any day'} .. {last or 'any day'}"
