"""The handler's stdlib-only sizing rules and archive walk, shared with the command line.

They live in the Lambda asset (``lambda/start_import/import_handler``), which the wheel ships
as ``cloudtrail_lake_import._handler``; the cost guard and ``estimate`` must never disagree on
what an import reads. Type checkers see the asset root (``mypy_path``) instead of the wheel's
package mapping, which they cannot follow in an editable install.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from import_handler import archive_walk, sizing, trailer
else:
    sizing = importlib.import_module("cloudtrail_lake_import._handler.import_handler.sizing")
    archive_walk = importlib.import_module(
        "cloudtrail_lake_import._handler.import_handler.archive_walk"
    )
    trailer = importlib.import_module("cloudtrail_lake_import._handler.import_handler.trailer")

__all__ = ["archive_walk", "sizing", "trailer"]
