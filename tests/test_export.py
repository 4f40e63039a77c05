"""The export pipeline end to end: every gland round-trips, output is repeatable and safe."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from export_support import (
    GLAS_SAMPLE,
    SKIP_NO_SAMPLE,
    glands_of,
    read_glas_sample,
    synthetic_dataset,
    tree_bytes,
)

from glas_convert import layout
from glas_convert.errors import GlasConvertError, OutputError
from glas_convert.export import export
from glas_convert.formats.yolo import YoloWriter
from glas_convert.validate import validate

ALL = ["coco", "voc", "yolo", "masks"]


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return synthetic_dataset(tmp_path_factory.mktemp("synth") / "glas")


@pytest.fixture(scope="module")
def real():
    if not GLAS_SAMPLE.is_dir():
        pytest.skip(SKIP_NO_SAMPLE)
    return read_glas_sample()


@pytest.mark.parametrize(
    "options",
    [
        {},  # COCO polygons, VOC, YOLO detect, all masks
        {"mask_format": "rle", "yolo_task": "segment", "void_border": 2},
    ],
)
def test_every_gland_round_trips_on_synthetic_data(synth, tmp_path, options):
    export(synth, tmp_path / "out", ALL, images="none", workers=1, quiet=True, **options)
    report = validate(tmp_path / "out", synth)
    assert report.ok, "\n".join(report.lines())
    assert {c.format for c in report.checks} == set(ALL)


@pytest.mark.parametrize(
    "options",
    [
        {"yolo_task": "segment"},  # exact polygons
        {"mask_format": "rle"},  # RLE
    ],
)
def test_every_gland_round_trips_on_the_real_sample(real, tmp_path, options):
    summary = export(real, tmp_path / "out", ALL, images="none", workers=2, quiet=True, **options)
    assert sum(c.glands for c in summary.splits.values()) == 110
    report = validate(tmp_path / "out", real)
    assert report.ok, "\n".join(report.lines())
    assert sum(c.exact for c in report.checks if c.format == "coco") == 110


def test_output_is_byte_identical_across_workers_and_runs(synth, tmp_path):
    trees = []
    for i, workers in enumerate([1, 2, 2]):
        out = tmp_path / f"out{i}"
        export(synth, out, ALL, workers=workers, quiet=True, yolo_task="segment")
        trees.append(tree_bytes(out))
    assert trees[0] == trees[1] == trees[2]
    assert len(trees[0]) > 50


def test_coco_counts_tags_and_boxes(synth, tmp_path):
    out = tmp_path / "coco"
    export(synth, out, ["coco"], workers=1, quiet=True)
    image_ids, ann_ids = [], []
    for split in layout.SPLITS:
        doc = json.loads((out / "annotations" / f"instances_{split}.json").read_text())
        assert doc["categories"] == [{"id": 1, "name": "gland", "supercategory": "gland"}]
        assert doc["info"]["description"] == layout.DATASET_NAME
        for image in doc["images"]:
            sample = next(s for s in synth.samples if s.name == image["name"])
            assert image["split"] == split == sample.split
            assert image["patient_id"] == sample.tags.patient_id
            assert image["grade_glas"] == sample.tags.grade_glas
            assert (out / "images" / split / image["file_name"]).read_bytes() == (
                sample.read_image_bytes()
            )
            anns = [a for a in doc["annotations"] if a["image_id"] == image["id"]]
            truth = glands_of(sample.load_label_map())
            assert len(anns) == len(truth)
            for ann, mask in zip(anns, truth, strict=True):
                ys, xs = np.nonzero(mask)
                assert ann["bbox"] == [
                    xs.min(),
                    ys.min(),
                    xs.max() - xs.min() + 1,
                    ys.max() - ys.min() + 1,
                ]
                assert ann["area"] == mask.sum()
        image_ids += [i["id"] for i in doc["images"]]
        ann_ids += [a["id"] for a in doc["annotations"]]
    assert image_ids == list(range(1, len(synth.samples) + 1))
    assert ann_ids == list(range(1, len(ann_ids) + 1))


def test_voc_layout_sets_and_tags(synth, tmp_path):
    out = tmp_path / "voc"
    export(synth, out, ["voc"], workers=1, quiet=True, image_format="jpg")
    root = out / "VOCdevkit" / "VOC2012"
    main = root / "ImageSets" / "Main"
    assert sorted(p.name for p in main.iterdir()) == [
        "test.txt",
        "train.txt",
        "trainval.txt",
        "val.txt",
    ]
    assert main.joinpath("val.txt").read_text().split() == ["testA_1", "testA_2"]
    for sample in synth.samples:
        # what torchvision's VOCDetection opens
        assert (root / "JPEGImages" / f"{sample.name}.jpg").is_file()
        xml = ET.parse(root / "Annotations" / f"{sample.name}.xml").getroot()
        assert xml.findtext("glas/patient_id") == str(sample.tags.patient_id)
        assert xml.findtext("size/depth") == "3"
        assert len(xml.findall("object")) == len(glands_of(sample.load_label_map()))


def test_yolo_empty_image_gets_empty_label_file(synth, tmp_path):
    out = tmp_path / "yolo"
    export(synth, out, ["yolo"], workers=1, quiet=True, images="none")
    assert (out / "labels" / "test_b" / "testB_2.txt").read_text() == ""
    assert not (out / "images").exists()


def test_metadata_csv_in_every_format(synth, tmp_path):
    export(synth, tmp_path / "out", ALL, workers=1, quiet=True, images="none")
    for fmt in ALL:
        with open(tmp_path / "out" / fmt / "metadata.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert [r["name"] for r in rows] == [s.name for s in synth.samples]
        assert rows[0]["grade_sirinukunwattana"] == synth.samples[0].tags.grade_sirinukunwattana


@pytest.mark.parametrize("mode", ["hardlink", "symlink"])
def test_image_links(synth, tmp_path, mode):
    out = tmp_path / "out"
    summary = export(synth, out, ["coco"], workers=1, quiet=True, images=mode)
    placed = out / "images" / "train" / "train_1.bmp"
    source = synth.samples[0].image_path
    if mode == "symlink":
        assert placed.is_symlink()
    else:
        assert placed.stat().st_ino == __import__("os").stat(source).st_ino
        assert summary.warnings == ()


def test_png_images_are_converted(synth, tmp_path):
    export(synth, tmp_path / "out", ["masks"], workers=1, quiet=True, image_format="png")
    data = (tmp_path / "out" / "images" / "train" / "train_1.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"


def test_refuses_non_empty_out(synth, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("x")
    with pytest.raises(OutputError, match="not empty"):
        export(synth, out, ["coco"], workers=1, quiet=True)


def test_a_writer_failing_midway_leaves_nothing(synth, tmp_path, monkeypatch):
    calls = []
    original = YoloWriter.write_sample

    def failing(self, out_dir, item):
        calls.append(item.sample.name)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return original(self, out_dir, item)

    monkeypatch.setattr(YoloWriter, "write_sample", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        export(synth, tmp_path / "out", ALL, workers=1, quiet=True)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"images": "symlink", "image_format": "png"}, "--images symlink cannot be combined"),
        ({"images": "move"}, "--images must be one of"),
        ({"boundary_width": 0}, "--boundary-width must be >= 1"),
        ({"workers": 0}, "--workers must be >= 1"),
    ],
)
def test_bad_options_name_the_option(synth, tmp_path, options, message):
    with pytest.raises(GlasConvertError, match=message):
        export(synth, tmp_path / "out", ["coco"], quiet=True, **options)
    assert not (tmp_path / "out").exists()


def test_split_selection(synth, tmp_path):
    summary = export(synth, tmp_path / "out", ["coco"], splits=["test_a"], workers=1, quiet=True)
    assert list(summary.splits) == ["test_a"]
    assert sorted(p.name for p in (tmp_path / "out" / "annotations").iterdir()) == [
        "instances_test_a.json"
    ]


def test_synth_release_through_the_reader_round_trips(tmp_path):
    # The package's own synthetic writer and reader, end to end, in one pass for all formats.
    from glas_convert.dataset import read_dataset
    from glas_convert.synth import write_synthetic_dataset

    write_synthetic_dataset(tmp_path / "glas", count=6, seed=3)
    summary = export(
        tmp_path / "glas",
        tmp_path / "out",
        ALL,
        workers=2,
        quiet=True,
        yolo_task="segment",
        images="hardlink",
    )
    assert sum(c.images for c in summary.splits.values()) == 6
    report = validate(tmp_path / "out", read_dataset(tmp_path / "glas"))
    assert report.ok, "\n".join(report.lines())


def test_voc_images_are_jpeg_by_default_and_the_others_keep_the_bmp(synth_dir, tmp_path):
    # torchvision's VOCDetection opens JPEGImages/NAME.jpg, so `auto` means jpg for VOC only.
    from glas_convert.export import export

    out = tmp_path / "all"
    export(synth_dir, out, ["coco", "voc"], splits=["test_b"], workers=1, quiet=True)
    voc_images = sorted(p.name for p in (out / "voc/VOCdevkit/VOC2012/JPEGImages").iterdir())
    coco_images = sorted(p.name for p in (out / "coco/images/test_b").iterdir())
    assert voc_images and all(name.endswith(".jpg") for name in voc_images)
    assert (out / "voc/VOCdevkit/VOC2012/JPEGImages" / voc_images[0]).read_bytes()[
        :2
    ] == b"\xff\xd8"
    assert coco_images == [name.replace(".jpg", ".bmp") for name in voc_images]


@pytest.mark.parametrize(
    "image_format, output_format, mode, expected",
    [
        ("auto", "voc", "copy", "jpg"),  # torchvision needs NAME.jpg
        ("auto", "voc", "none", "jpg"),  # the XML still names NAME.jpg
        ("auto", "voc", "symlink", "keep"),  # a link cannot convert
        ("auto", "coco", "copy", "keep"),  # everyone else keeps the original bytes
        ("png", "voc", "copy", "png"),  # an explicit choice wins
    ],
)
def test_resolve_image_format(image_format, output_format, mode, expected):
    from glas_convert.formats.common import resolve_image_format

    got = resolve_image_format(image_format, output_format=output_format, mode=mode)
    assert got == expected
