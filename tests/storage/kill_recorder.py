"""Run by test_historian_crash.py as a separate process: a historian recorder on a real
broker with a local:// tag, storing into the database given; prints "alive" once a value and
the station's last-alive time are stored, then keeps recording until the parent kills it
with SIGKILL."""

from __future__ import annotations

import asyncio
import sys

from hmi.drivers.defaults import default_registry
from hmi.drivers.local import LocalDriver
from hmi.model.tags import TagConfig
from hmi.model.trends.historian import HistorianConfig
from hmi.runtime.broker import TagBroker
from hmi.runtime.historian import HistorianRecorder
from hmi.storage.historian import HistorianStore

CONFIG = HistorianConfig(tags=("Tank.Level",), heartbeat_s=600, batch_interval_s=0.05)


async def main(url: str) -> None:
    tags = {"Tank.Level": TagConfig(name="Tank.Level", address="local://level?type=float")}
    broker = TagBroker(tags, default_registry(), {})
    store = HistorianStore.open(url)
    recorder = HistorianRecorder(broker, store, CONFIG, station="crash-test", alive_every_s=0.2)
    await recorder.start()
    await broker.start()
    driver = broker.pool.drivers["local"]
    assert isinstance(driver, LocalDriver)
    await driver.write(broker.tag("Tank.Level").address, 4.0)
    while True:
        await asyncio.wrap_future(recorder.flush())
        alive = store.last_alive("crash-test")
        if recorder.status().written >= 1 and alive is not None:
            break
        await asyncio.sleep(0.05)
    print("alive", flush=True)
    await asyncio.Event().wait()  # until killed


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
