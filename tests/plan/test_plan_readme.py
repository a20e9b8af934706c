"""The plans guide's example synthesizes as written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.cdk_json import ROOT


def readme_plan_example() -> str:
    guide = (ROOT / "docs" / "guides" / "plans.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", guide, re.DOTALL)
    (block,) = [b for b in blocks if "CloudTrailLakeImportPlan(" in b]
    return str(block)


def test_the_plans_guide_example_synthesizes_five_segments(tmp_path: Path) -> None:
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path)}
    code = readme_plan_example()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tmp_path)
    template = json.loads((tmp_path / "AuditArchivePlan.template.json").read_text())
    (plan,) = [
        r for r in template["Resources"].values() if r["Type"] == "Custom::CloudTrailLakeImportPlan"
    ]
    assert len(plan["Properties"]["Segments"]) == 5
    assert "PlanExecution" in template["Outputs"]
