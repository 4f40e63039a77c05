"""Safe, atomic output folders."""

from __future__ import annotations

import pytest

from glas_convert import layout
from glas_convert.errors import OutputError
from glas_convert.output import atomic_output


def _siblings(path):
    return sorted(p.name for p in path.parent.iterdir())


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("data", "is the input dataset"),  # OUT == dataset
        ("data/sub", "lies inside the input dataset"),  # OUT inside the dataset
        (".", "contains the input dataset"),  # OUT holds the dataset
    ],
)
def test_refuses_output_overlapping_the_dataset(tmp_path, where, message):
    data = tmp_path / "data"
    data.mkdir()
    (data / "x.bmp").write_bytes(b"x")
    with pytest.raises(OutputError, match=message):
        with atomic_output(tmp_path / where, dataset_root=data):
            pass


def test_refuses_dataset_reached_through_a_symlink(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "link").symlink_to(data)
    with pytest.raises(OutputError, match="inside the input dataset"):
        with atomic_output(tmp_path / "link" / "out", dataset_root=data):
            pass


def test_refuses_non_empty_output_without_overwrite(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match="not empty"):
        with atomic_output(out):
            pass
    assert (out / "keep.txt").read_text() == "mine"


def test_overwrite_refuses_a_folder_glas_convert_did_not_write(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match="not written by glas-convert"):
        with atomic_output(out, overwrite=True):
            pass
    assert (out / "keep.txt").read_text() == "mine"


def test_writes_marker_and_replaces_own_output_with_overwrite(tmp_path):
    out = tmp_path / "out"
    with atomic_output(out) as tmp:
        (tmp / "a.txt").write_text("1")
    assert (out / layout.OUTPUT_MARKER).is_file()
    with atomic_output(out, overwrite=True) as tmp:
        (tmp / "b.txt").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == [layout.OUTPUT_MARKER, "b.txt"]
    assert _siblings(out) == ["out"]


def test_an_empty_existing_folder_is_fine(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with atomic_output(out) as tmp:
        (tmp / "a.txt").write_text("1")
    assert (out / "a.txt").is_file()


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_an_error_leaves_no_output_and_no_temp_folder(tmp_path, error):
    out = tmp_path / "out"
    with pytest.raises(type(error)):
        with atomic_output(out) as tmp:
            (tmp / "a.txt").write_text("1")
            raise error
    assert _siblings(out) == []


def test_an_error_with_overwrite_keeps_the_old_output(tmp_path):
    out = tmp_path / "out"
    with atomic_output(out) as tmp:
        (tmp / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_output(out, overwrite=True) as tmp:
            raise RuntimeError("boom")
    assert (out / "old.txt").read_text() == "old"
    assert _siblings(out) == ["out"]
