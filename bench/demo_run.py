"""The demo as the benches that start ``hmi run`` set it up (bench_idle, bench_startup,
bench_theme): a data folder of its own with the schema and an administrator, ``hmi sim`` on
free ports, and a copy of the demo project pointed at them (``packaging/smoke.py``'s, as the
built program's smoke test makes it)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))

from smoke import PASSWORD, answers, demo_copy, free_port  # noqa: E402

HMI = [sys.executable, "-m", "hmi.cli"]
QUIET = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}


@contextmanager
def demo_plant(folder: Path, env: dict[str, str]) -> Iterator[Path]:
    """The schema and an administrator in ``env``'s ``HMI_DATA_DIR``, then ``hmi sim`` on free
    ports until the block ends; yields the demo project copied into ``folder`` and pointed at
    that plant."""
    subprocess.run([*HMI, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*HMI, "users", "add", "chief", "--role", "admin", "--name", "Bench"],
                   env=env, cwd=ROOT, check=True, capture_output=True,
                   input=(PASSWORD + "\n").encode())  # fmt: skip
    opcua, modbus = free_port(), free_port()
    plant = subprocess.Popen([*HMI, "sim", "--opcua-port", str(opcua), "--modbus-port",
                              str(modbus)], env=env, cwd=ROOT, **QUIET)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (answers(opcua) and answers(modbus)):
            if plant.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("hmi sim did not open its ports")
            time.sleep(0.1)
        yield demo_copy(ROOT / "screens", folder / "demo", opcua, modbus)
    finally:
        plant.terminate()
        plant.wait(timeout=15)
