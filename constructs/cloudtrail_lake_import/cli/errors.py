"""Exit codes and the one-line messages of failures (never a traceback)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

EXIT_OK = 0
EXIT_AWS_ERROR = 1
EXIT_BAD_INPUT = 2


class CliError(Exception):
    """A failure to report in one line, with the process's exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_AWS_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class BadInputError(CliError):
    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_BAD_INPUT)


def aws_error(operation: str, error: ClientError | BotoCoreError) -> CliError:
    """``<Operation> failed: <Code>: <message>`` (exit 1)."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = details.get("Code") or "Error"
        message = details.get("Message") or str(error)
        return CliError(f"{operation} failed: {code}: {message}")
    return CliError(f"{operation} failed: {type(error).__name__}: {error}")
