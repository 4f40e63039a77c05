"""The Python API as a notebook uses it: `from glas_convert import ...`, on a synthetic release."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import click
import numpy as np
import pytest

import glas_convert
from glas_convert import (
    AnnotatedSample,
    GlasConvertError,
    Instance,
    Sample,
    annotate,
    dataset_info,
    export,
    export_coco,
    export_masks,
    export_voc,
    export_yolo,
    extract_instances,
    rasterize_polygons,
    read_dataset,
    validate,
    write_synthetic_dataset,
)
from glas_convert.cli import cli


def test_import_is_light():
    # A fresh interpreter: importing the package must not pull in numpy, OpenCV or pycocotools.
    code = (
        "import sys, glas_convert; "
        "print(sorted(m for m in ('numpy', 'cv2', 'pycocotools', 'PIL') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_resolves():
    for name in glas_convert.__all__:
        assert getattr(glas_convert, name) is not None, name
    assert sorted(set(glas_convert.__all__)) == sorted(glas_convert.__all__)  # no repeats
    with pytest.raises(AttributeError):
        glas_convert.no_such_name  # noqa: B018


def test_export_and_validate_stay_functions_after_their_modules_are_imported():
    import glas_convert.export
    import glas_convert.validate  # noqa: F401

    assert glas_convert.export is export and callable(export)
    assert glas_convert.validate is validate and callable(validate)
    from glas_convert.export import ExportSummary  # the module is still importable

    assert ExportSummary.__name__ == "ExportSummary"


def test_notebook_flow_read_trace_export_validate(tmp_path):
    # A small synthetic release, read back like the real one.
    summary = write_synthetic_dataset(tmp_path / "glas", count=4, seed=3)
    dataset = read_dataset(tmp_path / "glas")
    assert len(dataset) == summary.images == 4
    assert dataset.splits == ("train", "test_a", "test_b")
    sample = dataset.samples[0]
    assert isinstance(sample, Sample) and sample.split == "train"

    # One sample's label map -> its glands, in label order.
    label_map = sample.load_label_map()
    instances = extract_instances(label_map)
    labels = [int(v) for v in np.unique(label_map) if v != 0]
    assert [i.label for i in instances] == labels
    assert all(isinstance(i, Instance) for i in instances)
    assert sum(i.area for i in instances) == np.count_nonzero(label_map)
    for inst in instances:
        mask = rasterize_polygons(inst.polygons, sample.height, sample.width)
        np.testing.assert_array_equal(mask.astype(bool), label_map == inst.label)
        ys, xs = np.nonzero(label_map == inst.label)
        assert inst.bbox == (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)

    item = annotate(sample)
    assert isinstance(item, AnnotatedSample)
    assert [i.label for i in item.instances] == labels

    # COCO export of the whole dataset, then an exact round trip.
    out = tmp_path / "coco"
    result = export_coco(dataset, out, workers=1, quiet=True)
    total_glands = sum(c.glands for c in result.splits.values())
    assert total_glands == summary.glands
    assert {s: c.images for s, c in result.splits.items()} == summary.images_per_split
    train = json.loads((out / "annotations" / "instances_train.json").read_text())
    first = next(im for im in train["images"] if im["name"] == sample.name)
    anns = [a for a in train["annotations"] if a["image_id"] == first["id"]]
    assert [a["area"] for a in anns] == [i.area for i in instances]
    assert [tuple(a["bbox"]) for a in anns] == [i.bbox for i in instances]
    for ann, inst in zip(anns, instances, strict=True):
        rings = [np.asarray(p).reshape(-1, 2) for p in ann["segmentation"]]
        mask = rasterize_polygons(rings, sample.height, sample.width)
        np.testing.assert_array_equal(mask.astype(bool), label_map == inst.label)

    report = validate(out, dataset)
    assert report.ok
    assert sum(c.exact for c in report.checks) == summary.glands


@pytest.mark.parametrize(
    ("function", "options", "marker"),
    [
        # each wrapper with its own option set away from the default
        (export_voc, {"void_border": 0, "images": "none"}, "VOCdevkit/VOC2012/labelmap.txt"),
        (export_yolo, {"yolo_task": "segment", "images": "none"}, "data.yaml"),
        (export_masks, {"mask_kinds": ["instance"], "images": "none"}, "masks/instance"),
        (export_coco, {"mask_format": "rle", "splits": ["test_a"]}, "images/test_a"),
    ],
)
def test_each_wrapper_round_trips(synth_dir, tmp_path, function, options, marker):
    out = tmp_path / "out"
    summary = function(synth_dir, out, workers=1, quiet=True, **options)
    assert summary.formats == (function.__name__.removeprefix("export_"),)
    assert (out / marker).exists()
    assert (out / "metadata.csv").is_file()
    assert validate(out, synth_dir).ok


def test_wrappers_refuse_options_of_other_formats(synth_dir, tmp_path):
    with pytest.raises(TypeError, match="void_border"):
        export_coco(synth_dir, tmp_path / "out", void_border=2)
    assert not (tmp_path / "out").exists()


def test_library_errors_are_glas_convert_errors(tmp_path):
    with pytest.raises(GlasConvertError, match="no such file or folder"):
        read_dataset(tmp_path / "missing")


def test_dataset_info_counts_the_glands(synth_dir):
    dataset = read_dataset(synth_dir)
    figures = dataset_info(dataset)
    glands = sum(len(extract_instances(s.load_label_map())) for s in dataset)
    assert figures["total"]["glands"] == glands
    assert figures["total"]["images"] == len(dataset) == 9


def _cli_defaults() -> dict[str, object]:
    """Default of every option of every conversion command, by parameter name."""
    found: dict[str, object] = {}
    for name in ("coco", "voc", "yolo", "masks", "all"):
        for param in cli.commands[name].params:
            if isinstance(param, click.Option) and not param.multiple and not param.is_flag:
                previous = found.setdefault(param.name, param.default)
                assert previous == param.default, f"{name} --{param.name}: two defaults"
    return found


def test_cli_and_library_share_one_default_per_option():
    library = {
        name: p.default
        for name, p in inspect.signature(export).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    for wrapper in (export_coco, export_voc, export_yolo, export_masks):
        for name, p in inspect.signature(wrapper).parameters.items():
            if p.default is not inspect.Parameter.empty:
                assert p.default == library[name], f"{wrapper.__name__}({name})"
    cli_defaults = _cli_defaults()
    assert set(cli_defaults) - {"splits"} <= set(library)
    for name, default in cli_defaults.items():
        assert default == library[name], f"--{name}: CLI {default!r}, library {library[name]!r}"


def test_synth_cli_and_library_share_their_defaults():
    library = inspect.signature(write_synthetic_dataset).parameters
    for param in cli.commands["synth"].params:
        if isinstance(param, click.Option) and not param.is_flag and param.name in library:
            assert param.default == library[param.name].default, f"synth --{param.name}"


def test_bad_split_and_synth_options_are_option_errors(tmp_path):
    # Library callers get the same error class as the CLI's options: OptionError.
    from glas_convert.errors import OptionError

    with pytest.raises(OptionError, match="unknown split 'val'"):
        glas_convert.read_dataset(tmp_path, splits=["val"])
    with pytest.raises(OptionError, match="seed: must be >= 0"):
        glas_convert.write_synthetic_dataset(tmp_path / "s", count=3, seed=-1)
