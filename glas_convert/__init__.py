"""glas-convert: the GlaS@MICCAI'2015 gland dataset to COCO, VOC, YOLO and PNG masks, exactly.

The Python API (docs/api.md)::

    from glas_convert import read_dataset, extract_instances, export_coco, validate

    dataset = read_dataset("Warwick_QU_Dataset")
    instances = extract_instances(dataset.samples[0].load_label_map())
    export_coco(dataset, "out/coco")
    assert validate("out/coco", dataset).ok

Names are imported on first use, so ``import glas_convert`` stays light. ``glas_convert.export``
and ``glas_convert.validate`` are the functions; their modules are reachable with
``from glas_convert.export import ...``.
"""

from __future__ import annotations

import importlib
import sys
import types
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("glas-convert")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

#: Public name -> the module that defines it.
_MODULE_OF = {
    # reading
    "read_dataset": "glas_convert.dataset",
    "parse_grade_csv": "glas_convert.dataset",
    "Dataset": "glas_convert.dataset",
    "dataset_info": "glas_convert.stats",
    "gland_stats": "glas_convert.stats",
    # the model
    "Sample": "glas_convert.model",
    "Instance": "glas_convert.model",
    "AnnotatedSample": "glas_convert.model",
    "GradeTags": "glas_convert.model",
    # label maps -> glands
    "extract_instances": "glas_convert.contours",
    "rasterize_polygons": "glas_convert.contours",
    "annotate": "glas_convert.export",
    # writing and checking
    "export": "glas_convert.export",
    "ExportSummary": "glas_convert.export",
    "export_coco": "glas_convert.api",
    "export_voc": "glas_convert.api",
    "export_yolo": "glas_convert.api",
    "export_masks": "glas_convert.api",
    "validate": "glas_convert.validate",
    "ValidationReport": "glas_convert.validate",
    "write_synthetic_dataset": "glas_convert.synth",
    # errors
    "GlasConvertError": "glas_convert.errors",
    "DatasetError": "glas_convert.errors",
    "AnnotationError": "glas_convert.errors",
    "GradeCsvError": "glas_convert.errors",
    "OptionError": "glas_convert.errors",
    "OutputError": "glas_convert.errors",
}

__all__ = [
    "__version__",
    "read_dataset",
    "parse_grade_csv",
    "Dataset",
    "dataset_info",
    "gland_stats",
    "Sample",
    "Instance",
    "AnnotatedSample",
    "GradeTags",
    "extract_instances",
    "rasterize_polygons",
    "annotate",
    "export",
    "ExportSummary",
    "export_coco",
    "export_voc",
    "export_yolo",
    "export_masks",
    "validate",
    "ValidationReport",
    "write_synthetic_dataset",
    "GlasConvertError",
    "DatasetError",
    "AnnotationError",
    "GradeCsvError",
    "OptionError",
    "OutputError",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from glas_convert.api import export_coco, export_masks, export_voc, export_yolo
    from glas_convert.contours import extract_instances, rasterize_polygons
    from glas_convert.dataset import Dataset, parse_grade_csv, read_dataset
    from glas_convert.errors import (
        AnnotationError,
        DatasetError,
        GlasConvertError,
        GradeCsvError,
        OptionError,
        OutputError,
    )
    from glas_convert.export import ExportSummary, annotate, export
    from glas_convert.model import AnnotatedSample, GradeTags, Instance, Sample
    from glas_convert.stats import dataset_info, gland_stats
    from glas_convert.synth import write_synthetic_dataset
    from glas_convert.validate import ValidationReport, validate


#: Functions named like the module that defines them. Importing ``glas_convert.export`` (the
#: module) would set ``glas_convert.export`` to the module; :class:`_Package` keeps the function.
_SHADOWING = frozenset({"export", "validate"})


class _Package(types.ModuleType):
    """This package's module type: a submodule never replaces the function of the same name."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWING and isinstance(value, types.ModuleType):
            return  # the submodule stays reachable through sys.modules and `from ... import`
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'glas_convert' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
