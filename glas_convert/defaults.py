"""The one default of every conversion option.

The library functions (:func:`glas_convert.export.export` and the ``export_*`` wrappers), the
writers and the command line all take their defaults from here, so a default cannot differ
between layers. ``--kind`` defaults to every kind, the choices themselves
(:data:`glas_convert.formats.masks.MASK_KINDS`). Only constants live here.
"""

from __future__ import annotations

#: ``--images``: how images reach the output (copy, hardlink, symlink, none).
IMAGES = "copy"
#: ``--image-format``: ``auto`` keeps the original image bytes, except for Pascal VOC, whose
#: ``JPEGImages`` readers (torchvision) open ``NAME.jpg`` only; or re-encode as png or jpg.
IMAGE_FORMAT = "auto"
#: ``--workers``: ``None`` means every core.
WORKERS: int | None = None
#: ``--tolerance``: polygon simplification in pixels; 0 keeps polygons exact.
TOLERANCE = 0.0
#: ``--mask-format`` (COCO): exact polygons (or ``rle``).
MASK_FORMAT = "polygon"
#: ``--indent`` (COCO): ``None`` writes compact JSON.
INDENT: int | None = None
#: ``--void-border`` (VOC): width in pixels of the void band; 0 paints none.
VOID_BORDER = 0
#: ``--task`` (YOLO): boxes (``detect``) or polygons (``segment``).
YOLO_TASK = "detect"
#: ``--boundary-width`` (masks): width in pixels of the boundary band.
BOUNDARY_WIDTH = 2
#: ``synth --count``: ``None`` means the release's 165 images (85/60/20).
SYNTH_COUNT: int | None = None
#: ``synth --seed``.
SYNTH_SEED = 0
