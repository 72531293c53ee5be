"""RSS and CPU of the station with 10,000 tags over OPC UA on a 500-widget screen: a generated
project (``opcua_screen.py``'s ``project_yaml``/``screen_yaml``) against the OPC UA bench's
asyncua server (``opcua_peers.serve``, every item changed each ``--cycle``) in a process of its
own; the station is a plain ``hmi run`` of that project in a subprocess. Once it has every item's
first value (``--settle`` seconds after spawning), its VmRSS (/proc/PID/status) and CPU
(utime + stime of /proc/PID/stat) over ``--seconds``. Raw, same run, same server: a bare asyncua
client subscribing the same items (``opcua_peers.run_raw``), measured the same way.

    python bench/bench_rss.py [--items 10000] [--widgets 500] [--seconds 30] [--settle 40]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import opcua_peers
from figures import figure
from opcua_peers import node_id as shown_id
from opcua_peers import run_raw, serve
from opcua_screen import project_yaml, screen_items, screen_yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))
from smoke import PASSWORD, free_port  # noqa: E402

TARGET_MB = 400.0
TICK = os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    """utime + stime of ``pid`` (the fields after the parenthesised command name)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def measure(process: subprocess.Popen[str], seconds: float) -> tuple[float, float, float]:
    """RSS at the end, its peak, and the share of one core ``process`` used over ``seconds``."""
    peak = 0.0
    cpu0, t0 = cpu_s(process.pid), time.monotonic()
    while time.monotonic() - t0 < seconds:
        if process.poll() is not None:
            raise RuntimeError(f"process {process.args!r} exited {process.returncode}")
        peak = max(peak, rss_mb(process.pid))
        time.sleep(0.5)
    share = (cpu_s(process.pid) - cpu0) / (time.monotonic() - t0)
    return rss_mb(process.pid), max(peak, rss_mb(process.pid)), share


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--widgets", type=int, default=500)
    parser.add_argument("--cycle", type=float, default=2.0, help="server: s between changes")
    parser.add_argument("--publish-ms", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=30.0, help="measuring window")
    parser.add_argument("--settle", type=float, default=40.0, help="s from spawn to window")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--check", action="store_true", help="exit 1 if the target is missed")
    parser.add_argument("--role", choices=("main", "server", "raw"), default="main",
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args()
    endpoint = f"opc.tcp://127.0.0.1:{args.port}"
    if args.role == "server":
        asyncio.run(serve(args.port, args.items, args.cycle))
        return 0
    if args.role == "raw":
        # the station monitors only the tags the screen shows (the broker subscribes on
        # demand): the bare client monitors those same items
        shown = screen_items(args.items, args.widgets)
        opcua_peers.node_id = lambda ns, i: shown_id(ns, shown[i])
        print(asyncio.run(run_raw(endpoint, len(shown), args.publish_ms, "handler")), flush=True)
        return 0
    port = free_port()
    endpoint = f"opc.tcp://127.0.0.1:{port}"
    me = [sys.executable, __file__, "--items", str(args.items), "--port", str(port), "--widgets", str(args.widgets),
          "--publish-ms", str(args.publish_ms)]  # fmt: skip
    server = subprocess.Popen([*me, "--role", "server", "--cycle", str(args.cycle)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    hmi = [sys.executable, "-m", "hmi.cli"]
    try:
        assert server.stdout is not None and server.stdin is not None
        line = server.stdout.readline().split()
        if not line or line[0] != "READY":
            raise RuntimeError("the bench server did not start")
        ns = int(line[1])
        # the bare client first: a killed station's session lingers on the server
        raw = subprocess.Popen([*me, "--role", "raw"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert raw.stdin is not None and raw.stdout is not None
        setup = raw.stdout.readline()
        if not setup.startswith("SETUP"):
            raise RuntimeError(f"the bare client did not subscribe: {setup!r}")
        now = time.time()
        raw.stdin.write(f"{now} {now + args.seconds + 1}\n")
        raw.stdin.flush()
        theirs = measure(raw, args.seconds)
        raw.communicate(timeout=60)
        with tempfile.TemporaryDirectory(prefix="bench-rss-") as tmp:
            folder = Path(tmp)
            project = folder / "project"
            project.mkdir()
            (project / "project.yaml").write_text(
                project_yaml(endpoint, ns, args.items, args.publish_ms), encoding="utf-8"
            )
            (project / "bench.yaml").write_text(
                screen_yaml(args.items, args.widgets), encoding="utf-8"
            )
            env = dict(os.environ, HMI_DATA_DIR=str(folder / "data"), PYTHONPATH=str(ROOT),
                       QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")  # fmt: skip
            subprocess.run([*hmi, "db", "upgrade"], env=env, cwd=ROOT, check=True,
                           capture_output=True)  # fmt: skip
            subprocess.run([*hmi, "users", "add", "chief", "--role", "admin", "--name", "Bench"],
                           env=env, cwd=ROOT, check=True, capture_output=True,
                           input=(PASSWORD + "\n").encode())  # fmt: skip
            log = (folder / "station.log").open("w")
            station = subprocess.Popen([*hmi, "run", str(project)], env=env, cwd=ROOT,
                                       stdout=log, stderr=subprocess.STDOUT, text=True)  # fmt: skip
            try:
                time.sleep(args.settle)
                ours = measure(station, args.seconds)
            except RuntimeError:
                print((folder / "station.log").read_text()[-2000:], file=sys.stderr)
                raise
            finally:
                station.terminate()
                station.wait(timeout=30)
        server.stdin.write("stop\n")
        server.stdin.flush()
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    (rss, peak, cpu), (raw_rss, raw_peak, raw_cpu) = ours, theirs
    met = peak <= TARGET_MB
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"{args.items} tags over OPC UA, {args.widgets}-widget screen, server cycle "
          f"{args.cycle} s, publishing {args.publish_ms:.0f} ms, window {args.seconds:.0f} s "
          f"(load average {' '.join(load)})")  # fmt: skip
    print(f"  hmi run:           RSS {rss:.0f} MB (peak {peak:.0f}), CPU {cpu:.1%} of a core")
    print(f"  bare asyncua client: RSS {raw_rss:.0f} MB (peak {raw_peak:.0f}), "
          f"CPU {raw_cpu:.1%} of a core")  # fmt: skip
    print(f"  ratio: RSS x{rss / raw_rss:.1f}, CPU x{cpu / raw_cpu:.1f}; target RSS <= "
          f"{TARGET_MB:.0f} MB: {'met' if met else 'MISSED'}")  # fmt: skip
    raw_name = "bare asyncua client, the shown items"
    figure("rss", f"RSS peak, {args.items} OPC UA tags, {args.widgets} widgets", peak, "MB",
           target=f"<= {TARGET_MB:.0f} MB", met=met, raw=raw_peak, raw_name=raw_name)  # fmt: skip
    figure("rss", f"CPU, {args.items} OPC UA tags, {args.widgets} widgets", cpu * 100,
           "% of a core", raw=raw_cpu * 100, raw_name=raw_name)  # fmt: skip
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
