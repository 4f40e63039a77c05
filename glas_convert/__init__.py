"""glas-convert: the GlaS@MICCAI'2015 gland dataset to COCO, VOC, YOLO and PNG masks, exactly."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("glas-convert")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"
