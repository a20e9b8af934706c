"""``cloudtrail-lake-import``: what an import will cost before it starts, and how far it has got.

Installed as a console script with the package (``[project.scripts]``): ``main`` handles Ctrl-C
before it imports anything heavy (click, boto3, rich), so that an interrupt while they load
prints one line too; the command group is ``cli`` (``main.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cloudtrail_lake_import.cli.main import cli

__all__ = ["cli", "main"]


def main() -> None:
    """The console script's entry point."""
    from cloudtrail_lake_import.cli import interrupt

    interrupt.install()
    try:
        from cloudtrail_lake_import.cli.main import main as run

        run()
    except (interrupt.Interrupted, KeyboardInterrupt):
        interrupt.leave()


def __getattr__(name: str) -> Any:
    if name == "cli":
        from cloudtrail_lake_import.cli.main import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
