"""``python -m tests.lake_emulator --demo``: try ``cloudtrail-lake-import`` without AWS.

Serves moto's S3 (TLS, a throw-away CA) holding a generated trail archive and the emulated
CloudTrail Lake on 127.0.0.1, starts one import that runs in real time (and ends FAILED on the
two broken files the archive holds, to show failures), then prints the variables that point the
command line at them and the commands to try. Serves until Ctrl-C.

From a checkout, after ``make setup-dev``::

    .venv/bin/python -m tests.lake_emulator --demo
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from types import FrameType

import boto3

from tests.e2e.s3_tls import FAKE_KEY_ID, FAKE_SECRET, MotoS3Tls
from tests.lake_emulator.clock import EmulatedClock
from tests.lake_emulator.local_http import LocalHttpServer
from tests.lake_emulator.server import CloudTrailLake
from tests.lake_emulator.trail_archive import generate_archive

REGION = "us-east-1"
ACCOUNT = "111122223333"
BUCKET = "demo-trail-archive"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/CloudTrailLakeImportS3Access"
#: Files an import reads per second: the demo's import (about 280 files) takes a few minutes.
FILES_PER_SECOND = 2.0
BROKEN = {
    f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2025/01/31/"
    f"{ACCOUNT}_CloudTrail_{REGION}_20250131T2350Z_{name}.json.gz": body
    for name, body in (("truncated", b"\x1f\x8b\x08\x00"), ("plain", b'{"Records": []}' * 2))
}
READY = "# the demo is ready"


class WallClock(EmulatedClock):
    """Real time: the demo's import moves while the reader watches it."""

    def now(self) -> float:
        return time.time()


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def demo(files_per_second: float) -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with (
        tempfile.TemporaryDirectory(prefix="lake-demo-") as workdir,
        MotoS3Tls(Path(workdir)) as s3,
    ):
        client = s3.client()
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_ownership_controls(  # ACLs disabled, as StartImport requires
            Bucket=BUCKET,
            OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        )
        archive = generate_archive(
            seed=7,
            accounts=(ACCOUNT,),
            regions=(REGION, "eu-west-1"),
            days=[date(2025, 1, 1) + timedelta(days=n) for n in range(31)],
            files_per_day=(3, 6),
        )
        archive.upload(client, BUCKET)
        for key, body in BROKEN.items():
            client.put_object(Bucket=BUCKET, Key=key, Body=body)
        lake = CloudTrailLake(
            WallClock(), s3.client, region=REGION, files_per_second=files_per_second
        )
        store = lake.add_event_data_store("demo-archive", account=ACCOUNT)
        with LocalHttpServer(lake) as server:
            cloudtrail = boto3.client(
                "cloudtrail",
                region_name=REGION,
                endpoint_url=server.url,
                aws_access_key_id=FAKE_KEY_ID,
                aws_secret_access_key=FAKE_SECRET,
            )
            import_id = cloudtrail.start_import(
                Destinations=[store.arn],
                ImportSource={
                    "S3": {
                        "S3LocationUri": f"s3://{BUCKET}/",
                        "S3BucketRegion": REGION,
                        "S3BucketAccessRoleArn": ROLE_ARN,
                    }
                },
            )["ImportId"]
            print("# point cloudtrail-lake-import at the demo (a POSIX shell):")
            for name, value in (
                ("AWS_ENDPOINT_URL_CLOUDTRAIL", server.url),
                ("AWS_ENDPOINT_URL_S3", s3.url),
                ("AWS_CA_BUNDLE", str(s3.ca_bundle)),
                ("AWS_ACCESS_KEY_ID", FAKE_KEY_ID),
                ("AWS_SECRET_ACCESS_KEY", FAKE_SECRET),
                ("AWS_DEFAULT_REGION", REGION),
            ):
                print(f"export {name}={value}")
            print("unset AWS_PROFILE AWS_REGION")
            print("# then, in that shell:")
            print(f"cloudtrail-lake-import status {import_id} --watch --interval 2")
            print(f"cloudtrail-lake-import estimate s3://{BUCKET}/")
            print(READY, "(Ctrl-C here stops it)", flush=True)
            while True:  # until Ctrl-C
                time.sleep(1.0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.lake_emulator", description=__doc__)
    parser.add_argument("--demo", action="store_true", required=True, help="serve the demo")
    parser.add_argument(
        "--files-per-second",
        type=float,
        default=FILES_PER_SECOND,
        help=f"how fast the demo's import reads files [default: {FILES_PER_SECOND:g}]",
    )
    arguments = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    # Python leaves Ctrl-C ignored when its parent ignored it (a job started with `&` from a
    # script, as CI runners may): the demo promises Ctrl-C stops it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        demo(arguments.files_per_second)
    except KeyboardInterrupt:
        print("# demo stopped", file=sys.stderr)


if __name__ == "__main__":
    main()
