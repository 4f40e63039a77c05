"""Ultralytics YOLO detection and segmentation labels.

Layout::

    OUT/images/{split}/NAME.bmp
    OUT/labels/{split}/NAME.txt      (empty for an image without glands)
    OUT/data.yaml
    OUT/metadata.csv                 (the GlaS tags, which YOLO labels cannot hold)

``data.yaml`` maps GlaS ``train`` -> ``train``, ``test_a`` -> ``val``, ``test_b`` -> ``test``, with
paths relative to the folder that holds it. It has no ``path`` key on purpose: Ultralytics then
takes the folder of data.yaml as the dataset root, so the output still works after it is moved
(a relative ``path: .`` would be resolved against the working directory or Ultralytics'
``datasets_dir`` instead).

Coordinates: normalized to ``[0, 1]`` by the image width and height, x before y, from the
pixel-corner polygons and boxes (pixel ``(c, r)`` covers ``[c, c+1] x [r, r+1]``).
``detect``: ``0 cx cy w h`` of the pixel extent. ``segment``: ``0 x1 y1 x2 y2 ...`` of one ring per
gland; a gland in several parts or with holes stays one line, its parts joined by zero-width
bridges. Values have 6 decimals: for images up to 100,000 px wide, ``value * W`` lies within
0.05 px of the integer vertex, so pycocotools rasterizes the denormalized polygon to the exact mask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glas_convert import contours, defaults, layout
from glas_convert.errors import GlasConvertError
from glas_convert.formats.common import (
    ROLE_OF_SPLIT,
    ImageOptions,
    Record,
    make_split_dirs,
    place_sample_image,
    write_metadata_csv,
)
from glas_convert.model import AnnotatedSample, Instance

TASKS = ("detect", "segment")
CLASS_ID = 0
DECIMALS = 6


def _fmt(values: np.ndarray) -> str:
    return " ".join(f"{v:.{DECIMALS}f}" for v in values.ravel().tolist())


def yolo_box(bbox: tuple[int, int, int, int], width: int, height: int) -> np.ndarray:
    """Pixel extent ``(x, y, w, h)`` -> normalized ``(cx, cy, w, h)``."""
    x, y, w, h = bbox
    return np.array([(x + w / 2) / width, (y + h / 2) / height, w / width, h / height])


def normalize_ring(ring: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pixel-corner ``(K, 2)`` points -> normalized ``(K, 2)`` points."""
    return np.asarray(ring, dtype=np.float64) / np.array([width, height], dtype=np.float64)


def instance_to_yolo_line(instance: Instance, width: int, height: int, *, task: str) -> str:
    """One label line for one gland."""
    if task == "detect":
        values = yolo_box(instance.bbox, width, height)
    elif task == "segment":
        values = normalize_ring(contours.joined_ring(instance), width, height)
    else:
        raise GlasConvertError(f'task must be one of {TASKS}, got "{task}"')
    return f"{CLASS_ID} {_fmt(values)}"


def parse_yolo_line(line: str) -> tuple[int, np.ndarray]:
    """A label line -> (class id, float values)."""
    parts = line.split()
    return int(parts[0]), np.array([float(p) for p in parts[1:]], dtype=np.float64)


def data_yaml(splits: Sequence[str]) -> str:
    """The data.yaml text for the exported splits."""
    lines = [
        f"# {layout.DATASET_NAME}, written by glas-convert.",
        f"# Terms: {layout.DATASET_TERMS}",
        "# No `path` key: Ultralytics uses this file's folder as the dataset root.",
    ]
    for split in splits:
        lines.append(f"{ROLE_OF_SPLIT.get(split, split)}: images/{split}")
    lines += ["nc: 1", "names:", f"  {CLASS_ID}: {layout.CLASS_NAME}"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class YoloWriter:
    """Writes Ultralytics YOLO; see the module docstring for the layout."""

    images: ImageOptions = field(default_factory=ImageOptions)
    task: str = defaults.YOLO_TASK
    name: str = "yolo"

    def prepare(self, out_dir: Path, splits: Sequence[str]) -> None:
        make_split_dirs(out_dir / "labels", splits)
        if self.images.mode != "none":
            make_split_dirs(out_dir / "images", splits)

    def write_sample(self, out_dir: Path, item: AnnotatedSample) -> Record:
        sample = item.sample
        _, meta = place_sample_image(out_dir, f"images/{sample.split}", item, self.images)
        lines = [
            instance_to_yolo_line(inst, sample.width, sample.height, task=self.task)
            for inst in item.instances
        ]
        with open(out_dir / "labels" / sample.split / f"{sample.name}.txt", "w") as f:
            f.write("".join(line + "\n" for line in lines))
        return Record(meta=meta)

    def finish(self, out_dir: Path, records: Sequence[Record]) -> None:
        splits = [s for s in layout.SPLITS if any(r.meta.split == s for r in records)]
        with open(out_dir / "data.yaml", "w", encoding="utf-8") as f:
            f.write(data_yaml(splits))
        write_metadata_csv(out_dir / "metadata.csv", [r.meta for r in records])
