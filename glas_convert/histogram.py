"""Histograms of :func:`glas_convert.stats.dataset_distributions` drawn with OpenCV (no matplotlib).

One PNG, two panels side by side: gland area (bins of powers of two, pixels) and glands per image.
Each panel shows the whole dataset and each GlaS grade (benign, malignant) as grouped bars, with
a legend. Pixel coordinates are ``(x, y)`` from the top left, as OpenCV draws. Deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

PANEL_WIDTH = 640
PANEL_HEIGHT = 400
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 56, 16, 48, 56
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_BLACK, _GREY, _WHITE = (0, 0, 0), (190, 190, 190), (255, 255, 255)
#: BGR colours of the groups, in order: total, then each grade.
GROUP_COLORS = ((90, 90, 90), (180, 119, 31), (14, 127, 255), (44, 160, 44), (40, 39, 214))


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float = 0.4) -> None:
    cv2.putText(img, text, org, _FONT, scale, _BLACK, 1, cv2.LINE_AA)


def _short(n: int) -> str:
    return f"{n // 1024}k" if n >= 1024 and n % 1024 == 0 else str(n)


def draw_panel(
    title: str,
    bin_labels: Sequence[str],
    groups: Sequence[tuple[str, Sequence[float]]],
    *,
    x_title: str,
) -> np.ndarray:
    """One bar chart: ``groups`` is ``(name, counts per bin)``; bars are grouped per bin."""
    img = np.full((PANEL_HEIGHT, PANEL_WIDTH, 3), 255, dtype=np.uint8)
    x0, x1 = _MARGIN_LEFT, PANEL_WIDTH - _MARGIN_RIGHT
    y0, y1 = _MARGIN_TOP, PANEL_HEIGHT - _MARGIN_BOTTOM
    top = max((max(c, default=0) for _, c in groups), default=0)
    step = max(1, int(np.ceil(top / 4)))
    top = step * max(1, int(np.ceil(top / step)))
    _text(img, title, (x0, 20), 0.55)
    # Horizontal grid lines with counts.
    for value in range(0, top + 1, step):
        y = y1 - round((y1 - y0) * value / top)
        cv2.line(img, (x0, y), (x1, y), _GREY, 1)
        _text(img, str(value), (8, y + 4))
    n_bins = max(1, len(bin_labels))
    slot = (x1 - x0) / n_bins
    bar = max(1.0, slot * 0.8 / max(1, len(groups)))
    for b in range(len(bin_labels)):
        for g, (_, counts) in enumerate(groups):
            height = round((y1 - y0) * counts[b] / top)
            left = round(x0 + b * slot + slot * 0.1 + g * bar)
            right = max(left, round(left + bar) - 1)
            if height > 0:
                color = GROUP_COLORS[g % len(GROUP_COLORS)]
                cv2.rectangle(img, (left, y1 - height), (right, y1), color, cv2.FILLED)
    cv2.line(img, (x0, y1), (x1, y1), _BLACK, 1)
    cv2.line(img, (x0, y0), (x0, y1), _BLACK, 1)
    every = max(1, int(np.ceil(len(bin_labels) / 12)))
    for b in range(0, len(bin_labels), every):
        x = round(x0 + b * slot + slot / 2)
        cv2.line(img, (x, y1), (x, y1 + 4), _BLACK, 1)
        (tw, _), _ = cv2.getTextSize(bin_labels[b], _FONT, 0.35, 1)
        _text(img, bin_labels[b], (x - tw // 2, y1 + 18), 0.35)
    _text(img, x_title, (x0, PANEL_HEIGHT - 12))
    # Legend, top right.
    for g, (name, counts) in enumerate(groups):
        y = 14 + 14 * g
        color = GROUP_COLORS[g % len(GROUP_COLORS)]
        cv2.rectangle(img, (x1 - 170, y - 8), (x1 - 160, y + 2), color, cv2.FILLED)
        _text(img, f"{name} ({int(sum(counts))})", (x1 - 154, y + 1), 0.38)
    return img


def histogram_image(distributions: dict) -> np.ndarray:
    """The two panels of the histogram PNG for ``dataset_distributions`` output."""
    groups = [("all", distributions["total"])]
    groups += list(distributions["grade_glas"].items())
    area_hist = distributions["total"]["gland_area_px"]["histogram"]
    edges = area_hist["edges"]
    used = [
        i
        for i in range(len(edges))
        if any(d["gland_area_px"]["histogram"]["counts"][i] for _, d in groups)
    ]
    lo, hi = (min(used), max(used)) if used else (0, 0)
    area_labels = [_short(edges[i]) for i in range(lo, hi + 1)]
    area = draw_panel(
        "Gland area (pixels)",
        area_labels,
        [(name, d["gland_area_px"]["histogram"]["counts"][lo : hi + 1]) for name, d in groups],
        x_title="area >= (bins of powers of two)",
    )
    longest = max(len(d["glands_per_image"]["histogram"]["images"]) for _, d in groups)
    count_groups = []
    for name, d in groups:
        images = list(d["glands_per_image"]["histogram"]["images"])
        count_groups.append((name, images + [0] * (longest - len(images))))
    per_image = draw_panel(
        "Glands per image",
        [str(i) for i in range(longest)],
        count_groups,
        x_title="glands in the image",
    )
    return np.hstack([area, per_image])


def write_histogram(path: str, distributions: dict) -> None:
    """Write :func:`histogram_image` as a PNG to ``path``."""
    from glas_convert.errors import OutputError

    ok, data = cv2.imencode(".png", histogram_image(distributions))
    if not ok:
        raise OutputError("cannot encode the histogram as PNG", path=path)
    try:
        with open(path, "wb") as f:
            f.write(data.tobytes())
    except OSError as exc:
        raise OutputError(f"cannot write the histogram ({exc.strerror})", path=path) from exc
