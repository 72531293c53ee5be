"""The theme's cost in instructions, not seconds: valgrind's callgrind counts the instructions
the 500-widget screen's load + build + first paint executes, styled and unstyled. The count
is the same run after run whatever else the machine does (on a shared 2-core machine the same
code's wall-clock ratio moved from 0.8 to 1.6 from one process to the next), so it tells a few
per cent of difference that the wall-clock figures beside it cannot.

How: a fresh process (``--role load-n``, as the load figure's: ``hmi.app`` imported, the
theme applied or not) shows the screen once, then ``n`` more times, and exits (``n`` = -1:
it reads the project and exits without showing it); callgrind runs it with ``n`` = -1, 0, 2
and 4: (count(4) - count(2)) / 2 is one load again, count(0) - count(-1) the first load of the
process (its palettes and outline pictures made for the first time). ``PYTHONHASHSEED=0`` and no cyclic collection keep the two runs
alike. Needs valgrind (Debian's ``valgrind``); without it the figure is skipped, said so.
"""

from __future__ import annotations

import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
_COLLECTED = re.compile(r"Collected : (\d+)")


def role_load_n(theme: bool, loads: int) -> None:
    """The screen shown once, then ``loads`` more times (each replacing the last), then exit."""
    from bench_theme import _prepare, _Screen

    with tempfile.TemporaryDirectory(prefix="bench-theme-") as folder:
        _app, root = _prepare(theme, "big", Path(folder))
        shown = _Screen(root, "big")
        gc.disable()
        if loads < 0:
            os._exit(0)
        _elapsed, window, canvas = shown.show()
        for _ in range(loads):
            shown.close(window, canvas)
            _elapsed, window, canvas = shown.show()
        sys.stdout.flush()
        os._exit(0)


def _count(theme: bool, loads: int) -> int:
    from figures import as_installed

    env = as_installed(dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT),
                            PYTHONHASHSEED="0"))  # fmt: skip
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
               str(HERE / "bench_theme.py"), "--role", "load-n", "--loads", str(loads)]  # fmt: skip
    if not theme:
        command.append("--unstyled")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    found = _COLLECTED.findall(done.stderr)
    if done.returncode != 0 or not found:
        raise SystemExit(f"callgrind of {' '.join(command[4:])} failed:\n{done.stderr[-2000:]}")
    return int(found[-1])


def per_load() -> dict[tuple[str, bool], float] | None:
    """Instructions of the first load and of one load again ("first" / "again"), styled
    (True) and unstyled (False); None without valgrind. Two processes at a time (the counts
    do not depend on it)."""
    if shutil.which("valgrind") is None:
        return None
    runs = [(theme, loads) for theme in (True, False) for loads in (-1, 0, 2, 4)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(zip(runs, pool.map(lambda run: _count(*run), runs), strict=True))
    found: dict[tuple[str, bool], float] = {}
    for theme in (True, False):
        found["first", theme] = counts[theme, 0] - counts[theme, -1]
        found["again", theme] = (counts[theme, 4] - counts[theme, 2]) / 2
    return found


def report(target: float) -> float | None:
    """Print the instruction figures and their rows; the larger ratio (None: skipped)."""
    from figures import figure

    found = per_load()
    if found is None:
        print("theme in instructions: skipped (no valgrind on PATH; Debian's valgrind package)")
        return None
    worst = 0.0
    for what in ("first", "again"):
        styled, bare = found[what, True] / 1e6, found[what, False] / 1e6
        ratio = styled / bare
        worst = max(worst, ratio)
        print(f"500-widget screen, load ({what}), in instructions (callgrind): styled "
              f"{styled:.1f} M, unstyled {bare:.1f} M, ratio {ratio:.3f}")  # fmt: skip
        figure("theme", f"500-widget screen: load + build + paint ({what}), instructions, styled",
               styled, "M instr", target=f"<= {target:.2f} x unstyled", met=ratio <= target,
               raw=bare, raw_name="the same, no theme")  # fmt: skip
    return worst
