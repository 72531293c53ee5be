"""The layering is checked by tools, not by memory: import-linter contracts and a Qt-free
import of the pure layers in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_import_linter_contracts_are_kept() -> None:
    run = subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_pure_layers_import_without_qt() -> None:
    modules = (
        "hmi.model",
        "hmi.drivers",
        "hmi.drivers.defaults",
        "hmi.drivers.sim",
        "hmi.drivers.local",
        "hmi.storage",
        "hmi.runtime.broker",
        "hmi.runtime.commands",
        "hmi.runtime.pool",
    )
    code = (
        f"import sys; import {', '.join(modules)}\n"
        "qt = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'shiboken6', 'pyqtgraph', 'qasync'))\n"
        "print(qt); sys.exit(1 if qt else 0)"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, f"Qt imported by a pure layer: {run.stdout}{run.stderr}"
