"""Checks on the files the library will write, made before any work: a run of minutes should
not end in a crash on a misspelt folder."""
from __future__ import annotations

from pathlib import Path

from ..errors import FileFormatError, MissingFileError

__all__ = ["writable"]


def writable(path, suffixes=None) -> Path:
    """``path`` as a :class:`~pathlib.Path`, after checking that its suffix is one of
    ``suffixes`` (any, if None) and that its folder exists.

    Raises
    ------
    FileFormatError
        The suffix is not one of ``suffixes``.
    MissingFileError
        The folder does not exist (or is not a folder), or ``path`` is itself a folder.
    """
    path = Path(path)
    if suffixes is not None and path.suffix not in suffixes:
        raise FileFormatError(f"{path}: unknown format {path.suffix!r}: use {' or '.join(suffixes)}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise MissingFileError(f"{path}: the folder {folder} does not exist")
    if path.is_dir():  # (open() would raise IsADirectoryError)
        raise MissingFileError(f"{path} is a folder: give a file name in it")
    return path
