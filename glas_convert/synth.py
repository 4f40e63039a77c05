"""A synthetic GlaS-like dataset in the exact raw layout and file formats of the release.

Writes ``NAME.bmp`` (24-bit BMP, H&E-like texture), ``NAME_anno.bmp`` (8-bit gray BMP with the
1,078-byte header and 256-entry gray palette, one value per gland) and ``Grade.csv`` (CR line
endings, no final newline, the release's header, spacing, sort order and misspelling).
No GlaS data is used, so the output can go anywhere (tests, demos, CI).

Arrays are indexed ``[row, col]``; polygons are ``(x, y)`` pixel coordinates, 0-based.

Quirks and their rates (each image draws from its own generator,
``np.random.default_rng([seed, index])``, so output bytes depend only on seed and count):

- glands are perturbed radial polygons (irregular, sometimes elongated), painted only onto
  background, so glands placed over each other touch with different labels;
- :data:`BORDER_RATE` of glands are centred on the image border (cut by it);
- :data:`HOLE_RATE` of glands (radius >= 25 px) get a hole;
- :data:`SPLIT_RATE` of images have a gland cut in two by a background band (several pieces);
- :data:`TINY_RATE` of images get a 1-px gland, and as many a 2-px gland;
- :data:`SPARSE_LABEL_RATE` of images use non-contiguous label values;
- one image in three has one of the five smaller release sizes, in turn; the rest 775x522.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from glas_convert import defaults, layout
from glas_convert.errors import OptionError, OutputError

#: Image sizes of the release (width, height); the first is the most common.
IMAGE_SIZES = ((775, 522), (589, 453), (581, 442), (574, 433), (578, 433), (567, 430))
#: Images per split in the release.
RELEASE_COUNTS = {"train": 85, "test_a": 60, "test_b": 20}
#: File-name prefix of each split.
PREFIX_OF_SPLIT = {split: prefix for prefix, split in layout.SPLIT_OF_PREFIX.items()}
#: Grade.csv header, byte for byte as in the release.
GRADE_CSV_HEADER = "name,patient ID, grade (GlaS), grade (Sirinukunwattana et al. 2015)"

BORDER_RATE = 0.3
HOLE_RATE = 0.15
SPLIT_RATE = 0.15
TINY_RATE = 0.1
SPARSE_LABEL_RATE = 0.2

_RELEASE_SPELLING = {fixed: raw for raw, fixed in layout.GRADE_SPELLING_FIXES.items()}
_BENIGN = ("healthy", "adenomatous")


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`write_synthetic_dataset` wrote."""

    path: str
    seed: int
    images_per_split: dict[str, int] = field(default_factory=dict)
    glands: int = 0

    @property
    def images(self) -> int:
        return sum(self.images_per_split.values())


def split_counts(count: int | None) -> dict[str, int]:
    """Images per split: the release's 85/60/20, or ``count`` in that proportion (each >= 1)."""
    if count is None:
        return dict(RELEASE_COUNTS)
    if count < len(layout.SPLITS):
        raise OptionError(f"count: must be at least {len(layout.SPLITS)} (one image per split)")
    total = sum(RELEASE_COUNTS.values())
    exact = {s: count * n / total for s, n in RELEASE_COUNTS.items()}
    counts = {s: max(1, int(e)) for s, e in exact.items()}
    while sum(counts.values()) < count:
        counts[max(exact, key=lambda s: exact[s] - counts[s])] += 1
    while sum(counts.values()) > count:
        counts[max((s for s in counts if counts[s] > 1), key=lambda s: counts[s] - exact[s])] -= 1
    return counts


def sample_names(count: int | None) -> list[str]:
    """Sample names in release order: ``train_1 ... testA_1 ... testB_1 ...``."""
    return [
        f"{PREFIX_OF_SPLIT[split]}_{k}"
        for split, n in split_counts(count).items()
        for k in range(1, n + 1)
    ]


def synth_label_map(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A uint8 ``(height, width)`` instance label map with GlaS-like glands and quirks."""
    labels = np.zeros((height, width), np.uint8)
    n_glands = int(rng.integers(4, 14))
    split_gland = int(rng.integers(n_glands)) if rng.random() < SPLIT_RATE else -1
    for k in range(n_glands):
        radius = float(rng.uniform(18, 75))
        if rng.random() < BORDER_RATE:
            side = int(rng.integers(4))
            along = float(rng.uniform(0, width if side < 2 else height))
            centre = [
                (along, 0.0),
                (along, height - 1.0),
                (0.0, along),
                (width - 1.0, along),
            ][side]
        else:
            centre = (float(rng.uniform(0, width)), float(rng.uniform(0, height)))
        hole = radius >= 25 and rng.random() < HOLE_RATE
        _paint_gland(labels, rng, k + 1, centre, radius, hole=hole, cut=k == split_gland)
    for size in (1, 2):
        if rng.random() < TINY_RATE:
            _paint_tiny(labels, rng, n_glands + size, size)
    if rng.random() < SPARSE_LABEL_RATE:
        lut = np.zeros(256, np.uint8)
        lut[1 : n_glands + 3] = np.sort(rng.choice(np.arange(1, 256), n_glands + 2, replace=False))
        labels = lut[labels]
    return labels


def _polygon(rng: np.random.Generator, centre: tuple[float, float], radius: float) -> np.ndarray:
    """A perturbed radial polygon: ``(K, 2)`` float ``(x, y)`` points."""
    angles = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    profile = np.ones_like(angles)
    for harmonic in (2, 3, 5):
        profile += rng.uniform(0, 0.18 / harmonic * 2) * np.sin(
            harmonic * angles + rng.uniform(0, 2 * np.pi)
        )
    profile += rng.normal(0, 0.03, angles.size)
    aspect = rng.uniform(0.6, 1.0)
    tilt = rng.uniform(0, np.pi)
    x = radius * profile * np.cos(angles)
    y = radius * profile * aspect * np.sin(angles)
    rx = x * np.cos(tilt) - y * np.sin(tilt)
    ry = x * np.sin(tilt) + y * np.cos(tilt)
    return np.stack([rx + centre[0], ry + centre[1]], axis=1)


def _paint_gland(
    labels: np.ndarray,
    rng: np.random.Generator,
    value: int,
    centre: tuple[float, float],
    radius: float,
    *,
    hole: bool,
    cut: bool,
) -> None:
    """Paint one gland onto background pixels only, working on its bounding box."""
    height, width = labels.shape
    points = _polygon(rng, centre, radius)
    x0, y0 = np.floor(points.min(axis=0)).astype(int)
    x1, y1 = np.ceil(points.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width - 1), min(y1, height - 1)
    if x0 > x1 or y0 > y1:
        return
    mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), np.uint8)
    shift = np.array([x0, y0])
    cv2.fillPoly(mask, [np.round(points - shift).astype(np.int32)], 1)
    if hole:
        inner = _polygon(rng, centre, radius * 0.3)
        cv2.fillPoly(mask, [np.round(inner - shift).astype(np.int32)], 0)
    if cut:
        row = int(round(centre[1])) - y0
        mask[max(row - 1, 0) : max(row + 2, 0)] = 0
    view = labels[y0 : y1 + 1, x0 : x1 + 1]
    view[(mask > 0) & (view == 0)] = value


def _paint_tiny(labels: np.ndarray, rng: np.random.Generator, value: int, size: int) -> None:
    """A gland of ``size`` (1 or 2) pixels in a free spot, if one is found in a few tries."""
    height, width = labels.shape
    for _ in range(20):
        y = int(rng.integers(1, height - 2))
        x = int(rng.integers(1, width - 3))
        if not labels[y - 1 : y + 2, x - 1 : x + size + 1].any():
            labels[y, x : x + size] = value
            return


def synth_image(rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    """An H&E-like ``(H, W, 3)`` uint8 RGB image for ``labels``: pink stroma, purple nuclei,
    glands as a light lumen inside a darker epithelium rim."""
    height, width = labels.shape
    coarse = rng.standard_normal((height // 32 + 2, width // 32 + 2), dtype=np.float32)
    smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    image = np.empty((height, width, 3), np.float32)
    image[:] = (226, 160, 200)
    image += smooth[..., None] * np.float32((10, 14, 8))
    gland = (labels > 0).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (19, 19))
    lumen = cv2.erode(gland, kernel, borderType=cv2.BORDER_REPLICATE).astype(bool)
    rim = gland.astype(bool) & ~lumen
    image[lumen] = (243, 228, 238)
    image[rim] = (190, 110, 175)
    density = np.where(rim, np.float32(0.08), np.where(lumen, np.float32(5e-4), np.float32(6e-3)))
    seeds = (rng.random((height, width), dtype=np.float32) < density).astype(np.uint8)
    nuclei = cv2.dilate(seeds, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (4, 4))) > 0
    image[nuclei] = (105, 45, 130)
    image += rng.standard_normal(image.shape, dtype=np.float32) * np.float32(5)
    return np.clip(image, 0, 255).astype(np.uint8)


def grade_csv_text(names: list[str]) -> str:
    """Grade.csv as the release writes it: CR line endings, no final newline, sorted as text.

    Two consecutive images share a patient and a grade; grades cycle over the five
    Sirinukunwattana grades, written with the release's misspelling.
    """
    lines = [GRADE_CSV_HEADER]
    index = {name: i for i, name in enumerate(names)}
    for name in sorted(names):
        patient = index[name] // 2
        grade = layout.GRADES_SIRINUKUNWATTANA[patient % len(layout.GRADES_SIRINUKUNWATTANA)]
        glas = "benign" if grade in _BENIGN else "malignant"
        lines.append(f"{name},{patient + 1}, {glas}, {_RELEASE_SPELLING.get(grade, grade)}")
    return "\r".join(lines)


def _write_files(folder: Path, names: list[str], seed: int) -> int:
    glands = 0
    for index, name in enumerate(names):
        rng = np.random.default_rng([seed, index])
        width, height = IMAGE_SIZES[0] if index % 3 else IMAGE_SIZES[1 + (index // 3) % 5]
        labels = synth_label_map(rng, width, height)
        glands += int(np.count_nonzero(np.bincount(labels.ravel(), minlength=256)[1:]))
        Image.fromarray(synth_image(rng, labels)).save(
            folder / f"{name}{layout.IMAGE_SUFFIX}", format="BMP", dpi=(0, 0)
        )
        Image.fromarray(labels).save(
            folder / f"{name}{layout.ANNOTATION_TAG}{layout.IMAGE_SUFFIX}", format="BMP"
        )
    with open(folder / layout.GRADE_CSV, "w", encoding="utf-8", newline="") as f:
        f.write(grade_csv_text(names))
    (folder / layout.OUTPUT_MARKER).write_text("glas-convert synth\n", encoding="utf-8")
    return glands


def _check_output(out: Path, overwrite: bool) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise OutputError("exists and is not a folder", path=out)
    if not any(out.iterdir()):
        return
    if not overwrite:
        raise OutputError("folder is not empty; pass --overwrite to replace it", path=out)
    if not (out / layout.OUTPUT_MARKER).is_file():
        raise OutputError(
            f"folder was not made by glas-convert (no {layout.OUTPUT_MARKER} file); "
            "refusing to overwrite it",
            path=out,
        )


def write_synthetic_dataset(
    out: str | os.PathLike[str],
    *,
    count: int | None = defaults.SYNTH_COUNT,
    seed: int = defaults.SYNTH_SEED,
    overwrite: bool = False,
) -> SynthSummary:
    """Write a synthetic release of ``count`` images (default 165: 85/60/20) into ``out``.

    The same ``seed`` and ``count`` give byte-identical files. ``out`` must be missing or
    empty, unless ``overwrite`` is set and ``out`` was made by glas-convert. Files are written
    to a temporary sibling folder that is renamed into place at the end.
    """
    if seed < 0:
        raise OptionError(f"seed: must be >= 0, got {seed}")
    names = sample_names(count)
    out = Path(out).absolute()
    _check_output(out, overwrite)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as e:
        raise OutputError(f"cannot create the output folder ({e})", path=out) from e
    try:
        glands = _write_files(tmp, names, seed)
        tmp.chmod(0o755)
        if out.exists():
            old = tmp.with_name(tmp.name + ".old")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"cannot write the dataset ({e})", path=out) from e
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return SynthSummary(
        path=str(out), seed=seed, images_per_split=split_counts(count), glands=glands
    )
