"""Gland figures on tiny literal label maps, and agreement with the real sample's FACTS.json."""

from __future__ import annotations

import numpy as np
import pytest

from glas_convert.dataset import read_dataset
from glas_convert.stats import GlandStats, dataset_info, gland_stats


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # one pixel inside the image
        (["000", "010", "000"], [GlandStats(1, 1, (1, 1, 1, 1), 1, 0, False)]),
        # a ring: one hole; touches the border
        (["111", "101", "111"], [GlandStats(1, 8, (0, 0, 3, 3), 1, 1, True)]),
        # diagonal pixels are one 8-connected part
        (["0000", "0100", "0010", "0000"], [GlandStats(1, 2, (1, 1, 2, 2), 1, 0, False)]),
        # a label in two parts
        (["00000", "01010", "00000"], [GlandStats(1, 2, (1, 1, 3, 1), 2, 0, False)]),
        # another gland inside a ring is a hole of the ring; labels need not be contiguous
        (
            ["00000", "07770", "07370", "07770", "00000"],
            [
                GlandStats(3, 1, (2, 2, 1, 1), 1, 0, False),
                GlandStats(7, 8, (1, 1, 3, 3), 1, 1, False),
            ],
        ),
        # background touching the box border only diagonally is still a hole (4-connected)
        (["0000", "0110", "0101", "0110"], [GlandStats(1, 6, (1, 1, 3, 3), 1, 1, True)]),
        # a gap open to the box border is not a hole
        (["0000", "0110", "0100", "0110"], [GlandStats(1, 5, (1, 1, 2, 3), 1, 0, True)]),
        # background only
        (["000"], []),
    ],
)
def test_gland_stats_on_literal_maps(rows, expected):
    labels = np.array([[int(c) for c in row] for row in rows], np.uint8)
    assert list(gland_stats(labels)) == expected


def test_gland_stats_wide_labels():
    labels = np.zeros((4, 5), np.int32)
    labels[1:3, 1:4] = 70000
    assert gland_stats(labels) == (GlandStats(70000, 6, (1, 1, 3, 2), 1, 0, False),)


def test_sample_figures_match_facts(sample_dir, facts):
    info = dataset_info(read_dataset(sample_dir))
    for name, expected in facts.items():
        got = {key: info["images"][name][key] for key in expected}
        assert got == expected, name
    assert info["total"]["glands"] == sum(f["glands"] for f in facts.values()) == 110
