"""Export of a trend's visible range: CSV (local ISO time with offset, one column per pen) and
PNG (the widget as it is on screen)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from hmi.model.decimate import FloatArray


@dataclass(frozen=True)
class ExportColumn:
    """One pen: header text and its samples (time ordered, NaN where Bad)."""

    header: str
    t: FloatArray
    v: FloatArray


def iso_local(seconds: float) -> str:
    """``2026-11-25T07:00:00.123+01:00``: local time, unambiguous across daylight saving."""
    return datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="milliseconds")


def _held(column: ExportColumn, times: FloatArray) -> FloatArray:
    """The column's value in effect at each of ``times`` (the last sample at or before)."""
    index = np.searchsorted(column.t, times, side="right") - 1
    out = np.full(len(times), np.nan)
    ok = index >= 0
    out[ok] = column.v[index[ok]]
    return out


def write_csv(path: Path, columns: Sequence[ExportColumn], t0: float, t1: float) -> int:
    """One row per time any pen has a sample in ``[t0, t1]``, each pen's value in effect then
    (empty while Bad or before its first sample). Returns the number of data rows."""
    parts = [c.t[(c.t >= t0) & (c.t <= t1)] for c in columns]
    times = np.unique(np.concatenate([*parts, np.empty(0)]))
    values = [_held(c, times) for c in columns]
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time", *(c.header for c in columns)])
        for row, seconds in enumerate(times):
            cells = [iso_local(float(seconds))]
            for column in values:
                value = column[row]
                cells.append("" if np.isnan(value) else f"{value:.10g}")
            writer.writerow(cells)
    return len(times)
