"""Load glas-convert's output with the real consumer libraries and check it against the source.

Run with ``make interop`` (its own venv, ``.venv-interop``, with torch, torchvision, datumaro,
ultralytics and pycocotools). For synthetic data, and for ../shared/glas-sample when present,
it exports with ``glas-convert all`` (defaults, then the variants some consumers need) and checks:

- pycocotools: ``COCO()`` loads every split; ``annToMask`` gives back every gland exactly.
- Datumaro: ``coco_instances``, ``voc`` and ``yolo`` (Ultralytics data.yaml) imports: items per
  subset, glands per item, and masks / boxes against the source.
- Ultralytics: ``check_det_dataset`` on data.yaml; ``verify_image_label`` on every label file
  (detect and segment): no image or label rejected, no gland dropped.
- torchvision: ``VOCDetection`` and ``VOCSegmentation`` for the train and val sets.

Prints a PASS/FAIL table; exits 1 when any check fails. ``LIMIT`` rows are documented limits of
a consumer (not failures). Masks are compared as boolean arrays ``[row, col]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO.parent / "shared" / "glas-sample"
ROLE_OF_SPLIT = {"train": "train", "test_a": "val", "test_b": "test"}


@dataclass
class Row:
    consumer: str
    data: str
    check: str
    status: str
    detail: str


ROWS: list[Row] = []


def run_check(consumer: str, data: str, check: str, func: Callable[[], str]) -> None:
    """Run one check; an AssertionError or any exception is a FAIL with its message."""
    try:
        detail = func()
        status = "PASS"
        if detail.startswith("LIMIT: "):
            status, detail = "LIMIT", detail.removeprefix("LIMIT: ")
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none is hidden
        status = "FAIL"
        detail = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:400]
        if os.environ.get("INTEROP_TRACEBACK"):
            traceback.print_exc()
    ROWS.append(Row(consumer, data, check, status, detail))
    print(f"[{status}] {consumer} / {data} / {check}: {detail}", flush=True)


def glas_convert(*args: str) -> None:
    cmd = [sys.executable, "-m", "glas_convert", *args]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {result.stderr.strip()}")


# --------------------------------------------------------------------------------------------
# The truth: the source label maps.


@dataclass
class Truth:
    """Per sample name: split, size and the gland masks in label order."""

    split: dict[str, str]
    size: dict[str, tuple[int, int]]
    glands: dict[str, list[np.ndarray]]

    def names(self, split: str) -> list[str]:
        return [n for n, s in self.split.items() if s == split]

    @property
    def total(self) -> int:
        return sum(len(g) for g in self.glands.values())


def read_truth(source: Path) -> Truth:
    from glas_convert.dataset import read_dataset

    split, size, glands = {}, {}, {}
    for s in read_dataset(source).samples:
        lm = s.load_label_map()
        split[s.name] = s.split
        size[s.name] = (s.width, s.height)
        glands[s.name] = [lm == v for v in np.unique(lm) if v != 0]
    return Truth(split, size, glands)


def extent(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def same_masks(name: str, got: list[np.ndarray], want: list[np.ndarray]) -> None:
    assert len(got) == len(want), f"{name}: {len(got)} glands loaded, {len(want)} in source"
    for k, (g, w) in enumerate(zip(got, want, strict=True), start=1):
        if not np.array_equal(g.astype(bool), w):
            diff = int(np.count_nonzero(g.astype(bool) != w))
            raise AssertionError(f"{name}: gland {k} differs from the source in {diff} pixels")


# --------------------------------------------------------------------------------------------
# pycocotools


def check_pycocotools(coco_root: Path, truth: Truth) -> str:
    from pycocotools.coco import COCO

    images = anns = 0
    for split in sorted(set(truth.split.values())):
        path = coco_root / "annotations" / f"instances_{split}.json"
        with warnings.catch_warnings(), open(os.devnull, "w") as devnull:
            stdout, sys.stdout = sys.stdout, devnull
            try:
                coco = COCO(str(path))
            finally:
                sys.stdout = stdout
        names = truth.names(split)
        assert len(coco.getImgIds()) == len(names), f"{path.name}: image count"
        for img in coco.loadImgs(coco.getImgIds()):
            name = img.get("name") or Path(img["file_name"]).stem
            assert (coco_root / "images" / split / img["file_name"]).is_file(), img["file_name"]
            assert (img["width"], img["height"]) == truth.size[name], f"{name}: size"
            ids = sorted(coco.getAnnIds(imgIds=[img["id"]], iscrowd=None))
            loaded = coco.loadAnns(ids)
            same_masks(name, [coco.annToMask(a) for a in loaded], truth.glands[name])
            for a, want in zip(loaded, truth.glands[name], strict=True):
                assert list(a["bbox"]) == list(extent(want)), f"{name}: bbox of ann {a['id']}"
                assert a["area"] == int(want.sum()), f"{name}: area of ann {a['id']}"
            images += 1
            anns += len(loaded)
    assert anns == truth.total
    return f"{images} images, {anns}/{truth.total} masks exact (annToMask), bbox and area equal"


# --------------------------------------------------------------------------------------------
# Datumaro


def _datumaro_import(path: Path, fmt: str, **options: object):  # type: ignore[no-untyped-def]
    import logging

    logging.getLogger().setLevel(logging.ERROR)
    from datumaro.components.dataset import Dataset

    return Dataset.import_from(str(path), fmt, **options)


def _subset_items(dataset) -> dict[str, dict[str, object]]:  # type: ignore[no-untyped-def]
    out: dict[str, dict[str, object]] = {}
    for item in dataset:
        out.setdefault(item.subset, {})[Path(item.id).name] = item
    return out


def _rasterize(parts: list[list[float]], h: int, w: int) -> np.ndarray:
    from glas_convert.contours import rasterize_polygons

    return rasterize_polygons([np.asarray(p).reshape(-1, 2) for p in parts], h, w).astype(bool)


def check_datumaro_coco(coco_root: Path, truth: Truth) -> str:
    from datumaro.components.annotation import AnnotationType

    subsets = _subset_items(_datumaro_import(coco_root, "coco_instances"))
    assert sorted(subsets) == sorted(set(truth.split.values())), f"subsets {sorted(subsets)}"
    n = 0
    for split, items in subsets.items():
        assert sorted(items) == sorted(truth.names(split)), f"{split}: items differ"
        for name, item in items.items():
            w, h = truth.size[name]
            by_id: dict[int, list] = {}
            masks: dict[int, np.ndarray] = {}
            for ann in item.annotations:  # type: ignore[attr-defined]
                if ann.type == AnnotationType.polygon:
                    by_id.setdefault(ann.id, []).append(list(ann.points))
                elif ann.type == AnnotationType.mask:
                    masks[ann.id] = ann.image.astype(bool)
            got = [_rasterize(by_id[i], h, w) for i in sorted(by_id)]
            got += [masks[i] for i in sorted(masks)]
            same_masks(name, got, truth.glands[name])
            n += len(got)
    return (
        f"{sum(len(i) for i in subsets.values())} items in {len(subsets)} subsets, {n} glands exact"
    )


def check_datumaro_voc(voc_root: Path, truth: Truth) -> str:
    from datumaro.components.annotation import AnnotationType

    # VOC's bndbox is 1-based; Datumaro reads it as 0-based unless told otherwise.
    dataset = _datumaro_import(voc_root, "voc", coordinate_mode="voc-one-based")
    subsets = _subset_items(dataset)
    want = {ROLE_OF_SPLIT[s] for s in truth.split.values()}
    have = set(subsets) - {"trainval"}
    assert have == want, f"subsets {sorted(subsets)}, expected {sorted(want)}"
    n = 0
    for role in sorted(have):
        split = next(s for s, r in ROLE_OF_SPLIT.items() if r == role)
        items = subsets[role]
        assert sorted(items) == sorted(truth.names(split)), f"{role}: items differ"
        for name, item in items.items():
            anns = item.annotations  # type: ignore[attr-defined]
            boxes = [a for a in anns if a.type == AnnotationType.bbox]
            masks = [a for a in anns if a.type == AnnotationType.mask]
            source = truth.glands[name]
            assert len(boxes) == len(source), f"{name}: {len(boxes)} boxes, {len(source)} glands"
            for b, g in zip(sorted(boxes, key=lambda a: a.id), source, strict=True):
                x, y, w, h = extent(g)
                got = tuple(b.get_bbox())
                assert got == (x, y, w, h), f"{name}: box {b.id} is {got}, expected {(x, y, w, h)}"
            # SegmentationObject index k becomes a Mask with group k.
            inst_masks = sorted((a for a in masks if a.group), key=lambda a: a.group)
            same_masks(name, [a.image for a in inst_masks], source)
            n += len(boxes)
    items = sum(len(subsets[r]) for r in have)
    return (
        f"{items} items (+ trainval), {n}/{truth.total} boxes and instance masks exact "
        "(coordinate_mode=voc-one-based)"
    )


def limit_datumaro_voc_default_mode(voc_root: Path, truth: Truth) -> str:
    """Datumaro's default VOC coordinate mode reads the 1-based bndbox as 0-based."""
    from datumaro.components.annotation import AnnotationType

    shifted = 0
    for item in _datumaro_import(voc_root, "voc"):
        if item.subset == "trainval":
            continue
        boxes = sorted(
            (a for a in item.annotations if a.type == AnnotationType.bbox), key=lambda a: a.id
        )
        for b, g in zip(boxes, truth.glands[Path(item.id).name], strict=True):
            x, y, w, h = extent(g)
            shifted += tuple(b.get_bbox()) == (x + 1, y + 1, w - 1, h - 1)
    if shifted == 0:
        return "default coordinate mode reads the boxes exactly"
    return (
        f"LIMIT: Dataset.import_from(path, 'voc') without coordinate_mode='voc-one-based' "
        f"shifts {shifted}/{truth.total} boxes by +1 px and shrinks them by 1 px (Datumaro's "
        "default 'dm-zero-based' reads VOC's 1-based bndbox as 0-based)"
    )


def limit_datumaro_yolo_segment(yolo_root: Path, truth: Truth) -> str:
    """Datumaro's YOLO importer reads 5-field detection lines only."""
    try:
        subsets = _subset_items(_datumaro_import(yolo_root, "yolo"))
    except Exception as exc:  # noqa: BLE001 - the message is the finding
        return (
            f"LIMIT: Datumaro's yolo importer rejects segment labels: {type(exc).__name__}: {exc}"
        )
    items = sum(len(v) for v in subsets.values())
    return f"imported {items} items" if items else "LIMIT: no items imported from segment labels"


def check_datumaro_yolo(yolo_root: Path, truth: Truth) -> str:
    from datumaro.components.annotation import AnnotationType

    subsets = _subset_items(_datumaro_import(yolo_root, "yolo"))
    assert sorted(subsets) == sorted(set(truth.split.values())), f"subsets {sorted(subsets)}"
    n = 0
    for split, items in subsets.items():
        assert sorted(items) == sorted(truth.names(split)), f"{split}: items differ"
        for name, item in items.items():
            boxes = [a for a in item.annotations if a.type == AnnotationType.bbox]  # type: ignore[attr-defined]
            source = truth.glands[name]
            assert len(boxes) == len(source), f"{name}: {len(boxes)} boxes, {len(source)} glands"
            for b, g in zip(boxes, source, strict=True):
                assert np.allclose(b.get_bbox(), extent(g), atol=0.01), f"{name}: box {b.id}"
            n += len(boxes)
    return f"{sum(len(i) for i in subsets.values())} items, {n}/{truth.total} boxes within 0.01 px"


# --------------------------------------------------------------------------------------------
# Ultralytics


def check_ultralytics(yolo_root: Path, truth: Truth, *, task: str) -> str:
    from ultralytics.data.utils import check_det_dataset, verify_image_label

    data = check_det_dataset(str(yolo_root / "data.yaml"))
    assert data["nc"] == 1 and list(data["names"].values()) == ["gland"], data["names"]
    for role in ("train", "val"):
        assert Path(data[role]).is_dir(), f"data.yaml {role}: {data[role]} is not a folder"
    segments = boxes = 0
    for name, split in truth.split.items():
        label = yolo_root / "labels" / split / f"{name}.txt"
        images = list((yolo_root / "images" / split).glob(f"{name}.*"))
        assert len(images) == 1, f"{name}: images {images}"
        result = verify_image_label((str(images[0]), str(label), "", False, 1, 0, 0, False))
        _, lb, shape, segs, _, nm, nf, ne, nc, msg = result
        assert nc == 0 and lb is not None, f"{name}: rejected as corrupt: {msg}"
        source = truth.glands[name]
        assert len(lb) == len(source), f"{name}: {len(lb)} labels kept, {len(source)} glands"
        assert tuple(shape) == truth.size[name][::-1], f"{name}: shape {shape}"
        if task == "segment":
            assert len(segs) == len(source), f"{name}: {len(segs)} segments, {len(source)} glands"
            segments += len(segs)
        for row, g in zip(lb, source, strict=True):
            w, h = truth.size[name]
            x, y, bw, bh = extent(g)
            want = np.array([(x + bw / 2) / w, (y + bh / 2) / h, bw / w, bh / h])
            assert np.allclose(row[1:], want, atol=2e-5), f"{name}: box {row[1:]} vs {want}"
        boxes += len(lb)
    what = f"{segments} segments, " if task == "segment" else ""
    return f"check_det_dataset ok; verify_image_label: {what}{boxes}/{truth.total} glands kept"


# --------------------------------------------------------------------------------------------
# torchvision


def check_torchvision(voc_root: Path, truth: Truth) -> str:
    from torchvision.datasets import VOCDetection, VOCSegmentation

    n = 0
    for role, split in (("train", "train"), ("val", "test_a")):
        names = truth.names(split)
        if not names:
            continue
        det = VOCDetection(str(voc_root), year="2012", image_set=role, download=False)
        seg = VOCSegmentation(str(voc_root), year="2012", image_set=role, download=False)
        assert len(det) == len(names) == len(seg), f"{role}: {len(det)} / {len(seg)} items"
        for i in range(len(det)):
            image, target = det[i]
            name = Path(det.images[i]).stem
            objects = target["annotation"].get("object", [])
            assert image.size == truth.size[name], f"{name}: image size {image.size}"
            assert len(objects) == len(truth.glands[name]), f"{name}: {len(objects)} objects"
            _, cls = seg[i]
            union = np.zeros_like(truth.glands[name][0]) if truth.glands[name] else None
            for g in truth.glands[name]:
                union |= g
            got = np.array(cls)
            if union is not None:
                valid = got != 255
                assert np.array_equal((got == 1) & valid, union & valid), f"{name}: classes"
            n += len(objects)
    return f"VOCDetection + VOCSegmentation (train, val): {n} objects, class masks exact"


# --------------------------------------------------------------------------------------------


def check_source(label: str, source: Path, work: Path) -> None:
    truth = read_truth(source)
    default = work / f"{label}-default"
    run_check("glas-convert", label, "all (defaults)", lambda: _export(source, default))
    seg = work / f"{label}-segment"
    run_check(
        "glas-convert",
        label,
        "all --task segment --image-format jpg",
        lambda: _export(source, seg, "--task", "segment", "--image-format", "jpg"),
    )
    rle = work / f"{label}-rle"
    run_check(
        "glas-convert",
        label,
        "coco --mask-format rle",
        lambda: _export(source, rle, fmt="coco", extra=("--mask-format", "rle")),
    )

    run_check(
        "pycocotools",
        label,
        "COCO + annToMask (polygons)",
        lambda: check_pycocotools(default / "coco", truth),
    )
    run_check("pycocotools", label, "COCO + annToMask (rle)", lambda: check_pycocotools(rle, truth))
    run_check(
        "datumaro", label, "coco_instances", lambda: check_datumaro_coco(default / "coco", truth)
    )
    run_check("datumaro", label, "voc", lambda: check_datumaro_voc(default / "voc", truth))
    run_check(
        "datumaro",
        label,
        "voc (default coordinate_mode)",
        lambda: limit_datumaro_voc_default_mode(default / "voc", truth),
    )
    run_check(
        "datumaro",
        label,
        "yolo (segment)",
        lambda: limit_datumaro_yolo_segment(seg / "yolo", truth),
    )
    run_check(
        "datumaro", label, "yolo (detect)", lambda: check_datumaro_yolo(default / "yolo", truth)
    )
    run_check(
        "ultralytics",
        label,
        "detect labels",
        lambda: check_ultralytics(default / "yolo", truth, task="detect"),
    )
    run_check(
        "ultralytics",
        label,
        "segment labels",
        lambda: check_ultralytics(seg / "yolo", truth, task="segment"),
    )
    run_check(
        "torchvision", label, "VOC (jpg images)", lambda: check_torchvision(seg / "voc", truth)
    )
    run_check(
        "torchvision",
        label,
        "VOC (defaults)",
        lambda: check_torchvision(default / "voc", truth),
    )


def _export(source: Path, out: Path, *args: str, fmt: str = "all", extra: tuple = ()) -> str:
    glas_convert(fmt, str(source), str(out), "--quiet", "--overwrite", *args, *extra)
    return f"wrote {out.name}"


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="glas-interop-") as tmp:
        work = Path(tmp)
        synth = work / "synth"
        glas_convert("synth", str(synth), "--count", "12", "--seed", "3")
        check_source("synth", synth, work)
        if SAMPLE.is_dir():
            check_source("glas-sample", SAMPLE, work)
        else:
            print(f"note: {SAMPLE} is absent; checked synthetic data only")
    widths = [max(len(getattr(r, f)) for r in ROWS) for f in ("consumer", "data", "check")]
    print()
    head = ("CONSUMER", "DATA", "CHECK")
    print(
        "STATUS  " + "  ".join(f"{h:{w}}" for h, w in zip(head, widths, strict=True)) + "  DETAIL"
    )
    for r in ROWS:
        print(
            f"{r.status:6}  {r.consumer:{widths[0]}}  {r.data:{widths[1]}}  "
            f"{r.check:{widths[2]}}  {r.detail}"
        )
    failed = sum(r.status == "FAIL" for r in ROWS)
    limits = sum(r.status == "LIMIT" for r in ROWS)
    passed = len(ROWS) - failed - limits
    print(f"\n{limits} LIMIT rows: documented limits of a consumer, not failures")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
