"""The ``cloudtrail-lake-import`` command group and its error handling.

Exit codes: 0 success, 2 bad input, 1 an AWS error, 130 Ctrl-C (``interrupt.py``); failures are
one line on stderr, never a traceback. AWS clients follow the standard credential chain and
endpoint variables (``AWS_PROFILE``, ``AWS_REGION``, ``AWS_ENDPOINT_URL_S3``,
``AWS_ENDPOINT_URL_CLOUDTRAIL``...).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

from cloudtrail_lake_import._version import __version__
from cloudtrail_lake_import.cli import clients
from cloudtrail_lake_import.cli.errors import EXIT_AWS_ERROR, EXIT_BAD_INPUT, CliError
from cloudtrail_lake_import.cli.estimate import estimate
from cloudtrail_lake_import.cli.status import status
from cloudtrail_lake_import.cli.verify import verify

PROG = "cloudtrail-lake-import"
#: Set (to anything but empty or 0) to see the traceback of an unexpected error.
DEBUG_VARIABLE = "CLOUDTRAIL_LAKE_IMPORT_DEBUG"


class _OneLineErrors(click.Group):
    """Every failure as ``cloudtrail-lake-import: error: ...`` and its exit code."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            code = super().main(
                args, prog_name or PROG, complete_var, standalone_mode=False, **extra
            )
        except click.exceptions.NoArgsIsHelpError as error:
            click.echo(error.ctx.get_help() if error.ctx else "", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except click.NoSuchOption as error:
            _fail(error.format_message() + _where_it_goes(error), EXIT_BAD_INPUT)
        except click.UsageError as error:
            _fail(error.format_message(), EXIT_BAD_INPUT)
        except click.ClickException as error:
            _fail(error.format_message(), error.exit_code)
        except CliError as error:
            _fail(str(error), error.exit_code)
        except (ClientError, BotoCoreError) as error:  # a call without a friendlier message
            _fail(f"{type(error).__name__}: {error}", EXIT_AWS_ERROR)
        except click.exceptions.Abort:
            _fail("aborted", EXIT_AWS_ERROR)
        except Exception as error:  # a bug: still one line, unless asked for the traceback
            if os.environ.get(DEBUG_VARIABLE, "") not in ("", "0"):
                raise
            _fail(
                f"unexpected {type(error).__name__}: {error} "
                f"(set {DEBUG_VARIABLE}=1 to see the traceback)",
                EXIT_AWS_ERROR,
            )
        sys.exit(code if isinstance(code, int) else 0)


def _where_it_goes(error: click.NoSuchOption) -> str:
    """For a subcommand's option given before the subcommand: where it goes."""
    group = error.ctx.command if error.ctx else None
    if not isinstance(group, click.Group):
        return ""
    owners = sorted(
        name
        for name, command in group.commands.items()
        if any(error.option_name in p.opts for p in command.params)
    )
    if not owners:
        return ""
    return (
        f" ({error.option_name} is an option of {_in_words(owners)}: put it after the "
        f"subcommand, e.g. {PROG} {owners[0]} ... {error.option_name})"
    )


def _fail(message: str, exit_code: int) -> None:
    first_line = " ".join(message.split())
    click.echo(f"{PROG}: error: {first_line}", err=True)
    sys.exit(exit_code)


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name=PROG)
@click.option(
    "--region",
    metavar="REGION",
    help="AWS Region of the calls [default: AWS_DEFAULT_REGION, AWS_REGION, the profile's].",
)
def cli(region: str | None) -> None:
    """Estimate what a CloudTrail Lake import will cost, watch one run, prove it complete."""
    clients.region = region


cli.add_command(estimate)
cli.add_command(status)
cli.add_command(verify)


def main() -> None:
    """The console script's entry point."""
    cli.main()


def _in_words(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return " and ".join(filter(None, [", ".join(names[:-1]), names[-1]]))
