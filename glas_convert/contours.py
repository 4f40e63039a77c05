"""The contour core: an integer label map -> exact, compact polygons for every instance.

Conventions
-----------
- Label maps are 2-D integer arrays (uint8, uint16, int32), indexed ``[row, col]``; 0 is
  background and every other value is one instance (which may have several parts).
- Polygons are in **pixel-corner coordinates, x before y, 0-based**: pixel ``(col, row)``
  covers the square ``[col, col+1] x [row, row+1]`` and its centre is ``(col+.5, row+.5)``.
  This is the COCO convention that ``pycocotools.mask.frPyObjects`` rasterizes.
- Every vertex lies on an integer pixel corner, so every exported coordinate is exact.
- A bbox is the pixel extent ``(x, y, w, h)`` with ``w = x_max - x_min + 1``.

Why the polygons are exact
--------------------------
pycocotools rasterizes a polygon column by column (``rleFrPoly``): it scales the vertices by 5,
walks every edge with a DDA, and wherever an edge crosses a pixel-centre column ``x = c + .5``
it toggles the pixels of column ``c`` from a row ``r`` downwards (even-odd rule). The mask
therefore depends only on the multiset of toggles ``(c, r)`` the edges produce.

1. We trace the crack boundary (along pixel edges) of each part and hole of every label in one
   pass over the map: the 2x2 pixels around each pixel corner say where a boundary turns, and
   sorting the turns by row and by column links them into rings. Its horizontal edges produce
   exactly the toggles of the mask, so it is exact, but it spends two vertices on every
   staircase step.
2. We then replace runs of crack edges by single straight edges when the straight edge produces
   the same toggles. Candidates come from a vectorized cone test over all rings at once; each
   chosen edge is then checked against an integer-exact emulation of pycocotools' DDA, and
   any edge that fails (or that hits a floating-point tie in pycocotools) falls back to its
   crack edges. Straight runs and staircases of any slope become one edge each (up to 24
   horizontal crack edges long).
3. Holes are joined to their outer ring through a zero-width bridge: the bridge is walked once
   in each direction, its toggles cancel, and the even-odd rule leaves the hole empty.
4. Finally each instance is rasterized again with pycocotools in its own bbox frame and
   compared with its mask (``verify=True``); a mismatch raises, it is never written.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from pycocotools import mask as coco_mask

from glas_convert import defaults
from glas_convert.errors import GlasConvertError
from glas_convert.model import Instance

#: pycocotools samples a straight edge at x = c + .4 and x = c + .6 around each pixel-centre
#: column c and toggles column c at the row nearest to the lower sample; steep edges step
#: along y instead (worked out from its DDA; docs/formats.md). That gives, per regime of the
#: slope m, a window for y at one sample point, linear in m, hence one cone per regime:
#: (lowest m, highest m, y margin and x offset from c of the window's low side, and of its
#: high side), for rising and for falling edges.
_SLOPE_REGIMES = (
    # shallow: for rising edges (0 <= m <= 1) y(c + .4) - r in [-.5, .5),
    #          for falling ones (-1 <= m <= 0) y(c + .6) - r in [-.5, .5)
    (
        (0.0, 1.0, -0.5, 0.4, 0.5, 0.4),
        (-1.0, 0.0, -0.5, 0.6, 0.5, 0.6),
    ),
    # steep: for m >= 1, y(c + .5) - r in (-.4, .6]; for m <= -1, in [-.4, .6)
    (
        (1.0, np.inf, -0.4, 0.5, 0.6, 0.5),
        (-np.inf, -1.0, -0.4, 0.5, 0.6, 0.5),
    ),
)
_EPSILON = 1e-9
#: pycocotools (2.0.11) calls np.array(copy=False) in decode; numpy 2 warns about it.
_PYCOCOTOOLS_NUMPY2_WARNING = "__array__ implementation doesn't accept a copy keyword"
#: How many horizontal crack edges ahead the cone test looks: a short look from every point,
#: then further only from the points whose cone is still open, carrying that cone.
_RUNS = (3, 8, 24)
#: Cones (start points and regimes) per batch of the cone test.
_CHUNK = 8192
#: Ring points compacted at a time. Rings are independent, and small batches keep every
#: temporary small enough to be recycled by the allocator instead of being mapped (and
#: page-faulted) afresh: on an 8192^2 map this halves the time.
_BATCH_POINTS = 1 << 15
#: pycocotools' upsampling factor in rleFrPoly.
_SCALE = 5


class ContourError(GlasConvertError):
    """The polygons of an instance do not rasterize back to its mask (a bug, never data)."""


# --------------------------------------------------------------------------------------------
# One pass over the label map: label values, areas and bboxes.


def label_extents(
    label_map: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(labels, areas, x_min, y_min, x_max, y_max)`` of every non-zero label.

    One pass: the map is run-length encoded along rows, and per-label reductions run over the
    runs, so the cost is one full-image boolean temporary, never one per label.
    """
    if label_map.ndim != 2:
        raise ValueError(f"label map must be 2-D, got shape {label_map.shape}")
    height, width = label_map.shape
    empty = np.zeros(0, dtype=np.int64)
    if label_map.size == 0:
        return empty, empty, empty, empty, empty, empty
    change = np.empty((height, width), dtype=bool)
    change[:, 0] = True
    np.not_equal(label_map[:, 1:], label_map[:, :-1], out=change[:, 1:])
    starts = np.flatnonzero(change)
    del change
    values = label_map.ravel()[starts]
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    ends[-1] = height * width
    foreground = values != 0
    starts, ends, values = starts[foreground], ends[foreground], values[foreground]
    if starts.size == 0:
        return empty, empty, empty, empty, empty, empty
    rows = starts // width
    first_col = starts - rows * width
    last_col = ends - 1 - rows * width
    labels, run_label = np.unique(values, return_inverse=True)
    count = labels.size
    areas = np.bincount(run_label, weights=ends - starts, minlength=count).astype(np.int64)
    x_min = np.full(count, width, dtype=np.int64)
    x_max = np.full(count, -1, dtype=np.int64)
    y_min = np.full(count, height, dtype=np.int64)
    y_max = np.full(count, -1, dtype=np.int64)
    np.minimum.at(x_min, run_label, first_col)
    np.maximum.at(x_max, run_label, last_col)
    np.minimum.at(y_min, run_label, rows)
    np.maximum.at(y_max, run_label, rows)
    return labels.astype(np.int64), areas, x_min, y_min, x_max, y_max


# --------------------------------------------------------------------------------------------
# Crack tracing: the whole label map -> the rings along pixel edges of every label, at once.

# A ring runs along the pixel edges (cracks) of one label and turns only at pixel corners; the
# 2x2 pixels around a corner decide the turn. Bits of a pattern: 1 = NW, 2 = NE, 4 = SW, 8 = SE
# pixel belongs to the label. The label's boundary passes a corner once, or twice where only
# two diagonal pixels meet: they are one 8-connected part, so its boundary pinches through.
# Each pass is given by the direction it leaves in when walked with the label on its right;
# pass 0 is the one using the crack west of the corner, pass 1 the one using the crack east.
_EAST, _SOUTH, _WEST, _NORTH = 0, 1, 2, 3
_TURNS = {
    1: (_WEST,),
    2: (_NORTH,),
    4: (_SOUTH,),
    8: (_EAST,),
    7: (_SOUTH,),
    11: (_WEST,),
    13: (_EAST,),
    14: (_NORTH,),
    9: (_WEST, _EAST),
    6: (_NORTH, _SOUTH),
}
_PASSES = np.zeros((16, 2), dtype=bool)
_LEAVES = np.zeros((16, 2), dtype=np.int8)
for _pattern, _directions in _TURNS.items():
    _PASSES[_pattern, : len(_directions)] = True
    _LEAVES[_pattern, : len(_directions)] = _directions
_PASS_COUNT = _PASSES.sum(axis=1).astype(np.uint8)


_SCRATCH = threading.local()


def _scratch(name: str, size: int, dtype: np.dtype) -> np.ndarray:
    """A 1-D buffer of ``size`` items, kept per thread and reused from call to call.

    The full-image temporaries of the turn test are the size of the map; allocating them
    afresh on every call costs more in page faults than the arithmetic on them.
    """
    buffers = _SCRATCH.__dict__.setdefault("buffers", {})
    buffer = buffers.get(name)
    if buffer is None or buffer.size < size or buffer.dtype != dtype:
        buffer = buffers[name] = np.empty(size, dtype=dtype)
    return buffer[:size]


#: Rows of corners handled at a time, so that the full-width temporaries stay in cache.
_STRIP_PIXELS = 1 << 19


def _turns(label_map: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every turn of every label's boundary, one per pass: ``(x, y, label, leaves, pattern,
    pass)``, in raster order of the corners, then by the label's NW/NE/SW/SE position, then pass.
    """
    height, width = label_map.shape
    rows = max(1, _STRIP_PIXELS // (width + 2))
    strips = [
        _turns_in_strip(label_map, top, min(top + rows, height + 1))
        for top in range(0, height + 1, rows)
    ]
    return tuple(np.concatenate(parts) for parts in zip(*strips, strict=True))


def _turns_in_strip(label_map: np.ndarray, top: int, bottom: int) -> tuple[np.ndarray, ...]:
    """:func:`_turns` for the corner rows ``top <= y < bottom``."""
    height, width = label_map.shape
    # Corner (x, y) sits in the middle of padded pixels [y : y + 2, x : x + 2], where the map
    # is padded by one pixel of background all around.
    stride = width + 2
    rows = bottom - top + 1
    flat = _scratch("padded", rows * stride, label_map.dtype)
    padded = flat.reshape(rows, stride)
    padded[:, 0] = padded[:, -1] = 0
    first_row, last_row = max(top - 1, 0), min(bottom, height)
    padded[: first_row - top + 1] = 0
    padded[first_row - top + 1 : last_row - top + 1, 1:-1] = label_map[first_row:last_row]
    padded[last_row - top + 1 :] = 0
    # A boundary turns at a corner when a crack runs north or south of it and another one west
    # or east of it. Flat over the padded rows, corner (x, y) is at y * stride + x, and every
    # operation runs on contiguous memory; the column x = width + 1 compares padding with
    # padding, so it never turns.
    across = np.not_equal(flat[:-1], flat[1:], out=_scratch("across", flat.size - 1, bool))
    down = np.not_equal(
        flat[:-stride], flat[stride:], out=_scratch("down", flat.size - stride, bool)
    )
    corners = (rows - 1) * stride - 1  # the last one is in the padding column
    turn = np.logical_or(
        across[:corners], across[stride : stride + corners], out=_scratch("turn", corners, bool)
    )
    turn &= np.logical_or(
        down[:corners], down[1 : corners + 1], out=_scratch("down_either", corners, bool)
    )
    top_left = np.flatnonzero(turn)
    y, x = np.divmod(top_left, stride)
    nw, ne = flat[top_left], flat[top_left + 1]
    sw, se = flat[top_left + width + 2], flat[top_left + width + 3]
    nw_ne, nw_sw, nw_se = nw == ne, nw == sw, nw == se
    ne_sw, ne_se, sw_se = ne == sw, ne == se, sw == se
    # Per position, the pattern of the label there; each label of a block is handled once, at
    # the first position that holds it.
    pattern = np.empty((top_left.size, 4), dtype=np.uint8)
    pattern[:, 0] = 1 | (nw_ne << 1) | (nw_sw << 2) | (nw_se << 3)
    pattern[:, 1] = nw_ne | 2 | (ne_sw << 2) | (ne_se << 3)
    pattern[:, 2] = nw_sw | (ne_sw << 1) | 4 | (sw_se << 3)
    pattern[:, 3] = nw_se | (ne_se << 1) | (sw_se << 2) | 8
    first = np.empty((top_left.size, 4), dtype=bool)
    first[:, 0] = nw != 0
    first[:, 1] = (ne != 0) & ~nw_ne
    first[:, 2] = (sw != 0) & ~nw_sw & ~ne_sw
    first[:, 3] = (se != 0) & ~nw_se & ~ne_se & ~sw_se
    # One record per pass: (corner, position) in order, doubled where the boundary passes twice.
    found = np.flatnonzero(np.take(_PASS_COUNT, pattern) * first)
    found = np.repeat(found, _PASS_COUNT[pattern.ravel()[found]])
    which = np.zeros(found.size, dtype=np.int8)
    which[1:] = found[1:] == found[:-1]
    corner_of = found >> 2
    record_pattern = pattern.ravel()[found]
    value = np.stack([nw, ne, sw, se], axis=1).ravel()[found]
    leaves = _LEAVES[record_pattern, which]
    return x[corner_of], y[corner_of] + top, value, leaves, record_pattern, which


def _link_turns(x, value, leaves, pattern, which) -> np.ndarray:
    """The next turn of each turn along its ring, walked with the label on the left."""
    count = x.size
    following = np.empty(count, dtype=np.int32)
    # Along one row, a label's turns pair up left to right: the crack between the turns of a
    # pair is its boundary, the one between pairs is not. Turns come in raster order, so a
    # stable sort by label lines them up by (label, row, column), and at a corner passed twice
    # pass 0 (west crack) comes before pass 1 (east crack).
    by_row = np.argsort(value, kind="stable")
    west_end, east_end = by_row[0::2], by_row[1::2]
    eastward = leaves[west_end] == _EAST  # walked with the label on the right
    following[east_end[eastward]] = west_end[eastward]
    following[west_end[~eastward]] = east_end[~eastward]
    # Down one column likewise, by (label, column, row). At a pattern-9 corner the pass using
    # the north crack is pass 1: swap the two passes so that it comes first.
    order = np.arange(count)
    swapped = np.flatnonzero((pattern == 9) & (which == 0))
    order[swapped], order[swapped + 1] = swapped + 1, swapped
    column = x.astype(np.uint16) if x.size and x.max() < 1 << 16 else x  # radix sorts
    order = order[np.argsort(column[order], kind="stable")]
    by_column = order[np.argsort(value[order], kind="stable")]
    north_end, south_end = by_column[0::2], by_column[1::2]
    southward = leaves[north_end] == _SOUTH
    following[south_end[southward]] = north_end[southward]
    following[north_end[~southward]] = south_end[~southward]
    return following


def _order_rings(
    following: np.ndarray, along_row: np.ndarray, longest_ring: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split the cycles of ``following`` into rings: ``(order, offsets)``.

    Rings are listed by their lowest index, and each ring starts there. ``along_row`` marks the
    turns whose next turn is in the same row; rings alternate them with the others. No ring is
    longer than ``longest_ring`` turns.
    """
    count = following.size
    # Pointer doubling over every other turn (those leaving along a row) halves the work;
    # int32 halves the memory traffic of its random gathers.
    if count >= 2**31:  # indices are int32, and two of them share an int64 below
        raise ValueError(f"label map too complex: {count} boundary turns, at most 2**31 - 1")
    following = following.astype(np.int32)
    leaving = np.flatnonzero(along_row).astype(np.int32)
    position = np.empty(count, dtype=np.int32)
    position[leaving] = np.arange(leaving.size, dtype=np.int32)
    after = following[leaving]  # the turn leaving along a column that follows each of them
    two_ahead = position[following[after]]
    # After round k, the high half of best[i] is the lowest index among the 2**k pairs of turns
    # from leaving[i] on, and its low half how many pairs ahead it first comes (so that one
    # minimum keeps the nearer of two equal starts). Once 2**k pairs cover the longest ring,
    # it is each ring's lowest index.
    best = np.minimum(leaving, after).astype(np.int64) << 32
    jump = two_ahead
    span = 1
    while 2 * span < longest_ring:
        np.minimum(best, best[jump] + span, out=best)
        jump = jump[jump]
        span *= 2
    start = (best >> 32).astype(np.int32)
    half_steps = (best & 0xFFFFFFFF).astype(np.int32)
    # Steps from each turn forward to its ring's start (one more when that start leaves along a
    # column); -1 for the turn right after the start.
    steps = np.empty(count, dtype=np.int32)
    steps[leaving] = 2 * half_steps + ~along_row[start]
    steps[after] = steps[leaving] - 1
    is_start = np.zeros(count, dtype=bool)
    is_start[start] = True
    ring = np.empty(count, dtype=np.int32)
    ring[leaving] = (np.cumsum(is_start, dtype=np.int32) - 1)[start]
    ring[after] = ring[leaving]
    lengths = np.bincount(ring)
    offsets = _ring_offsets(lengths)
    rank = np.where(steps <= 0, -steps, lengths.astype(np.int32)[ring] - steps)
    order = np.empty(count, dtype=np.int32)
    order[offsets.astype(np.int32)[ring] + rank] = np.arange(count, dtype=np.int32)
    return order, offsets


def _ring_offsets(lengths: np.ndarray) -> np.ndarray:
    offsets = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


# --------------------------------------------------------------------------------------------
# pycocotools' rasterizer, emulated exactly with integers.


def dda_toggles(
    x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Emulate the toggles pycocotools' ``rleFrPoly`` makes for integer-corner edges.

    For edges ``(x0, y0) -> (x1, y1)`` with integer pixel-corner coordinates, return per crossed
    pixel-centre column: ``(edge index, column, toggle row, tie)``. ``tie`` marks a crossing
    where pycocotools rounds a value that lies exactly on a rounding boundary, so its result
    depends on floating-point detail; callers must not rely on such an edge.
    """
    x0, y0, x1, y1 = (_SCALE * np.asarray(a, dtype=np.int64) for a in (x0, y0, x1, y1))
    dx = np.abs(x1 - x0)
    dy = np.abs(y1 - y0)
    shallow = dx >= dy
    # Everything but the crossing u is per edge: each regime's lower DDA point is the floor of
    # (offset + gain * u) / divisor, with u = 5 column + 2 (the DDA steps from u to u + 1
    # across x = column + .5).
    # Shallow edges step along x from the endpoint with the smaller x: the lower point of the
    # step is the smaller of the rounded (2 ys dx + 2 (ye - ys) t + dx) / 2 dx at t = u - xs
    # and t + 1.
    swap = x0 > x1
    xs = np.where(swap, x1, x0)
    ys = np.where(swap, y1, y0)
    gain = 2 * (np.where(swap, y0, y1) - ys)
    shallow_divisor = 2 * np.maximum(dx, 1)
    shallow_offset = 2 * ys * dx + dx - gain * xs + np.minimum(gain, 0)
    # Steep edges step along y from the endpoint with the smaller y; the lower point is at
    # v = ys + t*, t* the last step before u passes the crossing.
    swap = y0 > y1
    xs = np.where(swap, x1, x0)
    ys = np.where(swap, y1, y0)
    slope_num = 2 * (np.where(swap, x0, x1) - xs)
    steep_divisor = np.where(slope_num == 0, 1, slope_num)
    steep_gain = 2 * np.maximum(dy, 1)
    at_zero = 2 * xs * dy + dy  # 2 dy (u + .5) after t steps is at_zero + slope_num t
    rising = slope_num > 0
    steep_offset = steep_gain - at_zero - rising + ys * steep_divisor
    offset = np.where(shallow, shallow_offset, steep_offset)
    gain = np.where(shallow, gain, steep_gain)
    divisor = np.where(shallow, shallow_divisor, steep_divisor)
    # Rounding on a boundary is only inexact when the slope is not a dyadic fraction.
    run_along, rise = np.where(shallow, dx, dy), np.where(shallow, dy, dx)
    reduced = run_along // np.maximum(np.gcd(run_along, rise), 1)
    dyadic = (reduced & (reduced - 1)) == 0

    columns_per_edge = dx // _SCALE
    edge = np.repeat(np.arange(x0.size), columns_per_edge)
    first = _ring_offsets(columns_per_edge)[:-1]
    column = np.arange(edge.size) + np.repeat(
        np.minimum(x0, x1) // _SCALE - first, columns_per_edge
    )
    numerator = offset[edge] + gain[edge] * (_SCALE * column + 2)
    lower_v = numerator // divisor[edge]
    # pycocotools: yd = ceil((v + .5) / 5 - .5), i.e. v rounded to the nearest multiple of 5.
    row = (lower_v + 2) // _SCALE
    # On a boundary, floating point may round one down: shallow edges and falling steep ones
    # may then take v - 1, rising steep ones v + 1; that only matters when it changes the row.
    tie = np.zeros(edge.size, dtype=bool)
    boundary = np.flatnonzero(
        ~dyadic[edge] & ((lower_v + 2 + (rising & ~shallow)[edge]) % _SCALE == 0)
    )
    if boundary.size:
        e = edge[boundary]
        t_last = lower_v[boundary] - ys[e]
        at_last = at_zero[e] + slope_num[e] * (t_last + rising[e])
        tie[boundary] = np.where(
            shallow[e], numerator[boundary] % divisor[e] == 0, at_last % steep_gain[e] == 0
        )
    return edge, column, row, tie


# --------------------------------------------------------------------------------------------
# Compaction: crack rings -> few straight edges that produce the same toggles.


def _cone_table() -> np.ndarray:
    """The parameters of :data:`_SLOPE_REGIMES`, one column per 4 regime + 2 rising + backward:
    (y margin and x offset of the low bound, and of the high bound, lowest m, highest m)."""
    table = np.empty((2, 2, 2, 6))
    for regime, (if_rising, if_falling) in enumerate(_SLOPE_REGIMES):
        for rising, (low, high, low_y, low_x, high_y, high_x) in ((1, if_rising), (0, if_falling)):
            table[regime, rising, 0] = (low_y, low_x, high_y, high_x, low, high)
            # y(x) = ay + m (x - ax) >= r + margin bounds m from below when x > ax, from above
            # when x < ax: a backward chain swaps which constraint gives which bound.
            table[regime, rising, 1] = (high_y, high_x, low_y, low_x, low, high)
    return table.reshape(8, 6).T.copy()


_CONE_TABLE = _cone_table()


def _accumulate(ufunc: np.ufunc, array: np.ndarray) -> None:
    """``ufunc.accumulate(array, axis=0)`` in place, row by row: numpy's accumulate along an
    outer axis is an order of magnitude slower than one whole-row ufunc call per row."""
    for k in range(1, array.shape[0]):
        ufunc(array[k], array[k - 1], out=array[k])


class _EdgeGeometry:
    """Horizontal crack edges of a batch of unrolled rings, for the cone test.

    Edge arrays are indexed by horizontal edge and padded past the last one, so that a start's
    look-ahead window is a plain index range; a start's run ends where its chain stops being
    x-monotone, alternating and in its ring (``chain``).
    """

    def __init__(self, unrolled: np.ndarray, horizontal: np.ndarray, last_of_ring: np.ndarray):
        self.unrolled = unrolled
        self.horizontal = horizontal
        self.last_of_ring = last_of_ring
        count = horizontal.size
        x, y = unrolled[:, 0], unrolled[:, 1]
        self.x_float, self.y_float = unrolled.T.astype(np.float64)
        x_start, x_end = x[horizontal], x[horizontal + 1]
        ring_last = last_of_ring[horizontal]
        padded = np.full((3, count + _RUNS[-1]), np.nan)
        self.row, self.x_end, self.y_next = padded
        self.row[:count] = y[horizontal]
        self.x_end[:count] = x_end
        # The end of the vertical edge after each horizontal one; NaN (no slope fits) where the
        # ring ends first.
        after = np.minimum(horizontal + 2, unrolled.shape[0] - 1)
        self.y_next[:count] = np.where(horizontal + 2 <= ring_last, y[after], np.nan)
        # First and last column of each edge, interleaved: edge j's are at 2 j and 2 j + 1.
        self.columns = np.full(2 * (count + _RUNS[-1]), np.nan)
        np.minimum(x_start, x_end, out=self.columns[: 2 * count : 2], casting="unsafe")
        np.maximum(x_start, x_end, out=self.columns[1 : 2 * count : 2], casting="unsafe")
        self.columns[1 : 2 * count : 2] -= 1
        self.forward = x_end > x_start
        # For each point, the index of the first horizontal edge starting there or later.
        is_horizontal = np.zeros(unrolled.shape[0] + 1, dtype=np.int64)
        is_horizontal[horizontal + 1] = 1
        self.first_at_or_after = np.cumsum(is_horizontal)[:-1]
        joined = (
            (ring_last[1:] == ring_last[:-1])
            & (self.forward[1:] == self.forward[:-1])
            & (horizontal[1:] == horizontal[:-1] + 2)
        )
        # Distance from each edge to the next break after it, by a backward running minimum.
        next_break = np.full(count, count)
        next_break[:-1][~joined] = np.arange(1, count)[~joined]
        self.chain = np.minimum.accumulate(next_break[::-1])[::-1] - np.arange(count)

    def reach(self, starts: np.ndarray) -> np.ndarray:
        """For each start point, how many crack edges one exact straight edge can replace."""
        count = self.horizontal.size
        # Each start's first horizontal edge (the start's own edge or the next one), if it is
        # in the start's ring.
        first = np.minimum(self.first_at_or_after[starts], count - 1)
        edge = self.horizontal[first]
        has_run = (edge >= starts) & (edge < self.last_of_ring[starts])
        ax = np.take(self.x_float, starts)
        ay = np.take(self.y_float, starts)
        # A chain fits a straight edge only if its first step (a horizontal edge of `length`
        # columns and the vertical edge of `step` rows next to it) does: a steep edge toggles
        # one column per row, so no long horizontal edge; a shallow one moves one row per column
        # at most, and from a vertical start only on short edges (pycocotools' .4/.6 samples).
        from_vertical = edge != starts
        length = self.columns[2 * first + 1] - self.columns[2 * first] + 1
        row = self.row[first]
        step = np.where(from_vertical, row - ay, self.y_next[first] - row)
        single = np.abs(step) == 1
        shallow = has_run & single & ((length <= 2) | ~from_vertical)
        steep = has_run & (length == 1) & (single | (np.abs(step) >= 2))
        # Every fitting slope has the sign of that first step.
        rising = self.forward[first] == (step > 0)
        backward = ~self.forward[first]
        # One cone per start and regime: both regimes only for single-pixel diagonal steps.
        which = np.concatenate([np.flatnonzero(shallow), np.flatnonzero(steep)])
        split = int(np.count_nonzero(shallow))
        code = 4 * (np.arange(which.size) >= split) + 2 * rising[which] + backward[which]
        score = np.zeros(which.size, dtype=np.int8)
        with np.errstate(divide="ignore", invalid="ignore"):
            for chunk in range(0, which.size, _CHUNK):  # chunks keep the temporaries in cache
                part = which[chunk : chunk + _CHUNK]
                # Per cone: (ax, ay, low margin, low offset, high margin, high offset, lower,
                # upper) and (first edge, usable look-ahead, cone index).
                cones = np.empty((8, part.size))
                np.take(ax, part, out=cones[0], mode="clip")
                np.take(ay, part, out=cones[1], mode="clip")
                for target, column in zip(cones[2:], _CONE_TABLE, strict=True):
                    np.take(column, code[chunk : chunk + _CHUNK], out=target, mode="clip")
                indices = np.empty((3, part.size), dtype=np.int64)
                np.take(first, part, out=indices[0], mode="clip")
                np.minimum(self.chain[indices[0]], _RUNS[-1], out=indices[1])
                indices[2] = np.arange(chunk, chunk + part.size)
                begin = 0
                for end in _RUNS:  # look further ahead only where the cone is still open
                    found = self._cone(cones, indices, begin, end)
                    np.maximum(score[indices[2]], found, out=found)
                    score[indices[2]] = found
                    lower, upper = cones[6:]
                    still_open = np.flatnonzero((lower < upper) & (indices[1] > end))
                    if still_open.size == 0:
                        break
                    cones = cones.take(still_open, axis=1)
                    indices = indices.take(still_open, axis=1)
                    begin = end
        best = np.zeros(starts.size, dtype=np.int64)
        best[which[:split]] = score[:split]
        best[which[split:]] = np.maximum(best[which[split:]], score[split:])
        # A fit at look-ahead k ends 2k + 1 (or, after the vertical edge, 2k + 2) edges past the
        # first horizontal edge.
        return np.where(best > 0, best + from_vertical, 1)

    def _cone(self, cones: np.ndarray, indices: np.ndarray, begin: int, end: int) -> np.ndarray:
        """Look-ahead edges ``begin`` to ``end`` of one stage: the cone carried in from the
        previous stage (``cones[6:]``, updated) narrows edge by edge; returns the best fit."""
        ax, ay, low_margin, low_offset, high_margin, high_offset, lower, upper = cones
        first, usable, _ = indices
        # Arrays are (look-ahead, cones): one whole row per ufunc call.
        ahead = np.arange(begin, end)[:, None]
        index = first + ahead
        rise = self.row[index] - ay
        # The bounds are monotone in x on each side of the start point, so an edge's first or
        # last column bounds the whole edge: which one depends on the sign of the numerator.
        pair = 2 * index
        low = rise + low_margin
        offset = self.columns[pair + (low < 0)]
        offset -= ax
        offset += low_offset
        low /= offset
        np.maximum(low[0], lower, out=low[0])
        _accumulate(np.maximum, low)
        high = rise + high_margin
        offset = self.columns[pair + (high >= 0)]
        offset -= ax
        offset += high_offset
        high /= offset
        np.minimum(high[0], upper, out=high[0])
        _accumulate(np.minimum, high)
        lower[:], upper[:] = low[-1], high[-1]
        # Candidate ends: the end of each horizontal edge, and the end of the vertical edge
        # after it (which adds no toggles, so the same cone applies).
        dx = self.x_end[index] - ax
        low += _EPSILON
        high -= _EPSILON
        slope = rise / dx
        fits = (slope > low) & (slope < high)
        slope = self.y_next[index] - ay
        slope /= dx
        fits_after = (slope > low) & (slope < high)
        valid = ahead < usable
        fits_after &= valid
        fits |= fits_after
        fits &= valid
        found = fits * (2 * ahead + 1).astype(np.int8)
        found += fits_after
        return found.max(axis=0)


def _batches(bounds: np.ndarray) -> list[tuple[int, int]]:
    """Split the groups ``bounds[i] : bounds[i + 1]`` (sorted, from 0 to the total) into
    batches of whole groups, each starting at the first group that starts at or after a
    multiple of ``_BATCH_POINTS``: pairs ``(first group, end group)``."""
    first = np.searchsorted(bounds, np.arange(0, bounds[-1], _BATCH_POINTS))
    cuts = np.unique(np.append(first, bounds.size - 1)).tolist()
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def _compact_all_rings(points: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_compact_rings`, batch by batch of whole rings."""
    compact_points, compact_lengths = [], []
    for first, end in _batches(offsets):
        batch = offsets[first : end + 1]
        kept, kept_offsets = _compact_rings(points[batch[0] : batch[-1]], batch - batch[0])
        compact_points.append(kept)
        compact_lengths.append(np.diff(kept_offsets))
    return np.concatenate(compact_points), _ring_offsets(np.concatenate(compact_lengths))


def _compact_rings(points: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Replace runs of crack edges by single straight edges, for a batch of closed rings."""
    lengths = np.diff(offsets)
    ring_count = lengths.size
    if points.shape[0] == 0:
        return points, offsets
    # Unroll each ring to n + 1 points (the first repeated at the end), so that edge j of a
    # ring goes from point j to point j + 1 and a run never wraps. (np.take of the source rows:
    # scattering rows by fancy indexing is several times slower.)
    open_offsets = offsets + np.arange(ring_count + 1)
    total = points.shape[0] + ring_count
    ring_end = open_offsets[1:] - 1
    source = np.arange(total) - np.repeat(np.arange(ring_count), lengths + 1)
    source[ring_end] = offsets[:-1]
    unrolled = np.take(points, source, axis=0)
    last_of_ring = np.repeat(ring_end, lengths + 1)
    not_end = np.ones(total, dtype=bool)
    not_end[ring_end] = False

    # Crack rings alternate horizontal and vertical edges; only horizontal ones toggle pixels.
    x = unrolled[:, 0]
    moves = not_end.copy()
    moves[:-1] &= x[1:] != x[:-1]
    horizontal = np.flatnonzero(moves)
    if horizontal.size == 0:
        return points, offsets
    geometry = _EdgeGeometry(unrolled, horizontal, last_of_ring)
    starts = np.flatnonzero(not_end)
    # reach[i]: how many crack edges the longest exact straight edge from start i replaces.
    reach = geometry.reach(starts)
    jump = np.arange(total)
    jump[starts] += reach  # a ring's last point jumps to itself

    # Greedy: from each ring's first point, jump as far as possible, again and again. The
    # points on that path are found for all rings at once by pointer doubling: after round k,
    # ``chosen`` holds the first 2**k points of each path and ``jump`` leaps 2**k of them.
    chosen = np.zeros(total, dtype=bool)
    chosen[open_offsets[:-1]] = True
    # Once a round adds no point, every path has reached its ring's last point.
    while True:
        grown = chosen.copy()
        grown[jump[chosen]] = True
        if np.array_equal(grown, chosen):
            break
        chosen, jump = grown, jump[jump]

    chosen_index = np.flatnonzero(chosen)
    chosen_index = chosen_index[chosen_index != last_of_ring[chosen_index]]
    chosen_index = _repair_inexact_edges(unrolled, chosen_index, last_of_ring)
    return np.take(unrolled, chosen_index, axis=0), np.searchsorted(chosen_index, open_offsets)


def _repair_inexact_edges(
    unrolled: np.ndarray, chosen_index: np.ndarray, last_of_ring: np.ndarray
) -> np.ndarray:
    """Check each chosen edge against the exact DDA; put back the crack points of any that fail."""
    next_index = np.empty_like(chosen_index)
    next_index[:-1] = chosen_index[1:]
    ring_last = last_of_ring[chosen_index]
    is_last = np.ones(chosen_index.size, dtype=bool)
    is_last[:-1] = last_of_ring[chosen_index[1:]] != ring_last[:-1]
    next_index[is_last] = ring_last[is_last]
    long_edge = np.flatnonzero(next_index - chosen_index > 1)
    if long_edge.size == 0:
        return chosen_index
    edge_start = chosen_index[long_edge]
    edge_end = next_index[long_edge]
    bad_edge = _inexact_edges(unrolled, edge_start, edge_end)
    if not bad_edge.any():
        return chosen_index
    spans = edge_end[bad_edge] - edge_start[bad_edge]
    restored = np.repeat(edge_start[bad_edge], spans - 1) + (
        np.arange(int((spans - 1).sum())) - np.repeat(_ring_offsets(spans - 1)[:-1], spans - 1) + 1
    )
    return np.unique(np.concatenate([chosen_index, restored]))


def _inexact_edges(
    unrolled: np.ndarray, edge_start: np.ndarray, edge_end: np.ndarray
) -> np.ndarray:
    """Which straight edges between unrolled points toggle other pixels than the crack path."""
    x, y = unrolled[:, 0], unrolled[:, 1]
    crack_row, crossed = _crack_rows(unrolled, edge_start, edge_end)
    x0, y0, x1, y1 = x[edge_start], y[edge_start], x[edge_end], y[edge_end]
    monotone = crossed == np.abs(x1 - x0)
    if not monotone.all():  # never from the cone test: refused without a check
        bad_edge = np.ones(edge_start.size, dtype=bool)
        bad_edge[monotone] = _inexact_edges(unrolled, edge_start[monotone], edge_end[monotone])
        return bad_edge
    edge, _, row, tie = dda_toggles(x0, y0, x1, y1)
    bad_crossing = tie | (row != crack_row)
    bad_edge = np.zeros(edge_start.size, dtype=bool)
    bad_edge[edge[bad_crossing]] = True
    return bad_edge


def _crack_rows(
    unrolled: np.ndarray, edge_start: np.ndarray, edge_end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Row at which the crack path from each ``edge_start`` to ``edge_end`` crosses each column.

    Laid out as :func:`dda_toggles` lays out the straight edges between the same points: edge
    by edge, columns ascending. That holds where the path is x-monotone, which the second
    array tells: how many columns each path crosses (its width if, and only if, monotone).
    """
    spans = edge_end - edge_start
    offsets = _ring_offsets(spans)
    # Walk each path in the direction of ascending x, so its crack edges come in column order.
    backward = unrolled[edge_end, 0] < unrolled[edge_start, 0]
    origin = np.where(backward, edge_end - 1, edge_start)
    sense = np.where(backward, -1, 1)
    within = np.arange(int(offsets[-1])) - np.repeat(offsets[:-1], spans)
    crack = np.repeat(origin, spans) + within * np.repeat(sense, spans)
    p, q = np.take(unrolled, crack, axis=0), np.take(unrolled, crack + 1, axis=0)
    columns = np.abs(q[:, 0] - p[:, 0])
    # A slanted crack edge (never in a crack ring) toggles no row a DDA can reach.
    row = np.where(p[:, 1] == q[:, 1], p[:, 1], np.iinfo(np.int64).min)
    crossed = np.add.reduceat(columns, offsets[:-1]) if spans.size else spans
    return np.repeat(row, columns), crossed


# --------------------------------------------------------------------------------------------
# Rings -> polygons.


def _bridge(outer: np.ndarray, holes: Sequence[np.ndarray]) -> np.ndarray:
    """Join holes into their outer ring through zero-width bridges (walked there and back)."""
    if not holes:
        return outer
    inserts: list[tuple[int, int, np.ndarray]] = []
    for order, hole in enumerate(holes):
        anchor = hole[0]
        nearest = int(np.argmin(((outer - anchor) ** 2).sum(axis=1)))
        inserts.append((nearest, order, hole))
    inserts.sort(key=lambda item: (item[0], item[1]))
    pieces: list[np.ndarray] = []
    done = 0
    for nearest, _, hole in inserts:
        pieces.append(outer[done : nearest + 1])
        pieces.append(hole)
        pieces.append(hole[:1])
        pieces.append(outer[nearest : nearest + 1])
        done = nearest + 1
    pieces.append(outer[done:])
    return np.concatenate(pieces)


def join_rings(rings: Sequence[np.ndarray]) -> np.ndarray:
    """Join several closed rings into one through zero-width bridges (for one-line formats)."""
    if len(rings) == 1:
        return rings[0]
    return _bridge(rings[0], list(rings[1:]))


def _simplify(ring: np.ndarray, tolerance: float) -> np.ndarray:
    approx = cv2.approxPolyDP(ring.astype(np.float32).reshape(-1, 1, 2), tolerance, True)
    approx = approx.reshape(-1, 2).astype(np.float64)
    return approx if approx.shape[0] >= 3 else ring.astype(np.float64)


def decode_rle(rle: dict | list) -> np.ndarray:
    """``pycocotools.mask.decode``, without the DeprecationWarning it raises under numpy 2."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_PYCOCOTOOLS_NUMPY2_WARNING)
        return coco_mask.decode(rle)


def rasterize_polygons(polygons: Sequence[np.ndarray], height: int, width: int) -> np.ndarray:
    """Rasterize pixel-corner polygons with pycocotools: a ``(height, width)`` uint8 mask."""
    flat = [np.asarray(p, dtype=np.float64).ravel().tolist() for p in polygons]
    flat = [p + p[:2] if len(p) == 4 else p for p in flat]  # pycocotools reads 4 numbers as a box
    rles = coco_mask.frPyObjects(flat, height, width)
    return decode_rle(coco_mask.merge(rles))


@dataclass
class _TracedMap:
    """The crack rings of every label of one map, before compaction."""

    label_map: np.ndarray
    labels: np.ndarray
    areas: np.ndarray
    x_min: np.ndarray
    y_min: np.ndarray
    x_max: np.ndarray
    y_max: np.ndarray
    points: np.ndarray  # (N, 2) int64 ring corners, ring after ring
    offsets: np.ndarray  # ring i is points[offsets[i] : offsets[i + 1]]
    ring_owner: np.ndarray  # index of the ring's label in ``labels``
    ring_parent: np.ndarray  # a hole's outer ring; -1 for an outer ring


def _link_rings(x, y, value, leaves, pattern, which) -> tuple[np.ndarray, ...]:
    """Link the turns into rings: ``(points, offsets, label of each ring)``.

    Labels are independent, so this runs label group by label group of about
    ``_BATCH_POINTS`` turns (small temporaries, as in :func:`_compact_all_rings`). Within a
    label, rings come in raster order of their first corner, and start there.
    """
    by_label = np.argsort(value, kind="stable")  # (label, row, column) order
    sorted_value = value[by_label]
    label_bounds = np.concatenate(
        [[0], np.flatnonzero(sorted_value[1:] != sorted_value[:-1]) + 1, [by_label.size]]
    )
    all_points, all_lengths, all_values = [], [], []
    for first_label, end_label in _batches(label_bounds):
        first, last = int(label_bounds[first_label]), int(label_bounds[end_label])
        batch = by_label[first:last]
        batch_x, batch_y, batch_value = x[batch], y[batch], sorted_value[first:last]
        following = _link_turns(batch_x, batch_value, leaves[batch], pattern[batch], which[batch])
        # A ring has no more turns than its label.
        longest = int(np.diff(label_bounds[first_label : end_label + 1]).max())
        order, offsets = _order_rings(following, batch_y[following] == batch_y, longest)
        points = np.empty((order.size, 2), dtype=np.int64)
        points[:, 0], points[:, 1] = np.take(batch_x, order), np.take(batch_y, order)
        all_points.append(points)
        all_lengths.append(np.diff(offsets))
        all_values.append(batch_value[order[offsets[:-1]]])
    return (
        np.concatenate(all_points),
        _ring_offsets(np.concatenate(all_lengths)),
        np.concatenate(all_values),
    )


def _trace(label_map: np.ndarray) -> _TracedMap:
    label_map = np.asarray(label_map)
    if label_map.ndim != 2 or not np.issubdtype(label_map.dtype, np.integer):
        raise ValueError(
            f"label map must be a 2-D integer array, got {label_map.dtype} {label_map.shape}"
        )
    x, y, value, leaves, pattern, which = _turns(label_map)
    if x.size == 0:
        none = np.zeros(0, dtype=np.int64)
        return _TracedMap(
            label_map,
            *([none] * 6),
            np.zeros((0, 2), np.int64),
            np.zeros(1, np.int64),
            none,
            none,
        )
    points, offsets, ring_value = _link_rings(x, y, value, leaves, pattern, which)
    # Rings come label by label (see _link_rings): reductions per label are over runs of rings.
    new_label = np.ones(ring_value.size, dtype=bool)
    new_label[1:] = ring_value[1:] != ring_value[:-1]
    first_ring = np.flatnonzero(new_label)
    labels = ring_value[first_ring]
    ring_owner = np.cumsum(new_label) - 1
    # Shoelace: walked with the label on the left, outer rings have a positive area and holes a
    # negative one, so the sum over a label's rings is exactly its pixel count.
    following = np.arange(1, points.shape[0] + 1)
    following[offsets[1:] - 1] = offsets[:-1]
    cross = points[:, 1] * points[following, 0] - points[:, 0] * points[following, 1]
    ring_area = np.add.reduceat(cross, offsets[:-1]) // 2
    areas = np.add.reduceat(ring_area, first_ring)
    x_min, y_min = (
        np.minimum.reduceat(np.minimum.reduceat(points[:, axis], offsets[:-1]), first_ring)
        for axis in (0, 1)
    )
    x_max, y_max = (
        np.maximum.reduceat(np.maximum.reduceat(points[:, axis], offsets[:-1]), first_ring)
        for axis in (0, 1)
    )
    ring_parent = _hole_parents(points, offsets, ring_owner, ring_area)
    return _TracedMap(
        label_map,
        labels.astype(np.int64),
        areas,
        x_min,
        y_min,
        x_max - 1,
        y_max - 1,
        points,
        offsets,
        ring_owner,
        ring_parent,
    )


def _hole_parents(
    points: np.ndarray, offsets: np.ndarray, ring_owner: np.ndarray, ring_area: np.ndarray
) -> np.ndarray:
    """The outer ring around each hole (-1 for outer rings)."""
    outer = np.flatnonzero(ring_area > 0)
    parent = np.full(ring_area.size, -1, dtype=np.int64)
    holes = np.flatnonzero(ring_area < 0)
    if holes.size == 0:
        return parent
    outer_count = np.bincount(ring_owner[outer], minlength=ring_owner.max() + 1)
    sole_outer = np.full(outer_count.size, -1, dtype=np.int64)
    sole_outer[ring_owner[outer]] = outer
    parent[holes] = sole_outer[ring_owner[holes]]
    # A label of several parts: the hole lies in the smallest of its outer rings that holds the
    # centre of the hole's first pixel (the one below and right of the ring's first corner).
    for hole in holes[outer_count[ring_owner[holes]] > 1].tolist():
        centre = (float(points[offsets[hole], 0]) + 0.5, float(points[offsets[hole], 1]) + 0.5)
        around = [
            ring
            for ring in outer[ring_owner[outer] == ring_owner[hole]].tolist()
            if cv2.pointPolygonTest(
                points[offsets[ring] : offsets[ring + 1]].astype(np.float32), centre, False
            )
            > 0
        ]
        parent[hole] = min(around, key=lambda ring: ring_area[ring])
    return parent


def _assemble(
    traced: _TracedMap, compact: list[np.ndarray], *, verify: bool
) -> tuple[Instance, ...]:
    """Bridge holes into their outer rings and build the instances of one map."""
    height, width = traced.label_map.shape
    count = traced.labels.size
    holes_of: dict[int, list[np.ndarray]] = {}
    for ring_index in np.flatnonzero(traced.ring_parent >= 0).tolist():
        holes_of.setdefault(int(traced.ring_parent[ring_index]), []).append(compact[ring_index])
    polygons_of: list[list[np.ndarray]] = [[] for _ in range(count)]
    holes_count = np.bincount(traced.ring_owner[traced.ring_parent >= 0], minlength=count).tolist()
    owners = traced.ring_owner.tolist()
    for ring_index in np.flatnonzero(traced.ring_parent < 0).tolist():
        ring = compact[ring_index]
        if ring_index in holes_of:
            ring = _bridge(ring, holes_of[ring_index])
        polygons_of[owners[ring_index]].append(ring)

    instances = []
    columns = (traced.labels, traced.areas, traced.x_min, traced.y_min, traced.x_max, traced.y_max)
    for index, (label, area, x0, y0, x1, y1) in enumerate(
        zip(*(c.tolist() for c in columns), strict=True)
    ):
        w, h = x1 - x0 + 1, y1 - y0 + 1
        polygons = tuple(polygons_of[index])
        if verify:
            local = [p - (x0, y0) for p in polygons]
            mask = traced.label_map[y0 : y0 + h, x0 : x0 + w] == label
            if not np.array_equal(rasterize_polygons(local, h, w), mask):
                raise ContourError(f"label {label}: polygons do not rasterize back to the mask")
        instances.append(
            Instance(
                label=label,
                area=area,
                bbox=(x0, y0, w, h),
                polygons=polygons,
                num_parts=len(polygons),
                num_holes=holes_count[index],
                touches_border=bool(x0 == 0 or y0 == 0 or x0 + w == width or y0 + h == height),
            )
        )
    return tuple(instances)


def extract_instances(
    label_map: np.ndarray, *, tolerance: float = defaults.TOLERANCE, verify: bool = True
) -> tuple[Instance, ...]:
    """Turn a label map into one :class:`Instance` per label value, in label order.

    ``tolerance`` (pixels) simplifies the exact polygons with Douglas-Peucker for smaller
    files; at 0 (the default) the polygons rasterize back to the mask exactly. ``verify``
    re-rasterizes each exact instance with pycocotools in its bbox and raises
    :class:`ContourError` on any difference (a guard: the construction is exact).
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    traced = _trace(label_map)
    compact: list[np.ndarray] = []
    if traced.points.shape[0]:
        points, offsets = _compact_all_rings(traced.points, traced.offsets)
        compact = np.split(points.astype(np.float64), offsets[1:-1])
    if tolerance > 0:
        compact = [_simplify(ring, tolerance) for ring in compact]
    return _assemble(traced, compact, verify=verify and tolerance == 0)


# --------------------------------------------------------------------------------------------
# Encodings the writers use.


def coco_segmentation(instance: Instance) -> list[list[float]]:
    """COCO polygon lists ``[[x1, y1, x2, y2, ...], ...]``, one per part."""
    out = []
    for ring in instance.polygons:
        flat = ring.ravel().tolist()
        if len(flat) == 4:  # never happens for exact rings; guards simplified ones
            flat = flat + flat[:2]
        out.append([float(v) for v in flat])
    return out


def joined_ring(instance: Instance) -> np.ndarray:
    """All parts of an instance in one ring, joined by zero-width bridges."""
    return join_rings(instance.polygons)


def instance_mask(label_map: np.ndarray, instance: Instance) -> np.ndarray:
    """The boolean mask of ``instance`` over its bbox."""
    x, y, w, h = instance.bbox
    return label_map[y : y + h, x : x + w] == instance.label


def coco_rle(label_map: np.ndarray, instance: Instance) -> dict[str, object]:
    """Compressed COCO RLE of ``instance`` over the whole image, from pycocotools."""
    height, width = label_map.shape
    x, y, w, h = instance.bbox
    full = np.zeros((height, width), dtype=np.uint8, order="F")
    full[y : y + h, x : x + w] = instance_mask(label_map, instance)
    rle = coco_mask.encode(full)
    return {"size": [int(height), int(width)], "counts": rle["counts"].decode("ascii")}
