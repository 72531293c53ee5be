"""Shared test set-up: Qt runs offscreen, async tests poll conditions, PostgreSQL is optional."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

Until = Callable[..., Awaitable[None]]


async def _until(
    condition: Callable[[], object], timeout: float = 5.0, what: str = "condition"
) -> None:
    """Poll ``condition`` on the running loop until it is true; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.005)


@pytest.fixture
def until() -> Until:
    """``await until(lambda: ..., timeout=5, what="...")`` inside an asyncio test."""
    return _until


@pytest.fixture(scope="session")
def pg_url() -> str:
    """SQLAlchemy URL of a PostgreSQL server for tests (``HMI_TEST_PG_URL``); skips the test
    if no server answers there."""
    url = os.environ.get("HMI_TEST_PG_URL", DEFAULT_PG_URL)
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    try:
        import psycopg

        conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        psycopg.connect(conninfo, connect_timeout=3).close()
    except Exception as exc:
        pytest.skip(
            f"no PostgreSQL answers at {parsed.render_as_string(hide_password=True)} ({exc}); "
            "start one or set HMI_TEST_PG_URL"
        )
    return url


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped after the test (modules that need more,
    such as blocking it, define their own)."""
    from tests.storage.conftest import PgAdmin

    admin = PgAdmin(pg_url)
    name = admin.create()
    try:
        yield admin.url_of(name)
    finally:
        admin.drop(name)
