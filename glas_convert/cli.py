"""The command line: thin commands that call the library and turn its errors into one line.

Exit codes: 0 ok, 1 data error (bad input, unsafe or unwritable output), 2 usage error (unknown
option, bad value, conflicting options), 130 interrupted (Ctrl-C or SIGTERM). See
docs/guarantees.md.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from types import FrameType

import click

from glas_convert import __version__, defaults
from glas_convert.cli_options import (
    dataset_argument,
    echo_warnings,
    handle_errors,
    json_option,
    open_dataset,
    overwrite_option,
    quiet_option,
    split_option,
)
from glas_convert.stats import (
    dataset_distributions,
    dataset_info,
    format_distributions,
    format_info,
)
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
    """Show DATASET's images, glands, image sizes, grades and quirks.

    Per split and in total. Quirks: glands in several 8-connected parts, glands with holes,
    glands under 10 pixels and glands touching the image border.

    Example:

        glas-convert info Warwick_QU_Dataset --split train --json
    """
    figures = dataset_info(open_dataset(dataset, splits))
    if as_json:
        click.echo(json.dumps(figures, indent=2, sort_keys=True))
    else:
        click.echo(format_info(figures))


@cli.command()
@dataset_argument
@split_option
@json_option
@click.option(
    "--histogram",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Also draw the histograms of gland area and glands per image to this PNG file.",
)
@handle_errors
def stats(dataset: str, splits: tuple[str, ...], as_json: bool, histogram: str | None) -> None:
    """Show the distributions of gland area and of glands per image.

    Overall, per split and per grade. Quantiles p0 (min), p10, p25, p50 (median), p75, p90,
    p100 (max) and the mean; with --json also the histograms (area in bins of powers of two,
    pixels). Grades are the GlaS grade (benign, malignant) and the Sirinukunwattana grade from
    Grade.csv.

    Example:

        glas-convert stats Warwick_QU_Dataset --json --histogram out/glands.png
    """
    figures = dataset_distributions(open_dataset(dataset, splits))
    if histogram:
        from glas_convert.histogram import write_histogram

        write_histogram(histogram, figures)
    if as_json:
        click.echo(json.dumps(figures, indent=2, sort_keys=True))
    else:
        click.echo(format_distributions(figures))


@cli.command()
@click.argument("out", type=click.Path(path_type=str))
@click.option(
    "--count",
    type=click.IntRange(min=3),
    default=defaults.SYNTH_COUNT,
    help="Total images, split 85:60:20 like the release. Default: 165.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=defaults.SYNTH_SEED,
    show_default=True,
    help="Random seed.",
)
@overwrite_option
@handle_errors
def synth(out: str, count: int | None, seed: int, overwrite: bool) -> None:
    """Write a synthetic GlaS-like dataset to OUT.

    In the raw release layout and file formats. The same seed always gives the same bytes.
    No real GlaS data is used.

    Example:

        glas-convert synth demo/glas-synth --count 12 --seed 0
    """
    summary = write_synthetic_dataset(out, count=count, seed=seed, overwrite=overwrite)
    splits = ", ".join(f"{split} {n}" for split, n in summary.images_per_split.items())
    click.echo(f"wrote {summary.images} images ({splits}), {summary.glands} glands to {out}")


# --- Conversion commands -------------------------------------------------------------------


def _conversion_options(func):  # type: ignore[no-untyped-def]
    """The arguments and options every conversion command shares."""
    from glas_convert.formats.common import IMAGE_FORMATS, IMAGE_MODES

    decorators = [
        dataset_argument,
        click.argument("out", type=click.Path(path_type=Path)),
        split_option,
        click.option(
            "--images",
            type=click.Choice(IMAGE_MODES),
            default=defaults.IMAGES,
            show_default=True,
            help="How images reach OUT (hardlink falls back to copy across devices).",
        ),
        click.option(
            "--image-format",
            type=click.Choice(IMAGE_FORMATS),
            default=defaults.IMAGE_FORMAT,
            show_default=True,
            help="keep = the original BMP bytes; png or jpg re-encode; auto = keep, but jpg "
            "for VOC (torchvision reads JPEGImages/NAME.jpg only).",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            default=defaults.WORKERS,
            help="Worker processes. Default: every core. Output is identical for any value.",
        ),
        overwrite_option,
        quiet_option,
        click.option(
            "--tolerance",
            type=click.FloatRange(min=0.0),
            default=defaults.TOLERANCE,
            show_default=True,
            help="Polygon simplification in px; 0 keeps polygons exact.",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


@handle_errors
def _export(dataset: str, out: Path, formats: list[str], **options: object) -> None:
    """Run an export and report it; library errors become one-line click errors."""
    from glas_convert.export import export

    # A repeatable option given no times (an empty tuple) takes the library's default.
    options = {name: value for name, value in options.items() if value != ()}
    summary = export(dataset, out, formats, **options)  # type: ignore[arg-type]
    echo_warnings(summary.warnings)
    if not options.get("quiet"):
        for line in summary.lines():
            if not line.startswith("warning: "):
                click.echo(line)


def _format_options():  # type: ignore[no-untyped-def]
    """The options of each format, defined once for its own command and for ``all``."""
    from glas_convert.formats.coco import MASK_FORMATS
    from glas_convert.formats.masks import MASK_KINDS
    from glas_convert.formats.yolo import TASKS

    return {
        "coco": [
            click.option(
                "--mask-format",
                type=click.Choice(MASK_FORMATS),
                default=defaults.MASK_FORMAT,
                show_default=True,
                help="COCO: exact polygons or compressed RLE in `segmentation`.",
            ),
            click.option(
                "--indent",
                type=click.IntRange(min=0),
                default=defaults.INDENT,
                help="COCO: pretty-print the JSON with this indent. Default: compact.",
            ),
        ],
        "voc": [
            click.option(
                "--void-border",
                type=click.IntRange(min=0),
                default=defaults.VOID_BORDER,
                show_default=True,
                help="VOC: paint a band of N px on gland edges with the void index 255.",
            ),
        ],
        "yolo": [
            click.option(
                "--task",
                "yolo_task",
                type=click.Choice(TASKS),
                default=defaults.YOLO_TASK,
                show_default=True,
                help="YOLO: boxes or polygons in the label files.",
            ),
        ],
        "masks": [
            click.option(
                "--kind",
                "mask_kinds",
                multiple=True,
                type=click.Choice(MASK_KINDS),
                help="masks: mask kind to write (repeatable). Default: all three.",
            ),
            click.option(
                "--boundary-width",
                type=click.IntRange(min=1),
                default=defaults.BOUNDARY_WIDTH,
                show_default=True,
                help="masks: width in px of the boundary band in boundary masks.",
            ),
        ],
    }


_FORMAT_OPTIONS = _format_options()


def _options_of(*formats: str):  # type: ignore[no-untyped-def]
    """Decorator adding the options of ``formats`` to a command."""

    def decorate(func):  # type: ignore[no-untyped-def]
        for name in reversed(formats):
            for decorator in reversed(_FORMAT_OPTIONS[name]):
                func = decorator(func)
        return func

    return decorate


@cli.command()
@_conversion_options
@_options_of("coco")
def coco(dataset: str, out: Path, **options: object) -> None:
    """Convert DATASET to COCO instance segmentation in OUT.

    Writes OUT/annotations/instances_{split}.json and OUT/images/{split}/.

    Example:

        glas-convert coco Warwick_QU_Dataset out/coco --mask-format rle
    """
    _export(dataset, out, ["coco"], **options)


@cli.command()
@_conversion_options
@_options_of("voc")
def voc(dataset: str, out: Path, **options: object) -> None:
    """Convert DATASET to Pascal VOC 2012 in OUT/VOCdevkit/VOC2012.

    Sets: train -> train, test_a -> val, test_b -> test. Images are JPEG by default, so
    torchvision reads it with VOCDetection(root=OUT, year="2012").

    Example:

        glas-convert voc Warwick_QU_Dataset out/voc
    """
    _export(dataset, out, ["voc"], **options)


@cli.command()
@_conversion_options
@_options_of("yolo")
def yolo(dataset: str, out: Path, **options: object) -> None:
    """Convert DATASET to Ultralytics YOLO labels and data.yaml in OUT.

    Splits: train -> train, test_a -> val, test_b -> test.

    Example:

        glas-convert yolo Warwick_QU_Dataset out/yolo --task segment
    """
    _export(dataset, out, ["yolo"], **options)


@cli.command()
@_conversion_options
@_options_of("masks")
def masks(dataset: str, out: Path, **options: object) -> None:
    """Convert DATASET to PNG masks in OUT/masks/{kind}/{split}/.

    Example:

        glas-convert masks Warwick_QU_Dataset out/masks --kind instance --kind boundary
    """
    _export(dataset, out, ["masks"], **options)


@cli.command(name="all")
@_conversion_options
@_options_of("coco", "voc", "yolo", "masks")
def all_formats(dataset: str, out: Path, **options: object) -> None:
    """Convert DATASET to COCO, VOC, YOLO and masks in one pass.

    Writes OUT/{coco,voc,yolo,masks}. Each image is read and traced once.

    Example:

        glas-convert all Warwick_QU_Dataset out --workers 4
    """
    _export(dataset, out, ["coco", "voc", "yolo", "masks"], **options)


@cli.command()
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--source",
    "source",
    required=True,
    type=click.Path(exists=False, path_type=str),
    help="The GlaS dataset OUT was converted from (folder or .zip).",
)
@split_option
@handle_errors
def validate(out: Path, source: str, splits: tuple[str, ...]) -> None:
    """Compare every gland of the export in OUT with the source.

    Re-reads the exported files. Recognizes COCO, VOC, YOLO and masks outputs (also
    OUT/{coco,voc,yolo,masks} from `all`). Exits 1 when any gland does not round-trip exactly
    or any file is missing.

    Example:

        glas-convert validate out/coco --source Warwick_QU_Dataset
    """
    from glas_convert.validate import validate as run_validate

    report = run_validate(out, source, splits=list(splits) or None)
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        raise click.ClickException(f"{out}: the export does not match {source}")


@cli.command()
@click.argument("source", type=click.Path(exists=True, path_type=str))
@click.option(
    "--out", required=True, type=click.Path(path_type=str), help="Folder to write the PNGs to."
)
@split_option
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Draw at most this many images per split. Default: all.",
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["coco", "voc", "yolo", "masks"]),
    help="Draw only this format of an export (repeatable). Default: every format found.",
)
@overwrite_option
@quiet_option
@handle_errors
def preview(
    source: str,
    out: str,
    splits: tuple[str, ...],
    limit: int | None,
    formats: tuple[str, ...],
    overwrite: bool,
    quiet: bool,
) -> None:
    """Draw the glands of SOURCE on their images, to check them by eye.

    The drawings are PNGs in OUT. SOURCE is an export (COCO, VOC, YOLO, masks, or the folder
    `all` wrote): the glands are read back from the exported files, as a training pipeline
    reads them. Or SOURCE is a raw dataset: the glands are the polygons the exporters would
    write. Each gland has its own colour, a translucent fill, its outline (holes as inner
    outlines) and its number. Writes OUT/{source}/{split}/NAME.png and a contact sheet
    OUT/{source}/contact_{split}.png.

    Example:

        glas-convert preview out/all --out out/preview --split train --limit 8
    """
    from glas_convert.preview import write_previews

    summary = write_previews(
        source,
        out,
        splits=splits or None,
        limit=limit,
        sources=formats or None,
        overwrite=overwrite,
        quiet=quiet,
    )
    echo_warnings(summary.warnings)
    for line in summary.lines():
        click.echo(line)
    click.echo(f"wrote previews to {out}")


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM stops a run like Ctrl-C does: it cleans up and exits 130."""
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    cli()
