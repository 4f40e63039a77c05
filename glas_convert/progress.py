"""The one progress helper: a tqdm bar on stderr that a quiet switch turns off."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(
    items: Iterable[T], *, desc: str, total: int | None = None, quiet: bool = False
) -> Iterator[T]:
    """Yield ``items``, showing a progress bar on stderr unless ``quiet``."""
    if quiet:
        yield from items
        return
    yield from tqdm(items, desc=desc, total=total, file=sys.stderr, unit="img", leave=False)
