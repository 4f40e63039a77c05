"""COCO instance segmentation.

Layout: ``OUT/annotations/instances_{split}.json`` and ``OUT/images/{split}/NAME.bmp``.

Coordinates: pixel corners, x before y, 0-based (pixel ``(c, r)`` covers ``[c, c+1] x [r, r+1]``),
the COCO convention: pycocotools rasterizes the polygons back to the exact mask. ``bbox`` is
``[x, y, w, h]``, the pixel extent (``w = x_max - x_min + 1``); ``area`` is the pixel count.
Image and annotation ids start at 1 and are unique across splits, in sample order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glas_convert import contours, defaults, layout
from glas_convert.errors import GlasConvertError
from glas_convert.formats.common import (
    ImageOptions,
    Record,
    make_split_dirs,
    place_sample_image,
    split_order,
    write_metadata_csv,
)
from glas_convert.model import AnnotatedSample, Instance, Sample

MASK_FORMATS = ("polygon", "rle")

COCO_INFO = {
    "description": layout.DATASET_NAME,
    "terms": layout.DATASET_TERMS,
    "url": "https://warwick.ac.uk/fac/cross_fac/tia/data/glascontest/",
    "version": "1.0",
    "contributor": "Sirinukunwattana et al.; converted by glas-convert",
}
COCO_LICENSES = [{"id": 1, "name": layout.DATASET_TERMS, "url": ""}]
COCO_CATEGORIES = [
    {"id": layout.COCO_CATEGORY_ID, "name": layout.CLASS_NAME, "supercategory": layout.CLASS_NAME}
]


def coco_image_entry(sample: Sample, file_name: str) -> dict[str, object]:
    """The ``images`` entry of one sample, without its id, with the GlaS tags."""
    return {
        "file_name": file_name,
        "width": sample.width,
        "height": sample.height,
        "license": 1,
        "name": sample.name,
        **sample.tag_dict(),
    }


def coco_annotation(
    label_map: np.ndarray, instance: Instance, *, mask_format: str = defaults.MASK_FORMAT
) -> dict[str, object]:
    """The ``annotations`` entry of one gland, without ``id`` and ``image_id``."""
    if mask_format == "polygon":
        segmentation: object = contours.coco_segmentation(instance)
    elif mask_format == "rle":
        segmentation = contours.coco_rle(label_map, instance)
    else:
        raise GlasConvertError(f'mask_format must be one of {MASK_FORMATS}, got "{mask_format}"')
    x, y, w, h = instance.bbox
    return {
        "category_id": layout.COCO_CATEGORY_ID,
        "segmentation": segmentation,
        "area": int(instance.area),
        "bbox": [int(x), int(y), int(w), int(h)],
        "iscrowd": 0,
    }


def coco_document(
    images: Sequence[dict[str, object]], annotations: Sequence[dict[str, object]]
) -> dict[str, object]:
    """A whole COCO file from entries that already carry their ids."""
    return {
        "info": dict(COCO_INFO),
        "licenses": [dict(x) for x in COCO_LICENSES],
        "categories": [dict(x) for x in COCO_CATEGORIES],
        "images": list(images),
        "annotations": list(annotations),
    }


def assign_ids(
    records: Sequence[tuple[str, dict[str, object], list[dict[str, object]]]],
) -> dict[str, tuple[list[dict[str, object]], list[dict[str, object]]]]:
    """Give images and annotations ids from 1 in sample order; group them by split."""
    by_split: dict[str, tuple[list[dict[str, object]], list[dict[str, object]]]] = {}
    ann_id = 0
    for image_id, (split, image, anns) in enumerate(records, start=1):
        images_out, anns_out = by_split.setdefault(split, ([], []))
        images_out.append({"id": image_id, **image})
        for ann in anns:
            ann_id += 1
            anns_out.append({"id": ann_id, "image_id": image_id, **ann})
    return by_split


@dataclass(frozen=True)
class CocoWriter:
    """Writes COCO; see the module docstring for the layout."""

    images: ImageOptions = field(default_factory=ImageOptions)
    mask_format: str = defaults.MASK_FORMAT
    indent: int | None = defaults.INDENT
    name: str = "coco"

    def prepare(self, out_dir: Path, splits: Sequence[str]) -> None:
        (out_dir / "annotations").mkdir(parents=True, exist_ok=True)
        if self.images.mode != "none":
            make_split_dirs(out_dir / "images", splits)

    def write_sample(self, out_dir: Path, item: AnnotatedSample) -> Record:
        sample = item.sample
        file_name, meta = place_sample_image(out_dir, f"images/{sample.split}", item, self.images)
        anns = [
            coco_annotation(item.label_map, inst, mask_format=self.mask_format)
            for inst in item.instances
        ]
        return Record(meta=meta, data=(sample.split, coco_image_entry(sample, file_name), anns))

    def finish(self, out_dir: Path, records: Sequence[Record]) -> None:
        by_split = assign_ids([r.data for r in records])  # type: ignore[misc]
        splits = sorted({r.meta.split for r in records}, key=split_order)
        for split in splits:
            images, anns = by_split[split]
            write_json(
                out_dir / "annotations" / f"instances_{split}.json",
                coco_document(images, anns),
                indent=self.indent,
            )
        write_metadata_csv(out_dir / "metadata.csv", [r.meta for r in records])


def write_json(path: Path, document: object, *, indent: int | None = None) -> None:
    """Write JSON compactly (or pretty with ``indent``), UTF-8, ending in a newline."""
    separators = (",", ":") if indent is None else (",", ": ")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(document, f, separators=separators, indent=indent, ensure_ascii=False)
        f.write("\n")
