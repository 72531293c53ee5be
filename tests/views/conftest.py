"""Fixtures for the views: an asyncio loop inside the test's Qt event loop (qasync), and a
running station on the demo project with the real broker and sim/local drivers."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from pytestqt.qtbot import QtBot

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from hmi.app import Station, apply_theme, build_station
from hmi.model.loader import load_project
from hmi.model.project import Project

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "screens"
ARTIFACTS = REPO / "artifacts" / "screens"

T = TypeVar("T")

_LOOP: list[qasync.QEventLoop] = []


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


@pytest.fixture
def run_async(qtbot: QtBot, qloop: Any) -> RunAsync:
    """``run_async(coro)``: run it on the test's qasync loop, processing Qt events until done."""
    return lambda coro, timeout_ms=10000: _run_async(qtbot, coro, timeout_ms)


@pytest.fixture(scope="session")
def demo_project() -> Project:
    return load_project(DEMO)


@pytest.fixture
def themed(qapp: Any) -> Iterator[None]:
    """The ISA-101 style sheet on the test's application (removed afterwards)."""
    apply_theme(qapp)
    yield
    qapp.setStyleSheet("")


@pytest.fixture
def make_station(qtbot: QtBot, qloop: Any, themed: None) -> Iterator[Callable[..., Station]]:
    """``make_station(project, live_reload=False, screen=None)``: built and started; every
    station made is stopped after the test."""
    made: list[Station] = []

    def make(project: Project, *, live_reload: bool = False, screen: str | None = None) -> Station:
        station = build_station(project, live_reload=live_reload, screen=screen)
        qtbot.addWidget(station.window)
        made.append(station)
        _run_async(qtbot, station.start())
        return station

    yield make
    for station in made:
        _run_async(qtbot, station.stop())


@pytest.fixture
def station(make_station: Callable[..., Station], demo_project: Project) -> Station:
    """The demo project running: broker, sim/local drivers, bridge, main window (not shown)."""
    return make_station(demo_project)


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
