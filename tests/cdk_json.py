"""The context of cdk.json, which the CDK CLI hands to the default app on every synth.

Tests synthesize with it so that they see the template `cdk synth` produces, with the feature
flags `cdk init` recommends for the pinned CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RECOMMENDED_CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
