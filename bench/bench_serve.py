"""``hmi serve`` start-up on the demo project: from launching the process to every connection
Good, against a bare asyncua client connecting to the same simulated plant.

The demo plant (``hmi sim``, its own process, as ``hmi demo`` starts it) on free loopback ports,
a copy of the demo project pointed at them, then ``--runs`` times ``hmi serve PROJECT --check``
(a fresh data folder each time): the time from ``Popen`` to the line the station logs once every
connection is up (``all connections Good``), and its RSS then. In the same run, the same number of
times: a bare ``asyncua.Client`` connecting to the plant's OPC UA endpoint in this process, and
a bare process (``python -c``: import asyncua, connect, disconnect) from ``Popen`` to its exit.

Printed: the medians, the ratios station / bare process. Target: start-up <= 2 s.

Run: ``.venv/bin/python bench/bench_serve.py [--runs 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from figures import figure  # noqa: E402

from hmi.cli import start_plant, stop_plant  # noqa: E402

DEMO = ROOT / "screens"
READY = "all connections Good"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_copy(folder: Path, ports: dict[str, int]) -> Path:
    """The demo project copied into ``folder``, its plant connections on ``ports``."""
    target = folder / "project"
    shutil.copytree(DEMO, target)
    project = target / "project.yaml"
    text = project.read_text(encoding="utf-8")
    text, opcua = re.subn(
        r"(endpoint: opc\.tcp://127\.0\.0\.1:)\d+", rf"\g<1>{ports['OPC UA']}", text
    )
    text, modbus = re.subn(r"(\n    port: )5020\n", rf"\g<1>{ports['Modbus TCP']}\n", text)
    assert (opcua, modbus) == (1, 1), "the demo's plant connections are not where expected"
    project.write_text(text, encoding="utf-8")
    return target


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def serve_once(project: Path, data: Path, source: Path | None = None) -> tuple[float, float, str]:
    """(seconds from Popen to every connection Good, RSS MB then, the check's report);
    ``source`` another source tree to run ``hmi`` from (an older commit: its marker is the
    line ``start-up took``, which it logged once every connection was up)."""
    env = {**os.environ, "HMI_DATA_DIR": str(data)}
    marker = READY if source is None else "start-up took"
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hmi.cli", "-v", "serve", str(project), "--check", "--timeout", "20"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=source,
    )  # fmt: skip
    ready: list[float] = []
    errors: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if marker in line and not ready:
                ready.append(time.monotonic() - started)
                ready.append(rss_mb(proc.pid))
            errors.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert proc.stdout is not None
    out = proc.stdout.read()  # the report, at the end (stderr is the reader's)
    proc.wait(90)
    reader.join(10)
    if proc.returncode != 0 or not ready:
        raise RuntimeError(f"hmi serve --check failed ({proc.returncode}): {out}{''.join(errors)}")
    return ready[0], ready[1], out


async def bare_connect(url: str) -> float:
    from asyncua import Client

    started = time.monotonic()
    client = Client(url)
    await client.connect()
    elapsed = time.monotonic() - started
    await client.disconnect()
    return elapsed


BARE_PROCESS = """
import asyncio, sys
from asyncua import Client
async def main():
    client = Client(sys.argv[1])
    await client.connect()
    await client.disconnect()
asyncio.run(main())
"""


def bare_process(url: str) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", BARE_PROCESS, url], check=True, timeout=60)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--before", type=Path, help="also measure hmi serve from this source tree (e.g. "
        "`git archive main | tar -x -C DIR`), interleaved with the runs",
    )  # fmt: skip
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    ports = {"OPC UA": _free_port(), "Modbus TCP": _free_port()}
    plant = start_plant(ports)
    if plant is None:
        return 1
    try:
        project = demo_copy(folder, ports)
        url = f"opc.tcp://127.0.0.1:{ports['OPC UA']}/hmi/plant"
        serve_once(project, folder / "warm")  # page cache, .pyc: as a restarted service
        starts, rss, bare, bare_proc, before = [], [], [], [], []
        report = ""
        for run in range(args.runs):
            took, mb, report = serve_once(project, folder / f"data{run}")
            starts.append(took)
            rss.append(mb)
            bare.append(asyncio.run(bare_connect(url)))
            bare_proc.append(bare_process(url))
            if args.before is not None:
                before.append(serve_once(project, folder / f"before{run}", args.before)[0])
        start, mb = statistics.median(starts), statistics.median(rss)
        client, process = statistics.median(bare), statistics.median(bare_proc)
        print(report.rstrip())
        print(f"hmi serve start-up to all connections Good: median {start:.2f} s of {args.runs} "
              f"({', '.join(f'{s:.2f}' for s in starts)}); RSS {mb:.0f} MB")  # fmt: skip
        print(f"bare asyncua client connect (in process): median {client:.3f} s")
        print(f"bare process (python -c: import asyncua, connect): median {process:.2f} s")
        print(f"ratio hmi serve / bare process: {start / process:.2f}; target start-up <= 2 s")
        if before:
            was = statistics.median(before)
            print(f"before ({args.before}): median {was:.2f} s "
                  f"({', '.join(f'{s:.2f}' for s in before)}); now / before {start / was:.2f}")  # fmt: skip
        figure("serve", "hmi serve start-up to all connections Good (demo)", start, "s",
               target="<= 2", met=start <= 2, raw=process,
               raw_name="bare process importing asyncua and connecting")  # fmt: skip
        figure("serve", "hmi serve RSS after start-up (demo)", mb, "MB")
        figure("serve", "bare asyncua client connect to the demo plant", client, "s")
        return 0
    finally:
        stop_plant(plant)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
