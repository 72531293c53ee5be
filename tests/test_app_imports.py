"""A station imports what it needs when it needs it: ``import hmi.app`` (what ``hmi run`` loads
before the first screen) leaves the protocol stacks, the trend's plotting, the migrations, the
directory client and the verifier's process pool unimported (issue 18 item 4)."""

from __future__ import annotations

import subprocess
import sys

LAZY = (
    "asyncua",
    "pymodbus",
    "pyqtgraph",
    "alembic",
    "ldap3",
    "concurrent.futures.process",
    "hmi.drivers.opcua",
    "hmi.drivers.modbus",
    "hmi.widgets.trend.widget",
)


def test_importing_the_app_leaves_the_heavy_parts_for_later() -> None:
    code = f"import sys; import hmi.app\nprint(sorted(m for m in {LAZY!r} if m in sys.modules))"
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]", run.stdout


def test_the_lazy_parts_still_load_on_use() -> None:
    """The registry's factories and the canvas's trend entry reach the real modules."""
    code = (
        "import sys\n"
        "from hmi.drivers.defaults import default_registry\n"
        "from hmi.model.address import parse_address\n"
        "import hmi.widgets as w\n"
        "r = default_registry()\n"
        "f = r.factory(parse_address('opcua://c/ns=2;s=X'))\n"
        "assert 'asyncua' not in sys.modules\n"
        "from hmi.widgets.trend.widget import TrendWidget\n"
        "assert w.TrendWidget is TrendWidget\n"
        "from hmi.widgets.trend import AdhocTrendDialog\n"
        "print('ok')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


def test_the_audit_recorder_leaves_the_designers_save_for_later() -> None:
    """``hmi.runtime.audit`` names the designer's `PlannedChange` for type checking only: the
    save (and ruamel.yaml with it) loads with the designer, not with every recorder."""
    code = (
        "import sys; import hmi.runtime.audit\n"
        "print(sorted(m for m in ('hmi.model.design.save', 'ruamel.yaml') if m in sys.modules))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]", run.stdout
