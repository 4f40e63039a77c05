"""The contour core: every polygon rasterizes back to its mask through pycocotools."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image
from pycocotools import mask as coco_mask

from glas_convert import contours

SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "glas-sample"
needs_sample = pytest.mark.skipif(
    not SAMPLE.is_dir(), reason="../shared/glas-sample is absent (it is not part of the repo)"
)


def assert_exact(label_map: np.ndarray, instances) -> None:
    """Each instance's polygons, rasterized full-frame by pycocotools, equal its mask."""
    height, width = label_map.shape
    assert [i.label for i in instances] == sorted(int(v) for v in np.unique(label_map) if v)
    for instance in instances:
        mask = (label_map == instance.label).astype(np.uint8)
        got = contours.rasterize_polygons(instance.polygons, height, width)
        assert np.array_equal(got, mask), f"label {instance.label} is not exact"
        assert instance.area == int(mask.sum())
        rows, cols = np.nonzero(mask)
        x, y = cols.min(), rows.min()
        assert instance.bbox == (x, y, cols.max() - x + 1, rows.max() - y + 1)
        for ring in instance.polygons:
            assert ring.shape[0] >= 3
            assert np.array_equal(ring, np.round(ring)), "vertices lie on pixel corners"


def grid(text: str) -> np.ndarray:
    return np.array([[int(c) for c in line] for line in text.split()], dtype=np.uint8)


CASES = [
    # (label map, parts, holes) per label value
    ("1", {1: (1, 0)}),  # one pixel filling the whole image
    ("000 010 000", {1: (1, 0)}),  # a 1-px gland
    ("0000 0110 0000", {1: (1, 0)}),  # a 2-px gland
    ("100 010 001", {1: (1, 0)}),  # pixels touching only diagonally are one part
    ("10 01", {1: (1, 0)}),  # diagonal pair in the corners of the image
    ("111 101 111", {1: (1, 1)}),  # a one-pixel hole, touching every border
    ("11111 10001 10201 10001 11111", {1: (1, 1), 2: (1, 0)}),  # another gland inside a hole
    ("11111 10001 10101 10001 11111", {1: (2, 1)}),  # own island inside its hole
    ("1001 0000 1001", {1: (4, 0)}),  # four parts in the four corners
    ("1212 2121 1212", {1: (1, 1), 2: (1, 1)}),  # checkerboard: each encloses one of the other
    ("110 011 001", {1: (1, 0)}),  # staircase
    ("1111 1001 1011 1111", {1: (1, 1)}),  # L-shaped hole
    ("010 101 010", {1: (1, 1)}),  # diamond of diagonal pixels: its centre is a hole
]


@pytest.mark.parametrize("text, expected", CASES)
def test_literal_masks_are_exact(text, expected):
    label_map = grid(text)
    instances = contours.extract_instances(label_map, verify=True)
    assert_exact(label_map, instances)
    assert {i.label: (i.num_parts, i.num_holes) for i in instances} == expected


def test_border_touching_flag():
    label_map = grid("1000 0000 0020 0000")
    one, two = contours.extract_instances(label_map)
    assert one.touches_border and not two.touches_border


def test_empty_and_all_foreground_maps():
    assert contours.extract_instances(np.zeros((5, 7), np.uint8)) == ()
    full = np.full((4, 6), 9, np.uint16)
    (only,) = contours.extract_instances(full)
    assert only.area == 24 and only.bbox == (0, 0, 6, 4)
    assert only.polygons[0].tolist() == [[0, 0], [0, 4], [6, 4], [6, 0]]


def test_more_than_255_labels_in_uint16():
    rng = np.random.default_rng(3)
    label_map = np.zeros((60, 60), np.uint16)
    values = rng.permutation(np.arange(1, 3001))[:900]
    label_map.ravel()[rng.permutation(3600)[:900]] = values
    instances = contours.extract_instances(label_map, verify=True)
    assert len(instances) == 900
    assert_exact(label_map, instances)


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="2-D integer array"):
        contours.extract_instances(np.zeros((3, 3), np.float32))
    with pytest.raises(ValueError, match="tolerance must be >= 0"):
        contours.extract_instances(np.zeros((3, 3), np.uint8), tolerance=-1)


def test_input_is_not_modified():
    label_map = grid("0110 1111 0110")
    before = label_map.copy()
    contours.extract_instances(label_map)
    assert np.array_equal(label_map, before)


label_maps = arrays(
    np.uint8,
    st.tuples(st.integers(1, 14), st.integers(1, 14)),
    elements=st.integers(0, 4),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(label_maps)
def test_random_label_maps_are_exact(label_map):
    assert_exact(label_map, contours.extract_instances(label_map, verify=False))


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0.2, 0.5, 0.8]))
def test_random_blobs_are_exact(seed, density):
    # Smoothed noise makes blob-like glands with long slanted edges, holes and touching labels.
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.random((48, 64)).astype(np.float32), (0, 0), 2.5)
    labels = rng.integers(1, 6, size=(48, 64)).astype(np.uint8)
    labels = cv2.resize(labels[::8, ::8], (64, 48), interpolation=cv2.INTER_NEAREST)
    label_map = np.where(noise > np.quantile(noise, 1 - density), labels, 0).astype(np.uint8)
    assert_exact(label_map, contours.extract_instances(label_map, verify=False))


def toggles_to_mask(column, row, height, width):
    flips = np.bincount(column * height + row, minlength=height * width + 1)[: height * width]
    return (np.cumsum(flips % 2) % 2).reshape(width, height).T.astype(np.uint8)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=3, max_size=8))
def test_dda_emulation_matches_pycocotools(points):
    # The emulated toggles of a closed polygon give pycocotools' mask, unless a tie is flagged.
    xy = np.array(points, dtype=np.int64)
    x0, y0 = xy[:, 0], xy[:, 1]
    _, column, row, tie = contours.dda_toggles(x0, y0, np.roll(x0, -1), np.roll(y0, -1))
    rle = coco_mask.frPyObjects([xy.astype(float).ravel().tolist()], 20, 20)
    expected = contours.decode_rle(rle)[:, :, 0]
    if not tie.any():
        assert np.array_equal(toggles_to_mask(column, row, 20, 20), expected)


def test_encodings_round_trip():
    label_map = grid("0000000 0111110 0100010 0101010 0111110 0000022")
    instances = contours.extract_instances(label_map)
    for instance in instances:
        mask = (label_map == instance.label).astype(np.uint8)
        rle = contours.coco_rle(label_map, instance)
        assert rle["size"] == [6, 7]
        decoded = contours.decode_rle({"size": rle["size"], "counts": rle["counts"].encode()})
        assert np.array_equal(decoded, mask)
        flat = contours.coco_segmentation(instance)
        assert np.array_equal(
            contours.decode_rle(coco_mask.merge(coco_mask.frPyObjects(flat, 6, 7))), mask
        )
        ring = contours.joined_ring(instance)
        assert np.array_equal(contours.rasterize_polygons([ring], 6, 7), mask)
        x, y, w, h = instance.bbox
        assert np.array_equal(
            contours.instance_mask(label_map, instance), mask[y : y + h, x : x + w]
        )


def test_tolerance_simplifies_and_stays_close():
    yy, xx = np.mgrid[:80, :80]
    label_map = (((xx - 40) ** 2 + (yy - 38) ** 2) < 30**2).astype(np.uint8)
    exact = contours.extract_instances(label_map)[0]
    rough = contours.extract_instances(label_map, tolerance=1.0)[0]
    assert rough.num_vertices < exact.num_vertices
    got = contours.rasterize_polygons(rough.polygons, 80, 80).astype(bool)
    iou = (got & (label_map == 1)).sum() / (got | (label_map == 1)).sum()
    assert iou > 0.97


@needs_sample
def test_every_sample_gland_is_exact_and_compact():
    facts = json.loads((SAMPLE / "FACTS.json").read_text())
    ours = baseline = glands = 0
    for name, fact in sorted(facts.items()):
        label_map = np.array(Image.open(SAMPLE / f"{name}_anno.bmp"))
        instances = contours.extract_instances(label_map, verify=True)
        assert_exact(label_map, instances)
        assert len(instances) == fact["glands"]
        assert sum(i.has_holes for i in instances) == fact["with_holes"]
        assert sum(i.num_parts > 1 for i in instances) == fact["multi_part"]
        assert sum(i.touches_border for i in instances) == fact["touching_border"]
        assert min(i.area for i in instances) == fact["smallest_area_px"]
        glands += len(instances)
        ours += sum(i.num_vertices for i in instances)
        for instance in instances:
            mask = (label_map == instance.label).astype(np.uint8)
            found, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            baseline += sum(len(c) for c in found)
    assert glands == 110
    # Exact polygons with fewer vertices than today's lossy pixel-centre default.
    assert ours < baseline


def test_synthetic_glands_are_exact(synth_dir):
    from glas_convert.dataset import read_dataset

    for sample in read_dataset(synth_dir).samples:
        label_map = sample.load_label_map()
        assert_exact(label_map, contours.extract_instances(label_map, verify=True))


def test_verification_catches_a_wrong_polygon(monkeypatch):
    # The pycocotools re-check is a real guard: a polygon shifted by one pixel is refused.
    real = contours._assemble

    def shifted(traced, compact, *, verify):
        return real(traced, [ring + 1 for ring in compact], verify=verify)

    monkeypatch.setattr(contours, "_assemble", shifted)
    label_map = grid("000 011 011")
    with pytest.raises(contours.ContourError, match="label 1: polygons do not rasterize back"):
        contours.extract_instances(label_map, verify=True)


def test_int32_label_values_and_labels_in_any_order():
    label_map = np.array([[0, 70000, 70000], [5, 0, 70000], [5, 5, 0]], dtype=np.int32)
    instances = contours.extract_instances(label_map, verify=True)
    assert [i.label for i in instances] == [5, 70000]
    assert_exact(label_map, instances)


def test_inexact_straight_edges_fall_back_to_their_crack_edges():
    # An L of three pixels; straight edges that skip its corners toggle the wrong rows, so the
    # exact DDA check must put the skipped crack points back.
    label_map = grid("100 110 000")
    ring = np.array([[0, 0], [0, 2], [2, 2], [2, 1], [1, 1], [1, 0]], dtype=np.int64)
    mask = contours.rasterize_polygons([ring], 3, 3)
    assert np.array_equal(mask, label_map)
    unrolled = np.vstack([ring, ring[:1]])
    last_of_ring = np.full(unrolled.shape[0], ring.shape[0])
    chosen = contours._repair_inexact_edges(unrolled, np.array([0, 2, 4]), last_of_ring)
    assert 1 in chosen  # (0,0)->(2,2) skipped the corner (0,2): restored
    repaired = unrolled[chosen]
    assert np.array_equal(contours.rasterize_polygons([repaired], 3, 3), label_map)


def assert_parts_and_holes(label_map: np.ndarray, instances) -> None:
    """Each polygon is one 8-connected part with its own holes; holes are 4-connected gaps."""
    height, width = label_map.shape
    for instance in instances:
        mask = (label_map == instance.label).astype(np.uint8)
        parts, part_of = cv2.connectedComponents(mask, connectivity=8)
        gaps, gap_of = cv2.connectedComponents(1 - np.pad(mask, 1), connectivity=4)
        assert instance.num_parts == parts - 1
        assert instance.num_holes == gaps - 2  # all but the background and the outside
        drawn = sorted(
            int(part_of[contours.rasterize_polygons([ring], height, width).astype(bool)][0])
            for ring in instance.polygons
        )
        assert drawn == list(range(1, parts))
        for ring in instance.polygons:
            alone = contours.rasterize_polygons([ring], height, width).astype(bool)
            part = part_of[alone][0]
            assert np.array_equal(alone, part_of == part), "a hole is bridged into the wrong part"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(label_maps)
def test_random_label_maps_have_the_right_parts_and_holes(label_map):
    assert_parts_and_holes(label_map, contours.extract_instances(label_map, verify=False))


@pytest.mark.parametrize(
    "text",
    [
        # two parts of label 1, each with its own hole
        "1110111 1010101 1110111",
        # a part with a hole that holds an island of the same label, with its own hole
        "1111111 1000001 1011101 1010101 1011101 1000001 1111111",
        # two holes side by side in one part, and a second part below
        "11111 10101 11111 00000 11100 10100 11100",
    ],
)
def test_holes_are_bridged_into_the_part_around_them(text):
    label_map = grid(text)
    instances = contours.extract_instances(label_map, verify=True)
    assert_exact(label_map, instances)
    assert_parts_and_holes(label_map, instances)


def test_exact_check_refuses_paths_it_cannot_lay_out():
    # The check reads the crack rows off each path in x order: a path that turns back in x, or
    # that has a slanted edge, is refused as inexact rather than compared column by column.
    unrolled = np.array([[0, 0], [1, 0], [1, 1], [2, 1], [0, 1], [0, 2], [2, 2], [3, 3], [4, 3]])
    bad = contours._inexact_edges(unrolled, np.array([0, 1, 5]), np.array([3, 5, 8]))
    assert bad.tolist() == [False, True, True]
    ring = np.array([[0, 0], [2, 1], [2, 2], [0, 2]])  # (0,0)-(1,0)-(1,1)-(2,1) as one edge
    assert np.array_equal(contours.rasterize_polygons([ring], 3, 3), grid("100 110 000"))


def test_batches_of_rings_give_the_same_polygons(monkeypatch):
    # Large maps are traced and compacted in batches of whole labels and rings; tiny batches
    # must give exactly what one batch gives.
    rng = np.random.default_rng(11)
    noise = cv2.GaussianBlur(rng.random((90, 120)).astype(np.float32), (0, 0), 2.0)
    label_map = np.where(noise > 0.5, rng.integers(1, 40, (90, 120)) // 8 + 1, 0).astype(np.uint16)
    label_map[::7, ::5] = rng.integers(0, 300, label_map[::7, ::5].shape)
    whole = contours.extract_instances(label_map, verify=True)
    monkeypatch.setattr(contours, "_BATCH_POINTS", 5)
    batched = contours.extract_instances(label_map, verify=True)
    assert_exact(label_map, batched)
    assert len(batched) == len(whole) > 100
    for a, b in zip(whole, batched, strict=True):
        assert (a.label, a.area, a.bbox, a.num_parts, a.num_holes) == (
            b.label,
            b.area,
            b.bbox,
            b.num_parts,
            b.num_holes,
        )
        assert len(a.polygons) == len(b.polygons)
        assert all(np.array_equal(p, q) for p, q in zip(a.polygons, b.polygons, strict=True))
