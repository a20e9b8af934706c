"""The log files of an import's window, listing each region folder flat in key order.

A walk of date partitions (``archive_walk.list_window``, the handler's) makes one
ListObjectsV2 call per day folder (and per month and year above it): 1,526 calls for a year of
2 accounts x 2 regions, each returning a few dozen keys. Here the folders above the dates
(trail prefix, ``AWSLogs/``, organization, account, ``CloudTrail/``, region) are listed with a
delimiter as there, but each region folder is then listed *without* one, from ``StartAfter``
just before the window's first day until the first key after its last day: one call per 1,000
keys, still only the window, region folders in parallel. Selection is ``sizing``'s, so both
walks count the same files.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from cloudtrail_lake_import.handler_rules import archive_walk, sizing

#: Folders listed flat (everything below them is dated folders), and their depth below the
#: region folder.
FLAT_LEVELS = {
    sizing.Level.REGION: 0,
    sizing.Level.YEAR: 1,
    sizing.Level.MONTH: 2,
    sizing.Level.DAY: 3,
}
Listed = tuple[str, int, str]


@dataclass(frozen=True)
class Span:
    """Keys of ``folder`` from after ``start_after`` up to the day folder ``last_day``."""

    folder: sizing.Folder
    start_after: str | None
    last_day: str | None  # "YYYY/MM/DD" below a region folder's prefix, or None: to the end


def span_of(folder: sizing.Folder, window: sizing.Window) -> Span:
    """The key range of ``folder`` that can hold files of ``window`` (name stamps are inside
    their day folder's day, so the window's first and last days bound it)."""
    region = _region_prefix(folder)
    start_after = None
    if window.start is not None:
        first = window.start.astimezone(UTC).strftime("%Y/%m/%d")
        start_after = max(region + first, folder.prefix)  # "YYYY/MM/DD" sorts before its keys
    last_day = None if window.end is None else window.end.astimezone(UTC).strftime("%Y/%m/%d")
    return Span(folder, start_after, last_day)


def _region_prefix(folder: sizing.Folder) -> str:
    """The region folder above (or at) a region, year, month or day folder."""
    depth = FLAT_LEVELS[folder.level]
    parts = folder.prefix.rstrip("/").split("/")
    return "/".join(parts[: len(parts) - depth]) + "/"


def list_span(client: Any, bucket: str, span: Span) -> tuple[list[Listed], int]:
    """The objects of ``span`` (one ListObjectsV2 call per 1,000 keys) and the calls made."""
    region = _region_prefix(span.folder)
    request: dict[str, Any] = {"Bucket": bucket, "Prefix": span.folder.prefix}
    if span.start_after is not None and span.start_after > span.folder.prefix:
        request["StartAfter"] = span.start_after
    objects: list[Listed] = []
    calls = 0
    while True:
        page = client.list_objects_v2(**request)
        calls += 1
        for item in page.get("Contents", []):
            key = item["Key"]
            if span.last_day is not None and key[len(region) : len(region) + 10] > span.last_day:
                return objects, calls
            objects.append((key, int(item["Size"]), str(item.get("StorageClass", "STANDARD"))))
        if not page.get("IsTruncated"):
            return objects, calls
        request.pop("StartAfter", None)
        request["ContinuationToken"] = page["NextContinuationToken"]


def select(objects: list[Listed], window: sizing.Window) -> list[sizing.LogFile]:
    """The objects of a region folder an import of ``window`` reads (``sizing``'s rules)."""
    days: dict[str, sizing.Folder | None] = {}
    files = []
    for key, size, storage_class in objects:
        prefix = key.rsplit("/", 1)[0] + "/"
        if prefix not in days:
            days[prefix] = sizing.classify(prefix)
        day = days[prefix]
        if day is None:
            continue
        selected = sizing.select_file(day, key, size, storage_class, window)
        if selected is not None:
            files.append(selected)
    return files


def list_window(
    client: Any,
    bucket: str,
    prefix: str,
    window: sizing.Window,
    *,
    pool: ThreadPoolExecutor,
    progress: archive_walk.Progress,
    on_change: Callable[[archive_walk.Progress], None] = lambda _: None,
) -> archive_walk.Listing:
    """Exactly the objects StartImport reads for ``prefix`` and ``window`` (see the module);
    CannotEstimateError as ``archive_walk.list_window``."""
    listing = archive_walk.Listing()
    start = sizing.start_folder(prefix)
    list_page = archive_walk.s3_list_page(client, bucket)
    pending: dict[Future[Any], sizing.Folder] = {}

    def submit(folder: sizing.Folder) -> None:
        if folder.level in FLAT_LEVELS:
            pending[pool.submit(list_span, client, bucket, span_of(folder, window))] = folder
        else:
            pending[pool.submit(_list_folder, list_page, folder.prefix)] = folder
        progress.folders_found += 1

    submit(start)
    on_change(progress)
    while pending:
        done, _ = wait(set(pending), return_when=FIRST_COMPLETED)
        for future in done:
            folder = pending.pop(future)
            if folder.level in FLAT_LEVELS:
                objects, calls = future.result()
                found = select(objects, window)
                listing.files.extend(found)
                progress.files_found += len(found)
            else:
                children, objects, calls = future.result()
                progress.files_found += listing.add(folder, objects, window)
                listing.folders_seen.extend(children)
                for child_prefix in children:
                    child = sizing.child_to_walk(folder, child_prefix, window)
                    if child is not None:
                        submit(child)
            listing.requests += calls
            progress.requests += calls
            progress.folders_listed += 1
            on_change(progress)
    return listing.finish()


def _list_folder(
    list_page: archive_walk.ListPage, prefix: str
) -> tuple[list[str], list[Listed], int]:
    """The subfolders and objects of ``prefix`` (delimiter ``/``)."""
    folders: list[str] = []
    objects: list[Listed] = []
    token: str | None = None
    calls = 0
    while True:
        page_folders, page_objects, token = list_page(prefix, token)
        calls += 1
        folders.extend(page_folders)
        objects.extend(page_objects)
        if token is None:
            return folders, objects, calls
