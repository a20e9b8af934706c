"""The integration test apps' snapshots: synthesize each ``integ_*.py`` with the pinned CDK CLI
(offline, placeholder accounts) and compare its templates with the ones committed under
``integ/<app>.snapshot/``, so that every construct change shows here too.

    python integ/snapshots.py            # verify (make test); exit 1 on any difference
    python integ/snapshots.py --update   # rewrite the snapshots (make integ-snapshots)

Asset hashes are replaced by ``<asset>`` (a change of the handler's code is the unit tests'
business, not a template change), the assertions' salt (the synth's time) by
``<synth time>``. The snapshots are the synthesized templates, in integ-runner's folder layout;
integ-runner itself cannot run here: its newest release (2.197.10) reads cloud assembly schema
53 at most, and aws-cdk-lib 2.275 writes 55.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

INTEG = Path(__file__).resolve().parent
ROOT = INTEG.parent
CDK = ["npx", "--no-install", "cdk"]
CDK_FLAGS = ["--no-notices", "--no-version-reporting", "-q"]
ASSET_HASH = re.compile(r"[0-9a-f]{64}")
# integ-tests' assertions carry the synth's time, so that each deploy runs them again.
SALT = re.compile(r'"salt": ?"\d+"')


def apps() -> list[Path]:
    return sorted(INTEG.glob("integ_*.py"))


def synthesize(app: Path, outdir: Path) -> dict[str, str]:
    """The app's templates, normalized, by file name."""
    env = {
        **os.environ,
        "CDK_INTEG_SNAPSHOT": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    command = [*CDK, "synth", *CDK_FLAGS, "--app", f"{sys.executable} {app}", "-o", str(outdir)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{app.name}: cdk synth failed\n{result.stdout}{result.stderr[-3000:]}")
    return {
        path.name: normalized(path.read_text()) for path in sorted(outdir.glob("*.template.json"))
    }


def normalized(template: str) -> str:
    text = SALT.sub('"salt": "<synth time>"', ASSET_HASH.sub("<asset>", template))
    return json.dumps(json.loads(text), indent=1, sort_keys=True) + "\n"


def snapshot_dir(app: Path) -> Path:
    return INTEG / f"{app.name}.snapshot"


def committed(app: Path) -> dict[str, str]:
    folder = snapshot_dir(app)
    return {p.name: p.read_text() for p in sorted(folder.glob("*.template.json"))}


def main(argv: list[str]) -> int:
    update = "--update" in argv
    with tempfile.TemporaryDirectory(prefix="integ-snapshots-") as work:

        def one(app: Path) -> tuple[Path, dict[str, str]]:
            return app, synthesize(app, Path(work) / app.stem)

        with ThreadPoolExecutor(max_workers=2) as pool:
            synthesized = list(pool.map(one, apps()))
    differing = 0
    for app, templates in synthesized:
        if update:
            shutil.rmtree(snapshot_dir(app), ignore_errors=True)
            snapshot_dir(app).mkdir()
            for name, text in templates.items():
                (snapshot_dir(app) / name).write_text(text)
            print(f"UPDATED    {app.name} ({len(templates)} templates)")
            continue
        expected = committed(app)
        if expected == templates:
            print(f"UNCHANGED  {app.name}")
            continue
        differing += 1
        print(f"CHANGED    {app.name}")
        for name in sorted(expected.keys() | templates.keys()):
            diff = difflib.unified_diff(
                expected.get(name, "").splitlines(keepends=True),
                templates.get(name, "").splitlines(keepends=True),
                f"{snapshot_dir(app).name}/{name}",
                f"synthesized/{name}",
            )
            sys.stdout.writelines(diff)
    if differing:
        print(
            f"{differing} of {len(synthesized)} integ snapshots differ: review the diff, then "
            "run make integ-snapshots and commit"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
