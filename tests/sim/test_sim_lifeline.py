"""The demo plant never outlives the process that started it: ``hmi demo`` killed with -9 or
aborted (a Qt abort, exit 134) takes ``hmi sim`` with it, and the plant's ports are free after.
Each way out is tested on its own: the lifeline pipe alone, the Linux parent-death signal
alone, and both together as ``hmi demo`` has them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hmi.cli import start_plant

# The parent: starts the plant as hmi demo does, says the plant's pid, then waits for "abort"
# on its standard input (or for a SIGKILL).
PARENT = textwrap.dedent(
    """
    import os, sys
    from hmi.cli import start_plant
    plant = start_plant({"OPC UA": int(sys.argv[1]), "Modbus TCP": int(sys.argv[2])})
    print(plant.pid if plant else "none", flush=True)
    if sys.stdin.readline().strip() == "abort":
        os.abort()
    """
)

# A parent that starts `hmi sim --lifeline` on an inherited standard input (whose write end the
# test keeps open), so only the parent-death signal can stop the plant.
PARENT_KEEPS_NO_LIFELINE = textwrap.dedent(
    """
    import subprocess, sys
    plant = subprocess.Popen(
        [sys.executable, "-m", "hmi.cli", "sim", "--lifeline",
         "--opcua-port", sys.argv[1], "--modbus-port", sys.argv[2]],
        stdout=subprocess.DEVNULL,
    )
    print(plant.pid, flush=True)
    plant.wait()
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def bindable(port: int) -> bool:
    """A server could listen on ``port`` again (with SO_REUSEADDR, as the plant's servers do)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
    return True


def alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting for a reaper."""
    status = Path(f"/proc/{pid}/status")
    if status.parent.parent.is_dir() and sys.platform.startswith("linux"):
        try:
            return "\nState:\tZ" not in status.read_text()
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def wait_for(condition: object, what: str, timeout: float = 30.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def ports() -> dict[str, int]:
    return {"OPC UA": free_port(), "Modbus TCP": free_port()}


@pytest.fixture
def reaper() -> Iterator[list[int]]:
    """Pids to kill if a test fails with them still running (none are left when it passes)."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def start_parent(script: str, ports: dict[str, int], **popen: object) -> subprocess.Popen[str]:
    return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
        [sys.executable, "-c", script, str(ports["OPC UA"]), str(ports["Modbus TCP"])],
        stdout=subprocess.PIPE,
        text=True,
        **popen,
    )


def assert_plant_gone(pid: int, ports: dict[str, int]) -> None:
    wait_for(lambda: not alive(pid), f"the plant (pid {pid}) to end")
    for name, port in ports.items():
        assert not answers(port), f"{name} port {port} still answers"
        assert bindable(port), f"{name} port {port} is still held"


@pytest.mark.parametrize("ending", ["SIGKILL", "abort"])
def test_the_plant_ends_with_hmi_demo(
    ending: str, ports: dict[str, int], reaper: list[int]
) -> None:
    parent = start_parent(PARENT, ports, stdin=subprocess.PIPE)
    reaper.append(parent.pid)
    assert parent.stdout is not None and parent.stdin is not None
    line = parent.stdout.readline().strip()
    assert line.isdigit(), f"the plant did not start: {line!r}"
    plant = int(line)
    reaper.append(plant)
    assert all(answers(port) for port in ports.values())
    if ending == "SIGKILL":
        parent.kill()
        assert parent.wait(timeout=10) == -signal.SIGKILL
    else:
        parent.stdin.write("abort\n")
        parent.stdin.flush()
        assert parent.wait(timeout=10) == -signal.SIGABRT  # the shell's exit 134
    assert_plant_gone(plant, ports)


def test_the_lifeline_alone_stops_the_plant(ports: dict[str, int], reaper: list[int]) -> None:
    command = [sys.executable, "-m", "hmi.cli", "sim", "--lifeline"]
    command += ["--opcua-port", str(ports["OPC UA"]), "--modbus-port", str(ports["Modbus TCP"])]
    plant = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    reaper.append(plant.pid)
    assert plant.stdin is not None
    wait_for(lambda: all(answers(port) for port in ports.values()), "the plant's ports")
    plant.stdin.write(b"anything written is ignored\n")
    plant.stdin.flush()
    assert plant.poll() is None
    plant.stdin.close()  # what the system does when the parent ends
    assert plant.wait(timeout=30) == 0, "the plant stopped cleanly"
    assert_plant_gone(plant.pid, ports)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_parent_death_signal_alone_stops_the_plant(
    ports: dict[str, int], reaper: list[int]
) -> None:
    read_end, write_end = os.pipe()  # the lifeline's write end stays open here, in the test
    try:
        parent = start_parent(PARENT_KEEPS_NO_LIFELINE, ports, stdin=read_end)
    finally:
        os.close(read_end)
    try:
        reaper.append(parent.pid)
        assert parent.stdout is not None
        plant = int(parent.stdout.readline())
        reaper.append(plant)
        wait_for(lambda: all(answers(port) for port in ports.values()), "the plant's ports")
        parent.kill()
        parent.wait(timeout=10)
        assert_plant_gone(plant, ports)
    finally:
        os.close(write_end)


def test_stop_plant_still_stops_it_at_once(ports: dict[str, int]) -> None:
    plant = start_plant(ports)
    assert plant is not None
    from hmi.cli import stop_plant

    stop_plant(plant)
    assert plant.returncode == 0
    assert_plant_gone(plant.pid, ports)
