"""Every input error: the library raises it naming the file; the CLI prints one line, exit 1."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import release_files, write_release, zipped
from PIL import Image

from glas_convert import dataset as dataset_module
from glas_convert.cli import cli
from glas_convert.dataset import check_image, read_dataset
from glas_convert.errors import AnnotationError, DatasetError


def missing(tmp_path):
    return tmp_path / "nope", "nope: no such file or folder"


def not_a_zip(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    return tmp_path / "notes.txt", "notes.txt: not a folder or a .zip file"


def empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    return tmp_path / "empty", "empty: no GlaS images found (expected files like train_1.bmp"


def image_without_annotation(tmp_path):
    folder = write_release(tmp_path / "r")
    (folder / "testA_1_anno.bmp").unlink()
    return folder, "testA_1.bmp: image has no annotation (expected testA_1_anno.bmp)"


def annotation_without_image(tmp_path):
    folder = write_release(tmp_path / "r")
    (folder / "testB_1.bmp").unlink()
    return folder, "testB_1_anno.bmp: annotation has no image (expected testB_1.bmp)"


def case_clash(tmp_path):
    folder = write_release(tmp_path / "r", ["train_1"])
    (folder / "train_1.BMP").write_bytes((folder / "train_1.bmp").read_bytes())
    return folder, "names differ only in case: 'train_1.BMP' and 'train_1.bmp'"


def corrupt_zip(tmp_path):
    good = zipped(tmp_path / "good.zip", release_files(tmp_path)).read_bytes()
    (tmp_path / "bad.zip").write_bytes(good[: len(good) // 2])
    return tmp_path / "bad.zip", "bad.zip: corrupt or unreadable zip file"


def corrupt_zip_member(tmp_path):
    members = release_files(tmp_path)
    raw = bytearray(zipped(tmp_path / "good.zip", members).read_bytes())
    at = raw.find(members["train_1.bmp"][60:80])  # a byte of stored pixel data
    raw[at] ^= 0xFF
    (tmp_path / "crc.zip").write_bytes(bytes(raw))
    return tmp_path / "crc.zip", "crc.zip/train_1.bmp: cannot read zip member (Bad CRC-32"


def zip_slip(tmp_path):
    members = {**release_files(tmp_path), "../evil.txt": b"x"}
    return zipped(tmp_path / "slip.zip", members), "zip member '../evil.txt' has an unsafe path"


def zip_absolute(tmp_path):
    members = {**release_files(tmp_path), "/etc/evil.txt": b"x"}
    return zipped(tmp_path / "abs.zip", members), "zip member '/etc/evil.txt' has an unsafe path"


def colour_annotation(tmp_path):
    folder = write_release(tmp_path / "r", ["train_1"])
    rgb = np.zeros((6, 8, 3), np.uint8)
    rgb[1, 1] = (255, 0, 0)
    Image.fromarray(rgb).save(folder / "train_1_anno.bmp")
    return folder, "train_1_anno.bmp: colour annotation (channels differ); expected a gray"


def annotation_size(tmp_path):
    folder = write_release(tmp_path / "r", ["train_1"])
    Image.fromarray(np.zeros((5, 9), np.uint8)).save(folder / "train_1_anno.bmp")
    return folder, "train_1_anno.bmp: annotation is 9x5 but image is 8x6"


def truncated_annotation(tmp_path):
    folder = write_release(tmp_path / "r", ["train_1"], size=(64, 48))
    data = (folder / "train_1_anno.bmp").read_bytes()
    (folder / "train_1_anno.bmp").write_bytes(data[: len(data) - 500])
    return folder, "train_1_anno.bmp: truncated or unreadable annotation (image file is truncated"


def annotation_not_an_image(tmp_path):
    folder = write_release(tmp_path / "r", ["train_1"])
    (folder / "train_1_anno.bmp").write_bytes(b"not an image")
    return folder, "train_1_anno.bmp: not a readable image"


def float_annotation(tmp_path):
    folder = write_release(tmp_path / "r", ["train_1"])
    (folder / "train_1_anno.bmp").unlink()
    Image.fromarray(np.zeros((6, 8), np.float32)).save(folder / "train_1_anno.tif")
    return folder, "train_1_anno.tif: image mode 'F' is not a label map"


def bad_grade_csv(tmp_path):
    folder = write_release(tmp_path / "r", ["train_1"])
    text = (folder / "Grade.csv").read_text().replace(",1,", ",x1,")
    (folder / "Grade.csv").write_text(text, newline="")
    return folder, "Grade.csv: line 2: patient ID 'x1' is not an integer"


CASES = [
    missing,
    not_a_zip,
    empty_folder,
    image_without_annotation,
    annotation_without_image,
    case_clash,
    corrupt_zip,
    corrupt_zip_member,
    zip_slip,
    zip_absolute,
    colour_annotation,
    annotation_size,
    truncated_annotation,
    annotation_not_an_image,
    float_annotation,
    bad_grade_csv,
]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_cli_reports_error_in_one_line(tmp_path, case):
    path, message = case(tmp_path)
    result = CliRunner().invoke(cli, ["info", str(path)])
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_library_raises_dataset_error(tmp_path, case):
    path, message = case(tmp_path)
    with pytest.raises(DatasetError) as info:
        for sample in read_dataset(path):
            sample.load_label_map()
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("limit", "value", "message"),
    [
        ("MAX_MEMBER_BYTES", 100, "over the 0 MiB limit; refused"),
        ("MAX_TOTAL_BYTES", 100, "over the 0 GiB limit; refused"),
        ("MAX_COMPRESSION_RATIO", 2, "compresses more than 2:1 (zip bomb?); refused"),
    ],
)
def test_zip_bomb_guards(tmp_path, monkeypatch, limit, value, message):
    monkeypatch.setattr(dataset_module, limit, value)
    monkeypatch.setattr(dataset_module, "RATIO_CHECK_MIN_BYTES", 0)
    members = {**release_files(tmp_path), "padding.bin": bytes(5000)}
    path = zipped(tmp_path / "bomb.zip", members, zipfile.ZIP_DEFLATED)
    with pytest.raises(DatasetError, match="refused") as info:
        read_dataset(path)
    assert message in str(info.value)


def test_truncated_image_found_by_check_image(tmp_path):
    folder = write_release(tmp_path / "r", ["train_1"], size=(64, 48))
    data = (folder / "train_1.bmp").read_bytes()
    (folder / "train_1.bmp").write_bytes(data[:-1000])
    (sample,) = read_dataset(folder)  # headers are fine
    with pytest.raises(DatasetError, match="train_1.bmp: truncated or unreadable image"):
        check_image(sample)


def test_annotation_errors_are_annotation_errors(tmp_path):
    path, _ = colour_annotation(tmp_path)
    (sample,) = read_dataset(path)
    with pytest.raises(AnnotationError):
        sample.load_label_map()


def test_encrypted_zip_member_is_one_line_error(tmp_path):
    members = release_files(tmp_path)
    path = zipped(tmp_path / "enc.zip", members)
    raw = bytearray(path.read_bytes())
    # Set the "encrypted" flag bit in every local and central header of the archive.
    for magic, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (at := raw.find(magic, start)) >= 0:
            raw[at + flag_at] |= 1
            start = at + 4
    path.write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match="cannot read zip member"):
        read_dataset(path)
