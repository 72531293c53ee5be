"""Start-up of the station: ``hmi run --smoke`` of the demo project (``screens/``, its
connections moved to free ports served by ``hmi sim`` started first) until its first screen
has painted, median of 5; then the resident memory of a plain ``hmi run`` after ``--seconds``
(default 60). Raw: a bare ``python -c`` that imports PySide6.QtWidgets, shows a window, waits
for its first paint and prints, measured the same way (wall clock from spawn to the line).

    python bench/bench_startup.py [--runs 5] [--seconds 60] [--check]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from demo_run import demo_plant
from figures import as_installed, figure

ROOT = Path(__file__).resolve().parents[1]

TARGET_S = 2.0
RAW = (
    "import sys\n"
    "from PySide6.QtCore import QEvent, QObject, QTimer\n"
    "from PySide6.QtWidgets import QApplication, QLabel\n"
    "app = QApplication(sys.argv)\n"
    "w = QLabel('raw'); w.resize(640, 480)\n"
    "class F(QObject):\n"
    "    def eventFilter(self, o, e):\n"
    "        if e.type() == QEvent.Type.Paint:\n"
    "            QTimer.singleShot(0, lambda: (print('painted', flush=True), app.quit()))\n"
    "        return False\n"
    "f = F(); w.installEventFilter(f); w.show(); app.exec()\n"
)


def until_painted(command: list[str], env: dict[str, str], cwd: Path) -> float:
    """Seconds from spawning ``command`` to its first output line saying ``painted``."""
    started = time.monotonic()
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    seen, said = None, []
    for line in process.stdout:
        said.append(line)
        if seen is None and "painted" in line:
            seen = time.monotonic() - started
            print(f"  {seen:.2f} s: {line.strip()}")
    process.wait(timeout=60)
    if seen is None or process.returncode != 0:
        raise RuntimeError(f"{command[-2:]}: exit {process.returncode}: {''.join(said)[-600:]}")
    return seen


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60.0, help="hmi run time before RSS")
    parser.add_argument("--check", action="store_true", help="exit 1 if the target is missed")
    args = parser.parse_args()
    hmi = [sys.executable, "-m", "hmi.cli"]
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        folder = Path(tmp)
        env = as_installed(dict(os.environ, HMI_DATA_DIR=str(folder / "data"),
                                QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1",
                                PYTHONPATH=str(ROOT)))  # fmt: skip
        with demo_plant(folder, env) as project:
            ours = [until_painted([*hmi, "run", "--smoke", str(project)], env, ROOT)
                    for _ in range(args.runs)]  # fmt: skip
            raw = [until_painted([sys.executable, "-c", RAW], env, ROOT) for _ in range(args.runs)]
            station = subprocess.Popen([*hmi, "run", str(project)], env=env, cwd=ROOT,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            time.sleep(args.seconds)
            ours_rss = rss_mb(station.pid) if station.poll() is None else float("nan")
            station.terminate()
            station.wait(timeout=15)
        raw_rss = _raw_rss(env)
    shutil.rmtree(folder, ignore_errors=True)
    ours_s, raw_s = statistics.median(ours), statistics.median(raw)
    met = ours_s <= TARGET_S
    print(f"first painted screen, median of {args.runs}: hmi run --smoke {ours_s:.2f} s, "
          f"bare PySide6 window {raw_s:.2f} s (x{ours_s / raw_s:.1f}); target <= {TARGET_S} s")  # fmt: skip
    print(f"RSS after {args.seconds:.0f} s of hmi run: {ours_rss:.0f} MB "
          f"(bare PySide6 window: {raw_rss:.0f} MB)")  # fmt: skip
    figure("startup", "demo first paint (median)", ours_s, "s", target=f"<= {TARGET_S} s",
           met=met, raw=raw_s, raw_name="bare PySide6 window")  # fmt: skip
    figure("startup", f"RSS after {args.seconds:.0f} s", ours_rss, "MB", raw=raw_rss,
           raw_name="bare PySide6 window")  # fmt: skip
    return 1 if args.check and not met else 0


def _raw_rss(env: dict[str, str]) -> float:
    """RSS of the bare window once shown (it waits 1 s after its first paint)."""
    code = RAW.replace("app.quit()", "None") + ""
    process = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE)
    assert process.stdout is not None
    process.stdout.readline()
    time.sleep(1.0)
    found = rss_mb(process.pid)
    process.kill()
    process.wait()
    return found


if __name__ == "__main__":
    sys.exit(main())
