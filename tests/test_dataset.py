"""The reader: layouts (folder, nested folder, zip), pairing, order, Grade.csv, label maps."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import release_files, write_release, zipped
from PIL import Image

from glas_convert.dataset import check_image, natural_key, parse_grade_csv, read_dataset
from glas_convert.errors import GradeCsvError
from glas_convert.model import GradeTags


def zip_folder(folder: Path, zip_path: Path, *, prefix: str = "") -> Path:
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(folder.iterdir()):
            zf.write(file, prefix + file.name)
    return zip_path


# --- the real sample ------------------------------------------------------------------------


def test_sample_counts_sizes_and_order(sample_dir, facts):
    ds = read_dataset(sample_dir)
    assert ds.warnings == ()
    assert [s.name for s in ds] == [
        "train_12", "train_13", "train_41", "train_44",
        "testA_2", "testA_10", "testA_16", "testA_45", "testA_57",
        "testB_3", "testB_6", "testB_9",
    ]  # fmt: skip
    assert {s: len(v) for s, v in ds.by_split().items()} == {"train": 4, "test_a": 5, "test_b": 3}
    for sample in ds:
        assert (sample.width, sample.height) == (
            facts[sample.name]["width"],
            facts[sample.name]["height"],
        )
        labels = sample.load_label_map()
        assert labels.dtype == np.uint8 and labels.flags.c_contiguous
        assert labels.shape == (sample.height, sample.width)
        assert len(np.unique(labels[labels > 0])) == facts[sample.name]["glands"]


def test_sample_tags_from_grade_csv(sample_dir):
    by_name = {s.name: s for s in read_dataset(sample_dir)}
    assert by_name["testA_10"].tags == GradeTags(10, "benign", "healthy")
    # The release's misspelling "differentated" is corrected.
    assert by_name["testB_3"].tags.grade_sirinukunwattana == ("moderately-to-poorly differentiated")
    assert by_name["train_12"].tag_dict() == {
        "split": "train",
        "patient_id": 13,
        "grade_glas": "benign",
        "grade_sirinukunwattana": "healthy",
    }


def test_sample_as_zip_and_zip_with_top_folder(sample_dir, tmp_path):
    plain = read_dataset(sample_dir)
    for prefix in ("", "Warwick QU Dataset (Released 2016_07_08)/"):
        zip_path = zip_folder(sample_dir, tmp_path / f"glas{len(prefix)}.zip", prefix=prefix)
        ds = read_dataset(zip_path)
        assert [s.name for s in ds] == [s.name for s in plain]
        assert [s.tags for s in ds] == [s.tags for s in plain]
        for a, b in zip(ds, plain, strict=True):
            assert a.read_image_bytes() == b.read_image_bytes()
            assert np.array_equal(a.load_label_map(), b.load_label_map())
        assert ds.samples[0].image_path == f"{zip_path}/{prefix}train_12.bmp"


def test_kaggle_style_nested_folder(sample_dir, tmp_path):
    nested = tmp_path / "download" / "Warwick_QU_Dataset"
    shutil.copytree(sample_dir, nested)
    (tmp_path / "download" / "readme.txt").write_text("hello")
    ds = read_dataset(tmp_path / "download")
    assert ds.root == str(nested)
    assert len(ds) == 12


def test_splits_filter(sample_dir):
    ds = read_dataset(sample_dir, splits=["test_b", "train"])
    assert [s.split for s in ds] == ["train"] * 4 + ["test_b"] * 3
    with pytest.raises(ValueError, match="splits: unknown split 'val'"):
        read_dataset(sample_dir, splits=["val"])


def test_synthetic_release_reads(synth_dir):
    ds = read_dataset(synth_dir)
    assert ds.warnings == ()
    assert {s: len(v) for s, v in ds.by_split().items()} == {"train": 5, "test_a": 3, "test_b": 1}
    assert all(s.tags is not None for s in ds)
    for sample in ds:
        assert sample.load_label_map().shape == (sample.height, sample.width)
        assert check_image(sample).size == (sample.width, sample.height)


def test_natural_order():
    names = ["train_10", "train_2", "train_1"]
    assert sorted(names, key=natural_key) == ["train_1", "train_2", "train_10"]


def test_png_annotations_and_extra_files_accepted(tmp_path):
    folder = write_release(tmp_path / "r", ["train_1"])
    labels = np.asarray(Image.open(folder / "train_1_anno.bmp"))
    (folder / "train_1_anno.bmp").unlink()
    Image.fromarray(labels).save(folder / "train_1_anno.png")
    (folder / "notes.txt").write_text("ignored")
    (sample,) = read_dataset(folder)
    assert sample.annotation_path.endswith("train_1_anno.png")
    assert sample.load_label_map()[1, 1] == 1


# --- label map modes ------------------------------------------------------------------------


def _release_with_annotation(tmp_path: Path, image: Image.Image, suffix: str) -> Path:
    folder = write_release(tmp_path / "r", ["train_1"])
    (folder / "train_1_anno.bmp").unlink()
    image.save(folder / f"train_1_anno{suffix}")
    return folder


@pytest.mark.parametrize(
    ("make", "suffix", "dtype", "value"),
    [
        # 16-bit PNG: labels past 255 survive as uint16
        (lambda a: Image.fromarray(a.astype(np.uint16) * 300), ".png", np.uint16, 300),
        # 32-bit integer TIFF
        (lambda a: Image.fromarray(a.astype(np.int32) * 70000), ".tif", np.int32, 70000),
        # 3 equal channels collapse to one
        (lambda a: Image.fromarray(np.dstack([a * 5] * 3)), ".png", np.uint8, 5),
        # palette image: the index is the label
        (lambda a: Image.fromarray(a * 4).convert("P"), ".png", np.uint8, 4),
    ],
)
def test_annotation_modes(tmp_path, make, suffix, dtype, value):
    labels = np.zeros((6, 8), np.uint8)
    labels[1:3, 1:3] = 1
    (sample,) = read_dataset(_release_with_annotation(tmp_path, make(labels), suffix))
    got = sample.load_label_map()
    assert got.dtype == dtype and got.flags.c_contiguous and got.shape == (6, 8)
    assert got[1, 1] == value and got[0, 0] == 0


# --- Grade.csv ------------------------------------------------------------------------------

HEADER = "name,patient ID, grade (GlaS), grade (Sirinukunwattana et al. 2015)"


@pytest.mark.parametrize(
    "data",
    [
        # the release: CR line endings, no final newline
        f"{HEADER}\rtrain_1,3, malignant, moderately-to-poorly differentated".encode(),
        # other copies: CRLF, final newline
        f"{HEADER}\r\ntrain_1,3, malignant, moderately-to-poorly differentated\r\n".encode(),
        # LF, BOM, odd header case/spacing, padded values, blank line
        (
            "\ufeffName , Patient ID,Grade (GlaS),GRADE (Sirinukunwattana et al.  2015)\n\n"
            "  train_1 ,  3 , Malignant ,  moderately-to-poorly differentiated \n"
        ).encode(),
    ],
)
def test_grade_csv_variants(data):
    assert parse_grade_csv(data) == {
        "train_1": GradeTags(3, "malignant", "moderately-to-poorly differentiated")
    }


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("train_1,x1, benign, healthy", "Grade.csv: line 3: patient ID 'x1' is not an integer"),
        ("train_1,1, benign", "Grade.csv: line 3: 3 columns, expected 4"),
        ("train_1,1, fine, healthy", "Grade.csv: line 3: unknown grade (GlaS) 'fine'"),
        ("train_1,1, benign, sick", "line 3: unknown grade (Sirinukunwattana et al. 2015)"),
        ("train_2,1, benign, healthy", "line 3: second row for 'train_2' (first on line 2)"),
    ],
)
def test_grade_csv_errors(row, message):
    data = f"{HEADER}\rtrain_2,1, benign, healthy\r{row}".encode()
    with pytest.raises(GradeCsvError) as info:
        parse_grade_csv(data, path="Grade.csv")
    assert message in str(info.value)


def test_grade_csv_bad_header():
    with pytest.raises(GradeCsvError, match="line 1: header has no 'patient ID' column"):
        parse_grade_csv(b"name,id, grade (GlaS), grade (Sirinukunwattana et al. 2015)")


def test_grade_csv_warnings(tmp_path):
    folder = write_release(tmp_path / "r", ["train_1", "train_2"], grades=False)
    (folder / "Grade.csv").write_text(
        f"{HEADER}\rtrain_1,1, benign, healthy\rtrain_9,1, benign, healthy"
    )
    ds = read_dataset(folder)
    assert [s.tags is None for s in ds] == [False, True]
    assert ds.warnings == (
        f"{folder / 'Grade.csv'}: row 'train_9' has no image",
        f"{folder / 'Grade.csv'}: no row for image 'train_2'; it has no grade tags",
    )


def test_missing_grade_csv_warns(tmp_path):
    folder = write_release(tmp_path / "r", ["train_1"], grades=False)
    ds = read_dataset(folder)
    assert ds.samples[0].tags is None
    assert ds.warnings == (f"{folder / 'Grade.csv'}: not found; samples have no grade tags",)


def test_samples_pickle_for_worker_processes(sample_dir, tmp_path):
    import pickle

    zip_path = zip_folder(sample_dir, tmp_path / "glas.zip")
    for source in (sample_dir, zip_path):
        sample = read_dataset(source).samples[-1]
        clone = pickle.loads(pickle.dumps(sample))
        assert clone == sample
        assert np.array_equal(clone.load_label_map(), sample.load_label_map())
        assert clone.read_image_bytes() == sample.read_image_bytes()


def test_second_copy_with_other_suffix_warns(tmp_path):
    folder = write_release(tmp_path / "r", ["train_1"])
    Image.open(folder / "train_1.bmp").save(folder / "train_1.png")
    ds = read_dataset(folder)
    assert ds.samples[0].image_path == str(folder / "train_1.bmp")
    assert ds.warnings == (f"{folder / 'train_1.png'}: ignored; using train_1.bmp",)


def test_zip_with_the_release_folder_nested_two_deep(tmp_path):
    # Downloads often wrap the release folder in another folder; a single one is found.
    members = {f"download/Warwick QU/{n}": data for n, data in release_files(tmp_path).items()}
    dataset = read_dataset(zipped(tmp_path / "glas.zip", members))
    assert [s.name for s in dataset.samples] == ["train_1"]
    assert dataset.samples[0].load_label_map().ndim == 2
