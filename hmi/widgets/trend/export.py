"""Export of a trend's visible range: CSV of the samples as stored (not the drawn line) and
PNG (the widget as it is on screen).

The CSV has one row per stored sample of each pen in the range, raw: its time in UTC to the
microsecond (the historian's own resolution, so a lookup by an exported time finds that very
sample), the same instant in local time with its offset (unambiguous across daylight saving),
the tag, the value at full precision (empty where Bad) and its quality. Comment lines at the
top (``#``) say what the file holds and, per pen, where its samples came from.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from hmi.model.quality import QualityReason
from hmi.model.trends.buffer import TrendBuffer
from hmi.model.trends.historian import quality_of
from hmi.runtime.history import HistorySource, RawSamples, SampleSource

HEADER = ("utc", "local", "tag", "value", "units", "quality")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SOURCES = {
    "historian": "every sample the historian stored",
    "memory": "every change the station kept in memory (no historian database)",
    "live": "the trend's live buffer: values as the screen received them (at most 10 per "
    "second), not recorded by a historian",
}


@dataclass(frozen=True)
class ExportColumn:
    """One pen: its tag, units and raw samples."""

    tag: str
    units: str
    samples: RawSamples


def utc_text(time_us: int) -> str:
    """``2026-11-25T06:00:00.123456Z``, exact to the microsecond."""
    moment = _EPOCH + timedelta(microseconds=int(time_us))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def local_text(time_us: int) -> str:
    """``2026-11-25T07:00:00.123456+01:00``: local time with the offset in force then."""
    moment = _EPOCH + timedelta(microseconds=int(time_us))
    return moment.astimezone().isoformat(timespec="microseconds")


def iso_local(seconds: float) -> str:
    """``2026-11-25T07:00:00.123+01:00``: local time, unambiguous across daylight saving."""
    return datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="milliseconds")


def quality_text(code: int) -> str:
    """``Good``, ``Uncertain(Stale)``, ``Bad(CommFailure)``."""
    quality = quality_of(int(code))
    name = quality.level.name.capitalize()
    return name if quality.reason is QualityReason.NONE else f"{name}({quality.reason.value})"


async def raw_samples(
    history: HistorySource | None, tag: str, buffer: TrendBuffer, t0: float, t1: float
) -> RawSamples:
    """``tag``'s samples in ``[t0, t1]``: from the history where it keeps them raw (the
    historian, memory), else the trend's live buffer."""
    if isinstance(history, SampleSource):
        found = await history.samples(tag, t0, t1)
        if found is not None:
            return found
    t, v, q = buffer.window(t0, t1)
    return RawSamples(np.round(t * 1e6).astype(np.int64), v.copy(), q.astype(np.int64) << 8, "live")


def write_csv(path: Path, columns: Sequence[ExportColumn], t0: float, t1: float) -> int:
    """Every sample of every column, pen after pen, time ordered; the number of data rows."""
    rows = 0
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        handle.write(
            "# HMI trend export: the stored samples (raw, not decimated), not the drawn line\n"
        )
        handle.write(f"# range: {iso_local(t0)} to {iso_local(t1)} (both included)\n")
        for column in columns:
            source = SOURCES.get(column.samples.source, column.samples.source)
            handle.write(f"# {column.tag}: {len(column.samples.times_us)} samples, {source}\n")
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for column in columns:
            data = column.samples
            for time_us, value, code in zip(data.times_us, data.values, data.codes, strict=True):
                number = float(value)
                writer.writerow(
                    [
                        utc_text(time_us),
                        local_text(time_us),
                        column.tag,
                        "" if math.isnan(number) else repr(number),
                        column.units,
                        quality_text(code),
                    ]
                )
                rows += 1
    return rows
