"""Pieces every writer shares: placing images, the metadata.csv sidecar, palettes, PNG files.

Nothing here knows about coordinates; see each format module for its convention.
"""

from __future__ import annotations

import csv
import errno
import functools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from glas_convert import defaults, layout
from glas_convert.errors import OutputError
from glas_convert.model import AnnotatedSample, Sample

#: How images reach the output.
IMAGE_MODES = ("copy", "hardlink", "symlink", "none")
#: Which file format the output images have; ``keep`` keeps the original bytes; ``auto`` is
#: ``keep``, but ``jpg`` for VOC (see :func:`resolve_image_format`).
IMAGE_FORMATS = ("auto", "keep", "png", "jpg")
#: Quality of JPEG images written with ``--image-format jpg``.
JPEG_QUALITY = 95

#: Columns of metadata.csv, in file order.
METADATA_FIELDS = (
    "name",
    "split",
    "file",
    "width",
    "height",
    "patient_id",
    "grade_glas",
    "grade_sirinukunwattana",
    "glands",
)

#: GlaS split -> the train/val/test role that VOC and YOLO know.
ROLE_OF_SPLIT = {"train": "train", "test_a": "val", "test_b": "test"}


def split_order(split: str) -> tuple[int, str]:
    """Sort key of split names: the GlaS splits in release order, then any other by name."""
    return (layout.SPLITS.index(split) if split in layout.SPLITS else len(layout.SPLITS), split)


def resolve_image_format(image_format: str, *, output_format: str, mode: str) -> str:
    """The concrete image format (keep, png or jpg) one output format gets for ``auto``.

    VOC's ``JPEGImages`` is read as ``NAME.jpg`` by torchvision, so ``auto`` means ``jpg``
    there, unless images are linked (a link cannot convert the image) or not written.
    """
    if image_format != "auto":
        return image_format
    if output_format == "voc" and mode in ("copy", "none"):
        return "jpg"
    return "keep"


@dataclass(frozen=True)
class ImageOptions:
    """How a writer places images: ``mode`` in IMAGE_MODES, ``image_format`` in IMAGE_FORMATS."""

    mode: str = defaults.IMAGES
    image_format: str = defaults.IMAGE_FORMAT


@dataclass(frozen=True)
class SampleRecord:
    """What every writer returns per image, at the least: enough for metadata.csv."""

    name: str
    split: str
    file: str
    width: int
    height: int
    tags: dict[str, object]
    glands: int
    #: True when a hard link was asked for but the image had to be copied.
    link_fell_back: bool = False


def image_file_name(sample: Sample, image_format: str) -> str:
    """The output image's file name: the sample name with the kept or the new suffix."""
    if image_format == "keep":
        return sample.name + (sample.image_suffix or ".bmp")
    return f"{sample.name}.{image_format}"


def encode_image(data: bytes, image_format: str, *, path: object = None) -> bytes:
    """Re-encode image bytes as PNG or JPEG (deterministic for equal input).

    ``path`` names the source image in error messages.
    """
    pixels = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None:
        raise OutputError(f"cannot decode the image to convert it to {image_format}", path=path)
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if image_format == "jpg" else []
    ok, buf = cv2.imencode("." + image_format, pixels, params)
    if not ok:
        raise OutputError(f"cannot encode the image as {image_format}", path=path)
    return buf.tobytes()


@functools.lru_cache(maxsize=1)
def _encoded_once(data: bytes, image_format: str, path: object) -> bytes:
    """:func:`encode_image`, made once when several formats of one run place the same image."""
    return encode_image(data, image_format, path=path)


def place_image(sample: Sample, dest: Path, options: ImageOptions) -> bool:
    """Put ``sample``'s image at ``dest`` as ``options`` say; True if a hard link fell back."""
    if options.mode == "none":
        return False
    if options.image_format != "keep" and sample.image_suffix != "." + options.image_format:
        data = _encoded_once(sample.read_image_bytes(), options.image_format, sample.image_path)
        dest.write_bytes(data)
        return False
    source = Path(sample.image_path)
    if options.mode == "symlink":
        if not source.is_file():
            raise OutputError(f"{source}: cannot symlink to an image that is not a plain file")
        os.symlink(source.resolve(), dest)
        return False
    if options.mode == "hardlink":
        try:
            os.link(source, dest)
            return False
        except OSError as exc:
            if exc.errno not in (
                errno.EXDEV,
                errno.EPERM,
                errno.EMLINK,
                errno.ENOENT,
                errno.ENOTDIR,
                errno.ENOTSUP,
                errno.EACCES,
            ):
                raise
            dest.write_bytes(sample.read_image_bytes())
            return True
    dest.write_bytes(sample.read_image_bytes())
    return False


def write_metadata_csv(path: Path, records: Iterable[SampleRecord]) -> None:
    """Write the metadata.csv sidecar: one row per image, in sample order."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(METADATA_FIELDS)
        for r in records:
            writer.writerow(
                [
                    r.name,
                    r.split,
                    r.file,
                    r.width,
                    r.height,
                    "" if r.tags.get("patient_id") is None else r.tags["patient_id"],
                    r.tags.get("grade_glas") or "",
                    r.tags.get("grade_sirinukunwattana") or "",
                    r.glands,
                ]
            )


def voc_colormap(n: int = 256) -> np.ndarray:
    """The Pascal VOC color map: ``(n, 3)`` uint8, index 0 black, 1 dark red, 255 cream."""
    cmap = np.zeros((n, 3), dtype=np.uint8)
    for i in range(n):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        cmap[i] = (r, g, b)
    return cmap


_VOC_PALETTE = voc_colormap().ravel().tolist()


def write_palette_png(path: Path, indices: np.ndarray) -> None:
    """Write a uint8 index image as a palette PNG with the VOC color map."""
    if indices.dtype != np.uint8:
        raise ValueError(f"palette PNG needs uint8 indices, got {indices.dtype}")
    height, width = indices.shape
    image = Image.frombytes("P", (width, height), np.ascontiguousarray(indices).tobytes())
    image.putpalette(_VOC_PALETTE)
    image.save(path, format="PNG")


def write_uint16_png(path: Path, values: np.ndarray) -> None:
    """Write a 16-bit grayscale PNG."""
    ok, buf = cv2.imencode(".png", values.astype(np.uint16, copy=False))
    if not ok:
        raise OutputError(f"{path}: cannot encode 16-bit PNG")
    path.write_bytes(buf.tobytes())


def dense_instance_map(label_map: np.ndarray, labels: Sequence[int]) -> np.ndarray:
    """Map each label in ``labels`` to its 1-based position, every other value to 0 (int32)."""
    lut_keys = np.asarray(labels, dtype=np.int64)
    out = np.zeros(label_map.shape, dtype=np.int32)
    if len(lut_keys) == 0:
        return out
    if label_map.dtype in (np.uint8, np.uint16):
        lut = np.zeros(np.iinfo(label_map.dtype).max + 1, dtype=np.int32)
        lut[lut_keys] = np.arange(1, len(lut_keys) + 1, dtype=np.int32)
        return lut[label_map]
    flat = label_map.astype(np.int64, copy=False)
    order = np.argsort(lut_keys, kind="stable")
    sorted_keys = lut_keys[order]
    pos = np.searchsorted(sorted_keys, flat)
    pos_clipped = np.minimum(pos, len(sorted_keys) - 1)
    hit = sorted_keys[pos_clipped] == flat
    out[hit] = (order[pos_clipped] + 1)[hit]
    return out


def edge_band(dense: np.ndarray, width: int) -> np.ndarray:
    """Bool mask of labelled pixels within ``width`` px (square window) of a different value.

    Background counts as a different value; the image border does not. ``dense`` is an integer
    map with 0 = background.
    """
    if width <= 0:
        return np.zeros(dense.shape, dtype=bool)
    kernel = np.ones((2 * width + 1, 2 * width + 1), dtype=np.uint8)
    if dense.max(initial=0) < 65536:
        src = dense.astype(np.uint16)
    else:
        src = dense.astype(np.float32)
    hi = cv2.dilate(src, kernel, borderType=cv2.BORDER_REPLICATE)
    lo = cv2.erode(src, kernel, borderType=cv2.BORDER_REPLICATE)
    return (dense > 0) & ((hi != src) | (lo != src))


@dataclass(frozen=True)
class Record:
    """What ``write_sample`` returns: the metadata.csv row and the writer's own payload."""

    meta: SampleRecord
    data: object = None


def sample_record(
    sample: Sample, *, file: str, glands: int, link_fell_back: bool = False
) -> SampleRecord:
    """The metadata.csv row of one sample; ``file`` is relative to the format's folder."""
    return SampleRecord(
        name=sample.name,
        split=sample.split,
        file=file,
        width=sample.width,
        height=sample.height,
        tags=sample.tag_dict(),
        glands=glands,
        link_fell_back=link_fell_back,
    )


def place_sample_image(
    out_dir: Path, folder: str, item: AnnotatedSample, options: ImageOptions
) -> tuple[str, SampleRecord]:
    """Place ``item``'s image in ``out_dir/folder``; its file name and its metadata.csv row."""
    sample = item.sample
    file_name = image_file_name(sample, options.image_format)
    fell_back = place_image(sample, out_dir / folder / file_name, options)
    meta = sample_record(
        sample, file=f"{folder}/{file_name}", glands=len(item.instances), link_fell_back=fell_back
    )
    return file_name, meta


def make_split_dirs(root: Path, splits: Iterable[str]) -> None:
    """Make ``root/{split}`` for each split."""
    for split in splits:
        (root / split).mkdir(parents=True, exist_ok=True)
