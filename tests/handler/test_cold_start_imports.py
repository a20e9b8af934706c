"""The cold start imports only what every request needs (benchmarks/RESULTS.md, cold start)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from import_handler import cost_guard, lifecycle

HANDLER_DIR = Path(__file__).resolve().parents[2] / "lambda" / "start_import"
LAZY = (
    "update",
    "preflight",
    "cost_guard",
    "cross_account",
    "explain",
    "sizing",
    "archive_walk",
    "lookup",
    "starting",
    "overlap",
)


def test_importing_the_entry_point_leaves_the_rarely_needed_modules_for_later() -> None:
    code = (
        f"import sys; sys.path.insert(0, {str(HANDLER_DIR)!r}); import index; "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('import_handler.'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = {name.removeprefix("import_handler.") for name in result.stdout.split()}

    assert "lifecycle" in loaded
    assert loaded.isdisjoint(LAZY), loaded & set(LAZY)


def test_the_estimate_attribute_is_the_cost_guards() -> None:
    assert lifecycle.ESTIMATED_GB == cost_guard.ATTRIBUTE
