"""Safe, atomic output folders.

glas-convert never writes into the input dataset and never leaves a half-written OUT behind:
everything goes into a temporary sibling ``.OUT.tmp-PID`` that is renamed into place at the end,
after the marker file :data:`glas_convert.layout.OUTPUT_MARKER` has been written last. On any
error, or Ctrl-C, the temporary folder is removed and OUT is left as it was.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from glas_convert import layout
from glas_convert.errors import OutputError

MARKER_TEXT = "This folder was written by glas-convert; --overwrite may replace it.\n"


def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(path))


def check_output_path(
    out: Path, *, dataset_root: Path | None = None, overwrite: bool = False
) -> None:
    """Raise OutputError if writing ``out`` could touch the dataset or foreign files."""
    out_real = _resolved(out)
    if dataset_root is not None:
        data_real = _resolved(dataset_root)
        if out_real == data_real:
            raise OutputError(f"{out}: the output folder is the input dataset")
        if out_real.is_relative_to(data_real):
            raise OutputError(f"{out}: the output folder lies inside the input dataset")
        if data_real.is_relative_to(out_real):
            raise OutputError(f"{out}: the output folder contains the input dataset")
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise OutputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise OutputError(f"{out}: the output folder is not empty (use --overwrite)")
        if not (out / layout.OUTPUT_MARKER).is_file():
            raise OutputError(
                f"{out}: not written by glas-convert (no {layout.OUTPUT_MARKER} marker); "
                "refusing to overwrite it"
            )


def temp_sibling(out: Path, tag: str = "tmp") -> Path:
    """The hidden sibling folder used while writing ``out``."""
    return out.parent / f".{out.name}.{tag}-{os.getpid()}"


@contextmanager
def atomic_output(
    out: Path | str, *, dataset_root: Path | str | None = None, overwrite: bool = False
) -> Iterator[Path]:
    """Yield a temporary folder to write into; on success it becomes ``out``.

    Checks ``out`` first (see :func:`check_output_path`). With ``overwrite``, an old OUT made by
    glas-convert is renamed aside, the new one renamed in, and only then the old one deleted.
    """
    out = Path(out)
    if out.name in ("", ".", ".."):
        out = _resolved(out)
    check_output_path(
        out,
        dataset_root=Path(dataset_root) if dataset_root is not None else None,
        overwrite=overwrite,
    )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out.parent}: cannot create the folder ({exc.strerror})") from exc
    tmp = temp_sibling(out)
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        tmp.mkdir()
    except OSError as exc:
        raise OutputError(f"{tmp}: cannot create the folder ({exc.strerror})") from exc
    try:
        yield tmp
        (tmp / layout.OUTPUT_MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_in(tmp: Path, out: Path) -> None:
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    if not out.exists():
        tmp.rename(out)
        return
    old = temp_sibling(out, "old")
    out.rename(old)
    try:
        tmp.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old)
