"""Pascal VOC 2012 detection and segmentation.

Layout (what torchvision's ``VOCDetection(root=OUT, year="2012")`` and Datumaro's ``voc``
importer expect)::

    OUT/VOCdevkit/VOC2012/Annotations/NAME.xml
    OUT/VOCdevkit/VOC2012/JPEGImages/NAME.bmp        (the folder name is VOC's, whatever the format)
    OUT/VOCdevkit/VOC2012/ImageSets/Main/{train,val,test,trainval}.txt
    OUT/VOCdevkit/VOC2012/ImageSets/Segmentation/{train,val,test,trainval}.txt
    OUT/VOCdevkit/VOC2012/SegmentationClass/NAME.png
    OUT/VOCdevkit/VOC2012/SegmentationObject/NAME.png
    OUT/VOCdevkit/VOC2012/labelmap.txt              (Datumaro's class list: background, gland)
    OUT/metadata.csv

Sets: GlaS ``train`` -> ``train``, ``test_a`` -> ``val``, ``test_b`` -> ``test``; ``trainval`` is
train + val. torchvision's VOC 2012 classes accept only train/trainval/val, and they open
``JPEGImages/NAME.jpg``: convert with ``--image-format jpg`` to read the images with torchvision.

Coordinates: ``bndbox`` is 1-based and inclusive, as VOC has it: ``xmin = x + 1``,
``xmax = x + w`` for the 0-based pixel extent ``(x, y, w, h)``.

Masks are palette PNGs with the VOC color map. SegmentationClass: 0 background, 1 gland.
SegmentationObject: gland ``k`` (1-based, in XML object order) has index ``k``. With
``void_border=N`` both masks get index 255 on a band of N pixels along the inside of each gland's
edge (pixels within N px, square window, of background or another gland). Index 255 is void, so
an image can hold at most 254 glands; more raise an error (use the ``masks`` format's 16-bit
instance PNGs instead).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glas_convert import defaults, layout
from glas_convert.errors import OutputError
from glas_convert.formats.common import (
    ROLE_OF_SPLIT,
    ImageOptions,
    Record,
    dense_instance_map,
    edge_band,
    place_sample_image,
    write_metadata_csv,
    write_palette_png,
)
from glas_convert.model import AnnotatedSample, Instance, Sample

VOC_ROOT = Path("VOCdevkit") / "VOC2012"
VOID_INDEX = 255
MAX_OBJECTS = 254
#: Datumaro's labelmap.txt: ``name:r,g,b:parts:actions``.
LABELMAP_TXT = "# label:color_rgb:parts:actions\nbackground:0,0,0::\ngland:128,0,0::\n"


def voc_bndbox(bbox: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """0-based extent ``(x, y, w, h)`` -> VOC 1-based inclusive ``(xmin, ymin, xmax, ymax)``."""
    x, y, w, h = bbox
    return (x + 1, y + 1, x + w, y + h)


def _sub(parent: ET.Element, tag: str, text: object) -> ET.Element:
    el = ET.SubElement(parent, tag)
    el.text = "" if text is None else str(text)
    return el


def voc_object_element(instance: Instance) -> ET.Element:
    """The ``<object>`` element of one gland."""
    obj = ET.Element("object")
    _sub(obj, "name", layout.CLASS_NAME)
    _sub(obj, "pose", "Unspecified")
    _sub(obj, "truncated", int(instance.touches_border))
    _sub(obj, "difficult", 0)
    box = ET.SubElement(obj, "bndbox")
    for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), voc_bndbox(instance.bbox), strict=True):
        _sub(box, tag, value)
    return obj


def voc_annotation_xml(sample: Sample, file_name: str, instances: Sequence[Instance]) -> str:
    """The whole Annotations/NAME.xml text of one sample, GlaS tags in ``<glas>``."""
    root = ET.Element("annotation")
    _sub(root, "folder", VOC_ROOT.name)
    _sub(root, "filename", file_name)
    source = ET.SubElement(root, "source")
    _sub(source, "database", layout.DATASET_NAME)
    _sub(source, "annotation", layout.DATASET_NAME)
    _sub(source, "image", layout.DATASET_NAME)
    size = ET.SubElement(root, "size")
    _sub(size, "width", sample.width)
    _sub(size, "height", sample.height)
    _sub(size, "depth", 3)
    _sub(root, "segmented", 1)
    glas = ET.SubElement(root, "glas")
    _sub(glas, "name", sample.name)
    for key, value in sample.tag_dict().items():
        _sub(glas, key, value)
    for inst in instances:
        root.append(voc_object_element(inst))
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode") + "\n"


def voc_masks(
    label_map: np.ndarray, instances: Sequence[Instance], *, void_border: int = defaults.VOID_BORDER
) -> tuple[np.ndarray, np.ndarray]:
    """The SegmentationClass and SegmentationObject index images (uint8) of one sample."""
    if len(instances) > MAX_OBJECTS:
        raise OutputError(
            f"VOC SegmentationObject holds at most {MAX_OBJECTS} glands per image, "
            f"got {len(instances)}; use the masks format (16-bit instance PNG) instead"
        )
    dense = dense_instance_map(label_map, [inst.label for inst in instances])
    obj = dense.astype(np.uint8)
    cls = (dense > 0).astype(np.uint8)
    if void_border > 0:
        band = edge_band(dense, void_border)
        obj[band] = VOID_INDEX
        cls[band] = VOID_INDEX
    return cls, obj


@dataclass(frozen=True)
class VocWriter:
    """Writes Pascal VOC 2012; see the module docstring for the layout."""

    images: ImageOptions = field(default_factory=ImageOptions)
    void_border: int = defaults.VOID_BORDER
    name: str = "voc"

    def prepare(self, out_dir: Path, splits: Sequence[str]) -> None:
        root = out_dir / VOC_ROOT
        for sub in (
            "Annotations",
            "JPEGImages",
            "ImageSets/Main",
            "ImageSets/Segmentation",
            "SegmentationClass",
            "SegmentationObject",
        ):
            (root / sub).mkdir(parents=True, exist_ok=True)

    def write_sample(self, out_dir: Path, item: AnnotatedSample) -> Record:
        sample = item.sample
        root = out_dir / VOC_ROOT
        try:
            cls, obj = voc_masks(item.label_map, item.instances, void_border=self.void_border)
        except OutputError as exc:
            raise OutputError(str(exc), path=sample.annotation_path) from exc
        images = f"{VOC_ROOT.as_posix()}/JPEGImages"
        file_name, meta = place_sample_image(out_dir, images, item, self.images)
        with open(root / "Annotations" / f"{sample.name}.xml", "w", encoding="utf-8") as f:
            f.write(voc_annotation_xml(sample, file_name, item.instances))
        write_palette_png(root / "SegmentationClass" / f"{sample.name}.png", cls)
        write_palette_png(root / "SegmentationObject" / f"{sample.name}.png", obj)
        return Record(meta=meta)

    def finish(self, out_dir: Path, records: Sequence[Record]) -> None:
        root = out_dir / VOC_ROOT
        sets: dict[str, list[str]] = {}
        for r in records:
            role = ROLE_OF_SPLIT.get(r.meta.split, r.meta.split)
            sets.setdefault(role, []).append(r.meta.name)
        if "train" in sets or "val" in sets:
            sets["trainval"] = sets.get("train", []) + sets.get("val", [])
        for kind in ("Main", "Segmentation"):
            for role, names in sorted(sets.items()):
                with open(root / "ImageSets" / kind / f"{role}.txt", "w", encoding="utf-8") as f:
                    f.write("".join(n + "\n" for n in names))
        with open(root / "labelmap.txt", "w", encoding="utf-8") as f:
            f.write(LABELMAP_TXT)
        write_metadata_csv(out_dir / "metadata.csv", [r.meta for r in records])
