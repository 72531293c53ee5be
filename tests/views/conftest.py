"""Fixtures for the views: an asyncio loop inside the test's Qt event loop (qasync), the real
demo plant (``hmi sim``) in its own process on free ports, and a running station on a copy of
the demo project pointed at that plant, with the real broker, OPC UA and Modbus drivers."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from pymodbus.client import ModbusTcpClient
from pytestqt.qtbot import QtBot

from tests.gui_gc import gc_on_gui_thread

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from hmi.app import Station, apply_theme, build_station
from hmi.cli import plant_ports, start_plant, stop_plant
from hmi.drivers.base import ConnectionState
from hmi.model.screens.loader import Project, load_project
from hmi.widgets.theme import chrome

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "screens"
ARTIFACTS = REPO / "artifacts" / "screens"

T = TypeVar("T")

_LOOP: list[qasync.QEventLoop] = []


@pytest.fixture(scope="session", autouse=True)
def _close_qloop() -> Iterator[None]:
    """Close the session's qasync loop at the end: that shuts down its thread pool (used by
    asyncio.to_thread), whose running QThreads would otherwise abort the process at exit."""
    yield
    if _LOOP:
        loop = _LOOP.pop()
        # Marked running for good (already_running=True), so close() refuses: stop its pool.
        executor = getattr(loop, "_QEventLoop__default_executor", None)
        if executor is not None:
            executor.shutdown(wait=True)


@pytest.fixture
def qloop(qapp: Any) -> Iterator[qasync.QEventLoop]:
    """A qasync loop that runs whenever Qt processes events (``qtbot.waitUntil``). One loop
    for the session, marked running only during each test, so other tests can still use
    ``asyncio.run``."""
    if not _LOOP:
        _LOOP.append(qasync.QEventLoop(qapp, already_running=True))
    loop = _LOOP[0]
    asyncio.events._set_running_loop(loop)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)


def _run_async(qtbot: QtBot, coro: Coroutine[Any, Any, T], timeout_ms: int = 10000) -> T:
    task = asyncio.get_event_loop().create_task(coro)
    qtbot.waitUntil(task.done, timeout=timeout_ms)
    return task.result()


RunAsync = Callable[..., Any]


def stop_station(qtbot: QtBot, station: Station) -> None:
    """``station.stop()``, after letting the drivers see the window's unsubscriptions.

    Workaround, to remove once fixed: ``LineScheduler._next`` (hmi/drivers/modbus/scheduler.py)
    waits with ``asyncio.wait_for``, which on Python 3.11 swallows a cancellation that arrives
    together with the wake-up; ``Station.stop`` releases the window (waking the Modbus line)
    and cancels it in the same loop iteration, so the stop hangs. ``asyncio.timeout`` there
    fixes it."""
    station.window.release()
    _run_async(qtbot, asyncio.sleep(0.05))
    _run_async(qtbot, station.stop())


@pytest.fixture
def run_async(qtbot: QtBot, qloop: Any) -> RunAsync:
    """``run_async(coro)``: run it on the test's qasync loop, processing Qt events until done."""
    return lambda coro, timeout_ms=10000: _run_async(qtbot, coro, timeout_ms)


@pytest.fixture(scope="session")
def demo_project() -> Project:
    """The demo project as shipped (its connections point at 4840/5020: for tests that need
    no live values)."""
    return load_project(DEMO)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def plant() -> Iterator[dict[str, int]]:
    """The demo plant in its own process (as ``hmi demo`` starts it), on free ports; its
    ports {"OPC UA": p, "Modbus TCP": q}. Its asyncua server must not share the tests' loop."""
    ports = {"OPC UA": _free_port(), "Modbus TCP": _free_port()}
    process = start_plant(ports)
    assert process is not None, "the demo plant did not start"
    try:
        yield ports
    finally:
        stop_plant(process)


def pointed_at(text: str, ports: dict[str, int]) -> str:
    """project.yaml's text with the plant connections moved to ``ports``."""
    text, opcua = re.subn(
        r"(endpoint: opc\.tcp://127\.0\.0\.1:)\d+", rf"\g<1>{ports['OPC UA']}", text
    )
    text, modbus = re.subn(r"(\n    port: )5020\n", rf"\g<1>{ports['Modbus TCP']}\n", text)
    assert (opcua, modbus) == (1, 1), "the demo's plant connections are not where expected"
    return text


@pytest.fixture(scope="session")
def plant_project(plant: dict[str, int], tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A copy of the demo project whose connections point at the running plant."""
    target = tmp_path_factory.mktemp("plant") / "project"
    shutil.copytree(DEMO, target)
    project_file = target / "project.yaml"
    project_file.write_text(
        pointed_at(project_file.read_text(encoding="utf-8"), plant), encoding="utf-8"
    )
    project = load_project(target)
    assert plant_ports(project) == plant
    return project


BASELINE = (  # (unit, coil, value) back to how the plant starts; resets before runs
    (1, 1, True),  # P101 reset
    (1, 3, True),  # P102 reset
    *((1, coil, False) for coil in (6, 7, 8, 9)),  # no failed transmitter, no stuck valve
    (1, 0, True),  # P101 runs
    (1, 2, False),  # P102 stopped
    (2, 1, True),  # XV101 fill control in AUTO
)


@pytest.fixture
def plant_baseline(plant: dict[str, int]) -> None:
    """Put the shared plant back the way it starts (pumps, faults, modes, setpoint), over
    Modbus, so a test does not depend on what the one before it did."""
    client = ModbusTcpClient("127.0.0.1", port=plant["Modbus TCP"], timeout=2)
    assert client.connect(), "the demo plant's Modbus port does not answer"
    try:
        for unit, coil, value in BASELINE:
            assert not client.write_coil(coil, value, device_id=unit).isError()
        sp = client.convert_to_registers(60.0, client.DATATYPE.FLOAT32)
        assert not client.write_registers(0, sp, device_id=1).isError()  # LIC101.SP
        assert not client.write_register(4, 1, device_id=1).isError()  # LIC101 AUTO
    finally:
        client.close()


TEST_PASSWORD = "Plant-Secret-42"


def log_in(qtbot: QtBot, station: Station, role: str) -> None:
    """Add a user named after ``role`` ("operator", "Operator Tester") and log them in."""
    name = f"{role.title()} Tester"
    add = station.users.add
    _run_async(qtbot, station.trail.call(add, role, name, role, TEST_PASSWORD, must_change=False))
    _run_async(qtbot, station.sessions.login(role, TEST_PASSWORD))


@pytest.fixture(autouse=True)
def station_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's audit trail, users and spool in a folder of its own (``HMI_DATA_DIR``)."""
    monkeypatch.setenv("HMI_DATA_DIR", str(tmp_path / "hmi-data"))


@pytest.fixture(autouse=True)
def gui_thread_gc(qapp: Any) -> Iterator[None]:
    """Python's cyclic collector only on the GUI thread, what was alive before the test frozen,
    as ``hmi.app.run`` has it (``tests/gui_gc.py``)."""
    with gc_on_gui_thread():
        yield


@pytest.fixture
def themed(qapp: Any) -> Iterator[None]:
    """The ISA-101 theme for what the test builds (removed afterwards)."""
    apply_theme(qapp)
    yield
    chrome.uninstall()


@pytest.fixture
def make_station(qtbot: QtBot, qloop: Any, themed: None) -> Iterator[Callable[..., Station]]:
    """``make_station(project, live_reload=False, screen=None, connected=False, role=None)``:
    built and started (with ``connected``: and every connection up; with ``role``: a user of
    that role logged in); every station made is stopped after the test."""
    made: list[Station] = []

    def make(
        project: Project,
        *,
        live_reload: bool = False,
        screen: str | None = None,
        connected: bool = False,
        role: str | None = None,
    ) -> Station:
        station = build_station(project, live_reload=live_reload, screen=screen)
        qtbot.addWidget(station.window)
        made.append(station)
        _run_async(qtbot, station.start())
        if role is not None:  # writes need someone logged in whose role may write
            log_in(qtbot, station, role)
        if connected:  # every connection of the project up
            health = station.broker.health
            qtbot.waitUntil(
                lambda: (
                    len(health) == len(project.file.connections)
                    and all(h.state is ConnectionState.CONNECTED for h in health.values())
                ),
                timeout=10000,
            )
        return station

    yield make
    for station in made:
        stop_station(qtbot, station)


@pytest.fixture
def station(
    make_station: Callable[..., Station], plant_project: Project, plant_baseline: None
) -> Station:
    """The demo project running on the demo plant: broker, OPC UA and Modbus drivers, bridge,
    main window (not shown)."""
    return make_station(plant_project, connected=True, role="operator")


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A writable copy of the demo project."""
    target = tmp_path / "project"
    shutil.copytree(DEMO, target)
    return target


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
