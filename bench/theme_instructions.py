"""The theme's cost in instructions, not seconds: valgrind's callgrind counts the instructions
the 500-widget screen's load + build + first paint executes, styled and unstyled. The count
is the same run after run whatever else the machine does (on a shared 2-core machine the same
code's wall-clock ratio moved from 0.8 to 1.6 from one process to the next), so it tells a few
per cent of difference that the wall-clock figures beside it cannot.

How: a fresh process (``--role load-n``, as the load figure's: ``hmi.app`` imported, the
theme applied or not) shows the screen once, then ``n`` more times, and exits; callgrind runs
it with ``n`` = 2 and 4, and (count(4) - count(2)) / 2 is one load again, start-up and the
first load cancelling out. ``PYTHONHASHSEED=0`` and no cyclic collection keep the two runs
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
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    with tempfile.TemporaryDirectory(prefix="bench-theme-") as folder:
        _app, root = _prepare(theme, "big", Path(folder))
        shown = _Screen(root, "big")
        gc.disable()
        _elapsed, window, canvas = shown.show()
        for _ in range(loads):
            canvas.release()  # type: ignore[attr-defined]
            window.close()  # type: ignore[attr-defined]
            window.deleteLater()  # type: ignore[attr-defined]
            QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
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


def per_load() -> dict[bool, float] | None:
    """Instructions of one load again, styled (True) and unstyled (False); None without
    valgrind. Two processes at a time (the counts do not depend on it)."""
    if shutil.which("valgrind") is None:
        return None
    runs = [(theme, loads) for theme in (True, False) for loads in (2, 4)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(zip(runs, pool.map(lambda run: _count(*run), runs), strict=True))
    return {theme: (counts[theme, 4] - counts[theme, 2]) / 2 for theme in (True, False)}


def report(target: float) -> float | None:
    """Print the instruction figure and its row; the ratio (None: skipped)."""
    from figures import figure

    found = per_load()
    if found is None:
        print("theme in instructions: skipped (no valgrind on PATH; Debian's valgrind package)")
        return None
    styled, bare = found[True] / 1e6, found[False] / 1e6
    ratio = styled / bare
    print(f"500-widget screen, one load again, in instructions (callgrind): styled {styled:.1f} M, "
          f"unstyled {bare:.1f} M, ratio {ratio:.3f}")  # fmt: skip
    figure("theme", "500-widget screen: load + build + paint (again), instructions, styled",
           styled, "M instr", target=f"<= {target:.2f} x unstyled", met=ratio <= target,
           raw=bare, raw_name="the same, no theme")  # fmt: skip
    return ratio
