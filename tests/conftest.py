"""Shared fixtures: the real GlaS sample beside the checkout, and a small synthetic release."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from glas_convert.synth import GRADE_CSV_HEADER, write_synthetic_dataset

#: The 12 real images live beside the checkout (research-only licence: never in the repo).
SAMPLE_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "glas-sample"


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    if not (SAMPLE_DIR / "FACTS.json").is_file():
        pytest.skip(f"real GlaS sample not found at {SAMPLE_DIR} (kept beside the checkout)")
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def facts(sample_dir: Path) -> dict[str, dict[str, int]]:
    return json.loads((sample_dir / "FACTS.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 9-image synthetic release (train 5, test_a 3, test_b 1), made once per session."""
    out = tmp_path_factory.mktemp("synth") / "glas"
    write_synthetic_dataset(out, count=9, seed=7)
    return out


def write_release(
    folder: Path,
    names: Iterable[str] = ("train_1", "testA_1", "testB_1"),
    *,
    size: tuple[int, int] = (8, 6),
    grades: bool = True,
) -> Path:
    """A tiny hand-made release: ``size`` (width, height) images, one 2x2 gland each."""
    folder.mkdir(parents=True, exist_ok=True)
    width, height = size
    names = list(names)
    for name in names:
        Image.fromarray(np.full((height, width, 3), 200, np.uint8)).save(folder / f"{name}.bmp")
        labels = np.zeros((height, width), np.uint8)
        labels[1:3, 1:3] = 1
        Image.fromarray(labels).save(folder / f"{name}_anno.bmp")
    if grades:
        rows = [f"{name},1, benign, healthy" for name in sorted(names)]
        (folder / "Grade.csv").write_bytes("\r".join([GRADE_CSV_HEADER, *rows]).encode())
    return folder


def zipped(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> Path:
    """A zip of ``members`` (name -> bytes) at ``path``, names stored as given."""
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return path


def release_files(tmp_path: Path) -> dict[str, bytes]:
    """The files of a one-image :func:`write_release`, name -> bytes, to put in a zip."""
    folder = write_release(tmp_path / "src", ["train_1"])
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
