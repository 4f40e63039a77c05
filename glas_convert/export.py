"""The export pipeline: dataset -> instances -> every requested format, in one pass.

Each image is read once per run: a worker loads its label map once, traces its glands once
(:func:`glas_convert.contours.extract_instances`) and hands the same
:class:`~glas_convert.model.AnnotatedSample` to every writer. Workers are processes; their
results are collected in sample order, so the output is byte-identical for any ``workers``.
Everything is written into a temporary folder that becomes OUT only when all went well
(:mod:`glas_convert.output`).
"""

from __future__ import annotations

import ctypes
import dataclasses
import multiprocessing
import os
import signal
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glas_convert import contours, defaults, layout
from glas_convert.dataset import check_image
from glas_convert.errors import GlasConvertError, OptionError, OutputError
from glas_convert.formats import FORMATS
from glas_convert.formats.coco import MASK_FORMATS, CocoWriter
from glas_convert.formats.common import (
    IMAGE_FORMATS,
    IMAGE_MODES,
    ImageOptions,
    Record,
    resolve_image_format,
    split_order,
)
from glas_convert.formats.masks import MASK_KINDS, MasksWriter
from glas_convert.formats.voc import VocWriter
from glas_convert.formats.yolo import TASKS, YoloWriter
from glas_convert.model import AnnotatedSample, Sample
from glas_convert.output import atomic_output
from glas_convert.progress import progress


@dataclass(frozen=True)
class SplitCount:
    """Images and glands exported for one split."""

    images: int
    glands: int


@dataclass(frozen=True)
class ExportSummary:
    """What one export did."""

    out: Path
    formats: tuple[str, ...]
    splits: dict[str, SplitCount]
    files: int
    seconds: float
    warnings: tuple[str, ...] = field(default=())

    def lines(self) -> list[str]:
        """The summary as short human-readable lines."""
        out = [f"Wrote {', '.join(self.formats)} to {self.out}"]
        for split, count in self.splits.items():
            out.append(f"  {split}: {count.images} images, {count.glands} glands")
        total_images = sum(c.images for c in self.splits.values())
        total_glands = sum(c.glands for c in self.splits.values())
        out.append(
            f"  total: {total_images} images, {total_glands} glands, "
            f"{self.files} files in {self.seconds:.1f} s"
        )
        out.extend(f"warning: {w}" for w in self.warnings)
        return out


def _check_choice(name: str, value: object, choices: Sequence[object]) -> None:
    if value not in choices:
        allowed = ", ".join(str(c) for c in choices)
        raise OptionError(f'{name} must be one of {allowed}; got "{value}"')


def make_writers(
    formats: Sequence[str],
    *,
    images: str = defaults.IMAGES,
    image_format: str = defaults.IMAGE_FORMAT,
    mask_format: str = defaults.MASK_FORMAT,
    indent: int | None = defaults.INDENT,
    yolo_task: str = defaults.YOLO_TASK,
    mask_kinds: Sequence[str] = MASK_KINDS,
    void_border: int = defaults.VOID_BORDER,
    boundary_width: int = defaults.BOUNDARY_WIDTH,
) -> list[Any]:
    """Check the options and build one writer per format, in the order given."""
    if not formats:
        raise OptionError("formats must name at least one format")
    for f in formats:
        _check_choice("format", f, FORMATS)
    if len(set(formats)) != len(formats):
        raise OptionError(f"formats must not repeat; got {list(formats)}")
    _check_choice("--images", images, IMAGE_MODES)
    _check_choice("--image-format", image_format, IMAGE_FORMATS)
    if images in ("hardlink", "symlink") and image_format not in ("keep", "auto"):
        raise OptionError(
            f"--images {images} cannot be combined with --image-format {image_format}: "
            "a link cannot convert the image"
        )
    _check_choice("--mask-format", mask_format, MASK_FORMATS)
    _check_choice("--task", yolo_task, TASKS)
    for kind in mask_kinds:
        _check_choice("--kind", kind, MASK_KINDS)
    if not mask_kinds:
        raise OptionError("--kind must name at least one mask kind")
    if indent is not None and indent < 0:
        raise OptionError(f"--indent must be >= 0; got {indent}")
    if void_border < 0:
        raise OptionError(f"--void-border must be >= 0; got {void_border}")
    if boundary_width < 1:
        raise OptionError(f"--boundary-width must be >= 1; got {boundary_width}")

    def opts(output_format: str) -> ImageOptions:
        concrete = resolve_image_format(image_format, output_format=output_format, mode=images)
        return ImageOptions(mode=images, image_format=concrete)

    kinds = tuple(k for k in MASK_KINDS if k in mask_kinds)
    made = {
        "coco": lambda: CocoWriter(images=opts("coco"), mask_format=mask_format, indent=indent),
        "voc": lambda: VocWriter(images=opts("voc"), void_border=void_border),
        "yolo": lambda: YoloWriter(images=opts("yolo"), task=yolo_task),
        "masks": lambda: MasksWriter(
            images=opts("masks"), kinds=kinds, boundary_width=boundary_width
        ),
    }
    return [made[f]() for f in formats]


def annotate(sample: Sample, *, tolerance: float = defaults.TOLERANCE) -> AnnotatedSample:
    """Load one sample's label map and trace its glands, once."""
    label_map = sample.load_label_map()
    instances = contours.extract_instances(label_map, tolerance=tolerance)
    return AnnotatedSample(sample=sample, label_map=label_map, instances=instances)


def convert_sample(
    sample: Sample, targets: Sequence[tuple[Any, Path]], *, tolerance: float = defaults.TOLERANCE
) -> tuple[Record, ...]:
    """Check the image, annotate the sample and let every writer write it; one record per writer.

    The image is fully decoded once here (:func:`~glas_convert.dataset.check_image`), whatever
    ``--images`` and ``--image-format`` say, so a truncated image fails the run instead of being
    copied as it is. Its file is read once: every writer places the image from the same bytes.
    """
    data = sample.read_image_bytes()
    check_image(sample, data).close()
    sample = dataclasses.replace(sample, read_image_bytes=lambda: data)
    item = annotate(sample, tolerance=tolerance)
    return tuple(writer.write_sample(out_dir, item) for writer, out_dir in targets)


@dataclass(frozen=True)
class _Job:
    samples: tuple[Sample, ...]
    targets: tuple[tuple[Any, Path], ...]
    tolerance: float


_JOB: _Job | None = None


#: Linux prctl() option: the signal a process gets when its parent dies.
_PR_SET_PDEATHSIG = 1


def _init_worker(job: _Job, parent: int) -> None:
    """Worker set-up: the job, no Ctrl-C of its own, and no life beyond the main process."""
    global _JOB
    _JOB = job
    # Ctrl-C reaches the whole process group; only the main process handles it (and cleans up).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the pool may terminate() its workers
    _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this worker when the main process dies (say, SIGKILLed)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent:  # the parent died before prctl() took effect
        os._exit(1)  # pragma: no cover - a race of microseconds


def _run_one(index: int) -> tuple[Record, ...]:
    if _JOB is None:  # pragma: no cover - the pool initializer always sets it
        raise RuntimeError("worker started without a job")
    return convert_sample(_JOB.samples[index], _JOB.targets, tolerance=_JOB.tolerance)


def _pool_context() -> multiprocessing.context.BaseContext:
    # fork hands the samples (with their loader callables) to workers without pickling them.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def run_samples(job: _Job, *, workers: int, quiet: bool = False) -> Iterator[tuple[Record, ...]]:
    """Convert every sample, yielding the records in sample order."""
    count = len(job.samples)
    if workers <= 1 or count <= 1:
        yield from progress(
            (convert_sample(s, job.targets, tolerance=job.tolerance) for s in job.samples),
            desc="converting",
            total=count,
            quiet=quiet,
        )
        return
    executor = ProcessPoolExecutor(
        max_workers=min(workers, count),
        mp_context=_pool_context(),
        initializer=_init_worker,
        initargs=(job, os.getpid()),
    )
    try:
        results: Iterable[tuple[Record, ...]] = executor.map(_run_one, range(count))
        yield from progress(results, desc="converting", total=count, quiet=quiet)
    except BrokenProcessPool as exc:
        raise GlasConvertError(
            "a worker process died (killed, or out of memory?); the run was stopped"
        ) from exc
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _select(samples: Sequence[Sample], splits: Sequence[str] | None) -> tuple[Sample, ...]:
    if splits is None:
        return tuple(samples)
    for s in splits:
        _check_choice("--split", s, layout.SPLITS)
    return tuple(s for s in samples if s.split in splits)


def _write_all(
    writers: Sequence[Any],
    tmp: Path,
    present: Sequence[str],
    samples: tuple[Sample, ...],
    tolerance: float,
    workers: int | None,
    quiet: bool,
) -> list[list[Record]]:
    """Write every format into ``tmp``; the records of each writer, in sample order."""
    nested = len(writers) > 1
    targets = tuple((w, tmp / w.name if nested else tmp) for w in writers)
    for writer, out_dir in targets:
        writer.prepare(out_dir, present)
    job = _Job(samples=samples, targets=targets, tolerance=tolerance)
    per_writer: list[list[Record]] = [[] for _ in writers]
    for records in run_samples(job, workers=workers or os.cpu_count() or 1, quiet=quiet):
        for bucket, record in zip(per_writer, records, strict=True):
            bucket.append(record)
    for (writer, out_dir), records in zip(targets, per_writer, strict=True):
        writer.finish(out_dir, records)
    return per_writer


def _write_error(exc: OSError, tmp: Path, out: Path) -> OutputError:
    """A one-line error for a failed write, naming the file as it would have been in OUT."""
    where = str(exc.filename) if exc.filename else str(out)
    if where.startswith(str(tmp)):
        where = str(out) + where[len(str(tmp)) :]
    reason = exc.strerror or str(exc)
    return OutputError(f"cannot write ({reason}); nothing was written to {out}", path=where)


def _count_files(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root))


def export(
    dataset: object,
    out: Path | str,
    formats: Sequence[str] = ("coco",),
    *,
    splits: Sequence[str] | None = None,
    images: str = defaults.IMAGES,
    image_format: str = defaults.IMAGE_FORMAT,
    workers: int | None = defaults.WORKERS,
    overwrite: bool = False,
    tolerance: float = defaults.TOLERANCE,
    mask_format: str = defaults.MASK_FORMAT,
    indent: int | None = defaults.INDENT,
    yolo_task: str = defaults.YOLO_TASK,
    mask_kinds: Sequence[str] = MASK_KINDS,
    void_border: int = defaults.VOID_BORDER,
    boundary_width: int = defaults.BOUNDARY_WIDTH,
    quiet: bool = False,
) -> ExportSummary:
    """Convert ``dataset`` (a path or a read Dataset) into ``formats`` under ``out``.

    One format is written at ``out`` itself; several go to ``out/{format}``. ``workers=None``
    uses every core. Returns what was written; raises GlasConvertError on bad input or output.
    """
    start = time.perf_counter()
    writers = make_writers(
        formats,
        images=images,
        image_format=image_format,
        mask_format=mask_format,
        indent=indent,
        yolo_task=yolo_task,
        mask_kinds=mask_kinds,
        void_border=void_border,
        boundary_width=boundary_width,
    )
    if workers is not None and workers < 1:
        raise OptionError(f"--workers must be >= 1; got {workers}")
    if tolerance < 0:
        raise OptionError(f"--tolerance must be >= 0; got {tolerance}")
    if isinstance(dataset, (str, os.PathLike)):
        from glas_convert.dataset import read_dataset

        dataset = read_dataset(Path(dataset), splits=list(splits) if splits else None)
    samples = _select(dataset.samples, splits)  # type: ignore[attr-defined]
    if not samples:
        raise GlasConvertError("no images to export in the selected splits")
    present = sorted({x.split for x in samples}, key=split_order)
    out = Path(out)
    warnings = list(getattr(dataset, "warnings", ()))
    with atomic_output(
        out,
        dataset_root=dataset.root,  # type: ignore[attr-defined]
        overwrite=overwrite,
        warnings=warnings,
    ) as tmp:
        try:
            per_writer = _write_all(writers, tmp, present, samples, tolerance, workers, quiet)
        except OSError as exc:
            raise _write_error(exc, tmp, out) from exc
        files = _count_files(tmp) + 1  # + the marker, written on success
    metas = [r.meta for r in per_writer[0]]
    fell_back = sum(1 for bucket in per_writer for r in bucket if r.meta.link_fell_back)
    if fell_back:
        warnings.append(
            f"hard links were impossible (another device?); copied {fell_back} images instead"
        )
    counts = {
        s: SplitCount(
            images=sum(1 for m in metas if m.split == s),
            glands=sum(m.glands for m in metas if m.split == s),
        )
        for s in present
    }
    return ExportSummary(
        out=out,
        formats=tuple(formats),
        splits=counts,
        files=files,
        seconds=time.perf_counter() - start,
        warnings=tuple(str(w) for w in warnings),
    )
