"""The command line: thin commands that call the library and turn its errors into one line.

Exit codes: 0 ok, 1 data error (bad input, unsafe output), 2 usage error.
"""

from __future__ import annotations

from pathlib import Path

import click

from glas_convert import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="glas-convert")
def cli() -> None:
    """Convert the GlaS@MICCAI'2015 gland segmentation dataset to training formats.

    Example:

        glas-convert coco Warwick_QU_Dataset out/coco
    """


# --- Conversion commands -------------------------------------------------------------------


def _conversion_options(func):  # type: ignore[no-untyped-def]
    """The arguments and options every conversion command shares."""
    from glas_convert.formats.common import IMAGE_FORMATS, IMAGE_MODES
    from glas_convert.layout import SPLITS

    decorators = [
        click.argument("dataset", type=click.Path(exists=True, path_type=Path)),
        click.argument("out", type=click.Path(path_type=Path)),
        click.option(
            "--split",
            "splits",
            multiple=True,
            type=click.Choice(SPLITS),
            help="Export only this split (repeatable). Default: every split.",
        ),
        click.option(
            "--images",
            type=click.Choice(IMAGE_MODES),
            default="copy",
            show_default=True,
            help="How images reach OUT (hardlink falls back to copy across devices).",
        ),
        click.option(
            "--image-format",
            type=click.Choice(IMAGE_FORMATS),
            default="keep",
            show_default=True,
            help="keep = the original BMP bytes; png or jpg re-encode.",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            default=None,
            help="Worker processes. Default: every core. Output is identical for any value.",
        ),
        click.option("--overwrite", is_flag=True, help="Replace an OUT written by glas-convert."),
        click.option("--quiet", "-q", is_flag=True, help="No progress bars and no summary."),
        click.option(
            "--tolerance",
            type=click.FloatRange(min=0.0),
            default=0.0,
            show_default=True,
            help="Polygon simplification in px; 0 keeps polygons exact.",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _export(dataset: Path, out: Path, formats: list[str], **options: object) -> None:
    """Run an export and report it; library errors become one-line click errors."""
    from glas_convert.errors import GlasConvertError
    from glas_convert.export import export

    splits = options.pop("splits") or None
    try:
        summary = export(dataset, out, formats, splits=splits, **options)  # type: ignore[arg-type]
    except GlasConvertError as exc:
        raise click.ClickException(str(exc)) from exc
    for warning in summary.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not options.get("quiet"):
        for line in summary.lines():
            if not line.startswith("warning: "):
                click.echo(line)


@cli.command()
@_conversion_options
@click.option(
    "--mask-format",
    type=click.Choice(["polygon", "rle"]),
    default="polygon",
    show_default=True,
    help="Exact polygons or compressed RLE in `segmentation`.",
)
@click.option("--indent", type=click.IntRange(min=0), default=None, help="Pretty-print JSON.")
def coco(dataset: Path, out: Path, **options: object) -> None:
    """Convert DATASET to COCO instance segmentation in OUT.

    Writes OUT/annotations/instances_{split}.json and OUT/images/{split}/.

    Example:

        glas-convert coco Warwick_QU_Dataset out/coco --mask-format rle
    """
    _export(dataset, out, ["coco"], **options)


@cli.command()
@_conversion_options
@click.option(
    "--void-border",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Paint a band of N px on gland edges with the void index 255.",
)
def voc(dataset: Path, out: Path, **options: object) -> None:
    """Convert DATASET to Pascal VOC 2012 in OUT/VOCdevkit/VOC2012.

    Sets: train -> train, test_a -> val, test_b -> test. torchvision reads it with
    VOCDetection(root=OUT, year="2012") after --image-format jpg.

    Example:

        glas-convert voc Warwick_QU_Dataset out/voc --image-format jpg
    """
    _export(dataset, out, ["voc"], **options)


@cli.command()
@_conversion_options
@click.option(
    "--task",
    "yolo_task",
    type=click.Choice(["detect", "segment"]),
    default="detect",
    show_default=True,
    help="Boxes or polygons in the label files.",
)
def yolo(dataset: Path, out: Path, **options: object) -> None:
    """Convert DATASET to Ultralytics YOLO labels and data.yaml in OUT.

    Splits: train -> train, test_a -> val, test_b -> test.

    Example:

        glas-convert yolo Warwick_QU_Dataset out/yolo --task segment
    """
    _export(dataset, out, ["yolo"], **options)


@cli.command()
@_conversion_options
@click.option(
    "--kind",
    "mask_kinds",
    multiple=True,
    type=click.Choice(["semantic", "instance", "boundary"]),
    help="Mask kind to write (repeatable). Default: all three.",
)
@click.option(
    "--boundary-width",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Width in px of the boundary band in boundary masks.",
)
def masks(dataset: Path, out: Path, **options: object) -> None:
    """Convert DATASET to PNG masks in OUT/masks/{kind}/{split}/.

    Example:

        glas-convert masks Warwick_QU_Dataset out/masks --kind instance --kind boundary
    """
    if not options["mask_kinds"]:
        options.pop("mask_kinds")
    _export(dataset, out, ["masks"], **options)


@cli.command(name="all")
@_conversion_options
@click.option("--mask-format", type=click.Choice(["polygon", "rle"]), default="polygon")
@click.option("--indent", type=click.IntRange(min=0), default=None, help="Pretty-print JSON.")
@click.option("--void-border", type=click.IntRange(min=0), default=0, help="VOC void band.")
@click.option("--task", "yolo_task", type=click.Choice(["detect", "segment"]), default="detect")
@click.option(
    "--kind",
    "mask_kinds",
    multiple=True,
    type=click.Choice(["semantic", "instance", "boundary"]),
    help="Mask kind (repeatable). Default: all three.",
)
@click.option("--boundary-width", type=click.IntRange(min=1), default=2)
def all_formats(dataset: Path, out: Path, **options: object) -> None:
    """Convert DATASET to every format in one pass: OUT/{coco,voc,yolo,masks}.

    Each image is read and traced once.

    Example:

        glas-convert all Warwick_QU_Dataset out --workers 4
    """
    if not options["mask_kinds"]:
        options.pop("mask_kinds")
    _export(dataset, out, ["coco", "voc", "yolo", "masks"], **options)


@cli.command()
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--source",
    "source",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="The GlaS dataset OUT was converted from.",
)
@click.option("--split", "splits", multiple=True, help="Check only this split (repeatable).")
def validate(out: Path, source: Path, splits: tuple[str, ...]) -> None:
    """Re-read the export in OUT and compare every gland with the source dataset.

    Recognizes COCO, VOC, YOLO and masks outputs (also OUT/{coco,voc,yolo,masks} from `all`).
    Exits 1 when any gland does not round-trip exactly or any file is missing.

    Example:

        glas-convert validate out/coco --source Warwick_QU_Dataset
    """
    from glas_convert.errors import GlasConvertError
    from glas_convert.validate import validate as run_validate

    try:
        report = run_validate(out, source, splits=list(splits) or None)
    except GlasConvertError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        raise click.ClickException(f"{out}: the export does not match {source}")


def main() -> None:
    cli()
