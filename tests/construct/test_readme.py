"""The README: a front door whose quick start synthesizes as written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.cdk_json import ROOT


def readme_example() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"```python\n(.*?)```", readme, re.DOTALL)
    assert match, "the README has a Python usage example"
    # The example is a step of a numbered list: indented as the list item is.
    return textwrap.dedent(match.group(1))


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
    # DESIGN names modules by their file name alone: each must be one of the project's files.
    project_files = {
        path.name
        for folder in ("lambda", "constructs/cloudtrail_lake_import", "tests", "integ")
        for path in (ROOT / folder).rglob("*.py")
    }
    modules = re.findall(r"`(\w+\.py)`", (ROOT / "docs" / "DESIGN.md").read_text())
    missing = [path for path in cited if not (ROOT / path).exists()]
    missing += [m for m in modules if m not in project_files]
    assert not missing, f"cited but not there: {missing}"


def test_the_readme_is_a_front_door() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    assert "2026-05-31" in readme, "who it is for: existing CloudTrail Lake customers"
    assert "```mermaid" in readme, "a picture of what gets deployed"
    # The quick start comes first and its steps are in order.
    quick_start = readme.split("## Quick start in your own app", 1)[1].split("\n## ", 1)[0]
    steps = ["pip install ./dist/", "CloudTrailLakeImport(", "npx cdk deploy", "status", "verify"]
    positions = [quick_start.index(step) for step in steps]
    assert positions == sorted(positions)
    assert readme.index("## Quick start") < readme.index("## Working on the repository")
    assert "max_ingest_gb=" in readme_example()
    assert "datetime(2024, 2, 1" in readme_example(), "a first example of one month"
    assert not re.search(r"\bissues?\b", readme, flags=re.IGNORECASE)


def test_the_readme_links_only_to_files_that_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(((?!https?://|#)[^)#]+)(?:#[^)]*)?\)", readme)
    assert len(targets) >= 15
    assert [t for t in targets if not (ROOT / t).exists()] == []
