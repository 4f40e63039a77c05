"""Benchmark: export a synthetic, release-sized GlaS dataset to every format.

Runs each case in its own child process and reports wall time and peak memory (ru_maxrss of the
child and of its worker processes), side by side with a naive baseline (per label ``lab == v`` on
the full image, ``cv2.findContours`` RETR_EXTERNAL/CHAIN_APPROX_SIMPLE, ``json.dump``), which is
lossy (holes and pixel-corner exactness are lost) and shown only for scale.

    python bench/bench_export.py [--count 165] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def make_dataset(root: Path, count: int) -> None:
    """A release-sized synthetic dataset (``glas-convert synth``): mostly 775x522 images."""
    from glas_convert.synth import write_synthetic_dataset

    write_synthetic_dataset(root, count=count, seed=0)


def naive_baseline(root: Path, out: Path, images: str) -> None:
    """What a quick script would do: full-image compare per label, external contours only."""
    import cv2
    import numpy as np

    out.mkdir(parents=True)
    doc = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "gland"}]}
    for image_id, anno in enumerate(sorted(root.glob("*_anno.bmp")), start=1):
        name = anno.name[: -len("_anno.bmp")]
        lab = cv2.imread(str(anno), cv2.IMREAD_GRAYSCALE)
        h, w = lab.shape
        doc["images"].append({"id": image_id, "file_name": name + ".bmp", "width": w, "height": h})
        if images == "copy":
            shutil.copyfile(root / f"{name}.bmp", out / f"{name}.bmp")
        for v in np.unique(lab):
            if v == 0:
                continue
            m = (lab == v).astype(np.uint8)
            cs, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            x, y, bw, bh = cv2.boundingRect(m)
            doc["annotations"].append(
                {
                    "id": len(doc["annotations"]) + 1,
                    "image_id": image_id,
                    "category_id": 1,
                    "segmentation": [c.reshape(-1).astype(float).tolist() for c in cs],
                    "area": int(m.sum()),
                    "bbox": [x, y, bw, bh],
                    "iscrowd": 0,
                }
            )
    with open(out / "instances.json", "w") as f:
        json.dump(doc, f)


def run_one(root: Path, fmt: str, images: str, workers: int | None) -> dict:
    out = OUT / f"{fmt}-{images}-{workers}"
    if out.exists():
        shutil.rmtree(out)
    start = time.perf_counter()
    if fmt == "baseline":
        naive_baseline(root, out, images)
    else:
        from glas_convert.dataset import read_dataset
        from glas_convert.export import export

        formats = ["coco", "voc", "yolo", "masks"] if fmt == "all" else [fmt]
        export(read_dataset(root), out, formats, images=images, workers=workers, quiet=True)
    seconds = time.perf_counter() - start
    shutil.rmtree(out)
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": seconds, "peak_mb": me / 1024, "worker_peak_mb": kids / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=165)
    parser.add_argument("--workers", type=int, default=None, help="default: every core")
    parser.add_argument("--one", nargs=3, metavar=("FORMAT", "IMAGES", "WORKERS"))
    args = parser.parse_args()
    root = OUT / f"glas-synth-{args.count}"
    if args.one:
        fmt, images, workers = args.one
        print(json.dumps(run_one(root, fmt, images, int(workers) if workers != "0" else None)))
        return
    if not root.exists():
        make_dataset(root, args.count)
    cores = os.cpu_count()
    print(f"{args.count} synthetic 775x522 images, {cores} cores; each case in a fresh process")
    print(f"{'case':<28}{'seconds':>9}{'x baseline':>12}{'peak MB':>9}{'worker MB':>11}")
    w = str(args.workers or 0)
    cases = [("baseline", "none", "1"), ("baseline", "copy", "1")]
    for images in ("none", "copy"):
        cases += [("coco", images, "1")]
        cases += [(fmt, images, w) for fmt in ("coco", "voc", "yolo", "masks", "all")]
    base: dict[str, float] = {}
    for fmt, images, workers in cases:
        result = subprocess.run(
            [sys.executable, __file__, "--count", str(args.count), "--one", fmt, images, workers],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(result.stdout)
        if fmt == "baseline":
            base[images] = r["seconds"]
        label = f"{fmt} --images {images} -w {workers if workers != '0' else 'all'}"
        ratio = r["seconds"] / base[images]
        print(
            f"{label:<28}{r['seconds']:>9.2f}{ratio:>12.2f}"
            f"{r['peak_mb']:>9.0f}{r['worker_peak_mb']:>11.0f}"
        )


if __name__ == "__main__":
    main()
