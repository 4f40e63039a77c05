"""Unit tests of the writers' pure helpers on tiny literal masks."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pycocotools import mask as coco_mask

from glas_convert import contours
from glas_convert.errors import OutputError
from glas_convert.formats.coco import assign_ids, coco_annotation
from glas_convert.formats.common import (
    dense_instance_map,
    edge_band,
    voc_colormap,
    write_palette_png,
    write_uint16_png,
)
from glas_convert.formats.masks import boundary_mask
from glas_convert.formats.voc import voc_bndbox, voc_masks, voc_object_element
from glas_convert.formats.yolo import (
    data_yaml,
    instance_to_yolo_line,
    parse_yolo_line,
    yolo_box,
)

# Tiny label maps, one gland or more each.
L_SHAPE = np.array(
    [
        [0, 0, 0, 0],
        [0, 3, 0, 0],
        [0, 3, 3, 0],
        [0, 0, 0, 0],
    ],
    dtype=np.uint8,
)
WITH_HOLE = np.array(
    [
        [5, 5, 5, 0],
        [5, 0, 5, 0],
        [5, 5, 5, 0],
    ],
    dtype=np.uint8,
)
TWO_PARTS = np.array(
    [
        [7, 0, 0, 7],
        [0, 0, 0, 7],
    ],
    dtype=np.uint8,
)
TOUCHING = np.array(
    [
        [1, 1, 2, 2, 2],
        [1, 1, 2, 2, 2],
    ],
    dtype=np.uint8,
)
SINGLE = np.array([[0, 0], [0, 9]], dtype=np.uint8)

MAPS = [
    pytest.param(L_SHAPE, id="l-shape"),  # concave corner
    pytest.param(WITH_HOLE, id="hole"),  # one hole, bridged in
    pytest.param(TWO_PARTS, id="two-parts"),  # one label, two 8-disconnected parts
    pytest.param(TOUCHING, id="touching"),  # two glands sharing an edge
    pytest.param(SINGLE, id="one-pixel"),  # a 1-pixel gland in a corner
]


@pytest.mark.parametrize(
    ("bbox", "expected"),
    [
        ((0, 0, 1, 1), (1, 1, 1, 1)),  # one pixel at the origin
        ((2, 3, 4, 5), (3, 4, 6, 8)),  # xmax = x + w, 1-based inclusive
    ],
)
def test_voc_bndbox_is_one_based_inclusive(bbox, expected):
    assert voc_bndbox(bbox) == expected


@pytest.mark.parametrize(
    ("bbox", "size", "expected"),
    [
        ((0, 0, 4, 2), (4, 2), (0.5, 0.5, 1.0, 1.0)),  # the whole image
        ((1, 0, 1, 1), (4, 2), (0.375, 0.25, 0.25, 0.5)),  # one pixel: centre of the pixel
    ],
)
def test_yolo_box_normalizes_pixel_extent(bbox, size, expected):
    assert yolo_box(bbox, *size) == pytest.approx(expected)


@pytest.mark.parametrize("label_map", MAPS)
def test_coco_polygons_and_rle_round_trip_exactly(label_map):
    h, w = label_map.shape
    for inst in contours.extract_instances(label_map):
        truth = label_map == inst.label
        poly = coco_annotation(label_map, inst, mask_format="polygon")
        rings = [np.asarray(p).reshape(-1, 2) for p in poly["segmentation"]]
        assert np.array_equal(contours.rasterize_polygons(rings, h, w).astype(bool), truth)
        rle = coco_annotation(label_map, inst, mask_format="rle")["segmentation"]
        decoded = coco_mask.decode({"size": rle["size"], "counts": rle["counts"].encode()})
        assert np.array_equal(decoded.astype(bool), truth)
        assert poly["area"] == int(truth.sum())
        ys, xs = np.nonzero(truth)
        assert poly["bbox"] == [
            xs.min(),
            ys.min(),
            xs.max() - xs.min() + 1,
            ys.max() - ys.min() + 1,
        ]
        assert poly["iscrowd"] == 0


@pytest.mark.parametrize("label_map", MAPS)
def test_yolo_segment_line_round_trips_after_denormalizing(label_map):
    h, w = label_map.shape
    for inst in contours.extract_instances(label_map):
        line = instance_to_yolo_line(inst, w, h, task="segment")
        cls, values = parse_yolo_line(line)
        assert cls == 0
        ring = values.reshape(-1, 2) * [w, h]
        mask = contours.rasterize_polygons([ring], h, w).astype(bool)
        assert np.array_equal(mask, label_map == inst.label)


@settings(max_examples=60, deadline=None)
@given(
    width=st.integers(1, 5000),
    height=st.integers(1, 5000),
    data=st.data(),
)
def test_yolo_six_decimals_recover_integer_vertices(width, height, data):
    # Any integer vertex in [0, W] x [0, H] comes back within 0.05 px of itself.
    x = data.draw(st.integers(0, width))
    y = data.draw(st.integers(0, height))
    text = f"{x / width:.6f} {y / height:.6f}"
    back = np.array([float(v) for v in text.split()]) * [width, height]
    assert np.all(np.abs(back - [x, y]) < 0.05)


def test_yolo_detect_line_format():
    inst = contours.extract_instances(L_SHAPE)[0]
    assert instance_to_yolo_line(inst, 4, 4, task="detect") == (
        "0 0.500000 0.500000 0.500000 0.500000"
    )


def test_voc_object_element_marks_border_glands_truncated():
    inner, corner = contours.extract_instances(L_SHAPE)[0], contours.extract_instances(SINGLE)[0]
    assert voc_object_element(inner).findtext("truncated") == "0"
    el = voc_object_element(corner)
    assert el.findtext("truncated") == "1"
    assert el.findtext("name") == "gland"
    assert [el.findtext(f"bndbox/{t}") for t in ("xmin", "ymin", "xmax", "ymax")] == [
        "2",
        "2",
        "2",
        "2",
    ]
    ET.tostring(el)  # serializes


@pytest.mark.parametrize(
    ("dense", "width", "expected"),
    [
        # a 3x3 gland: width 1 marks its ring, the centre stays interior
        (
            np.pad(np.ones((3, 3), np.int32), 1),
            1,
            np.pad(np.ones((3, 3), bool), 1) & ~np.pad(np.pad(np.ones((1, 1), bool), 1), 1),
        ),
        # a gland filling the image: the image border is not a boundary
        (np.ones((3, 3), np.int32), 1, np.zeros((3, 3), bool)),
        # two touching glands: both sides of the shared edge are boundary
        (np.array([[1, 1, 2, 2]], np.int32), 1, np.array([[False, True, True, False]])),
        # width 0 marks nothing
        (np.array([[1, 0]], np.int32), 0, np.array([[False, False]])),
    ],
)
def test_edge_band(dense, width, expected):
    assert np.array_equal(edge_band(dense, width), expected)


def test_boundary_mask_values():
    dense = np.array([[1, 1, 1, 2, 2, 2, 0]], np.int32)
    assert boundary_mask(dense, 1).tolist() == [[1, 1, 2, 2, 1, 2, 0]]


def test_dense_instance_map_numbers_labels_in_order():
    lm = np.array([[0, 9, 4], [4, 0, 200]], dtype=np.uint8)
    assert dense_instance_map(lm, [4, 9, 200]).tolist() == [[0, 2, 1], [1, 0, 3]]
    assert dense_instance_map(lm.astype(np.int32), [4, 9, 200]).tolist() == [[0, 2, 1], [1, 0, 3]]


def test_voc_masks_class_object_and_void():
    insts = contours.extract_instances(TOUCHING)
    cls, obj = voc_masks(TOUCHING, insts)
    assert cls.tolist() == [[1] * 5] * 2
    assert obj.tolist() == [[1, 1, 2, 2, 2]] * 2
    cls, obj = voc_masks(TOUCHING, insts, void_border=1)
    assert obj.tolist() == [[1, 255, 255, 2, 2]] * 2
    assert cls.tolist() == [[1, 255, 255, 1, 1]] * 2


def test_voc_masks_refuse_more_than_254_glands():
    lm = np.arange(1, 256, dtype=np.int32).reshape(1, -1)
    with pytest.raises(OutputError, match="at most 254"):
        voc_masks(lm, contours.extract_instances(lm))


def test_palette_png_keeps_indices_and_voc_colors(tmp_path):
    indices = np.array([[0, 1], [255, 1]], dtype=np.uint8)
    write_palette_png(tmp_path / "m.png", indices)
    with Image.open(tmp_path / "m.png") as im:
        assert im.mode == "P"
        assert np.array_equal(np.array(im), indices)
        assert im.getpalette()[3:6] == [128, 0, 0]
    assert voc_colormap()[255].tolist() == [224, 224, 192]


def test_uint16_png_keeps_values(tmp_path):
    values = np.array([[0, 1], [300, 65535]], dtype=np.uint16)
    write_uint16_png(tmp_path / "i.png", values)
    with Image.open(tmp_path / "i.png") as im:
        assert np.array_equal(np.array(im), values)


def test_coco_ids_are_unique_across_splits_in_sample_order():
    records = [
        ("train", {"file_name": "a"}, [{"area": 1}, {"area": 2}]),
        ("test_a", {"file_name": "b"}, []),
        ("test_a", {"file_name": "c"}, [{"area": 3}]),
    ]
    grouped = assign_ids(records)
    assert [i["id"] for i in grouped["train"][0]] == [1]
    assert [(a["id"], a["image_id"]) for a in grouped["train"][1]] == [(1, 1), (2, 1)]
    assert [i["id"] for i in grouped["test_a"][0]] == [2, 3]
    assert [(a["id"], a["image_id"]) for a in grouped["test_a"][1]] == [(3, 3)]


def test_data_yaml_maps_splits_and_has_no_path_key():
    text = data_yaml(["train", "test_a", "test_b"])
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == [
        "train: images/train",
        "val: images/test_a",
        "test: images/test_b",
        "nc: 1",
        "names:",
        "  0: gland",
    ]
