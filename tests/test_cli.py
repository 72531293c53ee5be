"""The hmi command: check, schema, version, and the plant process hmi demo starts."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from hmi import __version__
from hmi.cli import demo_project_dir, main, start_plant, stop_plant


def hmi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hmi.cli", *args], capture_output=True, text=True, timeout=60
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_version() -> None:
    result = hmi("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"hmi {__version__}"


def test_check_the_demo_project_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(demo_project_dir())]) == 0
    assert ": OK (" in capsys.readouterr().out


def test_check_a_broken_project_says_where_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "project.yaml").write_text(
        "project: {name: X, start_screen: main}\nscreens: [main.yaml]\n", encoding="utf-8"
    )
    (tmp_path / "main.yaml").write_text(
        "screen: {id: main, title: Main}\nwidgets:\n  - {type: gauge, rect: [0, 0, 10, 10]}\n",
        encoding="utf-8",
    )
    result = hmi("check", str(tmp_path))
    assert result.returncode == 1
    assert f"{tmp_path / 'main.yaml'}:3:12: unknown widget type 'gauge'" in result.stderr


def test_schema_is_json_schema_for_screens_and_templates(tmp_path: Path) -> None:
    out = tmp_path / "screen.schema.json"
    assert main(["schema", "-o", str(out)]) == 0
    schema = json.loads(out.read_text(encoding="utf-8"))
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert len(schema["anyOf"]) == 2


def test_the_demo_plant_process_serves_both_protocols_and_stops() -> None:
    ports = {"OPC UA": free_port(), "Modbus TCP": free_port()}
    plant = start_plant(ports)
    assert plant is not None, "the plant came up"
    try:
        for port in ports.values():
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    finally:
        stop_plant(plant)
    assert plant.returncode is not None


def test_demo_refuses_ports_that_are_taken(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert start_plant({"OPC UA": port, "Modbus TCP": free_port()}) is None
    assert f"OPC UA port {port} already answer" in capsys.readouterr().err
