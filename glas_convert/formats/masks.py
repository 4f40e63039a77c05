"""PNG masks for semantic, instance and boundary-aware segmentation.

Layout::

    OUT/masks/{kind}/{split}/NAME.png
    OUT/images/{split}/NAME.bmp
    OUT/metadata.csv

Kinds, all the size of the image, pixel ``(c, r)`` at row ``r``, column ``c``:

- ``semantic``: 8-bit palette PNG (VOC color map), 0 background, 1 gland.
- ``instance``: 16-bit grayscale PNG, glands numbered 1..N in label order, the order of the COCO
  annotations, VOC objects and YOLO lines; 0 background.
- ``boundary``: 8-bit palette PNG, 0 background, 1 gland interior, 2 gland boundary: a gland pixel
  within ``boundary_width`` px (square window) of a pixel with another label, background
  included, so touching glands are separated. The image border is not a boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glas_convert import defaults
from glas_convert.errors import GlasConvertError, OutputError
from glas_convert.formats.common import (
    ImageOptions,
    Record,
    dense_instance_map,
    edge_band,
    make_split_dirs,
    place_sample_image,
    write_metadata_csv,
    write_palette_png,
    write_uint16_png,
)
from glas_convert.model import AnnotatedSample, Instance

MASK_KINDS = ("semantic", "instance", "boundary")
MAX_INSTANCES = 65535


def semantic_mask(dense: np.ndarray) -> np.ndarray:
    """uint8: 0 background, 1 gland."""
    return (dense > 0).astype(np.uint8)


def instance_png_values(dense: np.ndarray) -> np.ndarray:
    """uint16: glands 1..N, 0 background."""
    if dense.max(initial=0) > MAX_INSTANCES:
        raise OutputError(f"a 16-bit instance PNG holds at most {MAX_INSTANCES} glands")
    return dense.astype(np.uint16)


def boundary_mask(dense: np.ndarray, width: int) -> np.ndarray:
    """uint8: 0 background, 1 interior, 2 boundary band of ``width`` px."""
    out = semantic_mask(dense)
    out[edge_band(dense, width)] = 2
    return out


def dense_of(label_map: np.ndarray, instances: Sequence[Instance]) -> np.ndarray:
    """Glands numbered 1..N in instance order (int32)."""
    return dense_instance_map(label_map, [inst.label for inst in instances])


@dataclass(frozen=True)
class MasksWriter:
    """Writes PNG masks; see the module docstring for the layout."""

    images: ImageOptions = field(default_factory=ImageOptions)
    kinds: tuple[str, ...] = MASK_KINDS
    boundary_width: int = defaults.BOUNDARY_WIDTH
    name: str = "masks"

    def __post_init__(self) -> None:
        bad = [k for k in self.kinds if k not in MASK_KINDS]
        if bad or not self.kinds:
            raise GlasConvertError(f"mask kinds must be among {MASK_KINDS}, got {self.kinds}")
        if self.boundary_width < 1:
            raise GlasConvertError(f"boundary_width must be >= 1, got {self.boundary_width}")

    def prepare(self, out_dir: Path, splits: Sequence[str]) -> None:
        for kind in self.kinds:
            make_split_dirs(out_dir / "masks" / kind, splits)
        if self.images.mode != "none":
            make_split_dirs(out_dir / "images", splits)

    def write_sample(self, out_dir: Path, item: AnnotatedSample) -> Record:
        sample = item.sample
        dense = dense_of(item.label_map, item.instances)
        png = f"{sample.name}.png"
        for kind in self.kinds:
            path = out_dir / "masks" / kind / sample.split / png
            if kind == "semantic":
                write_palette_png(path, semantic_mask(dense))
            elif kind == "instance":
                try:
                    values = instance_png_values(dense)
                except OutputError as exc:
                    raise OutputError(str(exc), path=sample.annotation_path) from exc
                write_uint16_png(path, values)
            else:
                write_palette_png(path, boundary_mask(dense, self.boundary_width))
        _, meta = place_sample_image(out_dir, f"images/{sample.split}", item, self.images)
        return Record(meta=meta)

    def finish(self, out_dir: Path, records: Sequence[Record]) -> None:
        write_metadata_csv(out_dir / "metadata.csv", [r.meta for r in records])
