"""Files read from memory instead of disk, for one check: the designer checks a project with a
screen's unsaved text in place of its file (and a new ``project.yaml``) before it writes."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from types import MappingProxyType

_TEXTS: ContextVar[Mapping[Path, bytes]] = ContextVar("overlay", default=MappingProxyType({}))


@contextlib.contextmanager
def overlay(texts: Mapping[Path, str]) -> Iterator[None]:
    """While inside, reading one of ``texts``' files (resolved paths) gives the text given."""
    token = _TEXTS.set({**_TEXTS.get(), **{p: t.encode("utf-8") for p, t in texts.items()}})
    try:
        yield
    finally:
        _TEXTS.reset(token)


def overlaid(path: Path, read: Callable[[Path], bytes | str]) -> bytes | str:
    """The overlay's bytes for ``path``, else what ``read`` makes of the file."""
    found = _TEXTS.get().get(path)
    return read(path) if found is None else found


def lexists(path: Path) -> bool:
    """Whether ``path`` is in the overlay or exists on disk (a new screen is checked before its
    file is written)."""
    return path in _TEXTS.get() or os.path.lexists(path)
