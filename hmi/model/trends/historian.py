"""What the historian records: the ``historian:`` section of ``project.yaml`` and the recording
rule (deadband, heartbeat, quality) as pure code, tested without a database.

A tag's sample is stored when it is the tag's first, when its quality (level or reason)
changes, when its value moved more than the deadband from the last *stored* value (so slow
drifts are not lost), or when the heartbeat is due: at least one sample every ``heartbeat_s``
even if nothing changed, so a flat line is known to be flat rather than unrecorded. Bad values
are stored as such (no value, Bad quality), so a trend shows the gap.

Before a stored change, the value it replaces is stored once more where it was last held, as
deadband and swinging-door historians do: the last value seen at its own time if it was not
stored (dropped by the deadband or unchanged), or 1 µs before the change when nothing came for
longer than ``hold_gap_s`` (a source that reports changes only: the value held until then). So
a setpoint changed 60 -> 65 after a quiet hour is stored as a step at the moment it happened,
not as an hour-long ramp from the last stored sample.

Times are microseconds since the epoch (UTC), strictly increasing per tag: a sample not newer
than the last stored one is moved up to 1 µs after it, so ``(tag, time)`` is a key.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal

from pydantic import Field

from hmi.model.quality import Quality, QualityLevel, QualityReason
from hmi.model.tags import DataType, Strict, TagConfig
from hmi.model.value import TagValue

__all__ = [
    "HistorianConfig",
    "HistorianGroup",
    "RecordRule",
    "RecordingFilter",
    "Sample",
    "quality_code",
    "quality_of",
    "sample_of",
    "to_us",
]

DeadbandType = Literal["none", "absolute", "percent"]

_REASON_CODES: dict[QualityReason, int] = {
    QualityReason.NONE: 0,
    QualityReason.INITIAL: 1,
    QualityReason.WAITING_FOR_DATA: 2,
    QualityReason.NOT_CONNECTED: 3,
    QualityReason.COMM_FAILURE: 4,
    QualityReason.CONFIG_ERROR: 5,
    QualityReason.DEVICE_FAILURE: 6,
    QualityReason.SENSOR_FAILURE: 7,
    QualityReason.OUT_OF_SERVICE: 8,
    QualityReason.STALE: 9,
    QualityReason.LAST_USABLE: 10,
    QualityReason.SUBSTITUTE: 11,
    QualityReason.ENGINEERING_UNITS_EXCEEDED: 12,
    QualityReason.SUB_NORMAL: 13,
    QualityReason.LOCAL_OVERRIDE: 14,
    QualityReason.OTHER: 15,
}  # stored in databases: never renumber, only add
_REASONS = {code: reason for reason, code in _REASON_CODES.items()}
_OTHER = _REASON_CODES[QualityReason.OTHER]


def quality_code(quality: Quality) -> int:
    """The stored ``smallint``: level in the high byte, reason in the low byte, so the smallest
    code of a bucket has its worst level (``code >> 8``)."""
    return int(quality.level) << 8 | _REASON_CODES.get(quality.reason, _OTHER)


def quality_of(code: int) -> Quality:
    return Quality(QualityLevel(code >> 8), _REASONS.get(code & 0xFF, QualityReason.OTHER))


def sample_of(value: TagValue) -> tuple[float, float, int]:
    """``(time, value, quality level)`` of a tag value as a trend stores it: numbers and
    booleans as floats; Bad, missing and text values as NaN. (Here, not beside the trend's
    buffer, so that the memory history records without loading numpy.)"""
    level = int(value.quality.level)
    raw = value.value
    number = math.nan
    if level != QualityLevel.BAD and isinstance(raw, (bool, int, float)):
        number = float(raw)
    return value.timestamp, number, level


def to_us(seconds: float) -> int:
    """POSIX seconds to integer microseconds."""
    return round(seconds * 1_000_000)


class HistorianGroup(Strict):
    """Recording settings for the tags whose name matches ``match`` (the first group that
    matches wins); a setting left out is the section's."""

    match: str = Field(min_length=1, description="glob on the tag name, e.g. 'Tank*.Level'")
    deadband_type: DeadbandType | None = None
    deadband_value: float | None = Field(default=None, ge=0)
    heartbeat_s: float | None = Field(default=None, gt=0)


class HistorianConfig(Strict):
    """The ``historian:`` section: which tags are stored, how finely, where, and for how long."""

    enabled: bool = True
    url: str | None = Field(
        default=None,
        description="database URL; default: historian.sqlite in the user data folder",
    )
    tags: tuple[str, ...] = Field(default=(), description="globs of tag names to record")
    trended: bool = Field(default=True, description="also record every tag a trend shows")
    exclude: tuple[str, ...] = Field(default=(), description="globs of tag names never recorded")
    deadband_type: DeadbandType = "none"
    deadband_value: float = Field(default=0, ge=0, description="in units, or % of the tag's range")
    heartbeat_s: float = Field(default=600, gt=0, description="store at least this often")
    hold_gap_s: float = Field(
        default=2.0,
        gt=0,
        description="a change after this long without news first stores the held value "
        "1 µs before it",
    )
    groups: tuple[HistorianGroup, ...] = Field(
        default=(), description="per-tag recording settings; first match wins"
    )
    retention_days: float | None = Field(
        default=90, gt=0, description="delete older samples; null keeps them for ever"
    )
    batch_size: int = Field(default=5000, ge=1, description="values per insert transaction")
    batch_interval_s: float = Field(default=1.0, gt=0, description="longest wait before a write")
    queue_size: int = Field(
        default=200_000, ge=1, description="values waiting for the database; beyond, oldest dropped"
    )

    def selects(self, tags: Mapping[str, TagConfig], trended: Collection[str] = ()) -> list[str]:
        """The names of the tags to record, sorted: numeric and boolean tags matching ``tags``
        (or trended, if ``trended``), minus ``exclude``. Text tags are never recorded."""
        picked: list[str] = []
        for name, tag in tags.items():
            if tag.datatype is DataType.STR or _matches(name, self.exclude):
                continue
            if (self.trended and name in trended) or _matches(name, self.tags):
                picked.append(name)
        return sorted(picked)

    def rule_for(self, tag: TagConfig) -> RecordRule:
        """The recording rule of one tag. A percent deadband on a tag without a range records
        every change (there is nothing to take a percentage of)."""
        group = next((g for g in self.groups if fnmatchcase(tag.name, g.match)), None)
        kind = self.deadband_type
        value = self.deadband_value
        heartbeat = self.heartbeat_s
        if group is not None:
            kind = group.deadband_type or kind
            value = group.deadband_value if group.deadband_value is not None else value
            heartbeat = group.heartbeat_s or heartbeat
        deadband = 0.0
        if kind == "absolute":
            deadband = value
        elif kind == "percent" and tag.range is not None:
            deadband = value * (tag.range[1] - tag.range[0]) / 100.0
        return RecordRule(deadband=deadband, heartbeat_s=heartbeat, hold_gap_s=self.hold_gap_s)


def _matches(name: str, globs: Iterable[str]) -> bool:
    return any(fnmatchcase(name, glob) for glob in globs)


@dataclass(frozen=True, slots=True)
class RecordRule:
    deadband: float = 0.0  # in the tag's units; 0 stores every change
    heartbeat_s: float = 600.0
    hold_gap_s: float = 2.0  # quieter than this: the held value is stored just before a change


Sample = tuple[str, int, float | None, int]
"""A row to store: ``(tag, time µs, value or None, quality code)``."""


@dataclass(slots=True)
class _Track:
    rule: RecordRule
    time: int = -1  # last stored, µs
    value: float = math.nan
    code: int = -1
    latest_value: float = math.nan  # last seen (stored or not)
    latest_code: int = -1
    latest_time: int = -1  # µs
    skew_us: int = 0  # receive clock minus the tag's clock, for heartbeats on its clock


def number_of(value: Any) -> float:
    """A tag value as a stored number: numbers and booleans as floats, anything else NaN."""
    if isinstance(value, (bool, int, float)):
        return float(value)
    return math.nan


class RecordingFilter:
    """The recording rule of every recorded tag, and what was last stored for each.

    Single-threaded: call ``offer`` and ``due`` from the same thread (the asyncio loop)."""

    def __init__(self, rules: Mapping[str, RecordRule]) -> None:
        self._tracks = {name: _Track(rule) for name, rule in rules.items()}

    def __contains__(self, tag: str) -> bool:
        return tag in self._tracks

    @property
    def tags(self) -> list[str]:
        return sorted(self._tracks)

    def rule(self, tag: str) -> RecordRule:
        return self._tracks[tag].rule

    def offer(
        self, tag: str, time_s: float, value: Any, quality: Quality, received_s: float
    ) -> tuple[Sample, ...]:
        """One change of ``tag``; the samples to store (none if the rule drops it; the held
        value first, then the change, when the change replaces a value held unstored)."""
        track = self._tracks.get(tag)
        if track is None:
            return ()
        t = to_us(time_s)
        code = quality_code(quality)
        v = math.nan if quality.level is QualityLevel.BAD else number_of(value)
        held = _held(track, t)
        track.latest_value = v
        track.latest_code = code
        track.latest_time = t
        track.skew_us = to_us(received_s) - t
        if (
            track.code == code
            and t - track.time < track.rule.heartbeat_s * 1_000_000
            and not _moved(track.value, v, track.rule.deadband)
        ):
            return ()
        breaks = track.code != code or _moved(track.value, v, track.rule.deadband)
        if breaks and held is not None and (held[1] != code or _moved(held[0], v, 0.0)):
            first = _store(tag, track, held[2], held[0], held[1])
            return first, _store(tag, track, t, v, code)
        return (_store(tag, track, t, v, code),)

    def due(self, now_s: float) -> list[Sample]:
        """Heartbeats: for every tag with nothing stored for ``heartbeat_s``, its latest value
        at ``now`` (on the tag's own clock, as far as the last value showed it)."""
        now = to_us(now_s)
        out: list[Sample] = []
        for tag, track in self._tracks.items():
            if track.code < 0:
                continue  # never seen: nothing to repeat
            t = now - track.skew_us
            if t - track.time >= track.rule.heartbeat_s * 1_000_000:
                out.append(_store(tag, track, t, track.latest_value, track.latest_code))
        return out


def _held(track: _Track, t: int) -> tuple[float, int, int] | None:
    """The value, code and time to store as held before a change at ``t``, or None: the last
    value seen, at its own time if it was not stored, or 1 µs before ``t`` after a quiet
    stretch; None if that adds nothing to what is stored (or nothing was seen yet)."""
    if track.latest_code < 0:
        return None
    if (
        track.latest_code == track.code
        and math.isnan(track.latest_value) == math.isnan(track.value)
        and math.isnan(track.value)
    ):
        return None  # a Bad stretch: its first sample already starts the gap
    at = track.latest_time
    if t - at > track.rule.hold_gap_s * 1_000_000:
        at = t - 1
    if at <= track.time or at >= t:
        return None
    return track.latest_value, track.latest_code, at


def _moved(stored: float, value: float, deadband: float) -> bool:
    if math.isnan(stored) or math.isnan(value):
        return math.isnan(stored) != math.isnan(value)
    return abs(value - stored) > deadband if deadband > 0 else value != stored


def _store(tag: str, track: _Track, t: int, v: float, code: int) -> Sample:
    t = max(t, track.time + 1)
    track.time, track.value, track.code = t, v, code
    return tag, t, None if math.isnan(v) else v, code
