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
