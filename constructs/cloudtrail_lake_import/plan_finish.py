"""The plan's finish function (inline Lambda code: stdlib and boto3 only, under 4 KiB).

Invoked by the state machine's last state with a WaitCondition signal, or by the EventBridge
rule on an execution that ended without reaching one (ABORTED, TIMED_OUT, States.Runtime).
"""

import json
import os
import urllib.error
import urllib.request
from typing import Any

import boto3

EVENT_SOURCE = "cloudtrail-lake-import"
PLAN_DETAIL_TYPE = "CloudTrail Lake Import Plan Finished"
#: The error the plan's custom resource stops an execution with (an Update, a Delete).
STOPPED_BY_DEPLOYMENT = "CloudTrailLakeImportPlan.Stopped"


def handler(event: dict[str, Any], context: object) -> int | None:
    if event.get("source") == "aws.states":
        return _execution_ended(event["detail"])
    return _signal(event["Status"], event["Reason"], event["UniqueId"], event["Data"])


def _execution_ended(detail: dict[str, Any]) -> int | None:
    status = detail["status"]
    signalled = None
    if detail.get("error") != STOPPED_BY_DEPLOYMENT:
        # Signalled first: a pipeline waiting on the WaitCondition must not wait hours more
        # because the event below could not be put.
        reason = f"import plan {os.environ['PLAN_NAME']}: execution {status}"
        try:
            signalled = _signal("FAILURE", reason, detail["name"], detail["executionArn"])
        except urllib.error.URLError as error:
            # After the WaitCondition is gone (an Update, a Delete) its URL refuses: nothing waits.
            print(f"WaitCondition not signalled: {error}")
    # else the deployment replaced or removed this execution: not a failure of the plan it
    # waits for.
    _report(status, detail)
    return signalled


def _report(status: str, detail: dict[str, Any]) -> None:
    """The documented Plan Finished event; Lambda retries the whole function when it fails."""
    answer = boto3.client("events").put_events(
        Entries=[
            {
                "Source": EVENT_SOURCE,
                "DetailType": PLAN_DETAIL_TYPE,
                "Detail": json.dumps(
                    {
                        "Status": status,
                        "Plan": os.environ["PLAN_NAME"],
                        "ExecutionArn": detail["executionArn"],
                        "Error": detail.get("error"),
                        "Cause": detail.get("cause"),
                    }
                ),
            }
        ]
    )
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
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        status_code: int = response.status
        return status_code
