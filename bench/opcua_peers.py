"""The two peers of the OPC UA bench, each run as a process of its own by ``bench_opcua.py
--role server|raw``: the asyncua server that changes every item each cycle, and the bare asyncua
client that sets the ceiling. ``count_window`` is how both clients count."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asyncua import Client, Server, ua

NS_URI = "urn:hmi:bench"


def node_id(ns: int, i: int) -> ua.NodeId:
    return ua.NodeId(f"Bench.V{i}", ns)


# -- the server ------------------------------------------------------------------------------


async def serve(port: int, items: int, cycle: float) -> None:
    """Cycle k writes k to every item, stamped with the time of writing as a device server
    would; prints READY, and on a line from stdin its statistics."""
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
            variant = ua.Variant(float(tick), ua.VariantType.Double)
            dv = ua.DataValue(variant, SourceTimestamp=datetime.now(UTC))
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


async def _sleep_until(t: float) -> None:
    """Short steps: under qasync a long sleep is a coarse Qt timer, rounded to whole seconds."""
    while (left := t - time.time()) > 0:
        await asyncio.sleep(min(left, 0.05))


async def count_window(counts: Counter[float], t0: float, t1: float) -> dict[str, Any]:
    """Notifications per cycle value that arrived between wall-clock t0 and t1, the CPU
    this process used meanwhile, and its resident memory at t1 (MB; None off Linux)."""
    await _sleep_until(t0)
    before, cpu = Counter(counts), time.process_time()
    await _sleep_until(t1)
    cpu = time.process_time() - cpu
    return {"per_cycle": {str(k): n for k, n in (counts - before).items()}, "cpu_s": cpu,
            "rss_mb": rss_mb()}  # fmt: skip


def rss_mb() -> float | None:
    """This process's resident memory (VmRSS), MB; None where /proc is not there."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None
