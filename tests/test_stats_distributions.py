"""Distributions of gland area and glands per image, and the stats command."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
from click.testing import CliRunner
from conftest import write_release

from glas_convert.cli import cli
from glas_convert.dataset import read_dataset
from glas_convert.histogram import PANEL_HEIGHT, PANEL_WIDTH
from glas_convert.stats import (
    AREA_BIN_EDGES,
    area_histogram,
    count_histogram,
    dataset_distributions,
    describe,
)


@pytest.mark.parametrize(
    ("values", "want"),
    [
        # One value: every quantile is that value.
        ([7], {"count": 1, "mean": 7.0, "p0": 7.0, "p50": 7.0, "p100": 7.0}),
        # Linear interpolation between the two middle values.
        ([1, 2, 3, 10], {"count": 4, "mean": 4.0, "p0": 1.0, "p50": 2.5, "p100": 10.0}),
        # Nothing to describe.
        ([], {"count": 0, "mean": None, "p0": None, "p50": None, "p100": None}),
    ],
)
def test_describe(values, want):
    got = describe(values)
    assert {k: got[k] for k in want} == want


def test_area_histogram_bins_by_powers_of_two():
    # 1 -> [1, 2); 2, 3 -> [2, 4); 4 -> [4, 8); 200000 -> the last, open bin.
    got = area_histogram([1, 2, 3, 4, 200_000])
    assert got["edges"] == list(AREA_BIN_EDGES)
    assert got["counts"][:3] == [1, 2, 1]
    assert got["counts"][-1] == 1
    assert sum(got["counts"]) == 5


def test_count_histogram():
    assert count_histogram([0, 2, 2, 3]) == {"glands": [0, 1, 2, 3], "images": [1, 0, 2, 1]}


def test_distributions_of_a_hand_made_release(tmp_path: Path):
    folder = write_release(tmp_path / "glas", names=("train_1", "train_2", "testA_1"))
    got = dataset_distributions(read_dataset(folder).samples)
    assert got["total"]["images"] == 3
    assert got["total"]["gland_area_px"]["count"] == 3
    assert got["total"]["gland_area_px"]["p50"] == 4.0  # one 2x2 gland per image
    assert got["total"]["glands_per_image"]["histogram"] == {"glands": [0, 1], "images": [0, 3]}
    assert sorted(got["splits"]) == ["test_a", "train"]
    assert got["splits"]["train"]["images"] == 2
    assert list(got["grade_glas"]) == ["benign"]
    assert list(got["grade_sirinukunwattana"]) == ["healthy"]


def test_images_without_grade_are_unknown(tmp_path: Path):
    folder = write_release(tmp_path / "glas", grades=False)
    got = dataset_distributions(read_dataset(folder).samples)
    assert list(got["grade_glas"]) == ["unknown"]
    assert got["grade_glas"]["unknown"]["images"] == 3


def test_stats_command_json_and_histogram(sample_dir: Path, facts: dict, tmp_path: Path):
    png = tmp_path / "hist.png"
    result = CliRunner().invoke(cli, ["stats", str(sample_dir), "--json", "--histogram", str(png)])
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)
    total = got["total"]
    assert total["images"] == len(facts) == 12
    assert total["gland_area_px"]["count"] == sum(f["glands"] for f in facts.values()) == 110
    assert total["gland_area_px"]["p0"] == min(f["smallest_area_px"] for f in facts.values())
    assert total["glands_per_image"]["p100"] == max(f["glands"] for f in facts.values())
    by_grade = got["grade_glas"]
    assert sum(g["images"] for g in by_grade.values()) == 12
    assert sum(g["gland_area_px"]["count"] for g in by_grade.values()) == 110
    assert {s: d["images"] for s, d in got["splits"].items()} == {
        "train": 4,
        "test_a": 5,
        "test_b": 3,
    }
    picture = cv2.imread(str(png))
    assert picture.shape == (PANEL_HEIGHT, 2 * PANEL_WIDTH, 3)
    assert (picture != 255).any()


def test_stats_command_table(synth_dir: Path):
    result = CliRunner().invoke(cli, ["stats", str(synth_dir), "--split", "train"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("group")
    assert lines[1].startswith("total")
    assert any(line.startswith("split train") for line in lines)
    assert not any(line.startswith("split test_a") for line in lines)


def test_stats_command_histogram_error_is_one_line(synth_dir: Path, tmp_path: Path):
    bad = tmp_path / "missing" / "hist.png"
    result = CliRunner().invoke(cli, ["stats", str(synth_dir), "--histogram", str(bad)])
    assert result.exit_code == 1
    assert "cannot write the histogram" in result.output
    assert "Traceback" not in result.output
