"""Trends and history, pure: a pen's live samples (``buffer``), min/max decimation to what a
pixel column can show (``decimate``), and what the historian records (``historian``: the
``historian:`` section of project.yaml and the recording rule).

The names below are loaded on first use: loading a project (``historian``) does not load
numpy (``buffer``, ``decimate``)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "BucketSeries",
    "HistorianConfig",
    "RecordRule",
    "RecordingFilter",
    "TrendBuffer",
    "bucketize",
    "minmax_decimate",
]

_HOME = {
    "TrendBuffer": "buffer",
    "BucketSeries": "decimate",
    "bucketize": "decimate",
    "minmax_decimate": "decimate",
    "HistorianConfig": "historian",
    "RecordingFilter": "historian",
    "RecordRule": "historian",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
