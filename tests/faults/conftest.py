"""The faults suite: the station on the demo plant (``hmi sim`` in a subprocess on free
loopback ports) while something under it fails. What every fault test shares is here: the
plant, a copy of the demo project pointed at it, the station built and started on a qasync
loop, an operator logged in, a probe of the UI loop's lateness and a TCP proxy that can be
cut like a stopped server.

Each fault test asserts the same four things: the UI loop never stalls more than
``UI_BLOCK_S``, the right quality or status shows within ``STATUS_S``, the audit trail holds
every action reported done exactly once on a chain that verifies, and the station recovers
without a restart.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtCore import QObject, Qt, QTimer
from pytestqt.qtbot import QtBot

from hmi.app import Station, build_station
from hmi.model.quality import Quality
from hmi.model.screens.loader import load_project
from tests.gui_gc import gc_on_gui_thread

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "screens"
UI_BLOCK_S = 0.100  # the longest the UI loop may stall
STATUS_S = 2.0  # a fault shows (quality, status bar) within this
PASSWORD = "Faults-Suite-Pass-1"
SETPOINT = "LIC101.SP"  # OPC UA, operator may write, no confirmation: a plain audited write
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# -- the demo plant ------------------------------------------------------------------------------


@dataclass
class DemoPlant:
    """``hmi sim`` in a subprocess: kill it, start it again on the same ports."""

    opcua_port: int
    modbus_port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.opcua_port}/hmi/plant"

    def start(self, timeout: float = 30.0) -> None:
        command = [sys.executable, "-m", "hmi.cli", "sim", "--speed", "10", "--seed", "7"]
        command += ["--opcua-port", str(self.opcua_port), "--modbus-port", str(self.modbus_port)]
        self.process = subprocess.Popen(
            command, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not (_listening(self.opcua_port) and _listening(self.modbus_port)):
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"hmi sim ended with {self.process.returncode}: {err}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"hmi sim did not listen within {timeout:g} s")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None


@pytest.fixture(scope="session")
def demo_plant() -> Iterator[DemoPlant]:
    plant = DemoPlant(free_port(), free_port())
    plant.start()
    try:
        yield plant
    finally:
        plant.stop()


def demo_project(folder: Path, plant: DemoPlant) -> Path:
    """A copy of the demo project whose connections point at ``plant``."""
    shutil.copytree(DEMO, folder)
    project = folder / "project.yaml"
    text = project.read_text(encoding="utf-8")
    for old, new in (
        ("opc.tcp://127.0.0.1:4840/", f"opc.tcp://127.0.0.1:{plant.opcua_port}/"),
        ("port: 5020", f"port: {plant.modbus_port}"),
    ):
        assert old in text, f"the demo project no longer says {old!r}"
        text = text.replace(old, new)
    project.write_text(text, encoding="utf-8")
    return folder


# -- the UI loop ---------------------------------------------------------------------------------


class UiProbe(QObject):
    """A precise QTimer on the UI thread: how late its ticks come is how long the UI loop was
    blocked. ``worst`` is the longest stall (seconds) since ``reset``."""

    def __init__(self, interval_ms: int = 10) -> None:
        super().__init__()
        self.interval = interval_ms / 1000
        self.worst = 0.0
        self.ticks = 0
        self._last = 0.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.monotonic()
        if self._last:
            self.worst = max(self.worst, now - self._last - self.interval)
        self._last = now
        self.ticks += 1

    def start(self) -> None:
        self.reset()
        self._timer.start()

    def reset(self) -> None:
        self.worst, self.ticks, self._last = 0.0, 0, 0.0

    def stop(self) -> None:
        self._timer.stop()


@dataclass
class Running:
    """A started station and the qasync loop it runs on; ``run`` drives a coroutine on it."""

    station: Station
    loop: asyncio.AbstractEventLoop
    qtbot: QtBot
    probe: UiProbe
    done: list[float] = field(default_factory=list)  # values of the writes reported done

    def run(self, coro: Awaitable[T], timeout: float = 30.0) -> T:
        task = self.loop.create_task(coro)  # type: ignore[arg-type]
        self.qtbot.waitUntil(task.done, timeout=int(timeout * 1000))
        return task.result()

    def wait(self, condition: Callable[[], object], timeout: float, what: str) -> float:
        """Let the loop run until ``condition`` holds; seconds it took."""
        start = time.monotonic()
        try:
            self.qtbot.waitUntil(lambda: bool(condition()), timeout=int(timeout * 1000))
        except Exception:
            pytest.fail(f"not within {timeout:g} s: {what}")
        return time.monotonic() - start

    def quality(self, tag: str) -> Quality:
        return self.station.broker.latest(tag).quality

    async def write(self, tag: str, value: Any) -> Any:
        """One operator write through the station's command service; remembers it if done."""
        result = await self.station.commands.write(tag, value, origin="faults/suite")
        if result.ok:
            self.done.append(value)
        return result


def _drive(qtbot: QtBot, loop: asyncio.AbstractEventLoop, coro: Awaitable[T], s: float) -> T:
    task = loop.create_task(coro)  # type: ignore[arg-type]
    qtbot.waitUntil(task.done, timeout=int(s * 1000))
    return task.result()


@pytest.fixture
def station_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The station's data folder (spool, witness, historian) of the test's own."""
    data = tmp_path / "hmi-data"
    monkeypatch.setenv("HMI_DATA_DIR", str(data))
    return data


@pytest.fixture
def start_station(qtbot: QtBot, qapp: Any, station_data: Path) -> Iterator[Callable[..., Running]]:
    """``start_station(project_folder, **build_station_kwargs)``: the station built, started,
    an operator added and logged in, the setpoint subscribed and Good; stopped afterwards."""
    collecting = gc_on_gui_thread()  # on the GUI thread only, as ``run`` has it
    collecting.__enter__()
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.events._set_running_loop(loop)
    asyncio.set_event_loop(loop)
    started: list[Running] = []

    def start(folder: Path, **kwargs: Any) -> Running:
        station = build_station(load_project(folder), live_reload=False, **kwargs)
        qtbot.addWidget(station.window)
        _drive(qtbot, loop, station.start(), 30)
        probe = UiProbe()
        running = Running(station, loop, qtbot, probe)
        started.append(running)

        async def operator() -> None:
            users = station.users
            await station.trail.call(
                users.add, "op", "Olga Operator", "operator", PASSWORD, must_change=False
            )
            await station.sessions.login("op", PASSWORD)

        running.run(operator())
        station.broker.subscribe(SETPOINT)
        running.wait(lambda: running.quality(SETPOINT).is_good, 15, f"{SETPOINT} Good")
        probe.start()
        return running

    try:
        yield start
    finally:
        for running in started:
            running.probe.stop()
            _drive(qtbot, loop, running.station.stop(), 60)
        executor = getattr(loop, "_QEventLoop__default_executor", None)
        if executor is not None:
            executor.shutdown(wait=True)
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)
        collecting.__exit__(None, None, None)


# -- a link that can be cut ----------------------------------------------------------------------


class TcpProxy:
    """A loopback TCP proxy to ``target``, on an asyncio loop in a thread of its own. ``cut``
    behaves as a stopped server: open connections are reset and new ones refused (nothing
    listens on the port); ``restore`` listens again on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy")
        self._thread.daemon = True
        self._thread.start()
        self.restore()

    def _call(self, coro: Awaitable[T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)  # type: ignore[arg-type]

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.connections += 1
        self._writers |= {writer, up_writer}
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._writers -= {writer, up_writer}

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._handle, "127.0.0.1", self.port, reuse_address=True
            )

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        self._call(self._listen())

    def cut(self) -> None:
        self._call(self._cut())

    def close(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


# -- a PostgreSQL database of the test's own -------------------------------------------------------


def _conninfo(url: str, database: str | None = None) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


@dataclass
class PgDatabase:
    """A freshly created database on the shared test server (dropped afterwards)."""

    url: str  # straight to the server
    name: str
    host: str
    port: int

    def via(self, port: int) -> str:
        """The same database reached through a proxy on ``port``."""
        from sqlalchemy.engine import make_url

        url = make_url(self.url).set(host="127.0.0.1", port=port)
        return url.render_as_string(hide_password=False)


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[PgDatabase]:
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    name = f"hmi_faults_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_conninfo(pg_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    url = make_url(pg_url).set(database=name)
    try:
        yield PgDatabase(
            url.render_as_string(hide_password=False), name, url.host or "127.0.0.1",
            url.port or 5432,
        )  # fmt: skip
    finally:
        with psycopg.connect(_conninfo(pg_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


@pytest.fixture
def pg_proxy(pg_database: PgDatabase) -> Iterator[TcpProxy]:
    """A proxy to the test server that the test cuts and restores, never the server."""
    proxy = TcpProxy(pg_database.host, pg_database.port)
    try:
        yield proxy
    finally:
        proxy.close()
