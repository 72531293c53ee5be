"""Idle CPU of the station: ``hmi sim`` on free ports, then a plain ``hmi run`` of the demo
project (``screens/``) left alone; after ``--warmup`` seconds (default 15, first screen up and
connections made) the window process's CPU (utime + stime from ``/proc/PID/stat``) over
``--seconds`` (default 30), as % of one core. Raw, same run: a bare PySide6 window with 50
QLabels whose text a 10 Hz QTimer sets to a changing number (the fairest "same work": the demo
screen shows about that many live values at the plant's rate), measured the same way.

    python bench/bench_idle.py [--warmup 15] [--seconds 30] [--check]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from demo_run import demo_plant
from figures import figure

ROOT = Path(__file__).resolve().parents[1]

TARGET_PCT = 3.0
RAW = (
    "import sys\n"
    "from PySide6.QtCore import QTimer\n"
    "from PySide6.QtWidgets import QApplication, QGridLayout, QLabel, QWidget\n"
    "app = QApplication(sys.argv)\n"
    "w = QWidget(); grid = QGridLayout(w)\n"
    "labels = [QLabel('0') for _ in range(50)]\n"
    "for i, label in enumerate(labels): grid.addWidget(label, i // 5, i % 5)\n"
    "n = [0]\n"
    "def tick():\n"
    "    n[0] += 1\n"
    "    for i, label in enumerate(labels): label.setText(f'{(n[0] + i) % 1000:.1f}')\n"
    "t = QTimer(); t.timeout.connect(tick); t.start(100)\n"
    "w.resize(1280, 720); w.show(); app.exec()\n"
)


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` in seconds (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_pct(process: subprocess.Popen[bytes], warmup: float, seconds: float) -> float:
    """% of one core ``process`` used over ``seconds`` after ``warmup``."""
    time.sleep(warmup)
    if process.poll() is not None:
        raise RuntimeError(f"process exited {process.returncode} during warm-up")
    before, started = cpu_seconds(process.pid), time.monotonic()
    time.sleep(seconds)
    used, spent = cpu_seconds(process.pid) - before, time.monotonic() - started
    return 100.0 * used / spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--check", action="store_true", help="exit 1 if the target is missed")
    args = parser.parse_args()
    hmi = [sys.executable, "-m", "hmi.cli"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    with tempfile.TemporaryDirectory(prefix="bench-idle-") as tmp:
        folder = Path(tmp)
        env = dict(os.environ, HMI_DATA_DIR=str(folder / "data"), PYTHONUNBUFFERED="1",
                   QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                   PYTHONPATH=str(ROOT))  # fmt: skip
        with demo_plant(folder, env) as project:
            station = subprocess.Popen([*hmi, "run", str(project)], env=env, cwd=ROOT, **quiet)
            try:
                ours = idle_pct(station, args.warmup, args.seconds)
            finally:
                station.terminate()
                station.wait(timeout=15)
        bare = subprocess.Popen([sys.executable, "-c", RAW], env=env, **quiet)
        try:
            raw = idle_pct(bare, 3.0, args.seconds)
        finally:
            bare.kill()
            bare.wait()
    met = ours <= TARGET_PCT
    print(f"idle CPU over {args.seconds:.0f} s: hmi run {ours:.1f} % of a core, bare PySide6 "
          f"window with 50 labels at 10 Hz {raw:.1f} %; target <= {TARGET_PCT} %")  # fmt: skip
    print(f"load average: {Path('/proc/loadavg').read_text().strip()}")
    figure("idle", "demo at rest, CPU", ours, "% core", target=f"<= {TARGET_PCT} %", met=met,
           raw=raw, raw_name="bare window, 50 labels at 10 Hz")  # fmt: skip
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
