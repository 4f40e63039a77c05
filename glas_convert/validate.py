"""Check an export against its source: re-read what was written, compare every gland.

Recognizes COCO, VOC, YOLO and masks outputs (at OUT or in OUT/{coco,voc,yolo,masks} as
``glas-convert all`` writes them). Per split it counts the glands that round-trip exactly and
the worst IoU. Gland ``k`` of an image is compared with the source gland of the ``k``-th label
value, the order every writer uses.

- COCO: polygons or RLE rasterized with pycocotools, ``bbox`` and ``area`` too.
- VOC: SegmentationObject index ``k`` (outside void pixels) and the 1-based ``bndbox``.
- YOLO segment: lines denormalized and rasterized with pycocotools; detect: boxes (IoU of boxes).
- masks: the 16-bit instance PNGs, and the semantic PNGs as the union of the glands.

Coordinates: masks are boolean arrays indexed ``[row, col]``; boxes are compared as 0-based pixel
extents ``(x, y, w, h)``, x before y, ``w = x_max - x_min + 1`` (VOC's 1-based inclusive
``bndbox`` and YOLO's normalized centre boxes are converted to that first). Polygons are in
pixel-corner coordinates, as :mod:`glas_convert.contours` writes them.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from glas_convert import contours, layout
from glas_convert.errors import GlasConvertError
from glas_convert.formats import FORMATS
from glas_convert.formats.voc import VOC_ROOT, VOID_INDEX
from glas_convert.formats.yolo import parse_yolo_line
from glas_convert.model import Sample


@dataclass
class SplitCheck:
    """The result of one format on one split."""

    format: str
    split: str
    images: int = 0
    source_glands: int = 0
    written_glands: int = 0
    exact: int = 0
    worst_iou: float = 1.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.exact == self.source_glands == self.written_glands


@dataclass(frozen=True)
class ValidationReport:
    """Every format and split checked."""

    checks: tuple[SplitCheck, ...]

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def lines(self) -> list[str]:
        out = []
        for c in self.checks:
            status = "ok" if c.ok else "FAILED"
            out.append(
                f"{c.format} {c.split}: {c.images} images, {c.exact}/{c.source_glands} glands "
                f"exact ({c.written_glands} written), worst IoU {c.worst_iou:.4f} - {status}"
            )
            out.extend(f"  {p}" for p in c.problems[:20])
            if len(c.problems) > 20:
                out.append(f"  ... and {len(c.problems) - 20} more problems")
        return out


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union


def _box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return 1.0 if union <= 0 else inter / union


def _extent(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return (
        int(xs.min()),
        int(ys.min()),
        int(xs.max() - xs.min() + 1),
        int(ys.max() - ys.min() + 1),
    )


def detect_formats(out: Path) -> dict[str, Path]:
    """The formats found in ``out``: format name -> its folder."""
    found: dict[str, Path] = {}
    for name in FORMATS:
        for root in (out, out / name):
            if name not in found and _looks_like(name, root):
                found[name] = root
    return found


def _looks_like(name: str, root: Path) -> bool:
    if name == "coco":
        return any((root / "annotations").glob("instances_*.json"))
    if name == "voc":
        return (root / VOC_ROOT / "Annotations").is_dir()
    if name == "yolo":
        return (root / "data.yaml").is_file() and (root / "labels").is_dir()
    return any((root / "masks" / kind).is_dir() for kind in ("semantic", "instance", "boundary"))


class _Checker:
    def __init__(self, check: SplitCheck) -> None:
        self.check = check

    def image(self, sample: Sample, source: list[np.ndarray], written: list, compare) -> None:  # type: ignore[no-untyped-def,type-arg]
        c = self.check
        c.images += 1
        c.source_glands += len(source)
        c.written_glands += len(written)
        if len(source) != len(written):
            c.problems.append(
                f"{sample.name}: {len(written)} glands written, {len(source)} in source"
            )
            if len(written) < len(source):
                c.worst_iou = 0.0
        for k, (src, got) in enumerate(zip(source, written, strict=False)):
            exact, iou = compare(src, got)
            c.exact += int(exact)
            c.worst_iou = min(c.worst_iou, iou)
            if not exact:
                c.problems.append(f"{sample.name}: gland {k + 1} differs (IoU {iou:.4f})")

    def missing(self, sample: Sample, what: str, source: list[np.ndarray]) -> None:
        self.check.images += 1
        self.check.source_glands += len(source)
        self.check.worst_iou = 0.0 if source else self.check.worst_iou
        self.check.problems.append(f"{sample.name}: {what} is missing")


def _mask_compare(valid: np.ndarray | None = None):  # type: ignore[no-untyped-def]
    def compare(src: np.ndarray, got: np.ndarray) -> tuple[bool, float]:
        if valid is not None:
            src, got = src & valid, got & valid
        return bool(np.array_equal(src, got)), _iou(src, got)

    return compare


def _check_coco(
    root: Path,
    samples: Sequence[Sample],
    glands: dict[str, list[np.ndarray]],
    checks: dict[str, _Checker],
) -> None:
    by_name: dict[str, tuple[dict, list[dict]]] = {}  # type: ignore[type-arg]
    for path in sorted((root / "annotations").glob("instances_*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        anns: dict[int, list[dict]] = {}  # type: ignore[type-arg]
        for ann in doc.get("annotations", []):
            anns.setdefault(ann["image_id"], []).append(ann)
        for image in doc.get("images", []):
            name = image.get("name") or Path(image["file_name"]).stem
            by_name[name] = (image, sorted(anns.get(image["id"], []), key=lambda a: a["id"]))
    for sample in samples:
        source = glands[sample.name]
        if sample.name not in by_name:
            checks[sample.split].missing(sample, "COCO image entry", source)
            continue
        image, anns = by_name[sample.name]
        h, w = image["height"], image["width"]
        written = []
        for ann in anns:
            seg = ann["segmentation"]
            if isinstance(seg, dict):
                mask = contours.decode_rle({"size": seg["size"], "counts": seg["counts"].encode()})
            else:
                mask = contours.rasterize_polygons(
                    [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in seg], h, w
                )
            written.append((mask.astype(bool), ann["bbox"], ann["area"]))

        def compare(src: np.ndarray, got: tuple) -> tuple[bool, float]:  # type: ignore[type-arg]
            mask, bbox, area = got
            iou = _iou(src, mask)
            exact = (
                np.array_equal(src, mask)
                and list(bbox) == list(_extent(src))
                and area == int(np.count_nonzero(src))
            )
            return bool(exact), iou

        checks[sample.split].image(sample, source, written, compare)


def _read_png(path: Path) -> np.ndarray | None:
    if not path.is_file():
        return None
    from PIL import Image

    with Image.open(path) as im:
        return np.array(im)


def _check_voc(
    root: Path,
    samples: Sequence[Sample],
    glands: dict[str, list[np.ndarray]],
    checks: dict[str, _Checker],
) -> None:
    voc = root / VOC_ROOT
    for sample in samples:
        source = glands[sample.name]
        xml_path = voc / "Annotations" / f"{sample.name}.xml"
        obj = _read_png(voc / "SegmentationObject" / f"{sample.name}.png")
        if not xml_path.is_file() or obj is None:
            checks[sample.split].missing(sample, "VOC annotation or SegmentationObject", source)
            continue
        boxes = []
        for o in ET.parse(xml_path).getroot().iter("object"):
            b = o.find("bndbox")
            vals = [int(float(b.find(t).text)) for t in ("xmin", "ymin", "xmax", "ymax")]  # type: ignore[union-attr,arg-type]
            boxes.append((vals[0] - 1, vals[1] - 1, vals[2] - vals[0] + 1, vals[3] - vals[1] + 1))
        valid = obj != VOID_INDEX
        written = [(obj == k + 1, box) for k, box in enumerate(boxes)]
        compare_mask = _mask_compare(valid)

        def compare(
            src: np.ndarray,
            got: tuple,  # type: ignore[type-arg]
            compare_mask=compare_mask,  # binds this image's void mask
        ) -> tuple[bool, float]:
            mask, box = got
            exact, iou = compare_mask(src, mask)
            return exact and tuple(box) == _extent(src), iou

        checks[sample.split].image(sample, source, written, compare)


def _check_yolo(
    root: Path,
    samples: Sequence[Sample],
    glands: dict[str, list[np.ndarray]],
    checks: dict[str, _Checker],
) -> None:
    for sample in samples:
        source = glands[sample.name]
        path = root / "labels" / sample.split / f"{sample.name}.txt"
        if not path.is_file():
            checks[sample.split].missing(sample, "YOLO label file", source)
            continue
        w, h = sample.width, sample.height
        written = []
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            _, values = parse_yolo_line(line)
            if len(values) == 4:
                cx, cy, bw, bh = values * np.array([w, h, w, h])
                written.append(("box", (cx - bw / 2, cy - bh / 2, bw, bh)))
            else:
                ring = values.reshape(-1, 2) * np.array([w, h])
                written.append(("mask", contours.rasterize_polygons([ring], h, w).astype(bool)))

        def compare(src: np.ndarray, got: tuple) -> tuple[bool, float]:  # type: ignore[type-arg]
            kind, value = got
            if kind == "mask":
                return bool(np.array_equal(src, value)), _iou(src, value)
            # Boxes are compared in whole pixels: 6 decimals put them within 0.01 px.
            extent = _extent(src)
            box = tuple(float(v) for v in np.round(value))
            near = bool(np.allclose(value, extent, atol=0.01))
            return near and box == extent, _box_iou(extent, box)

        checks[sample.split].image(sample, source, written, compare)


def _check_masks(
    root: Path,
    samples: Sequence[Sample],
    glands: dict[str, list[np.ndarray]],
    checks: dict[str, _Checker],
) -> None:
    masks = root / "masks"
    for sample in samples:
        source = glands[sample.name]
        inst_path = masks / "instance" / sample.split / f"{sample.name}.png"
        sem = _read_png(masks / "semantic" / sample.split / f"{sample.name}.png")
        if sem is not None:
            union = np.zeros((sample.height, sample.width), dtype=bool)
            for g in source:
                union |= g
            if not np.array_equal(sem == 1, union):
                checks[sample.split].check.problems.append(
                    f"{sample.name}: semantic mask differs from the union of the glands"
                )
        if not inst_path.is_file():
            if sem is None:
                checks[sample.split].missing(sample, "instance or semantic mask", source)
            else:
                checks[sample.split].check.images += 1
            continue
        inst = cv2.imread(str(inst_path), cv2.IMREAD_UNCHANGED)
        written = [inst == k for k in range(1, int(inst.max(initial=0)) + 1)]
        checks[sample.split].image(sample, source, written, _mask_compare())


_CHECKERS = {"coco": _check_coco, "voc": _check_voc, "yolo": _check_yolo, "masks": _check_masks}


def validate(
    out: Path | str, source: object, *, splits: Sequence[str] | None = None
) -> ValidationReport:
    """Compare the export in ``out`` with ``source`` (a dataset path or a read Dataset)."""
    out = Path(out)
    if not out.is_dir():
        raise GlasConvertError(f"{out}: no such folder")
    found = detect_formats(out)
    if not found:
        raise GlasConvertError(f"{out}: no COCO, VOC, YOLO or masks output found")
    if isinstance(source, (str, os.PathLike)):
        from glas_convert.dataset import read_dataset

        source = read_dataset(Path(source), splits=list(splits) if splits else None)
    samples = [s for s in source.samples if splits is None or s.split in splits]  # type: ignore[attr-defined]
    # Only the splits that were exported count.
    glands: dict[str, list[np.ndarray]] = {}
    all_checks: list[SplitCheck] = []
    for name, root in found.items():
        exported = _exported_splits(name, root)
        chosen = [s for s in samples if exported is None or s.split in exported]
        for s in chosen:
            if s.name not in glands:
                lm = s.load_label_map()
                glands[s.name] = [lm == v for v in np.unique(lm) if v != 0]
        split_names = [sp for sp in layout.SPLITS if any(s.split == sp for s in chosen)]
        checks = {sp: _Checker(SplitCheck(format=name, split=sp)) for sp in split_names}
        _CHECKERS[name](root, chosen, glands, checks)
        all_checks.extend(c.check for c in checks.values())
    return ValidationReport(checks=tuple(all_checks))


def _exported_splits(name: str, root: Path) -> set[str] | None:
    meta = root / "metadata.csv"
    if not meta.is_file():
        return None
    import csv

    with open(meta, newline="", encoding="utf-8") as f:
        return {row["split"] for row in csv.DictReader(f)}
