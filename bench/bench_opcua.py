"""OPC UA throughput: notifications per second through OpcUaDriver -> TagBroker, against a bare
asyncua client subscribed to the same items on the same server in the same run.

Three processes, so that none steals another's event loop: the server (asyncua; in cycle k it
writes the value k to every item), the bare client (counts what its publish callback receives:
the ceiling, asyncua's own decoding and nothing else; ``--raw-mode handler`` uses asyncua's
per-notification handler instead), and this one (driver + broker, counted by a broker
listener, as the alarm engine would see them). Both count notifications per cycle value over
the same wall-clock window; the comparison uses the cycles both saw whole, so neither gains from
where a window happens to cut. Prints the rates, ours/raw (target >= 0.9), CPU per
notification, and the time to set up the subscription of every item.

    .venv/bin/python bench/bench_opcua.py [--items 10000] [--seconds 30] [--cycle 2]
                                          [--raw-mode handler] [--gc-freeze]

To extend (live screens, UI timer lateness): add a consumer in ``measure_ours`` that takes
``broker.take_changes()`` on a timer and add its figures to the returned dict.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from asyncua import Client, Server, ua

NS_URI = "urn:hmi:bench"


def node_id(ns: int, i: int) -> ua.NodeId:
    return ua.NodeId(f"Bench.V{i}", ns)


# -- the server ------------------------------------------------------------------------------


async def serve(port: int, items: int, cycle: float) -> None:
    """Cycle k writes k to every item; prints READY, and on a line from stdin its statistics."""
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}")
    ns = await server.register_namespace(NS_URI)
    root = await server.nodes.objects.add_folder(ua.NodeId("Bench", ns), "Bench")
    ids = []
    for i in range(items):
        if i % 100 == 0:  # asyncua adds a child in time linear in its siblings: keep them few
            folder = await root.add_folder(ua.NodeId(f"Bench.F{i // 100}", ns), f"F{i // 100}")
        variant = ua.Variant(0.0, ua.VariantType.Double)
        ids.append((await folder.add_variable(node_id(ns, i), f"V{i}", variant)).nodeid)
    await server.start()
    print(f"READY {ns}", flush=True)
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_reader(sys.stdin.fileno(), lambda: stop.done() or stop.set_result(None))
    work: list[float] = []
    next_at = time.monotonic()
    tick = 0
    while not stop.done():
        tick += 1
        started = time.monotonic()
        for nid in ids:
            dv = ua.DataValue(ua.Variant(float(tick), ua.VariantType.Double))
            await server.write_attribute_value(nid, dv)
        work.append(time.monotonic() - started)
        next_at += cycle
        delay = next_at - time.monotonic()
        if delay > 0:
            await asyncio.wait([stop], timeout=delay)
        else:
            next_at = time.monotonic()
    stats = {"cycles": tick, "work_mean_s": sum(work) / len(work), "work_max_s": max(work)}
    print(json.dumps(stats), flush=True)
    await server.stop()


# -- the bare asyncua client ------------------------------------------------------------------


async def run_raw(endpoint: str, items: int, publish_ms: float, mode: str) -> dict[str, Any]:
    """A bare asyncua client: one subscription, items created 1,000 per call. Says SETUP when
    every item has its first value, then counts over the window it reads from stdin."""
    counts: Counter[float] = Counter()
    total = 0

    class Handler:
        def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
            nonlocal total
            counts[val] += 1
            total += 1

    def on_publish(result: ua.PublishResult) -> None:
        nonlocal total
        for notification in result.NotificationMessage.NotificationData or ():
            if type(notification) is ua.DataChangeNotification:
                for item in notification.MonitoredItems:
                    counts[item.Value.Value.Value] += 1
                total += len(notification.MonitoredItems)

    # the same keep-alive as the driver's default: a busy server must not look dead
    client = Client(endpoint, timeout=30, watchdog_intervall=5)
    await client.connect()
    ns = await client.get_namespace_index(NS_URI)
    started = time.perf_counter()
    if mode == "handler":
        sub = await client.create_subscription(publish_ms, Handler())
        for start in range(0, items, 1000):
            nodes = [
                client.get_node(node_id(ns, i)) for i in range(start, min(items, start + 1000))
            ]
            await sub.subscribe_data_change(nodes, sampling_interval=0)
    else:
        session = client.uaclient.session
        params = ua.CreateSubscriptionParameters(
            RequestedPublishingInterval=publish_ms,
            RequestedLifetimeCount=1000,
            RequestedMaxKeepAliveCount=10,
            MaxNotificationsPerPublish=0,
            PublishingEnabled=True,
        )
        result = await session.create_subscription(params, callback=on_publish)
        for start in range(0, items, 1000):
            requests = [
                ua.MonitoredItemCreateRequest(
                    ItemToMonitor=ua.ReadValueId(
                        NodeId=node_id(ns, i), AttributeId=ua.AttributeIds.Value
                    ),
                    MonitoringMode=ua.MonitoringMode.Reporting,
                    RequestedParameters=ua.MonitoringParameters(
                        ClientHandle=i + 1, SamplingInterval=0, QueueSize=1, DiscardOldest=True
                    ),
                )
                for i in range(start, min(items, start + 1000))
            ]
            await session.create_monitored_items(
                ua.CreateMonitoredItemsParameters(
                    SubscriptionId=result.SubscriptionId,
                    ItemsToCreate=requests,
                    TimestampsToReturn=ua.TimestampsToReturn.Both,
                )
            )
    while total < items:
        await asyncio.sleep(0.01)
    print(f"SETUP {time.perf_counter() - started}", flush=True)
    t0, t1 = (float(x) for x in (await asyncio.to_thread(sys.stdin.readline)).split())
    window = await count_window(counts, t0, t1)
    await client.disconnect()
    return window


async def count_window(counts: Counter[float], t0: float, t1: float) -> dict[str, Any]:
    """Notifications per cycle value that arrived between wall-clock t0 and t1, and the CPU
    this process used meanwhile."""
    await asyncio.sleep(max(0.0, t0 - time.time()))
    before, cpu = Counter(counts), time.process_time()
    await asyncio.sleep(max(0.0, t1 - time.time()))
    cpu = time.process_time() - cpu
    return {"per_cycle": {str(k): n for k, n in (counts - before).items()}, "cpu_s": cpu}


# -- ours: OpcUaDriver -> TagBroker -----------------------------------------------------------


async def measure_ours(
    args: argparse.Namespace, endpoint: str, ns: int, raw: subprocess.Popen[str]
) -> dict[str, Any]:
    """Wait for the bare client to be set up, set up driver + broker, then count both over
    the same window."""
    from hmi.drivers.base import DriverRegistry
    from hmi.drivers.opcua import opcua_driver
    from hmi.model.project import OpcUaConnection
    from hmi.model.tags import TagConfig
    from hmi.runtime.broker import TagBroker

    assert raw.stdout is not None and raw.stdin is not None
    raw_setup_s = float((await asyncio.to_thread(raw.stdout.readline)).split()[1])
    connection = OpcUaConnection(
        driver="opcua",
        endpoint=endpoint,
        publishing_interval_ms=args.publish_ms,
        sampling_interval_ms=0,
        timeout_s=30,
    )
    tags = {
        f"v{i}": TagConfig(address=f"opcua://bench/ns={ns};s=Bench.V{i}") for i in range(args.items)
    }
    broker = TagBroker(tags, DriverRegistry({"opcua": opcua_driver}), {"bench": connection})
    counts: Counter[float] = Counter()

    def listener(name: str, value: Any) -> None:
        counts[value.value] += 1

    broker.add_listener(listener)
    started = time.perf_counter()
    await broker.start()
    for name in tags:
        broker.subscribe(name)
    while sum(n for value, n in counts.items() if value is not None) < args.items:
        await asyncio.sleep(0.01)
    setup_s = time.perf_counter() - started
    if args.gc_freeze:  # what the app could do once its project is loaded
        gc.freeze()
    t0 = time.time() + 1.0
    t1 = t0 + args.seconds
    raw.stdin.write(f"{t0} {t1}\n")
    raw.stdin.flush()
    window = await count_window(counts, t0, t1)
    window |= {"setup_s": setup_s, "raw_setup_s": raw_setup_s}
    window["health"] = broker.pool.drivers["opcua://bench"].health.detail
    await broker.stop()
    return window


# -- orchestration ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def common_cycles(a: dict[str, int], b: dict[str, int]) -> list[str]:
    """Cycle values both saw, without the first and last (cut by the window)."""
    both = sorted(set(a) & set(b), key=float)
    return both[1:-1]


def run_main(args: argparse.Namespace) -> int:
    port = free_port()
    endpoint = f"opc.tcp://127.0.0.1:{port}"
    me = [sys.executable, __file__, "--items", str(args.items), "--port", str(port)]
    server = subprocess.Popen(
        [*me, "--role", "server", "--cycle", str(args.cycle)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    raw: subprocess.Popen[str] | None = None
    try:
        assert server.stdout is not None and server.stdin is not None
        line = server.stdout.readline().split()
        if not line or line[0] != "READY":
            print("the bench server did not start", file=sys.stderr)
            return 1
        raw = subprocess.Popen(
            [
                *me,
                "--role",
                "raw",
                "--publish-ms",
                str(args.publish_ms),
                "--raw-mode",
                args.raw_mode,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ours = asyncio.run(measure_ours(args, endpoint, int(line[1]), raw))
        theirs = json.loads(raw.communicate(timeout=60)[0].strip().splitlines()[-1])
        server.stdin.write("stop\n")
        server.stdin.flush()
        stats = json.loads(server.stdout.readline())
    finally:
        for process in (raw, server):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)

    cycles = common_cycles(ours["per_cycle"], theirs["per_cycle"])
    if not cycles:
        print("no cycle was seen whole by both clients; use a longer --seconds", file=sys.stderr)
        return 1
    ours_n = sum(ours["per_cycle"][c] for c in cycles)
    raw_n = sum(theirs["per_cycle"][c] for c in cycles)
    ours_all = sum(ours["per_cycle"].values())
    raw_all = sum(theirs["per_cycle"].values())
    print(
        f"{args.items} items, each changing every {args.cycle:g} s, publishing every "
        f"{args.publish_ms:g} ms; window {args.seconds:g} s; "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"server: {stats['cycles']} cycles, writing all items took {stats['work_mean_s']:.2f} s "
        f"on average ({stats['work_max_s']:.2f} s at most)"
    )
    rows = [
        (f"bare asyncua ({args.raw_mode})", raw_n, theirs["cpu_s"], raw_all, ours["raw_setup_s"]),
        ("driver -> TagBroker", ours_n, ours["cpu_s"], ours_all, ours["setup_s"]),
    ]
    for label, _, cpu, everything, setup in rows:
        print(
            f"{label:<24} {everything / args.seconds:10,.0f} notifications/s  "
            f"{1e6 * cpu / max(1, everything):6.1f} us CPU each  set-up {setup:5.2f} s"
        )
    ratio = ours_n / raw_n if raw_n else float("nan")
    freeze = ", gc frozen after set-up" if args.gc_freeze else ""
    print(
        f"ours/raw {ratio:.3f}{freeze} over the {len(cycles)} cycles both saw whole "
        f"({ours_n:,} / {raw_n:,}; target >= 0.9); driver: {ours['health']}"
    )
    return 0 if ratio >= 0.9 else 2


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=30.0, help="measurement window")
    parser.add_argument(
        "--cycle",
        type=float,
        default=2.0,
        help="seconds between changes (asyncua needs ~1 s to write 10k)",
    )
    parser.add_argument("--publish-ms", type=float, default=500.0)
    parser.add_argument("--raw-mode", choices=("batch", "handler"), default="batch")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() after set-up, so the collector stops re-scanning long-lived objects",
    )
    parser.add_argument(
        "--role", choices=("main", "server", "raw"), default="main", help=argparse.SUPPRESS
    )
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.role == "server":
        asyncio.run(serve(args.port, args.items, args.cycle))
        return 0
    if args.role == "raw":
        endpoint = f"opc.tcp://127.0.0.1:{args.port}"
        result = asyncio.run(run_raw(endpoint, args.items, args.publish_ms, args.raw_mode))
        print(json.dumps(result), flush=True)
        return 0
    return run_main(args)


if __name__ == "__main__":
    sys.exit(main())
