"""The README's usage example synthesizes as written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.cdk_json import ROOT


def readme_example() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"```python\n(.*?)```", readme, re.DOTALL)
    assert match, "the README has a Python usage example"
    return match.group(1)


def test_the_readme_example_synthesizes(tmp_path: Path) -> None:
    # A process of its own: jsii's Node process reads CDK_OUTDIR when it starts.
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", readme_example()], check=True, env=env, cwd=tmp_path)
    template = json.loads((tmp_path / "AuditArchive.template.json").read_text())
    types = [r["Type"] for r in template["Resources"].values()]
    assert "Custom::CloudTrailLakeImport" in types
    assert "ImportId" in template["Outputs"]


def test_the_docs_cite_only_files_that_exist() -> None:
    cited: list[str] = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = doc.read_text()
        cited += re.findall(
            r"`((?:tests|lambda|constructs|benchmarks|docs|examples)/[\w./-]+)`", text
        )
    assert len(cited) >= 10
    handler = ROOT / "lambda" / "start_import" / "import_handler"
    modules = re.findall(r"`(\w+\.py)`", (ROOT / "docs" / "DESIGN.md").read_text())
    missing = [path for path in cited if not (ROOT / path).exists()]
    missing += [m for m in modules if m != "index.py" and not (handler / m).exists()]
    assert not missing, f"cited but not there: {missing}"
