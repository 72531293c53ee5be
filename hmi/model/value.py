"""The immutable value of a tag at one moment, with its quality and timestamps."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from hmi.model.quality import GOOD, INITIAL, Quality

Scalar = bool | int | float | str | None


@dataclass(frozen=True, slots=True)
class TagValue:
    """``source_time`` comes from the device or server where it gives one; ``receive_time`` is
    when this station got it. Both are POSIX seconds (UTC)."""

    value: Any
    quality: Quality
    source_time: float | None
    receive_time: float

    @staticmethod
    def now(value: Any, quality: Quality = GOOD, source_time: float | None = None) -> TagValue:
        return TagValue(value, quality, source_time, time.time())

    @staticmethod
    def initial() -> TagValue:
        return TagValue(None, INITIAL, None, time.time())

    @property
    def timestamp(self) -> float:
        return self.source_time if self.source_time is not None else self.receive_time

    def with_quality(self, quality: Quality) -> TagValue:
        """The same value marked with another quality; keeps the last value visible."""
        return replace(self, quality=quality, receive_time=time.time())
