"""Per-gland and per-image figures of a label map, for ``glas-convert info``.

Label maps are 2-D integer arrays indexed ``[row, col]``, 0 = background. Boxes are pixel
extents ``(x, y, w, h)``, 0-based, ``w = x_max - x_min + 1`` (as in :mod:`glas_convert.model`).
Parts are 8-connected; a hole is a 4-connected region of other values (background or another
gland) inside a gland's box that does not reach the box's border.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from glas_convert import layout
from glas_convert.contours import label_extents
from glas_convert.model import Sample


@dataclass(frozen=True)
class GlandStats:
    """Figures of one label value."""

    label: int
    area: int
    bbox: tuple[int, int, int, int]
    num_parts: int
    num_holes: int
    touches_border: bool


def gland_stats(label_map: np.ndarray) -> tuple[GlandStats, ...]:
    """Figures of every non-zero label of ``label_map``, in label order.

    Boxes come from the contour core's one pass over the map; parts and holes are counted on
    each label's box crop only, never on the whole image.
    """
    if label_map.ndim != 2:
        raise ValueError(f"label_map: expected a 2-D array, got shape {label_map.shape}")
    height, width = label_map.shape
    labels, areas, x0, y0, x1, y1 = label_extents(label_map)
    result = []
    for i, label in enumerate(labels.tolist()):
        crop = label_map[y0[i] : y1[i] + 1, x0[i] : x1[i] + 1] == label
        parts, holes = _parts_and_holes(crop)
        result.append(
            GlandStats(
                label=int(label),
                area=int(areas[i]),
                bbox=(int(x0[i]), int(y0[i]), int(x1[i] - x0[i] + 1), int(y1[i] - y0[i] + 1)),
                num_parts=parts,
                num_holes=holes,
                touches_border=bool(
                    x0[i] == 0 or y0[i] == 0 or x1[i] == width - 1 or y1[i] == height - 1
                ),
            )
        )
    return tuple(result)


def _parts_and_holes(mask: np.ndarray) -> tuple[int, int]:
    """8-connected parts of a boolean crop, and its 4-connected holes."""
    padded = np.pad(mask, 1).astype(np.uint8)
    parts = cv2.connectedComponents(padded, connectivity=8)[0] - 1
    # Background components; the padding joins everything outside into one of them.
    regions = cv2.connectedComponents(1 - padded, connectivity=4)[0] - 1
    return int(parts), int(regions - 1)


def image_facts(sample: Sample, glands: Iterable[GlandStats]) -> dict[str, object]:
    """One image's figures, with the keys of the sample's FACTS.json plus ``split``/``tiny``."""
    glands = tuple(glands)
    areas = [g.area for g in glands]
    return {
        "split": sample.split,
        "width": sample.width,
        "height": sample.height,
        "glands": len(glands),
        "gland_pixels": sum(areas),
        "smallest_area_px": min(areas) if areas else None,
        "with_holes": sum(g.num_holes > 0 for g in glands),
        "multi_part": sum(g.num_parts > 1 for g in glands),
        "touching_border": sum(g.touches_border for g in glands),
        "tiny": sum(a < layout.TINY_GLAND_PX for a in areas),
    }


_SUMMED = ("glands", "gland_pixels", "with_holes", "multi_part", "touching_border", "tiny")


def summarize(samples: Iterable[Sample], facts: dict[str, dict[str, object]]) -> dict:
    """Totals of a group of samples: counts, image sizes, grade breakdowns and quirks."""
    samples = tuple(samples)
    out: dict[str, object] = {"images": len(samples)}
    for key in _SUMMED:
        out[key] = sum(int(facts[s.name][key]) for s in samples)
    smallest = [facts[s.name]["smallest_area_px"] for s in samples]
    smallest = [a for a in smallest if a is not None]
    out["smallest_area_px"] = min(smallest) if smallest else None
    out["image_sizes"] = dict(sorted(Counter(f"{s.width}x{s.height}" for s in samples).items()))
    out["grade_glas"] = _count(s.tags.grade_glas if s.tags else None for s in samples)
    out["grade_sirinukunwattana"] = _count(
        s.tags.grade_sirinukunwattana if s.tags else None for s in samples
    )
    return out


def _count(values: Iterable[str | None]) -> dict[str, int]:
    counts = Counter("unknown" if v is None else v for v in values)
    return dict(sorted(counts.items()))


def dataset_glands(samples: Iterable[Sample]) -> dict[str, tuple[GlandStats, ...]]:
    """:func:`gland_stats` of every sample, by name (each label map is read once)."""
    return {s.name: gland_stats(s.load_label_map()) for s in samples}


def dataset_info(
    samples: Iterable[Sample], glands: dict[str, tuple[GlandStats, ...]] | None = None
) -> dict[str, object]:
    """The figures ``glas-convert info`` shows: per image, per split and in total.

    ``glands`` is :func:`dataset_glands` of ``samples`` when the caller has it already.
    """
    samples = tuple(samples)
    if glands is None:
        glands = dataset_glands(samples)
    facts = {s.name: image_facts(s, glands[s.name]) for s in samples}
    splits = {}
    for split in layout.SPLITS:
        members = [s for s in samples if s.split == split]
        if members:
            splits[split] = summarize(members, facts)
    return {
        "images": {name: facts[name] for name in sorted(facts)},
        "splits": splits,
        "total": summarize(samples, facts),
    }


#: Quantiles reported for each distribution, as percentages.
QUANTILES = (0, 10, 25, 50, 75, 90, 100)
#: Bin edges of the gland area histograms, in pixels: powers of two from 1 to 2**17.
AREA_BIN_EDGES = tuple(2**k for k in range(18))


def describe(values: Sequence[int]) -> dict[str, object]:
    """Count, mean and quantiles (``p0`` .. ``p100``, linear interpolation) of ``values``."""
    if not values:
        return {"count": 0, "mean": None, **{f"p{q}": None for q in QUANTILES}}
    array = np.asarray(values, dtype=np.float64)
    quantiles = np.percentile(array, QUANTILES)
    return {
        "count": int(array.size),
        "mean": round(float(array.mean()), 3),
        **{f"p{q}": round(float(v), 3) for q, v in zip(QUANTILES, quantiles, strict=True)},
    }


def area_histogram(areas: Sequence[int]) -> dict[str, list[int]]:
    """Gland areas binned by :data:`AREA_BIN_EDGES`: ``[edge_k, edge_k+1)``, the last bin open."""
    edges = np.asarray(AREA_BIN_EDGES)
    index = np.searchsorted(edges, np.asarray(areas, dtype=np.int64), side="right") - 1
    counts = np.bincount(np.clip(index, 0, len(edges) - 1), minlength=len(edges))
    return {"edges": list(AREA_BIN_EDGES), "counts": counts.tolist()}


def count_histogram(counts: Sequence[int]) -> dict[str, list[int]]:
    """How many images have 0, 1, 2, ... glands, up to the largest count."""
    tally = np.bincount(np.asarray(counts, dtype=np.int64), minlength=1)
    return {"glands": list(range(tally.size)), "images": tally.tolist()}


def _distribution(samples: Sequence[Sample], glands: dict[str, tuple[GlandStats, ...]]) -> dict:
    areas = [g.area for s in samples for g in glands[s.name]]
    per_image = [len(glands[s.name]) for s in samples]
    return {
        "images": len(samples),
        "gland_area_px": {**describe(areas), "histogram": area_histogram(areas)},
        "glands_per_image": {**describe(per_image), "histogram": count_histogram(per_image)},
    }


def dataset_distributions(
    samples: Iterable[Sample], glands: dict[str, tuple[GlandStats, ...]] | None = None
) -> dict[str, object]:
    """Distributions of gland area and of glands per image: in total, per split, per grade.

    Images without a Grade.csv row are grouped under ``unknown``.
    """
    samples = tuple(samples)
    if glands is None:
        glands = dataset_glands(samples)
    out: dict[str, object] = {"total": _distribution(samples, glands)}
    out["splits"] = {
        split: _distribution([s for s in samples if s.split == split], glands)
        for split in layout.SPLITS
        if any(s.split == split for s in samples)
    }
    for key in ("grade_glas", "grade_sirinukunwattana"):
        groups: dict[str, list[Sample]] = {}
        for s in samples:
            grade = getattr(s.tags, key) if s.tags else None
            groups.setdefault(grade or "unknown", []).append(s)
        out[key] = {g: _distribution(groups[g], glands) for g in sorted(groups)}
    return out


def format_distributions(distributions: dict) -> str:
    """:func:`dataset_distributions` as a table: one row per group."""
    rows = [("group", "images", "glands", "area p0", "p25", "p50", "p75", "p100", "mean")]
    rows[0] += ("glands/img p0", "p50", "p100", "mean")
    groups = [("total", distributions["total"])]
    groups += [(f"split {k}", v) for k, v in distributions["splits"].items()]
    for key, title in (("grade_glas", "GlaS"), ("grade_sirinukunwattana", "Sirinukunwattana")):
        groups += [(f"{title}: {k}", v) for k, v in distributions[key].items()]

    def cell(value: object) -> str:
        if value is None:
            return "-"
        return f"{value:g}" if isinstance(value, float) else str(value)

    for name, d in groups:
        a, n = d["gland_area_px"], d["glands_per_image"]
        rows.append(
            (name, cell(d["images"]), cell(a["count"]))
            + tuple(cell(a[k]) for k in ("p0", "p25", "p50", "p75", "p100", "mean"))
            + tuple(cell(n[k]) for k in ("p0", "p50", "p100", "mean"))
        )
    return "\n".join(_table(rows))


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as aligned lines: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


_COLUMNS = (
    ("images", "images"),
    ("glands", "glands"),
    ("multi_part", "multi-part"),
    ("with_holes", "with holes"),
    ("tiny", f"< {layout.TINY_GLAND_PX} px"),
    ("touching_border", "on border"),
    ("smallest_area_px", "smallest px"),
)


def format_info(info: dict) -> str:
    """``dataset_info`` output as a short table, then image sizes and grades per split."""
    rows = [("split", *(title for _, title in _COLUMNS))]
    groups = [*info["splits"].items(), ("total", info["total"])]
    for name, figures in groups:
        rows.append((name, *("-" if figures[k] is None else str(figures[k]) for k, _ in _COLUMNS)))
    lines = _table(rows)
    lines.append("")
    for label, key in (
        ("image sizes", "image_sizes"),
        ("grade (GlaS)", "grade_glas"),
        ("grade (Sirinukunwattana)", "grade_sirinukunwattana"),
    ):
        lines.append(f"{label}:")
        for name, figures in groups:
            counts = ", ".join(f"{k} {v}" for k, v in figures[key].items()) or "-"
            lines.append(f"  {name}: {counts}")
    return "\n".join(lines)
