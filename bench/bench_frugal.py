"""The window process's memory before the first screen exists (issue 18 item 4, target <= 130 MB).

``hmi run --smoke`` on a copy of the demo project pointed at an ``hmi sim`` on free ports, with
an administrator in its own ``HMI_DATA_DIR`` (as ``packaging/smoke.py`` does it), and
``HMI_RSS_PROBE=1``: the window logs its VmRSS right before it builds the first canvas
(``hmi.views.main_window``), after every service, the database,
the drivers' start and the main window exist. The raw figure, same run: a bare PySide6 process
(QApplication, one shown QWidget, one processEvents). Median of ``--runs`` runs.

Run: ``.venv/bin/python bench/bench_frugal.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import as_installed, figure

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "packaging"))
from smoke import answers, demo_copy, free_port

ROOT = Path(__file__).resolve().parents[1]
HMI = Path(sys.executable).parent / "hmi"
PASSWORD = "Kiwi-Turbine-7743-pq"
TARGET_MB = 130.0
PROBE = re.compile(r"rss-probe: VmRSS (\d+) kB")

BARE = """\
import sys
from pathlib import Path
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication(sys.argv)
w = QWidget()
w.resize(800, 600)
w.show()
app.processEvents()
rss = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmRSS:"))
print(rss.split()[1])
"""


def env_for(data: Path) -> dict[str, str]:
    return as_installed({**os.environ, "HMI_DATA_DIR": str(data), "QT_QPA_PLATFORM": "offscreen"})


def station_rss_kb(project: Path, env: dict[str, str]) -> int:
    done = subprocess.run(
        [str(HMI), "run", "--smoke", str(project)],
        env={**env, "HMI_RSS_PROBE": "1"}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    out = done.stdout + done.stderr
    found = PROBE.search(out)
    if done.returncode != 0 or found is None or "painted" not in out:
        raise SystemExit(f"hmi run --smoke: exit {done.returncode}, no probe or paint:\n{out}")
    return int(found.group(1))


def bare_rss_kb(env: dict[str, str]) -> int:
    done = subprocess.run(
        [sys.executable, "-c", BARE], env=env, capture_output=True, text=True, timeout=60,
        check=True,
    )  # fmt: skip
    return int(done.stdout.split()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hmi-frugal-") as tmp:
        folder = Path(tmp)
        env = env_for(folder / "data")
        subprocess.run(
            [str(HMI), "users", "add", "chief", "--role", "admin", "--name", "Bench"],
            env=env, input=PASSWORD + "\n", capture_output=True, text=True, check=True,
            timeout=120,
        )  # fmt: skip
        opcua, modbus = free_port(), free_port()
        plant = subprocess.Popen(
            [str(HMI), "sim", "--opcua-port", str(opcua), "--modbus-port", str(modbus)],
            env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            started = time.monotonic()
            while not (answers(opcua) and answers(modbus)):
                if plant.poll() is not None or time.monotonic() - started > 60:
                    raise SystemExit("hmi sim did not open its ports")
                time.sleep(0.1)
            project = demo_copy(ROOT / "screens", folder / "demo", opcua, modbus)
            ours, bare = [], []
            for _ in range(args.runs):
                ours.append(station_rss_kb(project, env) / 1024)
                bare.append(bare_rss_kb(env) / 1024)
        finally:
            plant.terminate()
            plant.wait(timeout=15)
    station, raw = statistics.median(ours), statistics.median(bare)
    print(f"hmi run (demo), RSS before the first screen: {station:.1f} MB (runs: "
          + ", ".join(f"{v:.1f}" for v in ours) + ")")  # fmt: skip
    print(f"bare PySide6 window process:                 {raw:.1f} MB  ratio {station / raw:.2f}x")
    figure(
        "frugal", "RSS before the first screen (demo)", station, "MB",
        target=f"<= {TARGET_MB:.0f} MB", met=station <= TARGET_MB,
        raw=raw, raw_name="bare PySide6 window",
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
