"""Figure 2: zipped size of the handler's Lambda asset vs. the twin's AwsCustomResource asset.

Both assets are taken from the synth output (``<stack>.assets.json``: the file assets with
``packaging: zip``), and zipped the way the CDK CLI zips a directory asset for upload: every
file under the directory in sorted order, DEFLATE at zlib's default level, a fixed 1980-01-01
timestamp, no directory entries. The byte count is what S3 stores and Lambda unpacks.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import KB, BenchmarkError, Figure, Section

GOAL_BYTES = 64 * KB
_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class AssetSize:
    directory: Path
    files: int
    unzipped_bytes: int
    zipped_bytes: int


def zip_directory(directory: Path) -> bytes:
    """A deterministic zip of ``directory`` (the CDK CLI's layout: files only, fixed times)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(directory).as_posix(), date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (path.stat().st_mode & 0xFFFF) << 16
            zf.writestr(info, path.read_bytes(), compresslevel=6)
    return buffer.getvalue()


def zip_assets(outdir: Path, stack: str) -> list[Path]:
    """The directory assets of ``stack`` in a cloud assembly, from its asset manifest."""
    manifest = json.loads((outdir / f"{stack}.assets.json").read_text())
    found: list[Path] = []
    for entry in manifest.get("files", {}).values():
        source = entry.get("source", {})
        if source.get("packaging") == "zip":
            found.append(outdir / source["path"])
    return found


def measure_asset(outdir: Path, stack: str) -> AssetSize:
    directories = zip_assets(outdir, stack)
    if len(directories) != 1:
        raise BenchmarkError(f"{stack}: expected one zip asset, found {directories}")
    directory = directories[0]
    files = [p for p in directory.rglob("*") if p.is_file()]
    if any("__pycache__" in p.parts for p in files):
        raise BenchmarkError(f"{directory} holds bytecode caches: measure a fresh synth output")
    return AssetSize(
        directory=directory,
        files=len(files),
        unzipped_bytes=sum(p.stat().st_size for p in files),
        zipped_bytes=len(zip_directory(directory)),
    )


def section(ours: AssetSize, twin: AssetSize) -> Section:
    figure = Figure(
        name="Handler asset, zipped",
        ours=ours.zipped_bytes / KB,
        baseline=twin.zipped_bytes / KB,
        unit="KB",
        goal="≤ 64 KB",
        met=ours.zipped_bytes <= GOAL_BYTES,
        baseline_name="twin's AwsCustomResource Node bundle",
    )
    details = [
        f"Handler asset: ours {ours.files} files, {ours.unzipped_bytes / KB:.1f} KB unzipped → "
        f"{ours.zipped_bytes} bytes zipped (handler + crhelper with its LICENSE/NOTICE); twin "
        f"{twin.files} file(s), {twin.unzipped_bytes / KB:.1f} KB unzipped → "
        f"{twin.zipped_bytes} bytes zipped. Zipped like the CDK CLI does (sorted files, "
        "DEFLATE level 6, fixed 1980-01-01 timestamps), from the last synth run's output.",
    ]
    misses = []
    if not figure.met:
        misses.append(
            f"Handler asset: {ours.zipped_bytes / KB:.1f} KB zipped, goal <= {GOAL_BYTES // KB} KB "
            f"({ours.zipped_bytes - GOAL_BYTES} bytes over)."
        )
    return Section("Asset size", [figure], details, misses)
