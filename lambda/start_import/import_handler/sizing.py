"""Which objects an import of an S3 location and time window reads, and how big they are.

The rules of the command line's ``estimate`` and of the handler's cost guard, in one place.
Standard library only and no import from the other handler modules: the command line imports
it as ``cloudtrail_lake_import._handler.import_handler.sizing``.

A trail writes ``[<trail prefix>/]AWSLogs/[o-<org id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/``
folders holding ``<account>_CloudTrail_<region>_<YYYYMMDDTHHMM>Z_<random>.json.gz`` files.
Inside that layout an import reads the ``CloudTrail/`` folders only (not
``CloudTrail-Digest/``, ``CloudTrail-Insight/`` or other services' folders). Outside it, every
file below a prefix named in the location is read ("to import CloudTrail events contained in
another prefix, include the prefix in the S3LocationUri"): an archive copied flat under
``legacy-copy/`` is imported whole, whatever its names (a non-gzip file fails, which the
estimate names). Digest files are never read. The bucket root is not a named prefix: from it
only trails' ``CloudTrail/`` folders are read.

With a window, CloudTrail matches prefix and file *names*, not event contents: the minute in
the name (``_YYYYMMDDTHHMMZ_``) must lie in [start, end], both inclusive; a name without that
stamp falls back to its day folder (``YYYY/MM/DD/``), which must overlap the window. A file
outside the layout with neither cannot be matched against the window: nobody can say whether
it would be imported, so no estimate is given (``CannotEstimateError``) rather than 0.

``select_file`` decides for one object of a listed folder, ``child_to_walk`` for a subfolder and
``start_folder`` for the location; ``archive_walk.list_window`` applies them to a bucket.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

#: Folders a trail prefix may have above ``AWSLogs/`` that a walk from the bucket root explores.
MAX_TRAIL_PREFIX_DEPTH = 3
GZIP_MAGIC = b"\x1f\x8b"
ISIZE_BYTES = 4
#: ISIZE is the uncompressed length modulo 2**32: exact only for smaller files.
ISIZE_LIMIT = 2**32
GB = 10**9
#: Uncompressed/compressed size of CloudTrail's gzip JSON, used only when no file could be read.
TYPICAL_RATIO = 10.0

_ORG = re.compile(r"o-[a-z0-9]{10,32}")
_ACCOUNT = re.compile(r"\d{12}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_YEAR = re.compile(r"\d{4}")
_TWO_DIGITS = re.compile(r"\d{2}")
_NAME_STAMP = re.compile(r"_(\d{8}T\d{4})Z_")
_DAY_FOLDER = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/")
DIGEST = "CloudTrail-Digest"
#: The layout a walk from the bucket root looks for, as shown when nothing matched.
EXPECTED_LAYOUT = (
    "[<trail prefix>/]AWSLogs/[o-<org id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/"
    "<account>_CloudTrail_<region>_<YYYYMMDDTHHMM>Z_<random>.json.gz"
)
LOG_SUFFIX = ".json.gz"
STAMP_FORMAT = "%Y%m%dT%H%M"
#: A whole key an import reads, in the syntax both Python's ``re`` and RE2 (DuckDB) accept:
#: group ``day`` is the day folder's ``YYYY/MM/DD``, group ``stamp`` the name's minute, if any.
LOG_KEY_PATTERN = (
    r"^(?:[^/]+/)*AWSLogs/(?:o-[a-z0-9]{10,32}/)?[0-9]{12}/CloudTrail/"
    r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}/(?P<day>[0-9]{4}/[0-9]{2}/[0-9]{2})/"
    r"(?:[^/]*?_(?P<stamp>[0-9]{8}T[0-9]{4})Z_)?[^/]*\.json\.gz$"
)


class Level(enum.Enum):
    """Where a folder sits in a trail's layout."""

    TRAIL_PREFIX = "trail prefix"  # the bucket root or a folder above AWSLogs/
    #: A named location (or a folder below it) that is not in a trail's layout: every file
    #: below it is read, at any depth, except inside an ``AWSLogs/`` folder (layout rules).
    OUTSIDE = "outside the trail layout"
    LOGS = "AWSLogs"
    ORG = "organization"
    ACCOUNT = "account"
    SERVICE = "CloudTrail"
    REGION = "region"
    YEAR = "year"
    MONTH = "month"
    DAY = "day"


_BELOW_ORG = (
    (Level.ACCOUNT, _ACCOUNT),
    (Level.SERVICE, re.compile("CloudTrail")),
    (Level.REGION, _REGION),
    (Level.YEAR, _YEAR),
    (Level.MONTH, _TWO_DIGITS),
    (Level.DAY, _TWO_DIGITS),
)


@dataclass(frozen=True)
class Window:
    """An import's [StartEventTime, EndEventTime]; a missing bound is open."""

    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        for name, value in (("start", self.start), ("end", self.end)):
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(
                f"start ({self.start.isoformat()}) must not be after end ({self.end.isoformat()})"
            )

    def stamp_bounds(self) -> tuple[str | None, str | None, str | None]:
        """The window as ``YYYYMMDDTHHMM`` strings for a string comparison of name stamps.

        (lowest stamp, lowest day-folder stamp, highest stamp): a name stamp is selected when
        it lies in [lowest stamp, highest stamp]; a file without one, by its day folder's
        ``YYYYMMDDT0000``, when that lies in [lowest day-folder stamp, highest stamp].
        """
        lowest = lowest_day = highest = None
        if self.start is not None:
            start = self.start.astimezone(UTC)
            ceil = start.replace(second=0, microsecond=0)
            if ceil < start:
                ceil += timedelta(minutes=1)
            lowest = ceil.strftime(STAMP_FORMAT)
            lowest_day = start.strftime("%Y%m%dT0000")
        if self.end is not None:
            highest = self.end.astimezone(UTC).strftime(STAMP_FORMAT)
        return lowest, lowest_day, highest

    def contains(self, at: datetime) -> bool:
        return (self.start is None or at >= self.start) and (self.end is None or at <= self.end)

    def overlaps(self, first: datetime, after_last: datetime) -> bool:
        """Whether [first, after_last) has an instant inside the window."""
        return (self.end is None or first <= self.end) and (
            self.start is None or after_last > self.start
        )


@dataclass(frozen=True)
class Folder:
    """A folder (key prefix ending with ``/``, or ``""`` for the bucket root) and its level."""

    prefix: str
    level: Level
    depth: int = 0  # folders below the walk's starting point, for trail prefixes
    first: datetime | None = None  # the date range of a year, month or day folder
    after_last: datetime | None = None


class CannotEstimateError(ValueError):
    """What an import of the location reads cannot be told (the reason is the message)."""


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket[/prefix]`` as (bucket, folder prefix ending with ``/`` or empty)."""
    if not uri.startswith("s3://"):
        raise ValueError(f"expected s3://<bucket>[/<prefix>], got {uri!r}")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise ValueError(f"expected a bucket name after s3://, got {bucket!r} in {uri!r}")
    # An import location is a folder (the construct adds the slash too).
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix


def classify(prefix: str) -> Folder | None:
    """The level of the folder ``prefix``, or None when an import reads nothing below it."""
    segments = prefix.rstrip("/").split("/") if prefix else []
    anchors = [i for i, segment in enumerate(segments) if segment == "AWSLogs"]
    for anchor in reversed(anchors):
        folder = _in_layout(prefix, segments[anchor + 1 :])
        if folder is not None:
            return folder
    if anchors:
        return None
    return Folder(prefix, Level.TRAIL_PREFIX)


def _in_layout(prefix: str, rest: list[str]) -> Folder | None:
    """The folder whose path below ``AWSLogs/`` is ``rest``, if a trail writes such a folder."""
    if not rest:
        return Folder(prefix, Level.LOGS)
    index = 0
    if _ORG.fullmatch(rest[0]):
        if len(rest) == 1:
            return Folder(prefix, Level.ORG)
        index = 1
    path = rest[index:]
    if len(path) > len(_BELOW_ORG) or not all(
        pattern.fullmatch(segment) for (_, pattern), segment in zip(_BELOW_ORG, path, strict=False)
    ):
        return None
    level = _BELOW_ORG[len(path) - 1][0]
    if level in (Level.YEAR, Level.MONTH, Level.DAY):
        span = _date_span([int(s) for s in path[3:]])
        if span is None:
            return None
        return Folder(prefix, level, first=span[0], after_last=span[1])
    return Folder(prefix, level)


def _date_span(parts: list[int]) -> tuple[datetime, datetime] | None:
    """[first, after_last) of a year, year/month or year/month/day folder; None if no date."""
    try:
        if len(parts) == 1:
            first = datetime(parts[0], 1, 1, tzinfo=UTC)
            return first, first.replace(year=parts[0] + 1)
        if len(parts) == 2:
            first = datetime(parts[0], parts[1], 1, tzinfo=UTC)
            after = (first + timedelta(days=32)).replace(day=1)
            return first, after
        first = datetime(parts[0], parts[1], parts[2], tzinfo=UTC)
        return first, first + timedelta(days=1)
    except (ValueError, OverflowError):
        return None


def start_folder(prefix: str) -> Folder:
    """The folder a walk of the location ``prefix`` starts from (see the module).

    CannotEstimateError for a location inside ``AWSLogs/`` that is no folder of a trail's
    layout (another service's, ``CloudTrail-Digest/``...): what CloudTrail makes of it is not
    documented.
    """
    folder = classify(prefix)
    if folder is None and DIGEST in prefix.split("/"):
        return Folder(prefix, Level.OUTSIDE)  # digest files are never read: nothing is
    if folder is None:
        raise CannotEstimateError(
            f"the location's prefix {prefix!r} is inside AWSLogs/ but is no folder of a trail's "
            f"layout ({EXPECTED_LAYOUT})"
        )
    if folder.level is Level.TRAIL_PREFIX and prefix:
        return Folder(prefix, Level.OUTSIDE)
    return folder


def child_to_walk(parent: Folder, child_prefix: str, window: Window) -> Folder | None:
    """The subfolder ``child_prefix`` of ``parent`` if an import of the window may read below it."""
    if parent.level is Level.DAY:
        return None  # trails write no deeper folders
    child = classify(child_prefix)
    if child is None:
        return None
    if child.level is Level.TRAIL_PREFIX and parent.level is Level.OUTSIDE:
        return Folder(child.prefix, Level.OUTSIDE)
    if child.level is Level.TRAIL_PREFIX:
        depth = parent.depth + 1
        return Folder(child.prefix, child.level, depth) if depth <= MAX_TRAIL_PREFIX_DEPTH else None
    if child.first is not None and child.after_last is not None:
        return child if window.overlaps(child.first, child.after_last) else None
    return child


def name_stamp(key: str) -> datetime | None:
    """The minute in a trail log file's name (``..._20250110T0005Z_...``), if it has one."""
    match = _NAME_STAMP.search(key.rsplit("/", 1)[-1])
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%dT%H%M").replace(tzinfo=UTC)
    except ValueError:
        return None


def log_file_time(day: Folder, key: str) -> datetime | None:
    """When a file of the day folder ``day`` counts for the window; None if it is no log file.

    The stamp in its name, else the start of its day folder.
    """
    if not key.endswith(LOG_SUFFIX):
        return None
    return name_stamp(key) or day.first


def selects(day: Folder, key: str, window: Window) -> bool:
    """Whether an import of the window reads the file ``key`` of the day folder ``day``."""
    at = log_file_time(day, key)
    if at is None or day.first is None or day.after_last is None:
        return False
    if name_stamp(key) is not None:
        return window.contains(at)
    return window.overlaps(day.first, day.after_last)


def folder_day(key: str) -> tuple[datetime, datetime] | None:
    """[first, after_last) of the deepest ``YYYY/MM/DD/`` folder in ``key``'s path, if any."""
    days = _DAY_FOLDER.findall(key.rsplit("/", 1)[0] + "/")
    if not days:
        return None
    return _date_span([int(part) for part in days[-1]])


def select_file(
    folder: Folder, key: str, size: int, storage_class: str, window: Window
) -> LogFile | None:
    """The object ``key`` of the listed ``folder`` if an import of the window reads it.

    CannotEstimateError when it lies outside the layout and neither its name nor its folders
    hold a date to match a window against.
    """
    if folder.level is Level.DAY:
        if not selects(folder, key, window):
            return None
        at = log_file_time(folder, key)
        assert at is not None  # selected files have a time
        return LogFile(key, size, at, storage_class)
    if folder.level is not Level.OUTSIDE:
        return None  # folders above a trail's dates hold no logs an import reads
    name = key.rsplit("/", 1)[-1]
    if not name or DIGEST in key.split("/")[:-1] or f"_{DIGEST}_" in name:
        return None  # folder markers, digest files
    stamp = name_stamp(key)
    if stamp is not None:
        return LogFile(key, size, stamp, storage_class) if window.contains(stamp) else None
    day = folder_day(key)
    if day is not None:
        return LogFile(key, size, day[0], storage_class) if window.overlaps(*day) else None
    if window.start is None and window.end is None:
        return LogFile(key, size, None, storage_class)
    raise CannotEstimateError(
        f"{key} holds no date in its name (_YYYYMMDDTHHMMZ_) or folders (YYYY/MM/DD/) to match "
        "the window against"
    )


def isize(tail: bytes) -> int:
    """The uncompressed length (mod 2**32) a gzip member ends with (RFC 1952 ISIZE)."""
    if len(tail) < ISIZE_BYTES:
        raise ValueError(f"expected the last {ISIZE_BYTES} bytes of a gzip file, got {len(tail)}")
    return int.from_bytes(tail[-ISIZE_BYTES:], "little")


#: Storage classes CloudTrail cannot read without a restore (it reads with GetObject).
ARCHIVED_STORAGE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})


@dataclass(frozen=True)
class LogFile:
    key: str
    size: int  # compressed, as stored in S3
    at: datetime | None  # the time the window is matched against (None: no window, no date)
    storage_class: str = "STANDARD"

    @property
    def archived(self) -> bool:
        return self.storage_class in ARCHIVED_STORAGE_CLASSES


@dataclass(frozen=True)
class Estimate:
    """What an import reads, in the figures the command line and the cost guard report."""

    files: int
    compressed_bytes: int
    uncompressed_bytes: int
    uncompressed_exact: bool
    sized_files: int  # files whose uncompressed size was read (all of them when exact)
    archived_files: int  # in GLACIER or DEEP_ARCHIVE: the import fails them until restored
    partitions: int  # day folders holding at least one selected file
    first_event_date: date | None
    last_event_date: date | None

    @property
    def uncompressed_gb(self) -> float:
        return self.uncompressed_bytes / GB


def summarize(files: Iterable[LogFile], uncompressed: dict[str, int]) -> Estimate:
    """The estimate of ``files`` given the uncompressed sizes read (by key)."""
    selected = list(files)
    read = [f for f in selected if f.key in uncompressed]
    days = [f.at.date() for f in selected if f.at is not None]
    return extrapolate(
        files=len(selected),
        compressed_bytes=sum(f.size for f in selected),
        read_compressed=sum(f.size for f in read),
        read_uncompressed=sum(uncompressed[f.key] for f in read),
        sized_files=len(read),
        archived_files=sum(1 for f in selected if f.archived),
        partitions=len({f.key.rsplit("/", 1)[0] for f in selected}),
        first_event_date=min(days, default=None),
        last_event_date=max(days, default=None),
        over_isize_limit=any(f.size >= ISIZE_LIMIT for f in read),
    )


def extrapolate(
    *,
    files: int,
    compressed_bytes: int,
    read_compressed: int,
    read_uncompressed: int,
    sized_files: int,
    archived_files: int,
    partitions: int,
    first_event_date: date | None,
    last_event_date: date | None,
    over_isize_limit: bool = False,
) -> Estimate:
    """The estimate from totals: exact when every file's size was read (all under 4 GiB).

    Otherwise the files not read are assumed to compress like the ones read (the ratio of their
    totals), or by ``TYPICAL_RATIO`` when none could be read.
    """
    unread_compressed = compressed_bytes - read_compressed
    ratio = read_uncompressed / read_compressed if read_compressed else TYPICAL_RATIO
    return Estimate(
        files=files,
        compressed_bytes=compressed_bytes,
        uncompressed_bytes=read_uncompressed + math.ceil(unread_compressed * ratio),
        uncompressed_exact=sized_files == files and not over_isize_limit,
        sized_files=sized_files,
        archived_files=archived_files,
        partitions=partitions,
        first_event_date=first_event_date,
        last_event_date=last_event_date,
    )
