"""The recorder across a PostgreSQL outage: values queue while the database refuses
connections, the writer retries with backoff, and everything arrives once, in order."""

from __future__ import annotations

import asyncio

import pytest

from hmi.drivers.defaults import default_registry
from hmi.model.quality import GOOD
from hmi.model.tags import TagConfig
from hmi.model.trends.historian import HistorianConfig
from hmi.model.value import TagValue
from hmi.runtime.broker import TagBroker
from hmi.runtime.historian import HistorianRecorder
from hmi.storage.historian import HistorianStore

from .conftest import PgAdmin

pytestmark = pytest.mark.postgres


def test_values_wait_out_an_outage_and_arrive_once(
    pg_admin: PgAdmin, pg_database: str, until
) -> None:
    name = pg_database.rsplit("/", 1)[-1]
    tags = {"Flow": TagConfig(name="Flow", address="local://flow?type=float")}
    broker = TagBroker(tags, default_registry(), {})
    config = HistorianConfig(tags=("*",), batch_interval_s=0.02, batch_size=50)

    async def main() -> None:
        store = HistorianStore.open(pg_database)
        recorder = HistorianRecorder(broker, store, config)
        await recorder.start()
        for i in range(100):
            recorder.record("Flow", TagValue(float(i), GOOD, 1000.0 + i, 1000.0 + i))
        await until(lambda: recorder.status().written == 100, what="first values")
        pg_admin.block(name)
        for i in range(100, 300):
            recorder.record("Flow", TagValue(float(i), GOOD, 1000.0 + i, 1000.0 + i))
        await until(lambda: recorder.status().failing, what="the writer to notice")
        assert recorder.status().queued == 200 and recorder.status().last_error
        pg_admin.unblock(name)
        await until(lambda: recorder.status().written == 300, timeout=15, what="the backlog")
        assert not recorder.status().failing and recorder.status().dropped == 0
        await recorder.stop()
        _, values, _ = store.samples("Flow", 0, 4e9)
        assert values.tolist() == [float(i) for i in range(300)]
        store.close()

    asyncio.run(main())
