"""Test helpers for the exporters: tiny on-disk datasets, the shared real sample, file trees.

The datasets here are built without the package's reader so the writer tests stand alone.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from glas_convert import layout
from glas_convert.model import GradeTags, Sample

GLAS_SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "glas-sample"
SKIP_NO_SAMPLE = f"the real GlaS sample is not at {GLAS_SAMPLE}"


@dataclass
class FakeDataset:
    """What export() needs of a read dataset."""

    root: Path
    samples: tuple[Sample, ...]
    warnings: tuple[str, ...] = field(default=())


def _read_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


def _read_label_map(path: str) -> np.ndarray:
    return cv2.imread(path, cv2.IMREAD_GRAYSCALE)


def make_sample(name: str, split: str, image: Path, anno: Path, tags: GradeTags | None) -> Sample:
    lm = _read_label_map(str(anno))
    return Sample(
        name=name,
        split=split,
        image_path=str(image),
        annotation_path=str(anno),
        width=int(lm.shape[1]),
        height=int(lm.shape[0]),
        tags=tags,
        read_image_bytes=functools.partial(_read_bytes, str(image)),
        load_label_map=functools.partial(_read_label_map, str(anno)),
    )


def write_dataset(root: Path, label_maps: dict[str, np.ndarray], *, seed: int = 0) -> FakeDataset:
    """Write ``NAME.bmp`` + ``NAME_anno.bmp`` for each label map; names like ``testA_3``."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    samples = []
    for i, (name, lm) in enumerate(label_maps.items()):
        prefix = layout.NAME_PATTERN.match(name).group(1)
        image = root / f"{name}.bmp"
        anno = root / f"{name}_anno.bmp"
        pixels = rng.integers(0, 256, size=(*lm.shape, 3), dtype=np.uint8)
        cv2.imwrite(str(image), pixels)
        cv2.imwrite(str(anno), lm.astype(np.uint8))
        tags = GradeTags(
            patient_id=i + 1,
            grade_glas="benign" if i % 2 == 0 else "malignant",
            grade_sirinukunwattana=layout.GRADES_SIRINUKUNWATTANA[i % 5],
        )
        samples.append(make_sample(name, layout.SPLIT_OF_PREFIX[prefix], image, anno, tags))
    return FakeDataset(root=root, samples=tuple(samples))


def random_label_map(rng: np.random.Generator, height: int, width: int, count: int) -> np.ndarray:
    """Random ellipses that touch, overlap, cross the border, have holes; plus tiny glands."""
    lm = np.zeros((height, width), dtype=np.uint8)
    for value in range(1, count + 1):
        cx, cy = int(rng.integers(0, width)), int(rng.integers(0, height))
        ax, ay = int(rng.integers(2, width // 3)), int(rng.integers(2, height // 3))
        cv2.ellipse(lm, (cx, cy), (ax, ay), float(rng.integers(0, 180)), 0, 360, value, -1)
        if value % 4 == 0:  # a hole
            cv2.circle(lm, (cx, cy), max(1, min(ax, ay) // 3), 0, -1)
    lm[0, width - 1] = count + 1  # a one-pixel gland in a corner
    lm[height // 2, 0:2] = count + 2  # a two-pixel gland on the border
    # one label in two parts
    lm[height - 3 : height - 1, 1:3] = count + 3
    lm[height - 3 : height - 1, width - 4 : width - 2] = count + 3
    return lm


def synthetic_dataset(root: Path, *, count: int = 6, seed: int = 0) -> FakeDataset:
    """A few random images over the three splits, one of them without glands."""
    rng = np.random.default_rng(seed)
    names = ["train_1", "train_2", "testA_1", "testA_2", "testB_1", "testB_2"][:count]
    maps = {}
    for name in names:
        h, w = (int(rng.integers(40, 90)), int(rng.integers(50, 110)))
        maps[name] = random_label_map(rng, h, w, int(rng.integers(3, 12)))
    maps[names[-1]] = np.zeros_like(maps[names[-1]])  # an image without glands
    return write_dataset(root, maps, seed=seed)


def read_glas_sample(root: Path = GLAS_SAMPLE) -> FakeDataset:
    """A minimal reader for the shared real sample, independent of the package's reader."""
    text = (root / layout.GRADE_CSV).read_bytes().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.replace("\r\n", "\n").replace("\r", "\n"))))
    tags = {
        r[0].strip(): GradeTags(
            patient_id=int(r[1]),
            grade_glas=r[2].strip(),
            grade_sirinukunwattana=layout.GRADE_SPELLING_FIXES.get(r[3].strip(), r[3].strip()),
        )
        for r in rows[1:]
        if r
    }

    def key(name: str) -> tuple[int, int]:
        m = layout.NAME_PATTERN.match(name)
        return (layout.SPLITS.index(layout.SPLIT_OF_PREFIX[m.group(1)]), int(m.group(2)))

    names = sorted(
        (p.stem for p in root.glob("*.bmp") if not p.stem.endswith(layout.ANNOTATION_TAG)), key=key
    )
    samples = tuple(
        make_sample(
            n,
            layout.SPLIT_OF_PREFIX[layout.NAME_PATTERN.match(n).group(1)],
            root / f"{n}.bmp",
            root / f"{n}_anno.bmp",
            tags.get(n),
        )
        for n in names
    )
    return FakeDataset(root=root, samples=samples)


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path -> bytes (a symlink -> its target)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = ("-> " + str(path.readlink())).encode()
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


def glands_of(label_map: np.ndarray) -> list[np.ndarray]:
    """The source glands as bool masks, in label order."""
    return [label_map == v for v in np.unique(label_map) if v != 0]
