"""Benchmark of the contour core against the naive per-label loop users write today.

Run with ``make bench`` (or ``python bench/bench_contours.py [--quick]``). Not a test: it prints
times, ratios, vertex counts, exactness and peak memory, all measured in this one run on the
same label maps held in memory.

Data: the real maps of ../shared/glas-sample when present (otherwise synthetic GlaS maps), and a
synthetic 8192 x 8192 map with 20,000 glands.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from glas_convert import contours
from glas_convert.synth import synth_label_map

SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "glas-sample"


def naive_contours(label_map: np.ndarray) -> list:
    """What today's users write: per label, compare the whole image, then trace it."""
    out = []
    for value in np.unique(label_map)[1:]:
        mask = (label_map == value).astype(np.uint8)
        found, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        out.append(found)
    return out


def ours(label_map: np.ndarray) -> tuple:
    return contours.extract_instances(label_map, verify=False)


def verified(label_map: np.ndarray) -> tuple:
    return contours.extract_instances(label_map, verify=True)


def best_time(func: Callable, arg, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func(arg)
        best = min(best, time.perf_counter() - start)
    return best


def peak_memory_mb(func: Callable, arg) -> float:
    gc.collect()
    tracemalloc.start()
    func(arg)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def glas_maps() -> tuple[str, list[np.ndarray]]:
    if SAMPLE.is_dir():
        files = sorted(SAMPLE.glob("*_anno.bmp"))
        return f"{SAMPLE} ({len(files)} real maps)", [np.array(Image.open(f)) for f in files]
    rng = np.random.default_rng(0)
    maps = [synth_label_map(rng, 775, 522) for _ in range(12)]
    return "synthetic GlaS maps (../shared/glas-sample is absent)", maps


def pixel_centre_polygons(mask: np.ndarray, tolerance: float) -> list[np.ndarray]:
    found, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if tolerance > 0:
        found = [cv2.approxPolyDP(c, tolerance, True) for c in found]
    return [c.reshape(-1, 2).astype(np.float64) for c in found]


def fidelity(maps: list[np.ndarray], tolerance: float) -> dict[str, tuple[float, int, int, int]]:
    """Mean IoU, vertices, exact glands and dropped glands, for ours and the baseline."""
    result = {}
    for name in ("ours", "baseline"):
        ious, vertices, exact, dropped, glands = [], 0, 0, 0, 0
        for label_map in maps:
            height, width = label_map.shape
            instances = contours.extract_instances(label_map, tolerance=tolerance)
            for instance in instances:
                mask = (label_map == instance.label).astype(np.uint8)
                if name == "ours":
                    polygons = list(instance.polygons)
                else:
                    polygons = [p for p in pixel_centre_polygons(mask, tolerance) if len(p) >= 3]
                glands += 1
                vertices += sum(len(p) for p in polygons)
                if not polygons:
                    dropped += 1
                    ious.append(0.0)
                    continue
                got = contours.rasterize_polygons(polygons, height, width)
                ious.append(iou(got, mask))
                exact += bool(np.array_equal(got, mask))
        result[name] = (float(np.mean(ious)), vertices, exact, dropped, glands)
    return result


def large_map(size: int, glands: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    label_map = np.zeros((size, size), np.uint16)
    centres = rng.integers(0, size, (glands, 2))
    axes = rng.integers(6, 30, (glands, 2))
    angles = rng.integers(0, 180, glands)
    for i in range(glands):  # glands painted later overlap and cut earlier ones
        cv2.ellipse(
            label_map,
            (int(centres[i, 0]), int(centres[i, 1])),
            (int(axes[i, 0]), int(axes[i, 1])),
            int(angles[i]),
            0,
            360,
            int(i % 65535 + 1),
            -1,
        )
    return label_map


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller large map, fewer repeats")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7

    source, maps = glas_maps()
    print(f"== GlaS label maps: {source}")
    for func in (naive_contours, ours):  # warm up caches and imports
        func(maps[0])
    # Interleaved round by round, so that drifts of the machine hit all three alike; within a
    # round each method runs over all maps, as it would in a pipeline (the allocator's state
    # then reflects that method alone: the naive loop's full-image temporaries cost it as much
    # in page faults as in arithmetic).
    best = [float("inf")] * 3
    for _ in range(repeat):
        for k, func in enumerate((naive_contours, ours, verified)):
            start = time.perf_counter()
            for label_map in maps:
                func(label_map)
            best[k] = min(best[k], time.perf_counter() - start)
    t_naive, t_ours, t_verified = best
    per = 1000 / len(maps)
    print(f"naive per-label loop      {t_naive * per:8.2f} ms/image   1.00x")
    print(f"ours, exact               {t_ours * per:8.2f} ms/image   {t_ours / t_naive:.2f}x")
    print(
        f"ours, exact + pycocotools re-check "
        f"{t_verified * per:6.2f} ms/image   {t_verified / t_naive:.2f}x"
    )
    print(
        f"peak memory (tracemalloc, largest map): naive "
        f"{max(peak_memory_mb(naive_contours, m) for m in maps):.1f} MB, ours "
        f"{max(peak_memory_mb(ours, m) for m in maps):.1f} MB"
    )

    print("\n== Fidelity (rasterized again by pycocotools)")
    print("tolerance  method    mean IoU  vertices  exact glands  dropped")
    for tolerance in (0.0, 0.5, 1.0, 2.0):
        for name, (mean_iou, vertices, exact, dropped, glands) in fidelity(maps, tolerance).items():
            label = (
                "ours"
                if name == "ours"
                else "cv2 SIMPLE pixel-centre" + (" + approxPolyDP" if tolerance else "")
            )
            print(
                f"{tolerance:9.1f}  {label:<34} {mean_iou:.4f}  {vertices:8d}  "
                f"{exact:5d}/{glands:<5d}  {dropped}"
            )

    size, count = (4096, 5000) if args.quick else (8192, 20000)
    print(f"\n== Large map: {size} x {size}, {count} glands painted")
    label_map = large_map(size, count)
    foreground = (label_map > 0).astype(np.uint8)
    t_floor = best_time(
        lambda m: cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE), foreground, 3
    )
    t_big = best_time(ours, label_map, 3)  # best of 3, as for the floor
    instances = ours(label_map)
    # The naive loop costs minutes here: time it on the first labels and extrapolate.
    subset = np.unique(label_map)[1:41]
    start = time.perf_counter()
    for value in subset:
        mask = (label_map == value).astype(np.uint8)
        cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    t_naive_big = (time.perf_counter() - start) / subset.size * len(instances)
    print(f"labels present                     {len(instances)}")
    print(f"one findContours on the foreground {t_floor:8.3f} s    1.0x (floor)")
    print(f"ours, exact                        {t_big:8.3f} s   {t_big / t_floor:5.1f}x floor")
    print(
        f"naive per-label loop (extrapolated from {subset.size} labels) "
        f"{t_naive_big:8.1f} s   {t_naive_big / t_big:.0f}x ours"
    )
    print(f"peak memory, ours (tracemalloc)    {peak_memory_mb(ours, label_map):8.1f} MB")
    vertices = sum(i.num_vertices for i in instances)
    print(f"vertices, ours                     {vertices}")


if __name__ == "__main__":
    main()
