"""The real window on a real X server (Xvfb), with the xcb platform, driven from outside with
xdotool as an operator would: in kiosk and full screen under a window manager (openbox) the
alarm summary, alarm history, KPIs and ad-hoc trend open in front of the main window and stay
there when the operator clicks the main window again, below the alarm banner (the X server's
own stacking order and geometry, not Qt's idea of them); on a bare X server (no window manager,
a kiosk box) the window takes the whole screen itself and is painted.

Display numbers: ``HMI_TEST_X_DISPLAY`` (one number, reused test after test), else the first
free one Xvfb finds."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage

from hmi.qt_platform import missing_libraries, xcb_plugin
from hmi.storage.admin import add_user
from tests.views.conftest import DEMO, pointed_at

HARNESS = Path(__file__).with_name("x11_station.py")
TOOLS = ("Xvfb", "openbox", "xprop", "xwininfo", "xdotool")
XCB = {"QT_QPA_PLATFORM": "xcb"}


def _missing() -> str | None:
    absent = [tool for tool in TOOLS if shutil.which(tool) is None]
    if absent:
        return (
            f"needs {', '.join(absent)} (apt-get install xvfb openbox x11-utils xdotool; "
            ".ci/run installs them)"
        )
    plugin = xcb_plugin()
    if plugin is None:
        return "this Qt has no xcb platform plugin"
    missing = missing_libraries(plugin)
    return missing.message() if missing is not None else None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=str(_missing()))


def wait_for(condition: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


@dataclass
class XServer:
    display: str
    size: tuple[int, int]
    processes: list[subprocess.Popen[Any]] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, **XCB, "DISPLAY": self.display}

    def x(self, *command: str) -> str:
        return subprocess.run(
            command, env=self.env, capture_output=True, text=True, timeout=20, check=True
        ).stdout

    def answers(self, atom: str = "_NET_SUPPORTING_WM_CHECK") -> str | None:
        """``xprop -root atom`` as the server answers it, None while it takes no clients."""
        done = subprocess.run(
            ["xprop", "-root", atom], env=self.env, capture_output=True, text=True, timeout=20
        )
        return done.stdout if done.returncode == 0 else None

    def stacking(self) -> list[int]:
        """Client windows, bottom to top, as the window manager stacks them."""
        text = self.x("xprop", "-root", "_NET_CLIENT_LIST_STACKING")
        return [int(word, 16) for word in re.findall(r"0x[0-9a-f]+", text)]

    def frame(self, window: int) -> tuple[int, int, int, int]:
        """(left, top, width, height) of a window with its decoration, from the X server."""
        info = self.x("xwininfo", "-id", str(window))

        def number(label: str) -> int:
            found = re.search(rf"{label}:\s+(-?\d+)", info)
            assert found is not None, f"no {label} in {info}"
            return int(found.group(1))

        left, top = number("Absolute upper-left X"), number("Absolute upper-left Y")
        width, height = number("Width"), number("Height")
        extents = self.x("xprop", "-id", str(window), "_NET_FRAME_EXTENTS")
        sides = [int(n) for n in re.findall(r"\d+", extents.split("=")[-1])]
        west, east, north, south = sides if len(sides) == 4 else (0, 0, 0, 0)
        return left - west, top - north, width + west + east, height + north + south

    def screenshot(self, path: Path) -> QImage:
        """The whole screen, grabbed over X by a Qt process of its own."""
        grab = (
            "import sys; from PySide6.QtGui import QGuiApplication; "
            "app = QGuiApplication(sys.argv); "
            "sys.exit(0 if app.primaryScreen().grabWindow(0).save(sys.argv[1]) else 1)"
        )
        subprocess.run(
            [sys.executable, "-c", grab, str(path)], env=self.env, timeout=30, check=True
        )
        image = QImage(str(path))
        assert not image.isNull(), f"no screenshot at {path}"
        return image


def start_x(size: tuple[int, int], *, window_manager: bool) -> XServer:
    read_end, write_end = os.pipe()
    number = os.environ.get("HMI_TEST_X_DISPLAY", "")
    command = ["Xvfb", *([f":{number}"] if number else []), "-displayfd", str(write_end)]
    # -noreset: an X server resets when its last client leaves, and refuses connections
    # meanwhile; each xprop below is such a client, and openbox, starting while the server
    # reset after one, failed with "Failed to open the display".
    command += ["-screen", "0", f"{size[0]}x{size[1]}x24", "-nolisten", "tcp", "-noreset"]
    xvfb = subprocess.Popen(command, pass_fds=(write_end,), stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as ready:
        line = ready.readline().strip()  # Xvfb writes its number when it accepts clients
    if not line.isdigit():
        xvfb.kill()
        pytest.fail(f"Xvfb did not start (display {number or 'any'}): {line!r}")
    server = XServer(f":{line}", size, [xvfb])
    try:
        wait_for(lambda: server.answers() is not None, f"Xvfb {server.display} to take clients")
        if window_manager:
            start_openbox(server)
    except BaseException:
        stop_x(server)  # a set-up that failed leaves no X server behind
        raise
    return server


def start_openbox(server: XServer, attempts: int = 3) -> None:
    """openbox on ``server``, started again if it gives up before it manages the screen."""
    for attempt in range(1, attempts + 1):
        with tempfile.TemporaryFile(mode="w+") as said:  # not a pipe: nobody reads it meanwhile
            openbox = subprocess.Popen(
                ["openbox"], env=server.env, stdout=said, stderr=subprocess.STDOUT
            )
            server.processes.append(openbox)
            deadline = time.monotonic() + 60.0  # a loaded machine starts it slowly
            while time.monotonic() < deadline:
                if "window id" in (server.answers() or ""):
                    return
                if openbox.poll() is not None:
                    break
                time.sleep(0.05)
            if openbox.poll() is None:
                openbox.kill()  # never two window managers on one screen
                openbox.wait()
            said.seek(0)
            if attempt == attempts:
                pytest.fail(
                    f"openbox did not manage {server.display} ({attempts} tries): {said.read()!r}"
                )


def stop_x(server: XServer) -> None:
    for process in reversed(server.processes):
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The demo project on ports nothing serves (the header's alarms are then the
    communication-loss ones), with an administrator, so no first-start dialog comes up."""
    target = tmp_path / "project"
    shutil.copytree(DEMO, target)
    ports = {}
    for name in ("OPC UA", "Modbus TCP"):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            ports[name] = sock.getsockname()[1]
    project_file = target / "project.yaml"
    project_file.write_text(pointed_at(project_file.read_text(encoding="utf-8"), ports))
    add_user("admin", "Site Admin", "admin", "Harbour-Lights-9", must_change=False)
    return target


class Station:
    """x11_station.py in its own process, its JSON lines read as they come."""

    def __init__(self, server: XServer, project: Path, *options: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(HARNESS), str(project), *options],
            env=server.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.main = self.next("main", timeout=60)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                self.lines.put(json.loads(line))

    def next(self, key: str, timeout: float = 20.0) -> dict[str, Any]:
        try:
            event = self.lines.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            assert self.process.stderr is not None
            pytest.fail(
                f"no {key!r} from the station in {timeout:g} s: {self.process.stderr.read()}"
            )
        assert key in event, event
        return event

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def x_server(request: pytest.FixtureRequest) -> Iterator[XServer]:
    size, window_manager = request.param
    server = start_x(size, window_manager=window_manager)
    try:
        yield server
    finally:
        stop_x(server)


VIEWS = (("banner", "Alarm summary"), ("history", "Alarm history"),
         ("kpis", "Alarm KPIs"), ("trend", "Ad-hoc trend"))  # fmt: skip


@pytest.mark.parametrize(
    ("x_server", "mode"),
    [(((1366, 768), True), "--kiosk"), (((1920, 1080), True), "--fullscreen")],
    indirect=["x_server"],
    ids=["kiosk-1366x768", "fullscreen-1920x1080"],
)
def test_every_view_opens_in_front_below_the_banner(
    x_server: XServer, project: Path, mode: str, artifacts: Path
) -> None:
    station = Station(x_server, project, mode)
    try:
        main = station.main
        width, height = x_server.size
        assert main["geometry"] == [0, 0, width, height], "full screen"
        opened: dict[str, int] = {}
        for button, title in VIEWS:
            x, y = main[button]
            x_server.x("xdotool", "mousemove", str(x), str(y), "click", "1")
            shown = station.next("shown")
            assert shown["shown"].startswith(title), shown
            window = opened[title] = shown["id"]
            wait_for(lambda w=window: x_server.stacking()[-1] == w, f"{title} on top of the stack")
        # The operator clicks the process screen again: the views stay in front of it.
        x_server.x("xdotool", "mousemove", "20", str(main["header_bottom"] // 2), "click", "1")
        wait_for(
            lambda: "0x" in x_server.x("xprop", "-root", "_NET_ACTIVE_WINDOW"), "an active window"
        )
        stack = x_server.stacking()
        assert main["main"] in stack
        below = stack.index(main["main"])
        for title, window in opened.items():
            assert stack.index(window) > below, f"{title} went behind the main window: {stack}"
            left, top, w, h = x_server.frame(window)
            assert top >= main["header_bottom"], f"{title} covers the alarm banner at {top}"
            assert top + h <= main["status_top"], f"{title} covers the status bar"
            assert left >= 0 and left + w <= width and top + h <= height, (
                f"{title} does not fit the {width}x{height} screen: {(left, top, w, h)}"
            )
        tops = {x_server.frame(window)[1] for window in opened.values()}
        assert len(tops) > 1, "views open at once cascade instead of covering each other"
        x_server.screenshot(artifacts / f"x11-{mode.strip('-')}-{width}x{height}.png")
    finally:
        station.stop()


@pytest.mark.parametrize("x_server", [((1366, 768), False)], indirect=True, ids=["bare-1366x768"])
def test_without_a_window_manager_the_window_takes_the_screen_and_paints(
    x_server: XServer, project: Path, artifacts: Path
) -> None:
    before = x_server.screenshot(artifacts / "x11-bare-root.png")
    station = Station(x_server, project)  # hmi run: maximised
    try:
        main = station.main
        width, height = x_server.size
        assert main["geometry"] == [0, 0, width, height]
        assert x_server.frame(main["main"]) == (0, 0, width, height), "as the X server sees it"
        image = QImage()

        def painted() -> bool:
            nonlocal image
            image = x_server.screenshot(artifacts / f"x11-bare-{width}x{height}.png")
            header = {image.pixel(x, y) for x in range(0, width, 4) for y in range(0, 30, 2)}
            status = {image.pixel(x, height - 10) for x in range(0, width, 2)}
            return len(header) > 3 and len(status) > 3 and image != before

        wait_for(painted, "the header and status bar painted", timeout=30)
        screen = {image.pixel(x, y) for x in range(0, width, 16) for y in range(0, height, 16)}
        assert len(screen) > 10, "the window's screen is painted, not one flat colour"
    finally:
        station.stop()
