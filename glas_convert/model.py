"""The one in-memory model between reading and writing.

The reader makes a :class:`Sample` per image; the contour core turns its label map into
:class:`Instance` objects; an :class:`AnnotatedSample` carries both to the writers, which only
consume it. Writers never read raw files or trace contours themselves.

Coordinates (see :mod:`glas_convert.contours`): polygons are in pixel-corner coordinates,
x before y, 0-based: pixel ``(col, row)`` covers ``[col, col+1] x [row, row+1]``. This is the
COCO convention. Boxes are the pixel extent ``(x, y, w, h)`` with ``w = x_max - x_min + 1``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class GradeTags:
    """One row of Grade.csv."""

    patient_id: int
    grade_glas: str
    grade_sirinukunwattana: str


@dataclass(frozen=True)
class Sample:
    """One image of the release, with its annotation loaded on demand."""

    name: str
    split: str
    image_path: str
    annotation_path: str
    width: int
    height: int
    tags: GradeTags | None
    #: Returns the raw bytes of the image file (works for folders and zip members alike).
    read_image_bytes: Callable[[], bytes] = field(repr=False, compare=False)
    #: Returns the 2-D integer label map (uint8, uint16 or int32), 0 = background.
    load_label_map: Callable[[], np.ndarray] = field(repr=False, compare=False)

    @property
    def image_suffix(self) -> str:
        """The image file's suffix, such as ``.bmp``."""
        dot = self.image_path.rfind(".")
        return self.image_path[dot:].lower() if dot >= 0 else ""

    def tag_dict(self) -> dict[str, object]:
        """The GlaS tags as a flat dict (empty values when Grade.csv had no row)."""
        return {
            "split": self.split,
            "patient_id": self.tags.patient_id if self.tags else None,
            "grade_glas": self.tags.grade_glas if self.tags else None,
            "grade_sirinukunwattana": self.tags.grade_sirinukunwattana if self.tags else None,
        }


@dataclass(frozen=True)
class Instance:
    """One gland: every pixel of one label value in one image."""

    #: The label value in the annotation.
    label: int
    #: Pixel count of the mask.
    area: int
    #: Pixel extent ``(x, y, w, h)``; ``w = x_max - x_min + 1``.
    bbox: tuple[int, int, int, int]
    #: One closed ring per part, float64 ``(K, 2)`` arrays of ``(x, y)`` pixel-corner points,
    #: with the part's holes joined in through zero-width bridges. Not repeated at the end.
    polygons: tuple[np.ndarray, ...]
    #: Number of 8-connected parts.
    num_parts: int
    #: Number of holes over all parts.
    num_holes: int
    #: Whether the gland touches the image border.
    touches_border: bool

    @property
    def has_holes(self) -> bool:
        return self.num_holes > 0

    @property
    def num_vertices(self) -> int:
        return sum(len(p) for p in self.polygons)


@dataclass(frozen=True)
class AnnotatedSample:
    """A sample with its label map and its instances, in label order."""

    sample: Sample
    label_map: np.ndarray
    instances: tuple[Instance, ...]
