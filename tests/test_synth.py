"""The synthetic release: exact raw formats, determinism, proportions and safe writing."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from glas_convert.dataset import read_dataset
from glas_convert.errors import OutputError
from glas_convert.stats import dataset_info
from glas_convert.synth import GRADE_CSV_HEADER, split_counts, write_synthetic_dataset


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_same_bytes_other_seed_differs(tmp_path, synth_dir):
    again = tmp_path / "again"
    write_synthetic_dataset(again, count=9, seed=7)
    assert digests(again) == digests(synth_dir)
    other = tmp_path / "other"
    write_synthetic_dataset(other, count=9, seed=8)
    changed = [n for n, d in digests(other).items() if digests(synth_dir)[n] != d]
    assert "train_1.bmp" in changed and "train_1_anno.bmp" in changed


def test_annotation_is_8bit_gray_bmp(synth_dir):
    data = (synth_dir / "train_1_anno.bmp").read_bytes()
    assert data[:2] == b"BM"
    offset, header_size = struct.unpack_from("<II", data, 10)
    bits, _, _, _, _, colours = struct.unpack_from("<HIIiiI", data, 28)
    assert (offset, header_size, bits, colours) == (1078, 40, 8, 256)
    palette = np.frombuffer(data[54:1078], np.uint8).reshape(256, 4)
    assert np.array_equal(palette[:, :3], np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, 1))
    with Image.open(synth_dir / "train_1_anno.bmp") as image:
        assert image.mode == "L"


def test_image_is_24bit_bmp(synth_dir):
    data = (synth_dir / "train_1.bmp").read_bytes()
    offset, header_size = struct.unpack_from("<II", data, 10)
    width, height, _, bits, compression = struct.unpack_from("<iiHHI", data, 18)
    assert (offset, header_size, bits, compression) == (54, 40, 24, 0)
    assert (width, height) in {
        (775, 522),
        (589, 453),
        (581, 442),
        (574, 433),
        (578, 433),
        (567, 430),
    }


def test_grade_csv_is_cr_only_sorted_and_misspelled(synth_dir):
    data = (synth_dir / "Grade.csv").read_bytes()
    assert b"\n" not in data and not data.endswith(b"\r")
    lines = data.decode().split("\r")
    assert lines[0] == GRADE_CSV_HEADER
    assert lines[1:] == sorted(lines[1:])
    assert lines[1] == "testA_1,3, malignant, moderately differentiated"
    assert "testA_2,4, malignant, moderately-to-poorly differentated" in lines


def test_split_proportions():
    assert split_counts(None) == {"train": 85, "test_a": 60, "test_b": 20}
    assert split_counts(165) == split_counts(None)
    assert split_counts(3) == {"train": 1, "test_a": 1, "test_b": 1}
    assert split_counts(12) == {"train": 6, "test_a": 4, "test_b": 2}
    with pytest.raises(ValueError, match="count: must be at least 3"):
        split_counts(2)


def test_full_size_release_has_every_quirk(tmp_path):
    write_synthetic_dataset(tmp_path / "full", seed=0)
    info = dataset_info(read_dataset(tmp_path / "full"))
    total = info["total"]
    assert total["images"] == 165
    assert len(total["image_sizes"]) == 6
    assert max(total["image_sizes"], key=total["image_sizes"].get) == "775x522"
    for quirk in ("multi_part", "with_holes", "tiny", "touching_border"):
        assert total[quirk] > 0, quirk
    assert total["smallest_area_px"] == 1
    areas = {f["smallest_area_px"] for f in info["images"].values()}
    assert 2 in areas
    values = [np.unique(s.load_label_map()) for s in read_dataset(tmp_path / "full").samples[:40]]
    assert any(v[-1] > len(v) - 1 for v in values)  # some label values are not contiguous


def test_refuses_non_empty_output(tmp_path, synth_dir):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(OutputError, match="folder is not empty; pass --overwrite"):
        write_synthetic_dataset(out, count=3)
    with pytest.raises(OutputError, match="was not made by glas-convert"):
        write_synthetic_dataset(out, count=3, overwrite=True)
    assert (out / "mine.txt").read_text() == "keep me"


def test_overwrite_replaces_own_output(tmp_path):
    out = tmp_path / "out"
    write_synthetic_dataset(out, count=6, seed=1)
    summary = write_synthetic_dataset(out, count=3, seed=2, overwrite=True)
    assert summary.images == 3
    assert len(list(out.glob("*_anno.bmp"))) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temp folders left
