"""Issue 5: every bad input gets one clear line, and no run loses or corrupts data.

The tables below drive the real CLI (click's CliRunner; a subprocess where a real process is
needed, for signals). An error means: exit code 1 (2 for usage errors), exactly one line
``Error: FILE-OR-OPTION: what is wrong``, no traceback, and no OUT nor hidden temp folder left.
The input-error builders of tests/test_errors.py (checked there through ``info``) are reused
here through the conversion commands, which must also leave nothing behind.
docs/guarantees.md lists every message.
"""

from __future__ import annotations

import errno
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import release_files, write_release, zipped
from PIL import Image
from test_errors import CASES as READER_CASES

from glas_convert import __version__, layout
from glas_convert import dataset as dataset_module
from glas_convert.cli import cli
from glas_convert.output import PARTIAL_TAG
from glas_convert.synth import write_synthetic_dataset

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
ROOT = Path(__file__).resolve().parents[1]


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def leftovers(out: Path) -> list[str]:
    """OUT itself and its hidden temp siblings, if any exist."""
    if not out.parent.is_dir():
        return []
    return sorted(
        p.name
        for p in out.parent.iterdir()
        if p.name == out.name or p.name.startswith(f".{out.name}.")
    )


def assert_error(result, fragment: str, *, code: int = 1) -> None:
    """Exit ``code``, one ``Error:`` line holding ``fragment``, no traceback."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    assert fragment in errors[0], result.output
    if code == 1:
        assert result.output.strip() == errors[0], result.output


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root`` (hidden ones too): bytes or link target, mode and mtime."""
    out = {}
    for path in sorted([root, *root.rglob("*")]):
        st = path.lstat()
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            content: object = os.readlink(path)
        elif path.is_file():
            content = path.read_bytes()
        else:
            content = None
        out[rel] = (content, st.st_mode, st.st_mtime_ns)
    return out


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --------------------------------------------------------------------------------------------
# Rows 1-5: bad input. Each builder returns (DATASET, the fragment the one error line holds).


def empty_zip_file(tmp_path):
    (tmp_path / "empty.zip").write_bytes(b"")
    return tmp_path / "empty.zip", "empty.zip: corrupt or unreadable zip file"


def empty_plain_file(tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    return tmp_path / "empty", "empty: not a folder or a .zip file"


def folder_without_glas_images(tmp_path):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    Image.new("RGB", (4, 4)).save(folder / "holiday.bmp")
    (folder / "notes.txt").write_text("hi")
    return folder, "photos: no GlaS images found"


def zip_without_glas_images(tmp_path):
    return zipped(tmp_path / "other.zip", {"readme.txt": b"hi"}), "other.zip: no GlaS images found"


def image_not_an_image(tmp_path):
    folder = write_release(tmp_path / "r", ["train_1"])
    (folder / "train_1.bmp").write_bytes(b"BM but not really")
    return folder, "train_1.bmp: not a readable image"


def truncated_image(tmp_path):
    folder = write_release(tmp_path / "r", ["train_1", "testA_1"], size=(64, 48))
    data = (folder / "train_1.bmp").read_bytes()
    (folder / "train_1.bmp").write_bytes(data[:-1000])  # the header still reads fine
    return folder, "train_1.bmp: truncated or unreadable image"


def grade_column_count(tmp_path):
    folder = write_release(tmp_path / "r", ["train_1"])
    text = (folder / "Grade.csv").read_bytes().decode().replace(", healthy", "")
    (folder / "Grade.csv").write_bytes(text.encode())
    return folder, "Grade.csv: line 2: 3 columns, expected 4"


def grade_unknown(tmp_path):
    folder = write_release(tmp_path / "r", ["train_1"])
    text = (folder / "Grade.csv").read_bytes().decode().replace("benign", "dubious")
    (folder / "Grade.csv").write_bytes(text.encode())
    return folder, "Grade.csv: line 2: unknown grade (GlaS) 'dubious'; expected one of benign"


def grade_header_without_column(tmp_path):
    folder = write_release(tmp_path / "r", ["train_1"])
    text = (folder / "Grade.csv").read_bytes().decode().replace("patient ID", "patient")
    (folder / "Grade.csv").write_bytes(text.encode())
    return folder, "Grade.csv: line 1: header has no 'patient ID' column"


def zip_backslash_parent(tmp_path):
    members = {**release_files(tmp_path), "..\\evil.txt": b"x"}
    return zipped(tmp_path / "slip.zip", members), "zip member '..\\\\evil.txt' has an unsafe path"


def zip_drive_letter(tmp_path):
    members = {**release_files(tmp_path), "C:/evil.txt": b"x"}
    return zipped(tmp_path / "drive.zip", members), "zip member 'C:/evil.txt' has an unsafe path"


def _forge_size(path: Path, member: str, size: int) -> Path:
    """Make the headers of ``member`` declare ``size`` uncompressed bytes."""
    raw = bytearray(path.read_bytes())
    name = member.encode()
    for magic, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        at = raw.find(magic)
        while at >= 0:
            if raw[at + name_at : at + name_at + len(name)] == name:
                raw[at + size_at : at + size_at + 4] = size.to_bytes(4, "little")
            at = raw.find(magic, at + 4)
    path.write_bytes(bytes(raw))
    return path


def zip_bomb_member_size(tmp_path):
    path = zipped(tmp_path / "bomb.zip", {**release_files(tmp_path), "padding.bin": bytes(100)})
    _forge_size(path, "padding.bin", 300 * 1024**2)  # over MAX_MEMBER_BYTES (256 MiB)
    return path, "bomb.zip/padding.bin: zip member declares 314572800 bytes, over the 256 MiB"


def zip_bomb_ratio(tmp_path):
    path = zipped(tmp_path / "bomb.zip", {**release_files(tmp_path), "padding.bin": bytes(100)})
    _forge_size(path, "padding.bin", 5 * 1024**2)  # 5 MiB from 100 bytes: 52,000:1
    return path, "bomb.zip/padding.bin: zip member compresses more than 1000:1 (zip bomb?)"


def zip_member_larger_than_declared(tmp_path):
    members = release_files(tmp_path)
    path = zipped(tmp_path / "liar.zip", members)
    _forge_size(path, "train_1_anno.bmp", 100)  # the real data is longer
    return path, "liar.zip/train_1_anno.bmp: "


NEW_INPUT_CASES = [
    empty_zip_file,  # 1. DATASET is an empty .zip file
    empty_plain_file,  # 1. DATASET is an empty file, not a zip
    folder_without_glas_images,  # 1. a folder holding no GlaS images (other images, text)
    zip_without_glas_images,  # 1. a zip holding no GlaS images
    image_not_an_image,  # 3. the image is not an image at all
    truncated_image,  # 3. the image is truncated; only a full decode finds it
    grade_column_count,  # 4. Grade.csv: a row with 3 of 4 columns -> error
    grade_unknown,  # 4. Grade.csv: unknown grade -> error
    grade_header_without_column,  # 4. Grade.csv: header misses a column -> error
    zip_backslash_parent,  # 5. a member path with ..\ (Windows separator)
    zip_drive_letter,  # 5. a member path with a drive letter
    zip_bomb_member_size,  # 5. a member declaring more than 256 MiB
    zip_bomb_ratio,  # 5. a member declaring a 52,000:1 compression ratio
    zip_member_larger_than_declared,  # 5. a member whose data is longer than declared
]
INPUT_CASES = READER_CASES + NEW_INPUT_CASES


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("case", INPUT_CASES, ids=[c.__name__ for c in INPUT_CASES])
def test_bad_input_is_one_line_and_leaves_no_output(tmp_path, case, workers):
    dataset, fragment = case(tmp_path)
    out = tmp_path / "out"
    result = run("coco", dataset, out, "-q", "--workers", workers)
    assert_error(result, fragment)
    assert leftovers(out) == []
    assert not list(tmp_path.parent.glob("**/evil.txt")), "a zip member was extracted"


@pytest.mark.parametrize(
    "options",
    [
        ["--images", "copy"],  # the original BMP bytes are copied: still decoded once
        ["--images", "hardlink"],
        ["--images", "symlink"],
        ["--images", "none"],
        ["--image-format", "png"],
        ["--image-format", "jpg"],
    ],
)
@pytest.mark.parametrize("command", ["coco", "voc", "yolo", "masks", "all"])
def test_truncated_image_is_found_by_every_exporter_and_image_mode(tmp_path, command, options):
    dataset, fragment = truncated_image(tmp_path)
    out = tmp_path / "out"
    result = run(command, dataset, out, "-q", "--workers", "1", *options)
    assert_error(result, fragment)
    assert leftovers(out) == []


# Row 4: what is a warning by design; the output is still complete and right.


def _grades_missing(folder: Path) -> str:
    (folder / "Grade.csv").unlink()
    return "Grade.csv: not found; samples have no grade tags"


def _grades_extra_row(folder: Path) -> str:
    with open(folder / "Grade.csv", "a", newline="") as f:
        f.write("\rtrain_99,3, benign, healthy")
    return "Grade.csv: row 'train_99' has no image"


def _grades_row_missing(folder: Path) -> str:
    text = (folder / "Grade.csv").read_bytes().decode()
    (folder / "Grade.csv").write_bytes(text.rpartition("\r")[0].encode())  # drop the last row
    return "Grade.csv: no row for image 'train_1'; it has no grade tags"


@pytest.mark.parametrize(
    "make",
    [
        _grades_missing,  # no Grade.csv: warning, images get empty tags
        _grades_extra_row,  # a row for an image that does not exist: warning
        _grades_row_missing,  # an image without a row: warning, that image gets empty tags
    ],
)
def test_grade_csv_warnings_keep_the_output_right(tmp_path, make):
    folder = write_release(tmp_path / "r")
    warning = make(folder)
    out = tmp_path / "out"
    result = run("coco", folder, out, "-q", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert [line for line in result.output.splitlines() if line.startswith("warning: ")] == [
        f"warning: {folder / warning}"
    ]
    assert run("validate", out, "--source", folder).exit_code == 0
    images = json.loads((out / "annotations" / "instances_train.json").read_text())["images"]
    assert [i["name"] for i in images] == ["train_1"]


# --------------------------------------------------------------------------------------------
# Row 6: an unsafe OUT is refused and left exactly as it was.


def _out_is_dataset(tmp_path, data):
    return data, "is the input dataset"


def _out_inside_dataset(tmp_path, data):
    return data / "out", "lies inside the input dataset"


def _out_contains_dataset(tmp_path, data):
    return tmp_path, "contains the input dataset"


def _out_not_empty(tmp_path, data):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("mine")
    return tmp_path / "out", "the output folder is not empty (use --overwrite)"


def _out_is_a_file(tmp_path, data):
    (tmp_path / "out").write_text("mine")
    return tmp_path / "out", "out: exists and is not a folder"


def _out_is_a_symlink(tmp_path, data):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out").symlink_to(tmp_path / "elsewhere")
    return tmp_path / "out", "out: is a symlink"


def _out_reaches_dataset_through_symlink(tmp_path, data):
    (tmp_path / "link").symlink_to(data)
    return tmp_path / "link" / "out", "lies inside the input dataset"


@pytest.mark.parametrize(
    "make",
    [
        _out_is_dataset,  # OUT is DATASET
        _out_inside_dataset,  # OUT lies inside DATASET
        _out_contains_dataset,  # OUT contains DATASET
        _out_not_empty,  # OUT exists, not empty, no --overwrite
        _out_is_a_file,  # OUT is a file
        _out_is_a_symlink,  # OUT is a symlink: never written through
        _out_reaches_dataset_through_symlink,  # inside DATASET, via a symlinked parent
    ],
)
@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_unsafe_output_is_refused_and_untouched(tmp_path, make, overwrite):
    data = write_release(tmp_path / "data")
    out, fragment = make(tmp_path, data)
    if overwrite and make is _out_not_empty:
        fragment = "not written by glas-convert (no .glas-convert marker); refusing"
    before = snapshot(tmp_path)
    result = run("coco", data, out, "-q", "--workers", "1", *overwrite)
    assert_error(result, fragment)
    assert snapshot(tmp_path) == before


def test_overwrite_deletes_nothing_outside_out(tmp_path):
    data = write_release(tmp_path / "data")
    out = tmp_path / "out"
    assert run("coco", data, out, "-q", "--workers", "1").exit_code == 0
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "file.txt").write_text("keep me")
    (tmp_path / ".out.backup").mkdir()  # a sibling that looks a bit like ours
    (out / "link-to-precious").symlink_to(outside)  # rmtree must not follow it
    (out / "file-link").symlink_to(outside / "file.txt")
    keep = snapshot(outside) | {"data": snapshot(data), "sib": snapshot(tmp_path / ".out.backup")}
    result = run("coco", data, out, "-q", "--workers", "1", "--overwrite")
    assert result.exit_code == 0, result.output
    assert keep == snapshot(outside) | {
        "data": snapshot(data),
        "sib": snapshot(tmp_path / ".out.backup"),
    }
    assert not (out / "link-to-precious").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.backup", "data", "out", "precious"]


# --------------------------------------------------------------------------------------------
# Row 7: a failure while writing is one line, and leaves neither OUT nor a temp folder.


def test_out_under_a_regular_file(tmp_path):
    data = write_release(tmp_path / "data")
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / "out"
    assert_error(run("coco", data, out, "-q"), "afile: is a file, not a folder; cannot create")
    assert (tmp_path / "afile").read_text() == "x"


def _failing(exc: OSError, after: int = 0):
    calls = {"n": 0}

    def fail(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > after:
            raise OSError(exc.errno, exc.strerror, str(self))
        return original(self, *args, **kwargs)

    original = pathlib.Path.write_bytes
    return fail


@pytest.mark.parametrize("workers", ["1", "2"])  # 2: the error comes back from a worker
@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (errno.ENOSPC, "No space left on device"),  # disk full while copying an image
        (errno.EACCES, "Permission denied"),  # OUT's folder not writable
        (errno.EROFS, "Read-only file system"),
    ],
)
def test_write_error_is_one_line_and_leaves_nothing(tmp_path, monkeypatch, code, reason, workers):
    data = write_release(tmp_path / "data", ["train_1", "train_2", "testA_1"])
    out = tmp_path / "out"
    monkeypatch.setattr(pathlib.Path, "write_bytes", _failing(OSError(code, reason), after=1))
    result = run("all", data, out, "-q", "--workers", workers)
    assert_error(result, f"cannot write ({reason}); nothing was written to {out}")
    assert f"Error: {out}/" in result.output  # names the file as it would have been in OUT
    assert leftovers(out) == []


def test_failure_in_the_final_rename_keeps_the_old_output(tmp_path, monkeypatch):
    data = write_release(tmp_path / "data")
    out = tmp_path / "out"
    assert run("coco", data, out, "-q", "--workers", "1").exit_code == 0
    before = tree(out)

    def deny(self, target):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(pathlib.Path, "rename", deny)
    monkeypatch.setattr("glas_convert.output._exchange", lambda a, b: deny(a, b))
    result = run("yolo", data, out, "-q", "--workers", "1", "--overwrite")
    assert_error(result, f"{out}: cannot finish the output (Permission denied)")
    assert tree(out) == before
    assert leftovers(out) == ["out"]


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def mounted(tmp_path):
    """Mount tmpfs or bind mounts under tmp_path (root only); unmount them afterwards."""
    if not IS_ROOT or shutil.which("mount") is None:
        pytest.skip("mounting needs root and mount(8)")
    points: list[Path] = []

    def mount(point: Path, *args: str) -> Path:
        point.mkdir(parents=True, exist_ok=True)
        if not _mount(*args, str(point)):
            pytest.skip(f"mount {' '.join(args)} is not allowed here")
        points.append(point)
        return point

    yield mount
    for point in reversed(points):
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def test_a_really_full_disk(tmp_path, mounted):
    data = write_release(tmp_path / "data", ["train_1", "train_2"], size=(300, 200))
    disk = mounted(tmp_path / "disk", "-t", "tmpfs", "-o", "size=64k", "tmpfs")
    out = disk / "out"
    result = run("coco", data, out, "-q", "--workers", "1")  # two 180 kB BMPs to copy
    assert_error(result, "cannot write (No space left on device); nothing was written")
    assert list(disk.iterdir()) == []


def test_a_really_read_only_output_parent(tmp_path, mounted):
    data = write_release(tmp_path / "data")
    disk = mounted(tmp_path / "disk", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs")
    result = run("coco", data, disk / "out", "-q")
    assert_error(result, "cannot create the folder (Read-only file system)")


# --------------------------------------------------------------------------------------------
# Row 8: interrupted runs (a real process: signals, a worker pool).


@pytest.fixture(scope="module")
def big_synth(tmp_path_factory):
    """A synthetic release big enough that `all --image-format png` takes a second or two."""
    out = tmp_path_factory.mktemp("big") / "glas"
    write_synthetic_dataset(out, count=40, seed=3)
    return out


def _start(dataset: Path, out: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = ["all", str(dataset), str(out), "-q", "--workers", "2", "--image-format", "png"]
    return subprocess.Popen(
        [sys.executable, "-m", "glas_convert", *args, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a shell job would be
        env=env,
    )


def _wait_for_writing(proc: subprocess.Popen, out: Path) -> list[int]:
    """Wait until the temp folder has some files; return the worker pids."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        tmp = list(out.parent.glob(f".{out.name}.tmp-{proc.pid}"))
        if tmp and sum(1 for _ in tmp[0].rglob("*.png")) >= 4:
            kids = subprocess.run(
                ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
            ).stdout.split()
            if len(kids) >= 2:
                return [int(k) for k in kids]
        assert proc.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.01)
    raise AssertionError("the run never started writing")


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return "\nState:\tZ" in f.read()
    except FileNotFoundError:
        return True


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:  # pragma: no cover - the failure this guards against
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError("the run hung after the signal") from None
    return proc.returncode, err.decode()


@pytest.fixture
def earlier_out(tmp_path, big_synth):
    """An OUT written before, to be replaced with --overwrite by the interrupted run."""
    out = tmp_path / "out"
    result = run("all", big_synth, out, "-q", "--images", "none", "--workers", "2")
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.skipif(shutil.which("pgrep") is None, reason="needs pgrep to find the workers")
@pytest.mark.parametrize(
    ("sig", "whom", "code", "message"),
    [
        (signal.SIGINT, "group", 130, "Error: interrupted; nothing was written"),  # Ctrl-C
        (signal.SIGINT, "main", 130, "Error: interrupted; nothing was written"),  # kill -INT
        (signal.SIGTERM, "main", 130, "Error: interrupted; nothing was written"),  # kill
        (
            signal.SIGKILL,
            "worker",
            1,
            "Error: a worker process died (killed, or out of memory?); the run was stopped",
        ),
    ],
)
def test_interrupted_run_cleans_up_and_keeps_the_old_output(
    big_synth, earlier_out, sig, whom, code, message
):
    out = earlier_out
    before = tree(out)
    proc = _start(big_synth, out, "--overwrite")
    workers = _wait_for_writing(proc, out)
    if whom == "group":
        os.killpg(proc.pid, sig)
    else:
        os.kill(workers[0] if whom == "worker" else proc.pid, sig)
    returncode, err = _finish(proc)
    assert returncode == code, err
    assert err.strip() == message
    assert tree(out) == before  # the earlier OUT is byte-identical
    assert leftovers(out) == ["out"]
    assert all(_gone(pid) for pid in workers)


@pytest.mark.skipif(shutil.which("pgrep") is None, reason="needs pgrep to find the workers")
def test_sigkill_of_the_main_process_leaves_only_a_hidden_partial_folder(big_synth, earlier_out):
    out = earlier_out
    before = tree(out)
    proc = _start(big_synth, out, "--overwrite")
    workers = _wait_for_writing(proc, out)
    os.kill(proc.pid, signal.SIGKILL)
    returncode, _ = _finish(proc)  # returns: no worker keeps the pipes open
    assert returncode == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(pid) for pid in workers), "workers outlived the main process"
    # The earlier OUT is intact; the leftover is hidden, unmarked and tagged as partial.
    assert tree(out) == before
    leftover = out.parent / f".out.tmp-{proc.pid}"
    assert leftovers(out) == [leftover.name, "out"]
    assert (leftover / PARTIAL_TAG).is_file()
    assert not (leftover / layout.OUTPUT_MARKER).exists()
    # validate does not take it for an export of the dataset, and the next run removes it.
    result = run("validate", leftover, "--source", big_synth)
    assert result.exit_code == 1
    result = run("coco", big_synth, out, "-q", "--overwrite", "--images", "none")
    assert result.exit_code == 0, result.output
    assert f"warning: {leftover}: removed, left over from an interrupted run" in result.output
    assert leftovers(out) == ["out"]


def test_a_live_runs_temp_folder_is_not_removed(tmp_path):
    data = write_release(tmp_path / "data")
    live = tmp_path / f".out.tmp-{os.getppid()}"  # pid of a running process
    live.mkdir()
    (live / PARTIAL_TAG).write_text("")
    assert run("coco", data, tmp_path / "out", "-q").exit_code == 0
    assert live.is_dir()


# --------------------------------------------------------------------------------------------
# Row 9: unusual paths and a read-only input.


def test_paths_with_spaces_and_non_ascii(tmp_path):
    data = write_release(tmp_path / "my data" / "GlaS ñü 日本")
    out = tmp_path / "out put" / "Résultat ✓"
    result = run("all", data, out, "-q", "--workers", "2")
    assert result.exit_code == 0, result.output
    result = run("validate", out, "--source", data)
    assert result.exit_code == 0, result.output
    archive = shutil.make_archive(str(tmp_path / "zip ü"), "zip", data)
    result = run("coco", archive, tmp_path / "from zip ü", "-q")
    assert result.exit_code == 0, result.output


def test_symlinked_input_folder(tmp_path):
    data = write_release(tmp_path / "real")
    link = tmp_path / "link"
    link.symlink_to(data, target_is_directory=True)
    result = run("coco", link, tmp_path / "out", "-q")
    assert result.exit_code == 0, result.output
    assert run("validate", tmp_path / "out", "--source", link).exit_code == 0
    # the dataset is recognised through the link: OUT inside the real folder is refused
    assert_error(run("coco", link, data / "out", "-q"), "lies inside the input dataset")


@pytest.fixture
def read_only(tmp_path):
    """Make a folder and everything in it read-only (chmod -R a-w); restore afterwards."""
    made: list[Path] = []

    def make(root: Path) -> Path:
        for path in sorted([root, *root.rglob("*")], reverse=True):
            path.chmod(path.stat().st_mode & ~0o222)
        made.append(root)
        return root

    yield make
    for root in made:
        for path in [root, *root.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)


def _every_command(dataset: Path, outs: Path) -> None:
    """Run every command but synth on ``dataset``; each must succeed."""
    links = "copy" if dataset.suffix == ".zip" else "symlink"  # no symlinks into a zip
    commands = [
        ["info", dataset],
        ["info", dataset, "--json", "--split", "train"],
        ["coco", dataset, outs / "coco", "--mask-format", "rle"],
        ["voc", dataset, outs / "voc", "--images", "hardlink"],
        ["yolo", dataset, outs / "yolo", "--task", "segment", "--images", links],
        ["masks", dataset, outs / "masks", "--image-format", "png"],
        ["all", dataset, outs / "all", "--workers", "2"],
        ["validate", outs / "all", "--source", dataset],
        ["validate", outs / "coco", "--source", dataset],
    ]
    for args in commands:
        if args[0] not in ("info", "validate"):
            args.append("-q")
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)


@pytest.mark.parametrize("as_zip", [False, True])
def test_the_input_is_never_written(tmp_path, read_only, as_zip):
    data = write_release(tmp_path / "in" / "data", ["train_1", "train_2", "testA_1", "testB_1"])
    if as_zip:
        data = Path(shutil.make_archive(str(tmp_path / "in" / "data"), "zip", data))
    read_only(tmp_path / "in")
    before = snapshot(tmp_path / "in")
    if IS_ROOT:  # permission bits do not stop root: the snapshot is what proves it
        assert os.access(tmp_path / "in", os.W_OK)
    _every_command(data, tmp_path / "outs")
    assert snapshot(tmp_path / "in") == before


def test_a_really_read_only_input_mount(tmp_path, mounted):
    data = write_release(tmp_path / "data", ["train_1", "testA_1", "testB_1"])
    ro = mounted(tmp_path / "ro", "--bind", str(data))
    if not _mount("-o", "remount,bind,ro", str(ro)):
        pytest.skip("a read-only bind mount is not allowed here")
    with pytest.raises(OSError, match="Read-only"):
        (ro / "probe").write_text("x")
    before = snapshot(ro)
    _every_command(ro, tmp_path / "outs")
    assert snapshot(ro) == before


# --------------------------------------------------------------------------------------------
# Row 10: unusual but valid label maps.


def _release_with_map(folder: Path, labels: np.ndarray, suffix: str = ".bmp") -> Path:
    folder.mkdir(parents=True)
    height, width = labels.shape
    for name in ("train_1", "testA_1", "testB_1"):
        Image.fromarray(np.full((height, width, 3), 180, np.uint8)).save(folder / f"{name}.bmp")
        Image.fromarray(labels).save(folder / f"{name}_anno{suffix}")
    return folder


def _many_glands(count: int = 300) -> np.ndarray:
    """``count`` 3x3 glands on a grid with 1-px gaps, labels 1..count (uint16)."""
    columns = 20
    rows = -(-count // columns)
    labels = np.zeros((rows * 4 + 1, columns * 4 + 1), np.uint16)
    for k in range(count):
        r, c = divmod(k, columns)
        labels[1 + 4 * r : 4 + 4 * r, 1 + 4 * c : 4 + 4 * c] = k + 1
    return labels


@pytest.mark.parametrize(
    "command",
    [
        ["coco"],
        ["coco", "--mask-format", "rle"],
        ["yolo", "--task", "segment"],
        ["yolo"],
        ["masks"],
    ],
)
def test_more_than_255_glands_in_a_16_bit_png(tmp_path, command):
    data = _release_with_map(tmp_path / "data", _many_glands(300), ".png")
    out = tmp_path / "out"
    result = run(command[0], data, out, "-q", *command[1:])
    assert result.exit_code == 0, result.output
    assert "3 images, 900 glands" in run(command[0], data, tmp_path / "o2", *command[1:]).output
    result = run("validate", out, "--source", data)
    assert result.exit_code == 0, result.output
    if command[0] == "masks":
        instance = np.asarray(Image.open(out / "masks/instance/train/train_1.png"))
        assert instance.max() == 300


def test_more_than_254_glands_is_a_voc_error_naming_the_file(tmp_path):
    data = _release_with_map(tmp_path / "data", _many_glands(300), ".png")
    out = tmp_path / "out"
    result = run("voc", data, out, "-q", "--workers", "2")
    assert_error(result, "train_1_anno.png: VOC SegmentationObject holds at most 254 glands")
    assert leftovers(out) == []


def test_no_glands_gives_empty_annotations_in_every_format(tmp_path):
    data = _release_with_map(tmp_path / "data", np.zeros((6, 8), np.uint8))
    out = tmp_path / "out"
    result = run("all", data, out, "-q", "--task", "segment")
    assert result.exit_code == 0, result.output
    assert run("validate", out, "--source", data).exit_code == 0
    coco = json.loads((out / "coco/annotations/instances_train.json").read_text())
    assert len(coco["images"]) == 1 and coco["annotations"] == []
    assert (out / "yolo/labels/train/train_1.txt").read_bytes() == b""
    xml = ET.parse(out / "voc/VOCdevkit/VOC2012/Annotations/train_1.xml")
    assert xml.findall("object") == []
    for kind in ("semantic", "instance", "boundary"):
        mask = np.asarray(Image.open(out / f"masks/masks/{kind}/train/train_1.png"))
        assert mask.shape == (6, 8) and not mask.any()
    for kind in ("SegmentationClass", "SegmentationObject"):
        mask = np.asarray(Image.open(out / f"voc/VOCdevkit/VOC2012/{kind}/train_1.png"))
        assert not mask.any()


def test_an_all_foreground_map(tmp_path):
    data = _release_with_map(tmp_path / "data", np.full((6, 8), 7, np.uint8))
    out = tmp_path / "out"
    result = run("all", data, out, "-q", "--task", "segment", "--void-border", "1")
    assert result.exit_code == 0, result.output
    assert run("validate", out, "--source", data).exit_code == 0
    (ann,) = json.loads((out / "coco/annotations/instances_train.json").read_text())["annotations"]
    assert ann["bbox"] == [0, 0, 8, 6] and ann["area"] == 48
    assert ann["segmentation"] == [[0, 0, 0, 6, 8, 6, 8, 0]]
    assert (out / "yolo/labels/train/train_1.txt").read_text() == (
        "0 0.000000 0.000000 0.000000 1.000000 1.000000 1.000000 1.000000 0.000000\n"
    )
    instance = np.asarray(Image.open(out / "masks/masks/instance/train/train_1.png"))
    assert (instance == 1).all()
    boundary = np.asarray(Image.open(out / "masks/masks/boundary/train/train_1.png"))
    assert (boundary == 1).all()  # the image border is not a boundary


# --------------------------------------------------------------------------------------------
# CLI hygiene: help, version, exit codes.

ALL_COMMANDS = ["info", "synth", "coco", "voc", "yolo", "masks", "all", "validate"]


@pytest.mark.parametrize("command", [[], *[[c] for c in ALL_COMMANDS]])
def test_help_of_every_command_shows_an_example(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert "glas-convert " + (command[0] if command else "") in result.output


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert result.output == f"glas-convert, version {__version__}\n"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["coco", "{data}", "{out}", "--bogus"], "No such option '--bogus'"),  # unknown option
        (["coco", "{data}", "{out}", "--split", "val"], "Invalid value for '--split'"),
        (["coco", "{data}"], "Missing argument 'OUT'"),  # a missing argument
        (["yolo", "{data}", "{out}", "--task", "pose"], "Invalid value for '--task'"),
        (["coco", "{data}", "{out}", "--workers", "0"], "Invalid value for '--workers'"),
        (["frobnicate"], "No such command 'frobnicate'"),
        (["validate", "{out}", "--source", "{data}"], "Directory '{out}' does not exist"),
        # conflicting options: the message names both
        (
            ["coco", "{data}", "{out}", "--images", "hardlink", "--image-format", "png"],
            "--images hardlink cannot be combined with --image-format png",
        ),
    ],
)
def test_usage_errors_exit_2(tmp_path, args, fragment):
    data = write_release(tmp_path / "data")
    out = tmp_path / "out"
    fill = {"data": data, "out": out}
    result = run(*[a.format(**fill) for a in args])
    assert_error(result, fragment.format(**fill), code=2)
    assert leftovers(out) == []


def test_exit_codes_0_and_1(tmp_path):
    data = write_release(tmp_path / "data")
    assert run("coco", data, tmp_path / "out", "-q").exit_code == 0
    assert run("coco", data, tmp_path / "out", "-q").exit_code == 1  # OUT not empty
    assert run("info", tmp_path / "nope").exit_code == 1  # no such dataset


def test_zip_bomb_limits_through_the_cli(tmp_path, monkeypatch):
    monkeypatch.setattr(dataset_module, "MAX_TOTAL_BYTES", 100)
    path = zipped(tmp_path / "big.zip", release_files(tmp_path), zipfile.ZIP_DEFLATED)
    assert_error(run("coco", path, tmp_path / "out", "-q"), "over the 0 GiB limit; refused")
    assert leftovers(tmp_path / "out") == []
