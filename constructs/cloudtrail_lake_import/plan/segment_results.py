"""The ways one segment can end, each a Pass state that writes the segment's result
(``$.Result``: index, ImportId, status, statistics, retries, and why it failed)."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_stepfunctions as sfn

from constructs import Construct


@dataclass(frozen=True)
class SegmentResults:
    """What a segment reports, one state per way it can end."""

    skip: sfn.Pass
    completed: sfn.Pass
    failed: sfn.Pass
    stopped: sfn.Pass
    not_started: sfn.Pass
    poll_failed: sfn.Pass
    lookup_failed: sfn.Pass
    retry_refused: sfn.Pass

    @staticmethod
    def new(scope: Construct) -> SegmentResults:
        return SegmentResults(
            skip=sfn.Pass(
                scope,
                "SkipCompletedSegment",
                comment="an identical import already COMPLETED on the store: not copied again",
                parameters={
                    "Index.$": "$.Segment.Index",
                    "ImportId.$": "$.Segment.Completed.ImportId",
                    "ImportStatus": "COMPLETED",
                    "ImportStatistics.$": "$.Segment.Completed.ImportStatistics",
                    "Retries": 0,
                    "Skipped": True,
                    "Failed": False,
                },
                result_path="$.Result",
            ),
            completed=_result(scope, "CompletedResult", failed=False),
            failed=_result(scope, "FailedResult", failed=True, failures=True),
            stopped=_result(scope, "StoppedResult", failed=True),
            not_started=sfn.Pass(
                scope,
                "NotStartedResult",
                parameters={
                    "Index.$": "$.Segment.Index",
                    "ImportStatus": "NOT_STARTED",
                    "Retries.$": "$.Retries",
                    "Skipped": False,
                    "Failed": True,
                    "Error.$": "$.Error.Error",
                    "Cause.$": "$.Error.Cause",
                },
                result_path="$.Result",
            ),
            poll_failed=sfn.Pass(
                scope,
                "PollFailedResult",
                parameters={
                    "Index.$": "$.Segment.Index",
                    "ImportId.$": "$.Import.ImportId",
                    "ImportStatus": "UNKNOWN",
                    "Retries.$": "$.Retries",
                    "Skipped": False,
                    "Failed": True,
                    "Error.$": "$.Error.Error",
                    "Cause.$": "$.Error.Cause",
                },
                result_path="$.Result",
            ),
            lookup_failed=sfn.Pass(
                scope,
                "LookupFailedResult",
                comment="StartImport's answer was lost and the look-up failed: it may have started",
                parameters={
                    "Index.$": "$.Segment.Index",
                    "ImportStatus": "UNKNOWN",
                    "Retries.$": "$.Retries",
                    "Skipped": False,
                    "Failed": True,
                    "Error.$": "$.Error.Error",
                    "Cause.$": "States.Format('StartImport: {}; looking for the import it may "
                    "have started: {}: {}. Check ListImports for this store.', $.Error.Cause, "
                    "$.LookupError.Error, $.LookupError.Cause)",
                },
                result_path="$.Result",
            ),
            retry_refused=sfn.Pass(
                scope,
                "RetryRefusedResult",
                comment="the retry was refused: the import keeps its own status",
                parameters={
                    "Index.$": "$.Segment.Index",
                    "ImportId.$": "$.Import.ImportId",
                    "ImportStatus.$": "$.Import.ImportStatus",
                    "Retries.$": "$.Retries",
                    "Skipped": False,
                    "Failed": True,
                    "Error.$": "$.Error.Error",
                    "Cause.$": "$.Error.Cause",
                },
                result_path="$.Result",
            ),
        )

    def failures(self) -> tuple[sfn.Pass, ...]:
        return (
            self.failed,
            self.stopped,
            self.not_started,
            self.poll_failed,
            self.lookup_failed,
            self.retry_refused,
        )


def _result(scope: Construct, id: str, *, failed: bool, failures: bool = False) -> sfn.Pass:
    parameters: dict[str, object] = {
        "Index.$": "$.Segment.Index",
        "ImportId.$": "$.Import.ImportId",
        "ImportStatus.$": "$.Import.ImportStatus",
        "ImportStatistics.$": "$.Import.ImportStatistics",
        "Retries.$": "$.Retries",
        "Skipped": False,
        "Failed": failed,
    }
    if failures:
        parameters["FirstFailures.$"] = "$.Failures"
    return sfn.Pass(scope, id, parameters=parameters, result_path="$.Result")
