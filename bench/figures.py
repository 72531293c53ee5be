"""The machine-readable line each bench script prints beside its human summary: one
``BENCH {json}`` line a figure, which ``bench/results.py`` collects into ``bench/RESULTS.md``."""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable

PREFIX = "BENCH "


def figure(
    bench: str,
    name: str,
    value: float,
    unit: str,
    *,
    target: str = "",
    met: bool | None = None,
    raw: float | None = None,
    raw_name: str = "",
) -> None:
    """Print one figure: ``value`` in ``unit``; ``target`` as the bench states it (">= 200,000/s"),
    ``met`` whether this run met it; ``raw`` the bare library's figure measured in the same run
    on the same work (``raw_name`` says which), in the same unit."""
    record = {
        "bench": bench,
        "name": name,
        "value": _finite(value),
        "unit": unit,
        "target": target,
        "met": met,
        "raw": None if raw is None else _finite(raw),
        "raw_name": raw_name,
    }
    print(PREFIX + json.dumps(record), flush=True)


def _finite(number: float) -> float | None:
    return float(number) if math.isfinite(number) else None


def median_s(run: Callable[[], object], runs: int) -> float:
    """Median wall time of ``runs`` calls of ``run``, after one call that warms it up."""
    run()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def as_installed(env: dict[str, str]) -> dict[str, str]:
    """``env`` for a station process run as an installed one runs: with its bytecode. pip and
    PyInstaller compile ``hmi`` when they install it, but a checkout run with
    ``PYTHONDONTWRITEBYTECODE`` set (as some shells and CI images do) recompiles all of
    ``hmi`` (about 120 modules, 0.6 s) on every start. So ``hmi`` is compiled once here and
    the variable is dropped for the station."""
    import compileall
    from pathlib import Path

    compileall.compile_dir(Path(__file__).resolve().parents[1] / "hmi", quiet=1)
    return {key: value for key, value in env.items() if key != "PYTHONDONTWRITEBYTECODE"}
