"""Exceptions of glas-convert. The CLI turns each into a one-line error: exit code 2 for an
:class:`OptionError` (a usage error), 1 for every other one."""

from __future__ import annotations


class GlasConvertError(Exception):
    """Base class of every error glas-convert raises on purpose."""


class OptionError(GlasConvertError, ValueError):
    """An option has a bad value, or two options cannot be combined (the message names them)."""


class DatasetError(GlasConvertError):
    """The input dataset is missing, unreadable or not a GlaS release."""

    def __init__(self, message: str, *, path: object = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path is not None else message)


class AnnotationError(DatasetError):
    """An annotation file cannot be used as an instance label map."""


class GradeCsvError(DatasetError):
    """Grade.csv is malformed."""


class OutputError(GlasConvertError):
    """The output folder is unsafe or cannot be written."""

    def __init__(self, message: str, *, path: object = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path is not None else message)
