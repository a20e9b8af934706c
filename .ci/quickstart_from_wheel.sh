#!/usr/bin/env bash
# Release check: the README's quick start (its first Python block), synthesized by the pinned
# CDK CLI from the given wheel installed in a clean virtualenv, outside the checkout.
# Usage: .ci/quickstart_from_wheel.sh dist/cdk_cloudtrail_lake_import-<version>-py3-none-any.whl
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
wheel="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "$wheel"
python3 - "$root/README.md" >"$work/app.py" <<'PY'
import re
import sys
import textwrap

readme = open(sys.argv[1], encoding="utf-8").read()
print(textwrap.dedent(re.search(r"```python\n(.*?)```", readme, re.DOTALL).group(1)))
PY
cd "$work"
"$root/node_modules/.bin/cdk" synth --app "$work/venv/bin/python app.py" --output cdk.out \
  --no-notices --no-version-reporting --quiet
ls cdk.out/*.template.json
grep -q '"Custom::CloudTrailLakeImport"' cdk.out/*.template.json
echo "quick start synthesized from $(basename "$wheel")"
