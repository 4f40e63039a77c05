"""One module per output format; each holds small pure helpers and one writer object.

Every writer has the same three steps, called by :mod:`glas_convert.export`:

- ``prepare(out_dir, splits)`` in the main process: make the folders;
- ``write_sample(out_dir, item)`` in a worker: write the per-image files and return a small
  picklable record;
- ``finish(out_dir, records)`` in the main process, with the records in sample order: write the
  files that cover the whole dataset (JSON, set lists, data.yaml).
"""

from __future__ import annotations

from glas_convert.formats.coco import CocoWriter
from glas_convert.formats.masks import MasksWriter
from glas_convert.formats.voc import VocWriter
from glas_convert.formats.yolo import YoloWriter

#: Format name (as on the command line) -> writer class.
WRITERS = {"coco": CocoWriter, "voc": VocWriter, "yolo": YoloWriter, "masks": MasksWriter}
FORMATS = tuple(WRITERS)

__all__ = ["FORMATS", "WRITERS", "CocoWriter", "MasksWriter", "VocWriter", "YoloWriter"]
