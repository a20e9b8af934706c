"""After an ambiguous StartImport error: did CloudTrail start the import after all?

A refusal (one of StartImport's modelled errors, throttling, access denied) means nothing
started. Any other error (a 5xx, a timeout, a connection lost after the request was sent) may
hide a started import; the segment then looks for it before it is declared NOT_STARTED, and
never sends a second StartImport. CloudTrail runs one import per account at a time, so the
import this call started, if any, is the store's INITIALIZING or IN_PROGRESS one from the same
S3 location. (Its window is not compared: Step Functions renders GetImport's timestamps in a
format that is not documented.)
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from constructs import Construct

THROTTLED_ERROR = "CloudTrail.ThrottlingException"
#: StartImport's answers that say it did nothing: a catch of these needs no look-up.
REFUSED_ERRORS = [
    "CloudTrail.AccountHasOngoingImportException",
    "CloudTrail.EventDataStoreARNInvalidException",
    "CloudTrail.EventDataStoreNotFoundException",
    "CloudTrail.InvalidEventDataStoreStatusException",
    "CloudTrail.InvalidEventDataStoreCategoryException",
    "CloudTrail.InactiveEventDataStoreException",
    "CloudTrail.InvalidImportSourceException",
    "CloudTrail.ImportNotFoundException",
    "CloudTrail.InvalidParameterException",
    "CloudTrail.InsufficientEncryptionPolicyException",
    "CloudTrail.OperationNotPermittedException",
    "CloudTrail.UnsupportedOperationException",
    "CloudTrail.AccessDeniedException",
    THROTTLED_ERROR,
]
#: CloudTrail's control plane allows about one StartImport a second, shared with the command
#: line and other stacks: throttling is retried, 5 s doubling to 5 minutes apart.
THROTTLE_FIRST_INTERVAL = Duration.seconds(5)
THROTTLE_MAX_INTERVAL = Duration.minutes(5)
THROTTLE_ATTEMPTS = 10
LOOKUP_ATTEMPTS = 5


def retry_throttling(state: sfn.TaskStateBase | sfn.CustomState) -> None:
    state.add_retry(
        errors=[THROTTLED_ERROR],
        interval=THROTTLE_FIRST_INTERVAL,
        backoff_rate=2,
        max_delay=THROTTLE_MAX_INTERVAL,
        max_attempts=THROTTLE_ATTEMPTS,
    )


def _retry_lookup(state: tasks.CallAwsService) -> tasks.CallAwsService:
    retry_throttling(state)
    state.add_retry(
        errors=["States.ALL"],
        interval=Duration.seconds(5),
        backoff_rate=2,
        max_attempts=LOOKUP_ATTEMPTS,
    )
    return state


def look_for_started_import(
    scope: Construct,
    *,
    found: sfn.IChainable,
    not_found: sfn.IChainable,
    lookup_failed: sfn.IChainable,
) -> sfn.IChainable:
    """ListImports of the store (INITIALIZING, then IN_PROGRESS), GetImport of what it lists:
    ``found`` gets ``$.Import.ImportId``; ``$.Error`` (the StartImport error) is kept."""

    def listing(status: str) -> tasks.CallAwsService:
        state = tasks.CallAwsService(
            scope,
            f"List{status.title().replace('_', '')}Imports",
            service="cloudtrail",
            action="listImports",
            iam_action="cloudtrail:ListImports",
            iam_resources=["*"],
            parameters={
                "Destination.$": "States.ArrayGetItem($.Segment.Request.Destinations, 0)",
                "ImportStatus": status,
            },
            result_selector={"Imports.$": "$.Imports"},
            result_path="$.Found",
        )
        state.add_catch(lookup_failed, errors=["States.ALL"], result_path="$.LookupError")
        return _retry_lookup(state)

    candidate = _retry_lookup(
        tasks.CallAwsService(
            scope,
            "GetCandidateImport",
            service="cloudtrail",
            action="getImport",
            iam_action="cloudtrail:GetImport",
            iam_resources=["*"],
            parameters={"ImportId.$": "$.Found.First.ImportId"},
            result_selector={"ImportId.$": "$.ImportId", "ImportSource.$": "$.ImportSource"},
            result_path="$.Candidate",
        )
    )
    candidate.add_catch(lookup_failed, errors=["States.ALL"], result_path="$.LookupError")
    adopt = sfn.Pass(
        scope,
        "AdoptStartedImport",
        comment="the StartImport that answered with an error had started this import",
        parameters={"ImportId.$": "$.Candidate.ImportId"},
        result_path="$.Import",
    )
    adopt.next(found)
    same_source = sfn.Condition.string_equals_json_path(
        "$.Candidate.ImportSource.S3.S3LocationUri",
        "$.Segment.Request.ImportSource.S3.S3LocationUri",
    )
    candidate.next(
        sfn.Choice(scope, "IsThisSegmentsImport").when(same_source, adopt).otherwise(not_found)
    )
    first = sfn.Pass(
        scope,
        "FirstListedImport",
        parameters={"First.$": "States.ArrayGetItem($.Found.Imports, 0)"},
        result_path="$.Found",
    )
    first.next(candidate)
    in_progress = listing("IN_PROGRESS")
    in_progress.next(
        sfn.Choice(scope, "FoundInProgress")
        .when(sfn.Condition.is_present("$.Found.Imports[0]"), first)
        .otherwise(not_found)
    )
    initializing = listing("INITIALIZING")
    return initializing.next(
        sfn.Choice(scope, "FoundInitializing")
        .when(sfn.Condition.is_present("$.Found.Imports[0]"), first)
        .otherwise(in_progress)
    )
