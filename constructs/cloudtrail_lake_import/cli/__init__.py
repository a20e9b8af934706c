"""``cloudtrail-lake-import``: what an import will cost before it starts, and how far it has got.

Installed as a console script with the package (``[project.scripts]``); see ``main.py``.
"""

from cloudtrail_lake_import.cli.main import cli, main

__all__ = ["cli", "main"]
