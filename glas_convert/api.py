"""The Python API's one-format exports: thin wrappers over :func:`glas_convert.export.export`.

Each ``export_<format>(dataset, out, ...)`` takes that format's own options by name, and the
options every format shares (``splits``, ``images``, ``image_format``, ``workers``,
``overwrite``, ``tolerance``, ``quiet``) as keywords. Names and defaults are those of the CLI:
``--image-format jpg`` is ``image_format="jpg"``, ``--task`` is ``yolo_task`` and ``--kind``
is ``mask_kinds``; every default comes from :mod:`glas_convert.defaults`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from glas_convert import defaults
from glas_convert.export import ExportSummary, export
from glas_convert.formats.masks import MASK_KINDS

#: The keyword options every format shares (see :func:`glas_convert.export.export`).
SHARED_OPTIONS = frozenset(
    {"splits", "images", "image_format", "workers", "overwrite", "tolerance", "quiet"}
)

Dataset = Any  # a path (str or os.PathLike) or a read glas_convert.dataset.Dataset


def _shared(function: str, options: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - SHARED_OPTIONS)
    if unknown:
        raise TypeError(
            f"{function}() got unexpected keyword argument(s) {', '.join(unknown)}; "
            f"shared options are {', '.join(sorted(SHARED_OPTIONS))}"
        )
    return options


def export_coco(
    dataset: Dataset | str | os.PathLike[str],
    out: Path | str,
    *,
    mask_format: str = defaults.MASK_FORMAT,
    indent: int | None = defaults.INDENT,
    **options: Any,
) -> ExportSummary:
    """Convert ``dataset`` to COCO in ``out`` (``glas-convert coco``)."""
    shared = _shared("export_coco", options)
    return export(dataset, out, ["coco"], mask_format=mask_format, indent=indent, **shared)


def export_voc(
    dataset: Dataset | str | os.PathLike[str],
    out: Path | str,
    *,
    void_border: int = defaults.VOID_BORDER,
    **options: Any,
) -> ExportSummary:
    """Convert ``dataset`` to Pascal VOC 2012 under ``out`` (``glas-convert voc``)."""
    shared = _shared("export_voc", options)
    return export(dataset, out, ["voc"], void_border=void_border, **shared)


def export_yolo(
    dataset: Dataset | str | os.PathLike[str],
    out: Path | str,
    *,
    yolo_task: str = defaults.YOLO_TASK,
    **options: Any,
) -> ExportSummary:
    """Convert ``dataset`` to Ultralytics YOLO in ``out`` (``glas-convert yolo``)."""
    shared = _shared("export_yolo", options)
    return export(dataset, out, ["yolo"], yolo_task=yolo_task, **shared)


def export_masks(
    dataset: Dataset | str | os.PathLike[str],
    out: Path | str,
    *,
    mask_kinds: Sequence[str] = MASK_KINDS,
    boundary_width: int = defaults.BOUNDARY_WIDTH,
    **options: Any,
) -> ExportSummary:
    """Convert ``dataset`` to PNG masks in ``out/masks/{kind}/{split}`` (``glas-convert masks``)."""
    shared = _shared("export_masks", options)
    return export(
        dataset, out, ["masks"], mask_kinds=mask_kinds, boundary_width=boundary_width, **shared
    )
