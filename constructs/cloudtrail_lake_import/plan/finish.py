"""The plan's finish function (inline Lambda code: stdlib and boto3 only, under 4 KiB).

Invoked by the state machine's last state with a WaitCondition signal, or by the EventBridge
rule on every ABORTED, TIMED_OUT or FAILED execution: that event has no error, so it is read
with DescribeExecution; a FAILED execution whose own Fail state reported it is left alone.
"""

import json
import os
import ssl
import urllib.error
import urllib.request
from typing import Any

import boto3

EVENT_SOURCE = "cloudtrail-lake-import"
PLAN_DETAIL_TYPE = "CloudTrail Lake Import Plan Finished"
#: The error the plan's custom resource stops an execution with (an Update, a Delete).
STOPPED_BY_DEPLOYMENT = "CloudTrailLakeImportPlan.Stopped"
#: The machine's own Fail states: each already signalled and put its Plan Finished event.
REPORTED_BY_MACHINE = frozenset({"CloudTrailLakeImportPlan.SegmentsFailed", STOPPED_BY_DEPLOYMENT})


def handler(event: dict[str, Any], context: object) -> int | None:
    if event.get("source") == "aws.states":
        return _execution_ended(event["detail"])
    return _signal(event["Status"], event["Reason"], event["UniqueId"], event["Data"])


def _execution_ended(detail: dict[str, Any]) -> int | None:
    status, arn = detail["status"], detail["executionArn"]
    try:
        described = boto3.client("stepfunctions").describe_execution(executionArn=arn)
        error, cause = described.get("error"), described.get("cause")
    except Exception as failure:  # the end is reported whatever went wrong here
        error, cause = None, f"DescribeExecution failed: {failure}"
    if status == "FAILED" and error in REPORTED_BY_MACHINE:
        return None
    signalled = None
    if not (status == "ABORTED" and error == STOPPED_BY_DEPLOYMENT):
        # Signalled first: a pipeline waiting on the WaitCondition must not wait hours more
        # because the event below could not be put.
        reason = f"import plan {os.environ['PLAN_NAME']}: execution {status} {error or ''}"
        try:
            signalled = _signal("FAILURE", reason, detail["name"], arn)
        except urllib.error.URLError as failure:
            # After the WaitCondition is gone (an Update, a Delete) its URL refuses: nothing waits.
            print(f"WaitCondition not signalled: {failure}")
    # else the deployment replaced or removed this execution: not a failure of the plan it
    # waits for.
    _report({"Status": status, "Plan": os.environ["PLAN_NAME"], "ExecutionArn": arn,
             "Error": error, "Cause": cause})  # fmt: skip
    return signalled


def _report(detail: dict[str, Any]) -> None:
    """The documented Plan Finished event (and ``notify``); Lambda retries when it fails."""
    topic = os.environ.get("TOPIC_ARN")
    if topic:
        boto3.client("sns").publish(
            TopicArn=topic, Subject=PLAN_DETAIL_TYPE, Message=json.dumps(detail)
        )
    entry = {"Source": EVENT_SOURCE, "DetailType": PLAN_DETAIL_TYPE, "Detail": json.dumps(detail)}
    answer = boto3.client("events").put_events(Entries=[entry])
    if answer.get("FailedEntryCount"):
        raise RuntimeError(f"Plan Finished event not put: {answer['Entries']}")


def _signal(status: str, reason: str, unique_id: str, data: str) -> int | None:
    url = os.environ.get("WAIT_CONDITION_HANDLE_URL")
    if not url:
        return None
    # CloudFormation's WaitCondition signal: Content-Type must be empty for the presigned PUT.
    body = json.dumps(
        {"Status": status, "Reason": reason[:4000], "UniqueId": unique_id, "Data": data}
    ).encode()
    # The URL is CloudFormation's (the handle's Ref), always https.
    request = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": ""})  # noqa: S310
    # A context of its own: urllib's shared one keeps the CAs of its first use (Python 3.13).
    context = ssl.create_default_context()
    with urllib.request.urlopen(request, timeout=30, context=context) as response:  # noqa: S310
        status_code: int = response.status
        return status_code
