"""Preview overlays: drawing on literal masks, and the preview command on real exports."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from glas_convert.cli import cli
from glas_convert.dataset import read_dataset
from glas_convert.preview import (
    FILL_ALPHA,
    THUMB_WIDTH,
    Gland,
    contact_sheet,
    draw_overlay,
    palette_color,
)

GREY = 100


def ring_gland(size: int = 200) -> np.ndarray:
    """A 61x61 square (rows and columns 40..100) with a 21x21 hole (60..80)."""
    mask = np.zeros((size, size), dtype=bool)
    mask[40:101, 40:101] = True
    mask[60:81, 60:81] = False
    return mask


def blank(size: int = 200) -> np.ndarray:
    return np.full((size, size, 3), GREY, dtype=np.uint8)


def test_palette_is_deterministic_and_distinct():
    colors = [palette_color(k) for k in range(1, 21)]
    assert colors == [palette_color(k) for k in range(1, 21)]
    assert len(set(colors)) == 20
    with pytest.raises(ValueError, match="index must be >= 1"):
        palette_color(0)


def test_outline_fill_and_hole_of_one_gland():
    image = blank()
    drawn = draw_overlay(image, [Gland(mask=ring_gland())], 200, 200)
    color = palette_color(1)
    # Outer outline: bottom edge of the square (the number is drawn near the top).
    assert tuple(drawn[100, 70]) == color
    # Inner outline: the gland pixel just below the hole.
    assert tuple(drawn[81, 70]) == color
    # The middle of the hole keeps the image; so does the background.
    assert tuple(drawn[70, 70]) == (GREY,) * 3
    assert tuple(drawn[10, 10]) == (GREY,) * 3
    # Inside the gland, away from the outlines and the number: a translucent fill.
    want = [round(FILL_ALPHA * c + (1 - FILL_ALPHA) * GREY) for c in color]
    assert np.abs(drawn[90, 90].astype(int) - want).max() <= 1
    # The caller's image is left alone.
    assert (image == GREY).all()


def test_each_gland_has_its_own_colour_and_parts_their_outline():
    two_parts = np.zeros((200, 200), dtype=bool)
    two_parts[10:40, 10:40] = True
    two_parts[150:190, 150:190] = True
    other = np.zeros((200, 200), dtype=bool)
    other[10:40, 150:190] = True
    drawn = draw_overlay(blank(), [Gland(mask=two_parts), Gland(mask=other)], 200, 200)
    assert tuple(drawn[189, 170]) == palette_color(1)  # bottom edge of the second part
    assert tuple(drawn[39, 25]) == palette_color(1)  # bottom edge of the first part
    assert tuple(drawn[39, 170]) == palette_color(2)


def test_boxes_only_glands_are_drawn_as_rectangles():
    drawn = draw_overlay(blank(), [Gland(box=(20, 30, 50, 40))], 200, 200)
    assert tuple(drawn[69, 45]) == palette_color(1)  # bottom side: y + h - 1
    assert tuple(drawn[50, 20]) == palette_color(1)  # left side


def test_tiny_gland_gets_a_circle():
    tiny = np.zeros((200, 200), dtype=bool)
    tiny[100, 100] = True
    drawn = draw_overlay(blank(), [Gland(mask=tiny)], 200, 200)
    marked = np.all(drawn == palette_color(1), axis=2)
    ys, xs = np.nonzero(marked)
    assert xs.max() - xs.min() >= 10  # far wider than the one pixel


def test_contact_sheet_grid():
    tiles = [(f"img_{i}", np.zeros((100, 200, 3), np.uint8)) for i in range(5)]
    sheet = contact_sheet(tiles)
    assert sheet.shape[1] > 4 * THUMB_WIDTH  # four columns
    assert sheet.shape[0] > 2 * THUMB_WIDTH // 2  # two rows of 2:1 thumbnails


@pytest.fixture(scope="module")
def exported(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "all"
    result = CliRunner().invoke(cli, ["all", str(synth_dir), str(out), "--task", "segment", "-q"])
    assert result.exit_code == 0, result.output
    return out


def outline_share(drawn: np.ndarray, mask: np.ndarray, color: tuple[int, int, int]) -> float:
    """Share of the mask's contour pixels that carry ``color`` in ``drawn``."""
    found, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    points = np.concatenate([c.reshape(-1, 2) for c in found])
    hits = np.all(drawn[points[:, 1], points[:, 0]] == color, axis=1)
    return float(hits.mean())


def test_preview_command_on_an_export(synth_dir: Path, exported: Path, tmp_path: Path):
    out = tmp_path / "preview"
    args = ["preview", str(exported), "--out", str(out), "--format", "coco", "--format", "yolo"]
    result = CliRunner().invoke(cli, [*args, "--format", "masks", "--quiet"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "coco",
        "masks",
        "yolo",
    ]
    samples = read_dataset(synth_dir).samples
    for source in ("coco", "masks", "yolo"):
        for split in ("train", "test_a", "test_b"):
            assert (out / source / f"contact_{split}.png").is_file()
        for sample in samples:
            drawn = cv2.imread(str(out / source / sample.split / f"{sample.name}.png"))
            assert drawn.shape == (sample.height, sample.width, 3)
    # Every gland's outline is in its colour (numbers and touching glands may cover a few).
    sample = samples[0]
    label_map = sample.load_label_map()
    drawn = cv2.imread(str(out / "coco" / sample.split / f"{sample.name}.png"))
    labels = [v for v in np.unique(label_map) if v]
    shares = [
        outline_share(drawn, label_map == v, palette_color(k)) for k, v in enumerate(labels, 1)
    ]
    assert min(shares) > 0.6 and np.mean(shares) > 0.85, shares


def test_preview_is_the_same_from_export_and_from_dataset(
    synth_dir: Path, exported: Path, tmp_path: Path
):
    """Exact exports draw exactly as the source: the PNG bytes are equal, and repeatable."""
    runner = CliRunner()
    for name, source in (("a", exported), ("b", synth_dir), ("c", synth_dir)):
        args = ["preview", str(source), "--out", str(tmp_path / name), "--limit", "1", "-q"]
        extra = ["--format", "coco"] if source == exported else []
        result = runner.invoke(cli, [*args, *extra])
        assert result.exit_code == 0, result.output
    from_export = sorted((tmp_path / "a" / "coco").rglob("*.png"))
    from_dataset = sorted((tmp_path / "b" / "dataset").rglob("*.png"))
    assert [p.name for p in from_export] == [p.name for p in from_dataset]
    assert len(from_export) == 3 + 3  # --limit 1: one image and one sheet per split
    for a, b in zip(from_export, from_dataset, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    for b in from_dataset:
        c = tmp_path / "c" / b.relative_to(tmp_path / "b")
        assert b.read_bytes() == c.read_bytes()


def test_preview_refuses_a_foreign_folder_and_missing_format(synth_dir: Path, tmp_path: Path):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["preview", str(synth_dir), "--out", str(out)])
    assert result.exit_code == 1
    assert "not empty" in result.output
    assert (out / "keep.txt").read_text() == "mine"
    result = CliRunner().invoke(
        cli, ["preview", str(synth_dir), "--out", str(tmp_path / "x"), "--format", "voc"]
    )
    assert result.exit_code == 1
    assert "no voc found" in result.output


def test_preview_of_voc_keeps_holes_open(sample_dir: Path, tmp_path: Path):
    """testB_9 has glands with holes: the hole's middle is not tinted."""
    export = tmp_path / "voc"
    runner = CliRunner()
    # keep the BMP bytes (VOC defaults to JPEG) so the drawing can be compared with the image
    args = ["voc", str(sample_dir), str(export), "--split", "test_b", "--image-format", "keep"]
    result = runner.invoke(cli, [*args, "-q"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["preview", str(export), "--out", str(tmp_path / "p"), "-q"])
    assert result.exit_code == 0, result.output
    sample = next(s for s in read_dataset(sample_dir).samples if s.name == "testB_9")
    label_map = sample.load_label_map()
    drawn = cv2.imread(str(tmp_path / "p" / "voc" / "test_b" / "testB_9.png"))
    original = cv2.imdecode(np.frombuffer(sample.read_image_bytes(), np.uint8), cv2.IMREAD_COLOR)
    # Holes: background regions that do not reach the image border.
    count, regions = cv2.connectedComponents((label_map == 0).astype(np.uint8), connectivity=4)
    edge = set(regions[0]) | set(regions[-1]) | set(regions[:, 0]) | set(regions[:, -1])
    holes = np.isin(regions, [r for r in range(1, count) if r not in edge])
    # Away from the inner outlines, a hole shows the image untouched.
    inner = cv2.erode(holes.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert inner.sum() > 100
    assert np.array_equal(drawn[inner], original[inner])
    # Its rim is the inner outline of the gland around it.
    rim = holes & ~cv2.erode(holes.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    assert np.any(np.abs(drawn[rim].astype(int) - original[rim]).sum(axis=1) > 60)


def test_tiny_box_gets_a_circle():
    drawn = draw_overlay(blank(), [Gland(box=(100, 100, 1, 2))], 200, 200)
    ys, xs = np.nonzero(np.all(drawn == palette_color(1), axis=2))
    assert xs.max() - xs.min() >= 10
