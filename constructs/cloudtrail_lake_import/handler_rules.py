"""The handler's stdlib-only rules, shared with the construct and the command line.

They live in the Lambda asset (``lambda/start_import/import_handler``), which the wheel ships
as ``cloudtrail_lake_import._handler``: the cost guard and ``estimate`` must never disagree on
what an import reads, nor the construct and the handler on what a prefix may be. Type checkers
see the asset root (``mypy_path``) instead of the wheel's package mapping, which they cannot
follow in an editable install.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from import_handler import archive_walk, properties, sizing, trailer

__all__ = ["archive_walk", "properties", "sizing", "trailer"]


def __getattr__(name: str) -> ModuleType:
    # Loaded on first use: synth needs only ``properties``, the command line the rest.
    if name in __all__:
        return importlib.import_module(f"cloudtrail_lake_import._handler.import_handler.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
