"""The rules every number read from a project or screen file follows, shared by all schemas.

``SCHEMA_CONFIG`` is the pydantic configuration of every file model: unknown keys are errors,
models are frozen, and NaN and infinity are refused unless a field says otherwise (NaN passes
every ``<=``, so a limit of ``.nan`` would switch its check off). ``span_problem`` checks the
ranges of bars, trend axes and tags.
"""

from __future__ import annotations

import math

from pydantic import ConfigDict

__all__ = ["SCHEMA_CONFIG", "span_problem"]

SCHEMA_CONFIG = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def span_problem(low: float, high: float) -> str | None:
    """Why ``[low, high]`` is not a range a bar, a trend axis or a tag can use, or None: low
    below high, and the span itself a finite number (``[-1e308, 1e308]`` spans infinity)."""
    if not low < high:
        return f"range low {low:g} must be below high {high:g}"
    if not math.isfinite(high - low):
        return f"range [{low:g}, {high:g}] spans more than the largest number"
    return None
