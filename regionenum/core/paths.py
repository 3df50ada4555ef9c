"""Checks on the files the library will read or write, made before any work: a run of minutes
should not end in a crash on a misspelt folder."""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import FileFormatError, MissingFileError
from .arrays import checked_instance

__all__ = ["as_path", "readable", "writable"]


def as_path(path) -> Path:
    """``path`` as a :class:`~pathlib.Path`; ``ArgumentTypeError`` where it is not a file name
    (a ``str`` or ``os.PathLike``: None, a number or an open file would fail inside
    ``pathlib`` with its own message)."""
    return Path(checked_instance(path, (str, os.PathLike), "path", "a file name (str or pathlib.Path)"))


def readable(path) -> Path:
    """``path`` as a :class:`~pathlib.Path`, after checking that it names a file.

    Raises
    ------
    ArgumentTypeError
        ``path`` is not a file name.
    MissingFileError
        There is no such file, or it is a folder.
    """
    path = as_path(path)
    if not path.is_file():
        raise MissingFileError(f"no such file: {path}" if not path.exists() else f"{path} is not a file")
    return path


def writable(path, suffixes=None) -> Path:
    """``path`` as a :class:`~pathlib.Path`, after checking that its suffix is one of
    ``suffixes`` (any, if None) and that its folder exists.

    Raises
    ------
    ArgumentTypeError
        ``path`` is not a file name.
    FileFormatError
        The suffix is not one of ``suffixes``.
    MissingFileError
        The folder does not exist (or is not a folder), or ``path`` is itself a folder.
    """
    path = as_path(path)
    if suffixes is not None and path.suffix not in suffixes:
        raise FileFormatError(f"{path}: unknown format {path.suffix!r}: use {' or '.join(suffixes)}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise MissingFileError(f"{path}: the folder {folder} does not exist")
    if path.is_dir():  # (open() would raise IsADirectoryError)
        raise MissingFileError(f"{path} is a folder: give a file name in it")
    return path
