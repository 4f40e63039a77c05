"""The command line: thin commands that call the library and turn its errors into one line.

Exit codes: 0 ok, 1 data error (bad input, unsafe output), 2 usage error.
"""

from __future__ import annotations

import json

import click

from glas_convert import __version__
from glas_convert.cli_options import (
    dataset_argument,
    handle_errors,
    json_option,
    open_dataset,
    overwrite_option,
    split_option,
)
from glas_convert.stats import dataset_info, format_info
from glas_convert.synth import write_synthetic_dataset


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="glas-convert")
def cli() -> None:
    """Convert the GlaS@MICCAI'2015 gland segmentation dataset to training formats.

    Example:

        glas-convert coco Warwick_QU_Dataset out/coco
    """


@cli.command()
@dataset_argument
@split_option
@json_option
@handle_errors
def info(dataset: str, splits: tuple[str, ...], as_json: bool) -> None:
    """Show what DATASET holds: images, glands, image sizes, grades and quirks per split.

    Quirks: glands in several 8-connected parts, glands with holes, glands under 10 pixels
    and glands touching the image border.

    Example:

        glas-convert info Warwick_QU_Dataset --split train --json
    """
    figures = dataset_info(open_dataset(dataset, splits))
    if as_json:
        click.echo(json.dumps(figures, indent=2, sort_keys=True))
    else:
        click.echo(format_info(figures))


@cli.command()
@click.argument("out", type=click.Path(path_type=str))
@click.option(
    "--count",
    type=click.IntRange(min=3),
    default=None,
    help="Total images, split 85:60:20 like the release. Default: 165.",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Random seed."
)
@overwrite_option
@handle_errors
def synth(out: str, count: int | None, seed: int, overwrite: bool) -> None:
    """Write a synthetic GlaS-like dataset to OUT, in the raw release layout and formats.

    The same seed always gives the same bytes. No real GlaS data is used.

    Example:

        glas-convert synth demo/glas-synth --count 12 --seed 0
    """
    summary = write_synthetic_dataset(out, count=count, seed=seed, overwrite=overwrite)
    splits = ", ".join(f"{split} {n}" for split, n in summary.images_per_split.items())
    click.echo(f"wrote {summary.images} images ({splits}), {summary.glands} glands to {out}")


def main() -> None:
    cli()
