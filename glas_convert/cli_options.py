"""Options, arguments and error handling shared by every command of :mod:`glas_convert.cli`.

Each option is defined once here, so its name, help and default agree across commands.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

from glas_convert import layout
from glas_convert.dataset import Dataset, read_dataset
from glas_convert.errors import GlasConvertError, OptionError

F = TypeVar("F", bound=Callable[..., Any])

#: ``DATASET``: a release folder, a folder holding one, or the release .zip.
dataset_argument = click.argument("dataset", type=click.Path(exists=False, path_type=str))

#: ``--split``, repeatable; none given means every split.
split_option = click.option(
    "--split",
    "splits",
    multiple=True,
    type=click.Choice(layout.SPLITS),
    help="Only this split (repeatable). Default: every split.",
)

#: ``--json``: machine-readable output on stdout.
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON (sorted keys) instead of a table."
)

#: ``--overwrite``: replace an output folder that glas-convert made before.
overwrite_option = click.option(
    "--overwrite", is_flag=True, help="Replace OUT if it exists and is not empty."
)

#: ``--quiet``: no progress bar.
quiet_option = click.option("--quiet", "-q", is_flag=True, help="Show no progress bar.")


#: Exit code of a run stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130


class Interrupted(click.ClickException):
    """Ctrl-C or SIGTERM: one line, exit code 130."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self) -> None:
        super().__init__("interrupted; nothing was written")


def click_error(error: GlasConvertError) -> click.ClickException:
    """The click error for a library error: a usage error (exit 2) for a bad option, else exit 1."""
    if isinstance(error, OptionError):
        return click.UsageError(str(error))
    return click.ClickException(str(error))


def handle_errors(command: F) -> F:
    """Turn library errors into one-line click errors (no traceback): exit code 2 for a bad
    option, 1 for bad data or an unsafe output, 130 for Ctrl-C."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except GlasConvertError as e:
            raise click_error(e) from e
        except KeyboardInterrupt as e:
            raise Interrupted() from e

    return wrapper  # type: ignore[return-value]


def echo_warnings(warnings: Iterable[str]) -> None:
    """Print each warning to stderr as a ``warning: ...`` line."""
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


def open_dataset(path: str, splits: Iterable[str] = ()) -> Dataset:
    """Read ``path`` (every split when ``splits`` is empty) and print the reader's warnings."""
    dataset = read_dataset(path, splits=tuple(splits) or None)
    echo_warnings(dataset.warnings)
    return dataset
