"""Lists the date partitions of an import's window in parallel and reads the files' sizes.

Standard library only: S3 is reached through the two callables given (a page of a folder
listing, the last bytes of an object), so that the command line (boto3, progress bars) and the
handler's cost guard (boto3, a time budget) share the walk. Rules are ``sizing``'s.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from . import sizing

#: An object of a listing: (key, size, storage class).
Listed = tuple[str, int, str]
#: (prefix, continuation token) -> (subfolder prefixes, objects, next token or None).
ListPage = Callable[[str, str | None], tuple[list[str], list[Listed], str | None]]
#: key -> its last ``sizing.ISIZE_BYTES`` bytes.
ReadTail = Callable[[str], bytes]
T = TypeVar("T")
FolderListing = tuple[list[str], list[Listed], int]
#: Smallest possible gzip file (10-byte header, 8-byte trailer): anything smaller holds no ISIZE.
MIN_GZIP_BYTES = 18


class OutOfTimeError(Exception):
    """The walk could not finish before its deadline."""

    def __init__(self, seconds: float, stage: str) -> None:
        super().__init__(f"could not estimate within {seconds:g} s ({stage})")
        self.seconds = seconds
        self.stage = stage


@dataclass
class Progress:
    """Counters a caller may show while the walk runs (updated from the calling thread)."""

    folders_found: int = 0
    folders_listed: int = 0
    files_found: int = 0
    sizes_total: int = 0
    sizes_read: int = 0
    requests: int = 0


@dataclass
class Listing:
    files: list[sizing.LogFile] = field(default_factory=list)
    requests: int = 0
    #: Every folder a listing returned (walked or not), to show when nothing matched.
    folders_seen: list[str] = field(default_factory=list)
    #: Keys that cannot be matched against the window (see ``sizing.select_file``).
    undated: list[str] = field(default_factory=list)

    def add(self, folder: sizing.Folder, objects: Sequence[Listed], window: sizing.Window) -> int:
        """The objects of ``folder`` an import of ``window`` reads; returns how many."""
        found = 0
        for key, size, storage_class in objects:
            try:
                selected = sizing.select_file(folder, key, size, storage_class, window)
            except sizing.CannotEstimateError:
                self.undated.append(key)
                continue
            if selected is not None:
                self.files.append(selected)
                found += 1
        return found

    def finish(self) -> Listing:
        """The listing sorted; CannotEstimateError when some key cannot be matched."""
        self.files.sort(key=lambda f: f.key)
        self.folders_seen.sort()
        if self.undated:
            self.undated.sort()
            shown = ", ".join(self.undated[:3])
            more = f" and {len(self.undated) - 3:,} more" if len(self.undated) > 3 else ""
            raise sizing.CannotEstimateError(
                f"{len(self.undated):,} files outside the trail layout hold no date in their "
                f"name (_YYYYMMDDTHHMMZ_) or folders (YYYY/MM/DD/) to match the window "
                f"against: {shown}{more}; CloudTrail's choice for them is not documented"
            )
        return self


@dataclass(frozen=True)
class Budget:
    """A deadline on ``now()`` (monotonic seconds by default); None: no deadline."""

    seconds: float | None = None
    now: Callable[[], float] = time.monotonic

    def deadline(self) -> float | None:
        return None if self.seconds is None else self.now() + self.seconds


class S3Client(Protocol):
    """The two calls of boto3's S3 client the walk makes (no boto3 import here)."""

    @property
    def list_objects_v2(self) -> Callable[..., Any]: ...
    @property
    def get_object(self) -> Callable[..., Any]: ...


def s3_list_page(client: S3Client, bucket: str) -> ListPage:
    """One ``ListObjectsV2`` page of a folder (delimiter ``/``) per call."""

    def list_page(prefix: str, token: str | None) -> tuple[list[str], list[Listed], str | None]:
        request: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "Delimiter": "/"}
        if token is not None:
            request["ContinuationToken"] = token
        page = client.list_objects_v2(**request)
        folders = [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        objects = [
            (o["Key"], int(o["Size"]), str(o.get("StorageClass", "STANDARD")))
            for o in page.get("Contents", [])
        ]
        return (
            folders,
            objects,
            page.get("NextContinuationToken") if page.get("IsTruncated") else None,
        )

    return list_page


def s3_read_tail(client: S3Client, bucket: str) -> ReadTail:
    """The last bytes of an object (one ranged ``GetObject``) per call."""

    def read_tail(key: str) -> bytes:
        response = client.get_object(Bucket=bucket, Key=key, Range=f"bytes=-{sizing.ISIZE_BYTES}")
        body: bytes = response["Body"].read()
        return body

    return read_tail


def _list_folder(list_page: ListPage, prefix: str) -> FolderListing:
    folders: list[str] = []
    objects: list[Listed] = []
    token: str | None = None
    requests = 0
    while True:
        page_folders, page_objects, token = list_page(prefix, token)
        requests += 1
        folders.extend(page_folders)
        objects.extend(page_objects)
        if token is None:
            return folders, objects, requests


def _remaining(deadline: float | None, budget: Budget) -> float | None:
    return None if deadline is None else max(0.0, deadline - budget.now())


def _drain(
    pending: set[Future[T]], deadline: float | None, budget: Budget, stage: str
) -> Iterator[Future[T]]:
    """Completed futures as they finish; past the deadline, OutOfTimeError (the rest cancelled)."""
    while pending:
        done, _ = wait(pending, timeout=_remaining(deadline, budget), return_when=FIRST_COMPLETED)
        if not done:
            for future in pending:
                future.cancel()
            raise OutOfTimeError(budget.seconds or 0.0, stage)
        for future in done:
            pending.discard(future)
            yield future


def list_window(
    list_page: ListPage,
    prefix: str,
    window: sizing.Window,
    *,
    pool: ThreadPoolExecutor,
    budget: Budget = Budget(),
    progress: Progress | None = None,
    on_change: Callable[[Progress], None] = lambda _: None,
) -> Listing:
    """Exactly the objects StartImport reads for the location ``prefix`` and ``window``.

    Only folders that can hold files of the window are listed (see ``sizing.child_to_walk``):
    a folder's pages in order, folders in parallel. CannotEstimateError when what the import
    reads cannot be told (``sizing.start_folder``, ``sizing.select_file``).
    """
    start = sizing.start_folder(prefix)
    progress = progress if progress is not None else Progress()
    listing = Listing()
    deadline = budget.deadline()
    folders: dict[Future[FolderListing], sizing.Folder] = {}
    pending: set[Future[FolderListing]] = set()

    def submit(folder: sizing.Folder) -> None:
        future = pool.submit(_list_folder, list_page, folder.prefix)
        folders[future] = folder
        pending.add(future)
        progress.folders_found += 1

    submit(start)
    on_change(progress)
    for future in _drain(pending, deadline, budget, "listing date partitions"):
        folder = folders.pop(future)
        children, objects, requests = future.result()
        listing.requests += requests
        progress.requests += requests
        progress.folders_listed += 1
        progress.files_found += listing.add(folder, objects, window)
        listing.folders_seen.extend(children)
        for child_prefix in children:
            child = sizing.child_to_walk(folder, child_prefix, window)
            if child is not None:
                submit(child)
        on_change(progress)
    return listing.finish()


def files_import_reads(
    client: S3Client,
    bucket: str,
    prefix: str,
    window: sizing.Window,
    *,
    pool: ThreadPoolExecutor,
    budget: Budget = Budget(),
) -> list[sizing.LogFile]:
    """Exactly the objects StartImport reads for ``s3://bucket/prefix`` and ``window``, by key.

    The entry point for any caller that needs that set (the cost guard, ``estimate``, a check
    of an import's outcome): CannotEstimateError when it cannot be told, OutOfTimeError when
    ``budget`` runs out, the client's errors as they come.
    """
    return list_window(s3_list_page(client, bucket), prefix, window, pool=pool, budget=budget).files


def choose_sample(
    files: Sequence[sizing.LogFile], sample: int | None, rng: random.Random
) -> list[sizing.LogFile]:
    """The files whose size to read: all of them, or ``sample`` chosen at random."""
    if sample is None or sample >= len(files):
        return list(files)
    return rng.sample(list(files), sample)


def read_uncompressed_sizes(
    read_tail: ReadTail,
    files: Sequence[sizing.LogFile],
    *,
    pool: ThreadPoolExecutor,
    budget: Budget = Budget(),
    progress: Progress | None = None,
    on_change: Callable[[Progress], None] = lambda _: None,
) -> dict[str, int]:
    """Each file's uncompressed size from its gzip trailer (one ranged GET each, in parallel)."""
    progress = progress if progress is not None else Progress()
    progress.sizes_total += len(files)
    sizes: dict[str, int] = {}
    deadline = budget.deadline()
    keys: dict[Future[bytes], str] = {}
    for f in files:
        if f.archived:
            continue  # unreadable until restored: its size is extrapolated from the others
        if f.size < MIN_GZIP_BYTES:
            # No trailer to read: ``trailer.check`` names it a problem file (empty, not gzip).
            sizes[f.key] = 0
            progress.sizes_read += 1
            continue
        keys[pool.submit(read_tail, f.key)] = f.key
    on_change(progress)
    for future in _drain(set(keys), deadline, budget, "reading uncompressed sizes"):
        sizes[keys[future]] = sizing.isize(future.result())
        progress.sizes_read += 1
        progress.requests += 1
        on_change(progress)
    return sizes
