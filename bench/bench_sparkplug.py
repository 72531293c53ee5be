"""Sparkplug B throughput: ``hmi serve`` publishing 10,000 tags changing at 1 Hz, against a
bare paho-mqtt loop publishing the same payloads.

A Mosquitto broker on a free loopback port (a config written here), a project of ``--tags``
``sim://random`` tags (each a new value every second), ``hmi serve`` on it as its own process,
and an independent paho subscriber that decodes every NDATA (the .proto compiled here by
protoc) and counts metric values per second. Then a bare paho loop republishes the very
payloads the station sent, each at the same offset within its second, to the same subscriber.

Printed: metric values per second received from each (after ``--warmup`` s), the ratio
station / bare, the CPU of the whole ``hmi serve`` process (user + system, % of one core) and
its RSS. Targets: ratio >= 0.9, CPU <= 25 %.

Run: ``.venv/bin/python bench/bench_sparkplug.py [--tags 10000] [--seconds 20] [--warmup 6]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from figures import figure  # noqa: E402

from tests.runtime.sparkplug.mqtt_parts import Mosquitto, payload_class  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


class Counter:
    def __init__(self, port: int, cls: Any) -> None:
        self.cls = cls
        self.lock = threading.Lock()
        self.samples: list[tuple[float, int]] = []  # (arrival, metric values)
        self.raw: list[tuple[float, str, bytes]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-sub")
        self.client.on_message = self._on
        ready = threading.Event()
        self.client.on_subscribe = lambda *a: ready.set()
        self.client.on_connect = lambda c, *a: c.subscribe("spBv1.0/+/NDATA/#", qos=0)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        ready.wait(10)

    def _on(self, _c: Any, _u: Any, message: Any) -> None:
        now = time.monotonic()
        payload = self.cls.FromString(message.payload)
        live = sum(1 for m in payload.metrics if not m.is_historical)
        with self.lock:
            self.samples.append((now, live))
            self.raw.append((now, message.topic, bytes(message.payload)))

    def rate(self, start: float, end: float) -> float:
        with self.lock:
            total = sum(n for t, n in self.samples if start <= t < end)
        return total / (end - start)

    def reset(self) -> None:
        with self.lock:
            self.samples.clear()
            self.raw.clear()


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=6)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-sparkplug-"))
    broker = Mosquitto(folder)
    broker.start()
    try:
        project = folder / "project"
        project.mkdir()
        tags = "\n".join(
            f"  T{i:05d}: {{address: 'sim://random?seed={i}&interval=1&min=0&max=100'}}"
            for i in range(args.tags)
        )
        (project / "project.yaml").write_text(
            "project: {name: Bench, start_screen: main}\nscreens: [main.yaml]\n"
            f"tags:\n{tags}\nmqtt:\n  broker: {broker.url}\n"
            "  sparkplug: {group_id: Bench, edge_node_id: HMI-01}\n",
            encoding="utf-8",
        )
        (project / "main.yaml").write_text("screen: {id: main, title: Main}\n", encoding="utf-8")
        counter = Counter(broker.port, payload_class(folder))
        env = {**os.environ, "HMI_DATA_DIR": str(folder / "data")}
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "hmi.cli", "serve", str(project)], env=env,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        while not counter.samples and time.monotonic() - started < 60:
            time.sleep(0.05)
        first = time.monotonic() - started
        time.sleep(args.warmup)
        counter.reset()
        c0, t0 = cpu_s(proc.pid), time.monotonic()
        time.sleep(args.seconds)
        c1, t1 = cpu_s(proc.pid), time.monotonic()
        rss = rss_mb(proc.pid)
        station = counter.rate(t0, t1)
        captured = list(counter.raw)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
        # the bare loop: the same payloads, each at the same offset from the start
        counter.reset()
        bare = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-bare")
        bare.connect("127.0.0.1", broker.port)
        bare.loop_start()
        b0 = time.monotonic()
        origin = captured[0][0] if captured else t0
        bare_cpu0 = time.process_time()
        for at, topic, data in captured:
            delay = (at - origin) - (time.monotonic() - b0)
            if delay > 0:
                time.sleep(delay)
            bare.publish(topic, data, qos=0)
        time.sleep(1)
        b1 = b0 + (t1 - t0)
        bare_rate = counter.rate(b0, b1)
        bare_cpu = time.process_time() - bare_cpu0
        bare.loop_stop()
        bare.disconnect()
        counter.client.loop_stop()
        cpu = 100 * (c1 - c0) / (t1 - t0)
        ratio = station / bare_rate if bare_rate else 0.0
        print(
            f"tags {args.tags:,} at 1 Hz, {args.seconds:.0f} s measured after {args.warmup:.0f} s"
        )
        print(f"first NDATA {first:.1f} s after the start of hmi serve")
        print(f"hmi serve   {station:10,.0f} metric values/s  CPU {cpu:5.1f} % of one core  "
              f"RSS {rss:.0f} MB")  # fmt: skip
        print(
            f"bare paho   {bare_rate:10,.0f} metric values/s  (bench process CPU {bare_cpu:.1f} s)"
        )
        print(f"ratio       {ratio:10.3f}  (target >= 0.9); CPU target <= 25 %")
        figure("sparkplug", f"hmi serve publishing {args.tags:,} tags at 1 Hz", station,
               "metric values/s", target="ratio >= 0.9", met=ratio >= 0.9, raw=bare_rate,
               raw_name="bare paho publisher")  # fmt: skip
        figure("sparkplug", "hmi serve CPU while publishing", cpu, "% of a core",
               target="<= 25", met=cpu <= 25)  # fmt: skip
        return 0
    finally:
        broker.stop()


if __name__ == "__main__":
    sys.exit(main())
