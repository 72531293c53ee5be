"""A station imports what it needs when it needs it: ``import hmi.app`` (what ``hmi run`` loads
before the first screen) leaves the protocol stacks, the trend's plotting, the migrations, the
directory client and the verifier's process pool unimported (issue 18 item 4)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
    "numpy",  # with the first trend buffer or history query
    "sqlalchemy.dialects.postgresql",  # for a PostgreSQL database only
    "ruamel.yaml",  # the designer's round-trip document, when a screen is designed
    "hmi.views.audit.viewer",  # when an auditor opens it
)


def fresh_python(code: str) -> subprocess.CompletedProcess[str]:
    """``code`` run by a new interpreter (nothing imported yet, offscreen); it must succeed."""
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return run


def test_importing_the_app_leaves_the_heavy_parts_for_later() -> None:
    code = f"import sys; import hmi.app\nprint(sorted(m for m in {LAZY!r} if m in sys.modules))"
    run = fresh_python(code)
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
    run = fresh_python(code)
    assert run.stdout.strip() == "ok"


def test_the_audit_recorder_leaves_the_designers_save_for_later() -> None:
    """``hmi.runtime.audit`` names the designer's `PlannedChange` for type checking only: the
    save (and ruamel.yaml with it) loads with the designer, not with every recorder."""
    code = (
        "import sys; import hmi.runtime.audit\n"
        "print(sorted(m for m in ('hmi.model.design.save', 'ruamel.yaml') if m in sys.modules))"
    )
    run = fresh_python(code)
    assert run.stdout.strip() == "[]", run.stdout


def test_pysides_import_hook_keeps_no_copy_of_the_sources(tmp_path: Path) -> None:
    """After ``light_import_hook`` PySide6 still tells a module that names PySide6 (0) from one
    that does not (-1), and no module's source is left in ``linecache``."""
    (tmp_path / "names_qt.py").write_text("# uses PySide6\nX = 1\n", encoding="utf-8")
    (tmp_path / "plain.py").write_text("Y = 2\n", encoding="utf-8")
    code = (
        "import linecache, sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "from hmi.startup import light_import_hook\n"
        "assert light_import_hook()\n"
        "import names_qt, plain, hmi.app\n"
        "d = sys.modules['shibokensupport.feature'].pyside_feature_dict\n"
        "print(d['names_qt'], d['plain'], d['hmi.views.main_window'], d['hmi.model.value'])\n"
        "print(sorted(f for f in linecache.cache if 'hmi' in f or 'names_qt' in f))\n"
    )
    run = fresh_python(code)
    assert run.stdout.splitlines() == ["0 -1 0 -1", "[]"], run.stdout


def test_the_opcua_driver_leaves_the_tags_yaml_for_browsing() -> None:
    """A station's first OPC UA connection loads asyncua, not ruamel.yaml (``tags_yaml`` of
    ``hmi browse`` and Browse server loads it); the YAML still comes out when asked."""
    code = (
        "import sys; import hmi.drivers.opcua\n"
        "print('ruamel.yaml' in sys.modules)\n"
        "from hmi.drivers.opcua import BrowsedNode, tags_yaml_of\n"
        "node = BrowsedNode('T', 'ns=2;s=T', 'Variable', data_type='Double', access='rw',\n"
        "                   eu_range=(0.0, 10.0))\n"
        "print(tags_yaml_of([('T', node)], 'plc').splitlines()[:3])\n"
    )
    run = fresh_python(code)
    assert run.stdout.splitlines()[0] == "False", run.stdout
    assert "opcua://plc/ns=2;s=T" in run.stdout, run.stdout


def test_the_station_is_imported_with_the_collector_off_and_frozen_after() -> None:
    """``station_imports``: no collection runs during the imports; what they made is frozen
    out of later collections; the collector is on again afterwards."""
    code = (
        "import gc\n"
        "from hmi.startup import station_imports\n"
        "runs = []\n"
        "gc.callbacks.append(lambda phase, info: runs.append(info) if phase == 'start' else None)\n"
        "with station_imports():\n"
        "    import hmi.app\n"
        "    print(gc.isenabled(), len(runs))\n"
        "print(gc.isenabled(), gc.get_freeze_count() > 50_000)\n"
    )
    run = fresh_python(code)
    assert run.stdout.splitlines() == ["False 0", "True True"], run.stdout
