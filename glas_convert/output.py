"""Safe, atomic output folders.

glas-convert never writes into the input dataset and never leaves a half-written OUT behind:
everything goes into a temporary sibling ``.OUT.tmp-PID`` that is renamed into place at the end,
after the marker file :data:`glas_convert.layout.OUTPUT_MARKER` has been written last. On any
error, or Ctrl-C, the temporary folder is removed and OUT is left as it was. An old OUT is
swapped with the new one in a single ``renameat2(RENAME_EXCHANGE)`` where Linux offers it, so
there is no moment without an OUT.

A run killed outright (SIGKILL, power loss) cannot clean up: its hidden ``.OUT.tmp-PID`` (or
``.OUT.old-PID``) stays behind. It has no marker, so nothing mistakes it for output, and it
holds :data:`PARTIAL_TAG`; the next run writing OUT removes such leftovers once their process
is gone (:func:`remove_stale_siblings`).
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from glas_convert import layout
from glas_convert.errors import OutputError

MARKER_TEXT = "This folder was written by glas-convert; --overwrite may replace it.\n"
#: File in every temporary folder while it is being written; removed just before the marker.
PARTIAL_TAG = ".glas-convert-partial"
PARTIAL_TEXT = "An unfinished glas-convert output; safe to delete.\n"


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
    if out.is_symlink():
        raise OutputError(f"{out}: is a symlink; give the real folder instead")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    if out.is_dir() and _has_entries(out):
        if not overwrite:
            raise OutputError(f"{out}: the output folder is not empty (use --overwrite)")
        if not (out / layout.OUTPUT_MARKER).is_file():
            raise OutputError(
                f"{out}: not written by glas-convert (no {layout.OUTPUT_MARKER} marker); "
                "refusing to overwrite it"
            )


def _has_entries(folder: Path) -> bool:
    try:
        return any(folder.iterdir())
    except OSError as exc:
        raise OutputError(f"cannot list the folder ({exc.strerror})", path=folder) from exc


def temp_sibling(out: Path, tag: str = "tmp") -> Path:
    """The hidden sibling folder used while writing ``out``."""
    return out.parent / f".{out.name}.{tag}-{os.getpid()}"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, and belongs to someone else
        return True
    return True


def stale_siblings(out: Path) -> list[Path]:
    """Leftovers of killed runs that wrote ``out``: ``.OUT.tmp-PID`` / ``.OUT.old-PID`` folders
    whose process is gone and which hold :data:`PARTIAL_TAG` or the output marker."""
    pattern = re.compile(re.escape(f".{out.name}.") + r"(?:tmp|old)-(\d+)")
    try:
        entries = sorted(out.parent.iterdir())
    except OSError:
        return []
    found = []
    for path in entries:
        match = pattern.fullmatch(path.name)
        if match is None or path.is_symlink() or not path.is_dir():
            continue
        pid = int(match.group(1))
        if pid == os.getpid() or _process_exists(pid):
            continue
        if (path / PARTIAL_TAG).is_file() or (path / layout.OUTPUT_MARKER).is_file():
            found.append(path)
    return found


def remove_stale_siblings(out: Path) -> list[Path]:
    """Remove :func:`stale_siblings` of ``out``; return what was removed."""
    removed = []
    for path in stale_siblings(out):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            removed.append(path)
    return removed


@contextmanager
def atomic_output(
    out: Path | str,
    *,
    dataset_root: Path | str | None = None,
    overwrite: bool = False,
    warnings: list[str] | None = None,
) -> Iterator[Path]:
    """Yield a temporary folder to write into; on success it becomes ``out``.

    Checks ``out`` first (see :func:`check_output_path`) and removes leftovers of killed runs
    (:func:`remove_stale_siblings`, one line each added to ``warnings``). With ``overwrite``, an
    old OUT made by glas-convert is swapped with the new one, and only then deleted. A failing
    write raises :class:`OutputError` naming the folder.
    """
    out = Path(out)
    if out.name in ("", ".", ".."):
        out = _resolved(out)
    check_output_path(
        out,
        dataset_root=Path(dataset_root) if dataset_root is not None else None,
        overwrite=overwrite,
    )
    for ancestor in out.parent.parents[::-1] + (out.parent,):
        if ancestor.exists() and not ancestor.is_dir():
            raise OutputError(f"{ancestor}: is a file, not a folder; cannot create {out}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out.parent}: cannot create the folder ({exc.strerror})") from exc
    for path in remove_stale_siblings(out):
        if warnings is not None:
            warnings.append(f"{path}: removed, left over from an interrupted run")
    tmp = temp_sibling(out)
    try:
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        (tmp / PARTIAL_TAG).write_text(PARTIAL_TEXT, encoding="utf-8")
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"{tmp}: cannot create the folder ({exc.strerror})") from exc
    try:
        yield tmp
        try:
            (tmp / PARTIAL_TAG).unlink()
            (tmp / layout.OUTPUT_MARKER).write_text(MARKER_TEXT, encoding="utf-8")
            _swap_in(tmp, out)
        except OSError as exc:
            raise OutputError(
                f"cannot finish the output ({exc.strerror or exc}); nothing was written",
                path=out,
            ) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


#: Linux renameat2() flag: swap two paths atomically.
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap folders ``a`` and ``b`` in one step; False where the system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # pragma: no cover - not Linux / old libc
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):  # pragma: no cover - e.g. old FS
        return False
    raise OSError(code, os.strerror(code), str(b))  # pragma: no cover


def _swap_in(tmp: Path, out: Path) -> None:
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    if not out.exists():
        tmp.rename(out)
        return
    if _exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old output
        return
    old = temp_sibling(out, "old")  # pragma: no cover - systems without renameat2
    out.rename(old)  # pragma: no cover
    try:  # pragma: no cover
        tmp.rename(out)
    except BaseException:  # pragma: no cover
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)  # pragma: no cover
