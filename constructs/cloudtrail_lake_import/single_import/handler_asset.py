"""The custom resource handler's Lambda asset, built offline at synth time.

The asset is the handler folder plus crhelper, copied from this Python installation: no Docker,
no network, no third-party code in the repository. Bytecode caches are left out because they
differ between machines and would change the asset hash.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

_HANDLER_PACKAGE = "cloudtrail_lake_import._handler"
# Type stubs are only for type checkers; caches differ between machines and change the hash.
_IGNORED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "*.pyo", "*.pyi", "py.typed", ".mypy_cache", ".ruff_cache"
)


def handler_source_dir() -> Path:
    """The handler folder: ``lambda/start_import`` in a checkout, shipped inside the wheel."""
    return installed_dir(_HANDLER_PACKAGE, "the custom resource handler")


def installed_dir(package: str, what: str) -> Path:
    """The folder of ``package``, a Lambda asset's sources installed with this library."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"{what} ({package}) is not installed with cdk-cloudtrail-lake-import; reinstall "
            "the package"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def copy_sources(source: Path, target: Path) -> None:
    """Copy an asset's source folder, without what differs between machines."""
    shutil.copytree(source, target, dirs_exist_ok=True, ignore=_IGNORED)


def locally_bundled(source: Path, bundler: ILocalBundling) -> lambda_.Code:
    """Lambda code that ``bundler`` builds from ``source``; local bundling always succeeds, so
    Docker is never used. The hash is the output's, so whatever the bundler adds counts."""
    return lambda_.Code.from_asset(
        str(source),
        exclude=["__pycache__", "*.pyc"],
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            # Required by the API but never pulled: the local bundler always succeeds.
            image=DockerImage.from_registry("local-bundling-only"),
            local=bundler,
        ),
    )


def _crhelper_files() -> tuple[Path, list[Path]]:
    """crhelper's package folder and the LICENSE/NOTICE its Apache-2.0 licence asks us to ship."""
    spec = importlib.util.find_spec("crhelper")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("crhelper is not installed; it is a dependency of this package")
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    notices = sorted(
        Path(str(f.locate()))
        for f in importlib.metadata.files("crhelper") or []
        if f.name.upper().startswith(("LICENSE", "NOTICE"))
    )
    return package_dir, notices


@jsii.implements(ILocalBundling)
class _CopyHandlerAndCrhelper:
    def __init__(self, handler_dir: Path) -> None:
        self._handler_dir = handler_dir

    # jsii passes the BundlingOptions positionally, its Python typing declares them keywords.
    def try_bundle(self, output_dir: str, *_options: object, **_kw_options: object) -> bool:
        out = Path(output_dir)
        copy_sources(self._handler_dir, out)
        crhelper_dir, notices = _crhelper_files()
        copy_sources(crhelper_dir, out / "crhelper")
        for notice in notices:
            shutil.copyfile(notice, out / "crhelper" / notice.name)
        return True


def handler_code() -> lambda_.Code:
    """Lambda code for the handler (with crhelper: a crhelper upgrade is a new asset too)."""
    handler_dir = handler_source_dir()
    return locally_bundled(handler_dir, _CopyHandlerAndCrhelper(handler_dir))
