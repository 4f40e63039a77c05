"""The reader: a GlaS release (folder, Kaggle-style nested folder or .zip) -> :class:`Dataset`.

The release is a flat folder of ``NAME.bmp`` images, ``NAME_anno.bmp`` instance annotations
and ``Grade.csv`` (see :mod:`glas_convert.layout`). :func:`read_dataset` reads only file names
and image headers; pixels are decoded later, by :meth:`Sample.load_label_map` and
:func:`check_image`.

Label maps are 2-D C-contiguous numpy arrays indexed ``[row, col]`` (y before x), 0-based,
dtype uint8, uint16 or int32, 0 = background, every other value one gland.

Paths in samples and messages: for a folder, the real file path; for a zip, the display path
``ARCHIVE.zip/MEMBER`` (read the bytes with ``Sample.read_image_bytes``, never by path).
"""

from __future__ import annotations

import csv
import functools
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from glas_convert import layout
from glas_convert.errors import AnnotationError, DatasetError, GradeCsvError, OptionError
from glas_convert.model import GradeTags, Sample

#: Zip safety limits: largest member, largest total, largest compression ratio.
MAX_MEMBER_BYTES = 256 * 1024**2
MAX_TOTAL_BYTES = 4 * 1024**3
MAX_COMPRESSION_RATIO = 1000
#: Members smaller than this are never refused for their ratio (tiny files compress well).
RATIO_CHECK_MIN_BYTES = 1024**2

_IMAGE_SUFFIXES = frozenset(layout.IMAGE_SUFFIXES)


@dataclass(frozen=True)
class Dataset:
    """A read GlaS release: its samples in release order and the reader's warnings."""

    #: The release folder (or ``ARCHIVE.zip[/FOLDER]``) as a display path.
    root: str
    #: Samples ordered by split (train, test_a, test_b), then by natural name order.
    samples: tuple[Sample, ...]
    #: Non-fatal problems, one line each (missing Grade.csv, rows without images, ...).
    warnings: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.samples)

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.samples)

    def by_split(self) -> dict[str, tuple[Sample, ...]]:
        """Samples per split, in :data:`layout.SPLITS` order; splits without samples omitted."""
        groups: dict[str, list[Sample]] = {}
        for sample in self.samples:
            groups.setdefault(sample.split, []).append(sample)
        return {s: tuple(groups[s]) for s in layout.SPLITS if s in groups}

    @property
    def splits(self) -> tuple[str, ...]:
        """The splits that have samples, in release order."""
        return tuple(self.by_split())


# --------------------------------------------------------------------------------------------
# Sources: a folder or a zip, seen as a flat list of file names plus a way to read each one.


@dataclass(frozen=True)
class _Source:
    """One release folder: its file names, and how to read and name each file."""

    root: str
    names: tuple[str, ...]
    #: file name -> display path
    path_of: Callable[[str], str]
    #: file name -> zero-argument callable returning the file's bytes (picklable)
    reader_of: Callable[[str], Callable[[], bytes]]
    #: True for a zip (headers come from the member's bytes), False for a folder
    is_zip: bool = False


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise DatasetError(f"cannot read file ({e.strerror})", path=path) from e


def _read_zip_member(zip_path: str, member: str) -> bytes:
    """Read one member, refusing to return more than its declared size (zip bomb guard)."""
    display = f"{zip_path}/{member}"
    try:
        with zipfile.ZipFile(zip_path) as zf:
            info = zf.getinfo(member)
            _check_member_size(info, display)
            with zf.open(info) as f:
                data = f.read(info.file_size + 1)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        KeyError,
        EOFError,
        RuntimeError,  # encrypted member
        NotImplementedError,  # unsupported compression method
    ) as e:
        raise DatasetError(f"cannot read zip member ({e})", path=display) from e
    if len(data) > info.file_size:
        raise DatasetError("zip member is larger than its declared size; refused", path=display)
    return data


def _check_member_size(info: zipfile.ZipInfo, display: str) -> None:
    if info.file_size > MAX_MEMBER_BYTES:
        raise DatasetError(
            f"zip member declares {info.file_size} bytes, over the "
            f"{MAX_MEMBER_BYTES // 1024**2} MiB limit; refused",
            path=display,
        )
    if info.file_size >= RATIO_CHECK_MIN_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
        info.compress_size, 1
    ):
        raise DatasetError(
            f"zip member compresses more than {MAX_COMPRESSION_RATIO}:1 (zip bomb?); refused",
            path=display,
        )


def _is_glas_file(name: str) -> bool:
    stem, suffix = os.path.splitext(name)
    if suffix.lower() not in _IMAGE_SUFFIXES:
        return False
    if stem.endswith(layout.ANNOTATION_TAG):
        stem = stem[: -len(layout.ANNOTATION_TAG)]
    return layout.NAME_PATTERN.match(stem) is not None


def _folder_source(path: str) -> _Source:
    release = _find_release_folder(path)
    names = tuple(sorted(e.name for e in _entries(release) if e.is_file()))
    return _Source(
        root=release,
        names=names,
        path_of=lambda name: os.path.join(release, name),
        reader_of=lambda name: functools.partial(_read_file, os.path.join(release, name)),
    )


def _has_glas_files(folder: str) -> bool:
    return any(e.is_file() and _is_glas_file(e.name) for e in _entries(folder))


def _entries(folder: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return list(it)
    except OSError as e:
        raise DatasetError(f"cannot list folder ({e.strerror})", path=folder) from e


def _find_release_folder(path: str) -> str:
    """``path`` itself, or the one sub-folder holding GlaS files (Kaggle-style download)."""
    if _has_glas_files(path):
        return path
    subs = sorted(
        e.path for e in _entries(path) if e.is_dir() and not e.name.startswith((".", "__"))
    )
    found = [s for s in subs if _has_glas_files(s)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        names = ", ".join(os.path.basename(f) for f in found)
        raise DatasetError(f"holds several GlaS folders ({names}); pass one of them", path=path)
    raise DatasetError(_NO_IMAGES, path=path)


_NO_IMAGES = "no GlaS images found (expected files like train_1.bmp and train_1_anno.bmp)"


def _zip_source(path: str) -> _Source:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as e:
        raise DatasetError(f"corrupt or unreadable zip file ({e})", path=path) from e
    total = 0
    files: list[str] = []
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
            raise DatasetError(f"zip member {name!r} has an unsafe path; refused", path=path)
        if info.is_dir() or parts[0] == "__MACOSX":
            continue
        _check_member_size(info, f"{path}/{name}")
        total += info.file_size
        files.append(name)
    if total > MAX_TOTAL_BYTES:
        raise DatasetError(
            f"zip declares {total} bytes in all, over the {MAX_TOTAL_BYTES // 1024**3} GiB limit;"
            " refused",
            path=path,
        )
    folders = sorted({f.rpartition("/")[0] for f in files if _is_glas_file(f.rpartition("/")[2])})
    if not folders:
        raise DatasetError(_NO_IMAGES, path=path)
    if len(folders) > 1:
        raise DatasetError(f"holds several GlaS folders ({', '.join(folders)})", path=path)
    # The one folder with GlaS files may sit at any depth (downloads wrap it in folders).
    folder = folders[0]
    prefix = f"{folder}/" if folder else ""
    names = tuple(
        sorted(
            f[len(prefix) :] for f in files if f.startswith(prefix) and "/" not in f[len(prefix) :]
        )
    )
    return _Source(
        root=f"{path}/{folder}" if folder else path,
        names=names,
        path_of=lambda name: f"{path}/{prefix}{name}",
        reader_of=lambda name: functools.partial(_read_zip_member, path, prefix + name),
        is_zip=True,
    )


def _open_source(path: str | os.PathLike[str]) -> _Source:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise DatasetError("no such file or folder", path=path)
    if os.path.isdir(path):
        return _folder_source(path)
    if zipfile.is_zipfile(path) or path.lower().endswith(".zip") or _starts_with_zip_magic(path):
        return _zip_source(path)
    raise DatasetError("not a folder or a .zip file", path=path)


def _starts_with_zip_magic(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(2) == b"PK"
    except OSError:
        return False


# --------------------------------------------------------------------------------------------
# Pairing files into samples.


def natural_key(name: str) -> tuple[object, ...]:
    """Sort key putting ``train_2`` before ``train_10``."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


def _split_of(name: str) -> str:
    match = layout.NAME_PATTERN.match(name)
    if match is None:  # pragma: no cover - callers only pass matching names
        raise ValueError(f"name: {name!r} is not a GlaS sample name")
    return layout.SPLIT_OF_PREFIX[match.group(1)]


def _check_case_clashes(source: _Source) -> None:
    seen: dict[str, str] = {}
    for name in source.names:
        other = seen.setdefault(name.lower(), name)
        if other != name:
            raise DatasetError(
                f"names differ only in case: {other!r} and {name!r}; rename one",
                path=source.path_of(name),
            )


def _pair_files(source: _Source, warnings: list[str]) -> dict[str, tuple[str, str]]:
    """Sample name -> (image file name, annotation file name)."""
    images: dict[str, list[str]] = {}
    annotations: dict[str, list[str]] = {}
    for name in source.names:
        if not _is_glas_file(name):
            continue
        stem, _ = os.path.splitext(name)
        if stem.endswith(layout.ANNOTATION_TAG):
            annotations.setdefault(stem[: -len(layout.ANNOTATION_TAG)], []).append(name)
        else:
            images.setdefault(stem, []).append(name)
    if not images and not annotations:
        raise DatasetError(_NO_IMAGES, path=source.root)
    for stem in sorted(set(images) | set(annotations), key=natural_key):
        if stem not in annotations:
            raise DatasetError(
                f"image has no annotation (expected {stem}{layout.ANNOTATION_TAG}.bmp)",
                path=source.path_of(images[stem][0]),
            )
        if stem not in images:
            raise DatasetError(
                f"annotation has no image (expected {stem}{layout.IMAGE_SUFFIX})",
                path=source.path_of(annotations[stem][0]),
            )
    pairs = {}
    for stem in images:
        image = _preferred(images[stem], source, warnings)
        annotation = _preferred(annotations[stem], source, warnings)
        pairs[stem] = (image, annotation)
    return pairs


def _preferred(names: list[str], source: _Source, warnings: list[str]) -> str:
    """The file with the most preferred suffix, warning about the others."""
    ranked = sorted(
        names, key=lambda n: layout.IMAGE_SUFFIXES.index(os.path.splitext(n)[1].lower())
    )
    for other in ranked[1:]:
        warnings.append(f"{source.path_of(other)}: ignored; using {ranked[0]}")
    return ranked[0]


# --------------------------------------------------------------------------------------------
# Image headers and label maps.


def _header_size(source: _Source, name: str, what: str) -> tuple[int, int]:
    """Width and height from the file's header, without decoding pixels."""
    path = source.path_of(name)
    try:
        with Image.open(io.BytesIO(source.reader_of(name)()) if source.is_zip else path) as im:
            return im.size
    except DatasetError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        error = AnnotationError if what == "annotation" else DatasetError
        raise error(f"not a readable image ({e})", path=path) from e


def _load_label_map(read: Callable[[], bytes], path: str, width: int, height: int) -> np.ndarray:
    """Decode an annotation into a 2-D C-contiguous uint8, uint16 or int32 array.

    Accepted: 8-bit gray (``L``) and palette (``P``: the palette index is the label),
    3 equal channels (``RGB``, collapsed to one), 16-bit (``I;16*`` -> uint16) and
    32-bit integer (``I`` -> int32, no negative values). Anything else is an
    :class:`AnnotationError`.
    """
    try:
        with Image.open(io.BytesIO(read())) as im:
            im.load()
            mode = im.mode
            array = np.asarray(im)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise AnnotationError(f"truncated or unreadable annotation ({e})", path=path) from e
    if mode in ("L", "P"):
        labels = array.astype(np.uint8, copy=False)
    elif mode == "RGB":
        if not (
            np.array_equal(array[..., 0], array[..., 1])
            and np.array_equal(array[..., 0], array[..., 2])
        ):
            raise AnnotationError(
                "colour annotation (channels differ); expected a gray label map", path=path
            )
        labels = array[..., 0]
    elif mode.startswith("I;16"):
        labels = array.astype(np.uint16)
    elif mode == "I":
        labels = array.astype(np.int32, copy=False)
        if labels.size and labels.min() < 0:
            raise AnnotationError("negative label values; expected labels >= 0", path=path)
    else:
        raise AnnotationError(
            f"image mode {mode!r} is not a label map; expected 8-bit gray, 16-bit or 32-bit "
            "integer",
            path=path,
        )
    if labels.shape != (height, width):
        raise AnnotationError(
            f"annotation is {labels.shape[1]}x{labels.shape[0]} but image is {width}x{height}",
            path=path,
        )
    return np.ascontiguousarray(labels)


def check_image(sample: Sample, data: bytes | None = None) -> Image.Image:
    """Fully decode ``sample``'s image; return it (loaded) or raise :class:`DatasetError`.

    Catches truncated and corrupt images that a header read misses. Exporters call it before
    they copy or convert an image. ``data`` is the image's bytes when the caller has read them.
    """
    try:
        im = Image.open(io.BytesIO(sample.read_image_bytes() if data is None else data))
        im.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise DatasetError(f"truncated or unreadable image ({e})", path=sample.image_path) from e
    if im.size != (sample.width, sample.height):
        raise DatasetError(
            f"image is {im.size[0]}x{im.size[1]}, expected {sample.width}x{sample.height}",
            path=sample.image_path,
        )
    return im


# --------------------------------------------------------------------------------------------
# Grade.csv


_GRADE_COLUMNS = {
    "name": "name",
    "patientid": "patient_id",
    "grade(glas)": "grade_glas",
    "grade(sirinukunwattanaetal.2015)": "grade_sirinukunwattana",
}
_COLUMN_TITLES = {
    "name": "name",
    "patient_id": "patient ID",
    "grade_glas": "grade (GlaS)",
    "grade_sirinukunwattana": "grade (Sirinukunwattana et al. 2015)",
}


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def parse_grade_csv(data: bytes, *, path: str = layout.GRADE_CSV) -> dict[str, GradeTags]:
    """Parse Grade.csv into ``{sample name: GradeTags}``.

    Accepts CR (the release), LF or CRLF line endings, an optional UTF-8 BOM, blank lines and
    whitespace around values; header columns match case- and space-insensitively, in any
    order. Grades are lower-cased, and the release's misspelling
    ``moderately-to-poorly differentated`` is corrected to ``moderately-to-poorly
    differentiated`` (:data:`layout.GRADE_SPELLING_FIXES`). A malformed row raises
    :class:`GradeCsvError` naming the line.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise GradeCsvError(f"not UTF-8 text ({e.reason} at byte {e.start})", path=path) from e
    lines = [(n, line) for n, line in enumerate(re.split(r"\r\n|\r|\n", text), 1) if line.strip()]
    if not lines:
        raise GradeCsvError("empty file; expected a header line", path=path)
    header_no, header = lines[0]
    titles = [_squash(t) for t in _csv_fields(header)]
    columns: dict[str, int] = {}
    for index, title in enumerate(titles):
        field_name = _GRADE_COLUMNS.get(title)
        if field_name is not None:
            columns.setdefault(field_name, index)
    for field_name in layout.GRADE_FIELDS:
        if field_name not in columns:
            raise GradeCsvError(
                f"line {header_no}: header has no {_COLUMN_TITLES[field_name]!r} column",
                path=path,
            )
    rows: dict[str, GradeTags] = {}
    first_line: dict[str, int] = {}
    for line_no, line in lines[1:]:
        values = [v.strip() for v in _csv_fields(line)]
        if len(values) != len(titles):
            raise GradeCsvError(
                f"line {line_no}: {len(values)} columns, expected {len(titles)}", path=path
            )
        row = {f: values[i] for f, i in columns.items()}
        name = row["name"]
        if not name:
            raise GradeCsvError(f"line {line_no}: empty name", path=path)
        if name in first_line:
            raise GradeCsvError(
                f"line {line_no}: second row for {name!r} (first on line {first_line[name]})",
                path=path,
            )
        if not re.fullmatch(r"[+-]?\d+", row["patient_id"]):
            raise GradeCsvError(
                f"line {line_no}: patient ID {row['patient_id']!r} is not an integer", path=path
            )
        grade_glas = _grade(row["grade_glas"], layout.GRADES_GLAS, "grade (GlaS)", line_no, path)
        grade_sirinukunwattana = _grade(
            row["grade_sirinukunwattana"],
            layout.GRADES_SIRINUKUNWATTANA,
            "grade (Sirinukunwattana et al. 2015)",
            line_no,
            path,
        )
        first_line[name] = line_no
        rows[name] = GradeTags(int(row["patient_id"]), grade_glas, grade_sirinukunwattana)
    return rows


def _csv_fields(line: str) -> list[str]:
    return next(csv.reader([line]), [])


def _grade(value: str, allowed: Iterable[str], column: str, line_no: int, path: str) -> str:
    grade = " ".join(value.lower().split())
    grade = layout.GRADE_SPELLING_FIXES.get(grade, grade)
    allowed = tuple(allowed)
    if grade not in allowed:
        raise GradeCsvError(
            f"line {line_no}: unknown {column} {value!r}; expected one of {', '.join(allowed)}",
            path=path,
        )
    return grade


def _read_grades(
    source: _Source, names: Iterable[str], wanted: tuple[str, ...], warnings: list[str]
) -> dict[str, GradeTags]:
    csv_names = [n for n in source.names if n.lower() == layout.GRADE_CSV.lower()]
    if not csv_names:
        warnings.append(
            f"{source.path_of(layout.GRADE_CSV)}: not found; samples have no grade tags"
        )
        return {}
    path = source.path_of(csv_names[0])
    grades = parse_grade_csv(source.reader_of(csv_names[0])(), path=path)
    names = set(names)
    for name in sorted(set(grades) - names, key=natural_key):
        if layout.NAME_PATTERN.match(name) is None or _split_of(name) in wanted:
            warnings.append(f"{path}: row {name!r} has no image")
    for name in sorted(names - set(grades), key=natural_key):
        if _split_of(name) in wanted:
            warnings.append(f"{path}: no row for image {name!r}; it has no grade tags")
    return grades


# --------------------------------------------------------------------------------------------
# The reader.


def read_dataset(path: str | os.PathLike[str], *, splits: Iterable[str] | None = None) -> Dataset:
    """Read a GlaS release: a folder, a folder holding one release folder, or a .zip.

    Only names and image headers are read here; image and annotation sizes must agree.
    ``splits`` keeps only those splits (names from :data:`layout.SPLITS`); every file is still
    paired, but only the kept samples' headers are read and only their Grade.csv gaps warned.
    Raises :class:`DatasetError` (or a subclass) naming the bad file.
    """
    wanted = _check_splits(splits)
    source = _open_source(path)
    _check_case_clashes(source)
    warnings: list[str] = []
    pairs = _pair_files(source, warnings)
    all_names = set(pairs)
    grades = _read_grades(source, all_names, wanted, warnings)
    selected = sorted(
        (n for n in pairs if _split_of(n) in wanted),
        key=lambda n: (layout.SPLITS.index(_split_of(n)), natural_key(n)),
    )
    samples = tuple(_make_sample(source, name, *pairs[name], grades.get(name)) for name in selected)
    if not samples:
        warnings.append(f"{source.root}: no samples in split(s) {', '.join(wanted)}")
    return Dataset(root=source.root, samples=samples, warnings=tuple(warnings))


def _check_splits(splits: Iterable[str] | None) -> tuple[str, ...]:
    if splits is None:
        return layout.SPLITS
    if isinstance(splits, str):
        splits = (splits,)
    wanted = tuple(splits)
    for split in wanted:
        if split not in layout.SPLITS:
            raise OptionError(
                f"splits: unknown split {split!r}; expected one of {', '.join(layout.SPLITS)}"
            )
    return tuple(s for s in layout.SPLITS if s in wanted)


def _make_sample(
    source: _Source, name: str, image: str, annotation: str, tags: GradeTags | None
) -> Sample:
    image_path = source.path_of(image)
    annotation_path = source.path_of(annotation)
    read_image = source.reader_of(image)
    read_annotation = source.reader_of(annotation)
    width, height = _header_size(source, image, "image")
    anno_width, anno_height = _header_size(source, annotation, "annotation")
    if (anno_width, anno_height) != (width, height):
        raise AnnotationError(
            f"annotation is {anno_width}x{anno_height} but image is {width}x{height}",
            path=annotation_path,
        )
    return Sample(
        name=name,
        split=_split_of(name),
        image_path=image_path,
        annotation_path=annotation_path,
        width=width,
        height=height,
        tags=tags,
        read_image_bytes=read_image,
        load_label_map=functools.partial(
            _load_label_map, read_annotation, annotation_path, width, height
        ),
    )
