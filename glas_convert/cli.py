"""The command line: thin commands that call the library and turn its errors into one line.

Exit codes: 0 ok, 1 data error (bad input, unsafe output), 2 usage error.
"""

from __future__ import annotations

import click

from glas_convert import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="glas-convert")
def cli() -> None:
    """Convert the GlaS@MICCAI'2015 gland segmentation dataset to training formats.

    Example:

        glas-convert coco Warwick_QU_Dataset out/coco
    """


def main() -> None:
    cli()
