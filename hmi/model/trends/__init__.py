"""Trends and history, pure: a pen's live samples (``buffer``), min/max decimation to what a
pixel column can show (``decimate``), and what the historian records (``historian``: the
``historian:`` section of project.yaml and the recording rule)."""

from hmi.model.trends.buffer import TrendBuffer
from hmi.model.trends.decimate import BucketSeries, bucketize, minmax_decimate
from hmi.model.trends.historian import HistorianConfig, RecordingFilter, RecordRule

__all__ = [
    "BucketSeries",
    "HistorianConfig",
    "RecordRule",
    "RecordingFilter",
    "TrendBuffer",
    "bucketize",
    "minmax_decimate",
]
