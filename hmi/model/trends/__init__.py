"""Trends and history, pure: a pen's live samples (``buffer``), min/max decimation to what a
pixel column can show (``decimate``), and what the historian records (``historian``: the
``historian:`` section of project.yaml and the recording rule).

The names below are loaded on first use: loading a project (``historian``) does not load
numpy (``buffer``, ``decimate``)."""

from __future__ import annotations

from hmi.model import lazy

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

__getattr__ = lazy.exports(__name__, _HOME)
