"""Deploy mode of the integration tests: for each ``integ_*.py`` app, deploy every stack (the
test stacks and the assertions, which fail the deploy when an expectation fails), then destroy
them, whatever the outcome. Needs an AWS account:

    AWS_PROFILE=<profile> CDK_INTEG_ACCOUNT=<account> CDK_INTEG_REGION=<region> make integ
    CDK_INTEG_ARCHIVE_ACCOUNT=<second account> ...   # also runs integ_cross_account.py

``--dry-run`` (``make integ-list``) lists what would be deployed and destroyed, offline.

Nothing a test imported can be deleted (CloudTrail Lake keeps its events), so the event data
stores, the archive buckets and the archive key are retained: after the run, the list of them
is printed (and is in ``integ/.outputs/``) for manual clean-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

INTEG = Path(__file__).resolve().parent
ROOT = INTEG.parent
OUTPUTS = INTEG / ".outputs"
CDK = ["npx", "--no-install", "cdk"]
FLAGS = ["--no-notices"]
NEEDS_TWO_ACCOUNTS = {"integ_cross_account.py"}


def cdk(command: str, app: Path, *args: str) -> int:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    call = [*CDK, command, *FLAGS, "--app", f"{sys.executable} {app}", *args]
    print("+", " ".join(call), flush=True)
    return subprocess.run(call, cwd=ROOT, env=env, check=False).returncode


def selected(names: list[str], *, dry_run: bool) -> list[Path]:
    apps = sorted(INTEG.glob("integ_*.py"))
    if names:
        apps = [a for a in apps if a.name in names or a.stem in names]
    if not dry_run and not os.environ.get("CDK_INTEG_ARCHIVE_ACCOUNT"):
        skipped = [a for a in apps if a.name in NEEDS_TWO_ACCOUNTS]
        for app in skipped:
            print(f"SKIPPED    {app.name}: set CDK_INTEG_ARCHIVE_ACCOUNT (a second account)")
        apps = [a for a in apps if a not in skipped]
    return apps


def retained() -> list[str]:
    lines = []
    for path in sorted(OUTPUTS.glob("*.json")):
        for stack, outputs in json.loads(path.read_text()).items():
            for key, value in outputs.items():
                if key.startswith("Retained"):
                    lines.append(f"  {stack}: {key.removeprefix('Retained')} {value}")
    return lines


def main(argv: list[str]) -> int:
    dry_run = "--dry-run" in argv
    apps = selected([a for a in argv if not a.startswith("--")], dry_run=dry_run)
    if dry_run:
        failed = [a.name for a in apps if cdk("list", a) != 0]
        print(f"would deploy, assert and destroy: {', '.join(a.name for a in apps)}")
        return 1 if failed else 0
    if not os.environ.get("CDK_INTEG_ACCOUNT"):
        print("set CDK_INTEG_ACCOUNT (and AWS_PROFILE or credentials): see integ/deploy.py")
        return 2
    OUTPUTS.mkdir(exist_ok=True)
    results = {}
    for app in apps:
        outputs = OUTPUTS / f"{app.stem}.json"
        deployed = cdk(
            "deploy", app, "--all", "--require-approval", "never", "--outputs-file", str(outputs)
        )
        destroyed = cdk("destroy", app, "--all", "--force")
        results[app.name] = "PASSED" if deployed == 0 else "FAILED"
        if destroyed != 0:
            results[app.name] += " (destroy failed: delete its stacks by hand)"
    for name, result in results.items():
        print(f"{result:10} {name}")
    kept = retained()
    if kept:
        print("Retained (never deleted by the tests; delete by hand when done):", *kept, sep="\n")
    print(
        "Every resource of the tests is tagged cdk-cloudtrail-lake-import-integ: "
        "aws resourcegroupstaggingapi get-resources "
        "--tag-filters Key=cdk-cloudtrail-lake-import-integ"
    )
    return 0 if all(r == "PASSED" for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
