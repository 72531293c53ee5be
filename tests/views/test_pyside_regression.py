"""PySide6 6.12.0 on Python 3.11 dies with ``Fatal Python error: none_dealloc`` after many calls
of a method returning void (the refcount of None runs out). pyproject pins PySide6 below 6.12;
this guards the pin. The calls run in a subprocess, so a crash fails this test with its output
instead of killing pytest."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

CALLS = 200_000

SCRIPT = textwrap.dedent(
    f"""
    import sys
    import PySide6
    from PySide6.QtCore import QObject

    thing = QObject()
    for index in range({CALLS}):
        thing.setObjectName("tag")  # returns void: None comes back every time
    print("ok", PySide6.__version__, sys.version_info[:2], flush=True)
    """
)


def test_many_void_calls_do_not_crash() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    output = f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, output
    assert result.stdout.startswith("ok "), output
