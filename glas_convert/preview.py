"""PNG overlays of the glands on the H&E image, drawn from what was exported.

Given an export folder (COCO, VOC, YOLO or masks, alone or as ``glas-convert all`` writes them)
the glands are read back the way a training pipeline reads them: COCO polygons or RLE
rasterized with pycocotools, YOLO lines denormalized and rasterized the same way (detect lines
are drawn as boxes), VOC ``SegmentationObject`` indices and 16-bit instance PNGs. Given a raw
dataset, the glands are the contour core's polygons (:func:`contours.extract_instances`).

Output layout, for each source drawn (``dataset``, ``coco``, ``voc``, ``yolo``, ``masks``)::

    DIR/{source}/{split}/NAME.png       the image, its size, with every gland drawn on it
    DIR/{source}/contact_{split}.png    a grid of thumbnails with the image names

Drawing: gland ``k`` (1-based, the order every writer uses) gets colour :func:`palette_color`
``(k)``, a translucent fill, the outlines of its rasterized mask from ``cv2.findContours`` with
``RETR_CCOMP`` (holes show as inner outlines, each part of a multi-part gland has its own
outline) and its number at the point of each large part farthest from its edge. Glands under
:data:`layout.TINY_GLAND_PX` pixels get a circle so they can be found. Coordinates are pixels,
``[row, col]`` in arrays and ``(x, y)`` for OpenCV calls, 0-based. The output is deterministic:
the same input gives the same bytes.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from pycocotools import mask as coco_mask

from glas_convert import contours, layout
from glas_convert.dataset import natural_key, read_dataset
from glas_convert.errors import DatasetError
from glas_convert.formats.common import ROLE_OF_SPLIT, split_order
from glas_convert.formats.voc import VOC_ROOT, VOID_INDEX
from glas_convert.formats.yolo import parse_yolo_line
from glas_convert.output import atomic_output
from glas_convert.progress import progress
from glas_convert.validate import detect_formats

#: Every source :func:`write_previews` can draw from, in the order it draws them.
SOURCES = ("dataset", "coco", "voc", "yolo", "masks")
#: Weight of the gland colour in the translucent fill.
FILL_ALPHA = 0.35
#: Thumbnail width on the contact sheets, in pixels.
THUMB_WIDTH = 384
#: Caption band under each thumbnail, in pixels.
CAPTION_HEIGHT = 22
#: Thumbnails per row on a contact sheet, at most.
SHEET_COLUMNS = 4
#: Parts smaller than this many pixels get no number of their own (the largest part always has).
LABELLED_PART_PX = 200
#: Grey of the canvas when an export holds no image.
BLANK_GREY = 128
_SHEET_BACKGROUND = (40, 40, 40)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class Gland:
    """One gland as read back: a full-image boolean mask, or only a box for YOLO detect."""

    mask: np.ndarray | None = None
    #: Pixel extent ``(x, y, w, h)``, 0-based, when only a box was exported.
    box: tuple[int, int, int, int] | None = None


@dataclass(frozen=True)
class PreviewItem:
    """One image to draw: its name, split, size and loaders for its pixels and glands."""

    name: str
    split: str
    width: int
    height: int
    #: Returns the BGR uint8 image, or None when the export holds no image.
    load_image: Callable[[], np.ndarray | None] = field(repr=False, compare=False)
    #: Returns the glands in export order.
    load_glands: Callable[[], tuple[Gland, ...]] = field(repr=False, compare=False)


@dataclass(frozen=True)
class PreviewSummary:
    """What :func:`write_previews` drew: (source, split) -> images, and the warnings."""

    images: dict[tuple[str, str], int]
    warnings: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        return [
            f"{src} {split}: {n} image{'' if n == 1 else 's'}"
            for (src, split), n in self.images.items()
        ]


# --------------------------------------------------------------------------------------------
# Drawing


def palette_color(index: int) -> tuple[int, int, int]:
    """The BGR colour of gland ``index`` (1-based): bright hues spaced by the golden ratio."""
    if index < 1:
        raise ValueError(f"index must be >= 1, got {index}")
    # Gland 1 starts at green: red and magenta are close to the H&E stain.
    hue = int(round((1 / 3 + (index - 1) * 0.618033988749895) % 1.0 * 180)) % 180
    value = 255 if index % 2 else 200
    hsv = np.array([[[hue, 255, value]]], dtype=np.uint8)
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].tolist()
    return int(b), int(g), int(r)


def _to_bgr(image: np.ndarray | None, width: int, height: int) -> np.ndarray:
    if image is None:
        return np.full((height, width, 3), BLANK_GREY, dtype=np.uint8)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.dtype != np.uint8:
        image = cv2.convertScaleAbs(image, alpha=255.0 / max(1, int(image.max())))
    return np.ascontiguousarray(image)


def _outline_thickness(width: int, height: int) -> int:
    return max(1, round(max(width, height) / 500))


def _put_label(canvas: np.ndarray, text: str, centre: tuple[int, int], emphasis: float) -> None:
    """White text with a black edge, centred on ``centre`` and kept inside the canvas."""
    scale = max(0.4, canvas.shape[1] / 1100) * emphasis
    thickness = max(1, round(scale * 2))
    (tw, th), _ = cv2.getTextSize(text, _FONT, scale, thickness)
    x = min(max(0, centre[0] - tw // 2), max(0, canvas.shape[1] - tw))
    y = min(max(th, centre[1] + th // 2), canvas.shape[0] - 1)
    cv2.putText(canvas, text, (x, y), _FONT, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
    cv2.putText(canvas, text, (x, y), _FONT, scale, (255, 255, 255), thickness, cv2.LINE_AA)


def _label_points(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(x, y)`` deepest point of the largest part and of every part of LABELLED_PART_PX+."""
    count, parts, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return []
    areas = stats[1:, cv2.CC_STAT_AREA]
    largest = int(np.argmax(areas)) + 1
    points = []
    for part in range(1, count):
        if part != largest and areas[part - 1] < LABELLED_PART_PX:
            continue
        x, y, w, h = (int(v) for v in stats[part, :4])
        crop = np.pad((parts[y : y + h, x : x + w] == part).astype(np.uint8), 1)
        depth = cv2.distanceTransform(crop, cv2.DIST_L2, 3)
        row, col = np.unravel_index(int(np.argmax(depth)), depth.shape)
        points.append((x + int(col) - 1, y + int(row) - 1))
    return points


def _mark_tiny(
    canvas: np.ndarray, centre: tuple[int, int], color: tuple[int, int, int], thickness: int
) -> tuple[int, int]:
    """Circle a gland too small to see; return where its number goes (beside the circle)."""
    cv2.circle(canvas, centre, 6 * thickness, color, thickness, cv2.LINE_8)
    return (centre[0] + 10 * thickness, centre[1] - 8 * thickness)


def draw_overlay(
    image: np.ndarray | None,
    glands: Sequence[Gland],
    width: int,
    height: int,
    *,
    emphasis: float = 1.0,
) -> np.ndarray:
    """The image (BGR, ``height x width``) with every gland drawn; the input is not changed.

    Fills first, then outlines, then numbers, so no fill hides an outline or a number.
    ``emphasis`` scales line widths and text, for pictures that will be shrunk.
    """
    canvas = _to_bgr(image, width, height).copy()
    if canvas.shape[:2] != (height, width):
        raise DatasetError(
            f"image is {canvas.shape[1]}x{canvas.shape[0]}, annotations say {width}x{height}"
        )
    thickness = max(1, round(_outline_thickness(width, height) * emphasis))
    masks = [None if g.mask is None else g.mask.astype(np.uint8) for g in glands]
    tint = canvas.copy()
    for k, mask in enumerate(masks, start=1):
        if mask is not None:
            tint[mask.astype(bool)] = palette_color(k)
    canvas = cv2.addWeighted(tint, FILL_ALPHA, canvas, 1 - FILL_ALPHA, 0)
    labels: list[tuple[str, tuple[int, int]]] = []
    for k, (gland, mask) in enumerate(zip(glands, masks, strict=True), start=1):
        color = palette_color(k)
        if mask is not None:
            outlines, _ = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
            cv2.drawContours(canvas, outlines, -1, color, thickness)
            points = _label_points(mask)
            if 0 < int(np.count_nonzero(mask)) < layout.TINY_GLAND_PX:
                ys, xs = np.nonzero(mask)
                points = [_mark_tiny(canvas, (int(xs.mean()), int(ys.mean())), color, thickness)]
        elif gland.box is not None:
            x, y, w, h = gland.box
            cv2.rectangle(canvas, (x, y), (x + w - 1, y + h - 1), color, thickness)
            points = [(x + w // 2, y + h // 2)]
            if w * h < layout.TINY_GLAND_PX:
                points = [_mark_tiny(canvas, (x + w // 2, y + h // 2), color, thickness)]
        else:
            points = []
        labels.extend((str(k), p) for p in points)
    for text, point in labels:
        _put_label(canvas, text, point, emphasis)
    return canvas


def contact_sheet(tiles: Sequence[tuple[str, np.ndarray]]) -> np.ndarray:
    """A grid of thumbnails, THUMB_WIDTH wide, each with its caption below, row by row."""
    if not tiles:
        raise ValueError("tiles: expected at least one")
    thumbs = []
    for caption, image in tiles:
        h, w = image.shape[:2]
        th = max(1, round(h * THUMB_WIDTH / w))
        thumb = cv2.resize(image, (THUMB_WIDTH, th), interpolation=cv2.INTER_AREA)
        thumbs.append((caption, thumb))
    cell_h = max(t.shape[0] for _, t in thumbs) + CAPTION_HEIGHT
    cols = min(SHEET_COLUMNS, len(thumbs))
    rows = -(-len(thumbs) // cols)
    gap = 4
    sheet = np.empty(
        (rows * (cell_h + gap) + gap, cols * (THUMB_WIDTH + gap) + gap, 3), dtype=np.uint8
    )
    sheet[:] = _SHEET_BACKGROUND
    for i, (caption, thumb) in enumerate(thumbs):
        r, c = divmod(i, cols)
        y, x = gap + r * (cell_h + gap), gap + c * (THUMB_WIDTH + gap)
        sheet[y : y + thumb.shape[0], x : x + THUMB_WIDTH] = thumb
        cv2.putText(
            sheet,
            caption,
            (x + 4, y + thumb.shape[0] + CAPTION_HEIGHT - 7),
            _FONT,
            0.45,
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )
    return sheet


# --------------------------------------------------------------------------------------------
# Reading glands back


def _read_image(path: Path) -> Callable[[], np.ndarray | None]:
    def load() -> np.ndarray | None:
        if not path.is_file():
            return None
        return cv2.imread(str(path), cv2.IMREAD_COLOR)

    return load


def _read_png(path: Path) -> np.ndarray:
    if not path.is_file():
        raise DatasetError("mask file is missing", path=path)
    pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if pixels is None or pixels.ndim != 2:
        raise DatasetError("not a one-channel PNG", path=path)
    return pixels


def _read_palette_png(path: Path) -> np.ndarray:
    """Palette indices of a palette PNG (OpenCV would expand them to colours)."""
    from PIL import Image

    if not path.is_file():
        raise DatasetError("mask file is missing", path=path)
    with Image.open(path) as im:
        return np.array(im)


def _index_masks(index_map: np.ndarray, skip: Iterable[int] = ()) -> tuple[Gland, ...]:
    """Index ``k`` of a label image -> gland ``k``, for k = 1 .. max (skipped indices aside)."""
    skipped = set(skip)
    values = [int(v) for v in np.unique(index_map) if v != 0 and int(v) not in skipped]
    top = max(values, default=0)
    return tuple(Gland(mask=index_map == k) for k in range(1, top + 1))


def _metadata(root: Path) -> list[dict[str, str]]:
    path = root / "metadata.csv"
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _selected(split: str, splits: Sequence[str] | None) -> bool:
    return splits is None or split in splits


def items_from_dataset(path: Path, splits: Sequence[str] | None) -> tuple[list, list[str]]:
    """The raw dataset's images, with the contour core's polygons rasterized back."""
    dataset = read_dataset(path, splits=splits)
    items = []
    for sample in dataset.samples:

        def load_image(sample=sample) -> np.ndarray | None:  # type: ignore[no-untyped-def]
            data = np.frombuffer(sample.read_image_bytes(), dtype=np.uint8)
            return cv2.imdecode(data, cv2.IMREAD_COLOR)

        def load_glands(sample=sample) -> tuple[Gland, ...]:  # type: ignore[no-untyped-def]
            label_map = sample.load_label_map()
            h, w = label_map.shape
            return tuple(
                Gland(mask=contours.rasterize_polygons(inst.polygons, h, w).astype(bool))
                for inst in contours.extract_instances(label_map)
            )

        items.append(
            PreviewItem(
                sample.name, sample.split, sample.width, sample.height, load_image, load_glands
            )
        )
    return items, list(dataset.warnings)


def _coco_mask(segmentation: object, height: int, width: int) -> np.ndarray:
    if isinstance(segmentation, dict):
        counts = segmentation["counts"]
        if isinstance(counts, list):
            rle = coco_mask.frPyObjects(segmentation, height, width)
        else:
            rle = {"size": segmentation["size"], "counts": counts.encode("ascii")}
        return contours.decode_rle(rle).astype(bool)
    polygons = [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in segmentation]  # type: ignore[union-attr]
    return contours.rasterize_polygons(polygons, height, width).astype(bool)


def items_from_coco(root: Path, splits: Sequence[str] | None) -> list[PreviewItem]:
    """COCO: ``annotations/instances_{split}.json``, images in ``images/{split}``."""
    items = []
    for path in sorted((root / "annotations").glob("instances_*.json")):
        split = path.stem.removeprefix("instances_")
        if not _selected(split, splits):
            continue
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            by_image: dict[int, list[dict]] = {}
            for ann in document["annotations"]:
                by_image.setdefault(ann["image_id"], []).append(ann)
            images = document["images"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DatasetError(f"not a readable COCO file ({exc})", path=path) from exc
        for image in images:
            anns = sorted(by_image.get(image["id"], []), key=lambda a: a["id"])
            h, w = int(image["height"]), int(image["width"])

            def load_glands(anns=anns, h=h, w=w) -> tuple[Gland, ...]:  # type: ignore[no-untyped-def]
                return tuple(Gland(mask=_coco_mask(a["segmentation"], h, w)) for a in anns)

            name = image.get("name") or Path(image["file_name"]).stem
            load_image = _read_image(root / "images" / split / image["file_name"])
            items.append(PreviewItem(name, split, w, h, load_image, load_glands))
    return items


def _find_image(folder: Path, name: str) -> Path:
    for suffix in (*layout.IMAGE_SUFFIXES, ".jpg", ".jpeg"):
        if (folder / (name + suffix)).is_file():
            return folder / (name + suffix)
    return folder / (name + layout.IMAGE_SUFFIX)


def _image_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    if not path.is_file():
        raise DatasetError("image is missing and metadata.csv gives no size", path=path)
    with Image.open(path) as im:
        return im.size


def _named_files(root: Path, folder: str, suffix: str, splits: Sequence[str] | None) -> list:
    """``(split, name, path)`` per file of ``root/folder/{split}``, in metadata.csv order."""
    rows = _metadata(root)
    if rows:
        found = [
            (r["split"], r["name"], root / folder / r["split"] / (r["name"] + suffix)) for r in rows
        ]
    else:
        found = [
            (split, p.stem, p)
            for split in layout.SPLITS
            for p in sorted(
                (root / folder / split).glob("*" + suffix), key=lambda p: natural_key(p.stem)
            )
        ]
    return [f for f in found if _selected(f[0], splits)]


def items_from_yolo(root: Path, splits: Sequence[str] | None) -> list[PreviewItem]:
    """YOLO: ``labels/{split}/NAME.txt``; segment lines as masks, detect lines as boxes."""
    sizes = {r["name"]: (int(r["width"]), int(r["height"])) for r in _metadata(root)}
    items = []
    for split, name, path in _named_files(root, "labels", ".txt", splits):
        image_path = _find_image(root / "images" / split, name)
        w, h = sizes.get(name) or _image_size(image_path)

        def load_glands(path=path, w=w, h=h) -> tuple[Gland, ...]:  # type: ignore[no-untyped-def]
            if not path.is_file():
                raise DatasetError("label file is missing", path=path)
            glands = []
            for line in path.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                _, values = parse_yolo_line(line)
                if len(values) == 4:
                    cx, cy, bw, bh = values * np.array([w, h, w, h])
                    x, y = round(cx - bw / 2), round(cy - bh / 2)
                    glands.append(Gland(box=(x, y, round(bw), round(bh))))
                else:
                    ring = values.reshape(-1, 2) * np.array([w, h])
                    glands.append(Gland(mask=contours.rasterize_polygons([ring], h, w) > 0))
            return tuple(glands)

        items.append(PreviewItem(name, split, w, h, _read_image(image_path), load_glands))
    return items


def items_from_masks(root: Path, splits: Sequence[str] | None) -> list[PreviewItem]:
    """Masks: the 16-bit ``masks/instance/{split}/NAME.png``, value ``k`` = gland ``k``."""
    items = []
    for split, name, path in _named_files(root, "masks/instance", ".png", splits):
        image_path = _find_image(root / "images" / split, name)
        instance = _read_png(path)
        h, w = instance.shape

        def load_glands(path=path) -> tuple[Gland, ...]:  # type: ignore[no-untyped-def]
            return _index_masks(_read_png(path))

        items.append(PreviewItem(name, split, w, h, _read_image(image_path), load_glands))
    return items


def items_from_voc(root: Path, splits: Sequence[str] | None) -> list[PreviewItem]:
    """VOC: ``SegmentationObject/NAME.png``, index ``k`` = gland ``k``, 255 (void) left out."""
    voc = root / VOC_ROOT
    rows = _metadata(root)
    if not rows:
        split_of_role = {role: split for split, role in ROLE_OF_SPLIT.items()}
        rows = [
            {"name": n, "split": split_of_role.get(p.stem, p.stem)}
            for p in sorted((voc / "ImageSets" / "Segmentation").glob("*.txt"))
            if p.stem != "trainval"
            for n in p.read_text(encoding="utf-8").split()
        ]
    items = []
    for row in rows:
        name, split = row["name"], row["split"]
        if not _selected(split, splits):
            continue
        path = voc / "SegmentationObject" / f"{name}.png"
        objects = _read_palette_png(path)
        h, w = objects.shape

        def load_glands(path=path) -> tuple[Gland, ...]:  # type: ignore[no-untyped-def]
            return _index_masks(_read_palette_png(path), skip=(VOID_INDEX,))

        image_path = _find_image(voc / "JPEGImages", name)
        items.append(PreviewItem(name, split, w, h, _read_image(image_path), load_glands))
    return items


_READERS = {"coco": items_from_coco, "voc": items_from_voc, "yolo": items_from_yolo}
_READERS["masks"] = items_from_masks


def find_sources(path: Path) -> dict[str, Path]:
    """The sources in ``path``: each export format found, or else ``{"dataset": path}``."""
    found = detect_formats(path) if path.is_dir() else {}
    if found:
        return {name: found[name] for name in SOURCES if name in found}
    return {"dataset": path}


def write_previews(
    path: Path | str,
    out: Path | str,
    *,
    splits: Sequence[str] | None = None,
    limit: int | None = None,
    sources: Sequence[str] | None = None,
    overwrite: bool = False,
    quiet: bool = True,
) -> PreviewSummary:
    """Draw the glands of ``path`` (an export folder or a raw dataset) into the folder ``out``.

    ``limit`` keeps the first images of each split, ``sources`` the named formats of an export.
    """
    path = Path(path)
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    found = find_sources(path)
    if sources:
        missing = [s for s in sources if s not in found]
        if missing:
            have = ", ".join(found)
            raise DatasetError(f"no {', '.join(missing)} found here (found: {have})", path=path)
        found = {s: found[s] for s in SOURCES if s in sources}
    warnings: list[str] = []
    plans: list[tuple[str, list[PreviewItem]]] = []
    for source, root in found.items():
        if source == "dataset":
            items, more = items_from_dataset(root, splits)
            warnings.extend(more)
        else:
            items = _READERS[source](root, splits)
        plans.append((source, _limited(items, limit)))
    counts: dict[tuple[str, str], int] = {}
    with atomic_output(out, dataset_root=path, overwrite=overwrite) as tmp:
        for source, items in plans:
            tiles: dict[str, list[tuple[str, np.ndarray]]] = {}
            for item in progress(items, desc=f"preview {source}", quiet=quiet):
                image = item.load_image()
                if image is None:
                    warnings.append(f"{source} {item.name}: no image in the export, drawn on grey")
                glands = item.load_glands()
                drawn = draw_overlay(image, glands, item.width, item.height)
                folder = tmp / source / item.split
                folder.mkdir(parents=True, exist_ok=True)
                _write_png(folder / f"{item.name}.png", drawn)
                # Thumbnails are drawn again with thicker lines and text, then shrunk.
                emphasis = max(1.0, item.width / THUMB_WIDTH)
                thumb = draw_overlay(image, glands, item.width, item.height, emphasis=emphasis)
                caption = f"{item.name} ({len(glands)} gland{'' if len(glands) == 1 else 's'})"
                tiles.setdefault(item.split, []).append((caption, thumb))
                counts[(source, item.split)] = counts.get((source, item.split), 0) + 1
            for split in sorted(tiles, key=split_order):
                _write_png(tmp / source / f"contact_{split}.png", contact_sheet(tiles[split]))
    return PreviewSummary(images=counts, warnings=tuple(warnings))


def _limited(items: list[PreviewItem], limit: int | None) -> list[PreviewItem]:
    items = sorted(items, key=lambda i: split_order(i.split))  # stable: keeps file order
    if limit is None:
        return items
    kept: dict[str, int] = {}
    out = []
    for item in items:
        if kept.get(item.split, 0) < limit:
            kept[item.split] = kept.get(item.split, 0) + 1
            out.append(item)
    return out


def _write_png(path: Path, image: np.ndarray) -> None:
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise DatasetError("cannot encode the preview as PNG", path=path)
    path.write_bytes(data.tobytes())
