"""The hmi command: check, schema, version, the plant process hmi demo starts on the ports
the demo project names, and long output cut short by its reader (``hmi browse ... | head``)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from asyncua import ua

from hmi import __version__
from hmi.cli import (
    EXIT_READER_GONE,
    demo_project_dir,
    main,
    plant_ports,
    start_plant,
    stop_plant,
)
from hmi.model.errors import ConfigError
from hmi.model.screens.loader import Project, load_project
from tests.drivers.opcua.opcua_plant import PlantServer


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


def test_check_warns_about_a_numeric_writable_tag_without_limits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "project.yaml").write_text(
        "project: {name: X, start_screen: main}\nscreens: [main.yaml]\ntags:\n"
        "  sp: {address: 'local://sp', write: {}}\n"
        "  sp_ok: {address: 'local://ok', write: {min: 0, max: 10}}\n"
        "  name: {address: 'local://n', datatype: str, write: {}}\n",
        encoding="utf-8",
    )
    (tmp_path / "main.yaml").write_text("screen: {id: main, title: Main}\n", encoding="utf-8")
    assert main(["check", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "warning: tag sp is writable without write limits" in err
    assert "sp_ok" not in err and "tag name" not in err


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


def test_plant_ports_are_the_demo_project_connections() -> None:
    assert plant_ports(load_project(demo_project_dir())) == {"OPC UA": 4840, "Modbus TCP": 5020}


PORTS_PROJECT = """\
project: {{name: Ports, start_screen: main}}
connections:
{connections}
screens: [main.yaml]
"""


def ports_project(folder: Path, connections: str) -> Project:
    (folder / "project.yaml").write_text(
        PORTS_PROJECT.format(connections=connections), encoding="utf-8"
    )
    (folder / "main.yaml").write_text("screen: {id: main, title: Main}\n", encoding="utf-8")
    return load_project(folder)


def test_plant_ports_parse_the_endpoint_and_the_modbus_port(tmp_path: Path) -> None:
    project = ports_project(
        tmp_path,
        "  ua: {driver: opcua, endpoint: 'opc.tcp://localhost:48401/hmi/plant'}\n"
        "  mb: {driver: modbus, host: 127.0.0.1, port: 15020}\n",
    )
    assert plant_ports(project) == {"OPC UA": 48401, "Modbus TCP": 15020}
    defaults = ports_project(
        tmp_path,
        "  ua: {driver: opcua, endpoint: 'opc.tcp://127.0.0.1'}\n"
        "  mb: {driver: modbus, host: 127.0.0.1}\n",
    )
    assert plant_ports(defaults) == {"OPC UA": 4840, "Modbus TCP": 502}


@pytest.mark.parametrize(
    ("connections", "message"),
    [
        (
            "  ua: {driver: opcua, endpoint: 'opc.tcp://127.0.0.1:4840'}\n",
            "needs exactly one Modbus TCP connection, found none",
        ),
        (
            "  ua: {driver: opcua, endpoint: 'opc.tcp://plc-gateway:4840'}\n"
            "  mb: {driver: modbus, host: 127.0.0.1, port: 5020}\n",
            "connection 'ua': the demo plant runs on 127.0.0.1, not on 'plc-gateway'",
        ),
        (
            "  ua: {driver: opcua, endpoint: 'opc.tcp://127.0.0.1:4840'}\n"
            "  mb: {driver: modbus, host: 127.0.0.1, port: 5020}\n"
            "  mb2: {driver: modbus, host: 127.0.0.1, port: 5021}\n",
            "needs exactly one Modbus TCP connection, found mb, mb2",
        ),
    ],
)
def test_plant_ports_refuse_what_the_plant_cannot_serve(
    tmp_path: Path, connections: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        plant_ports(ports_project(tmp_path, connections))


def test_demo_refuses_cleanly_when_the_demo_ports_are_taken(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``hmi demo`` checks the ports its project names before it starts anything."""
    with socket.socket() as busy:
        try:
            busy.bind(("127.0.0.1", 4840))
            busy.listen()
        except OSError:
            pass  # something already answers there: just as taken
        assert main(["demo"]) == 1
    err = capsys.readouterr().err
    assert "OPC UA port 4840 already answer" in err
    assert "is another 'hmi demo' or 'hmi sim' running?" in err


def test_alarms_report_of_a_period(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'station.sqlite'}"
    result = hmi("alarms", "report", "--from", "2026-11-01", "--to", "2026-11-02", "--db", url)
    assert result.returncode == 0, result.stderr
    assert "Alarm KPIs" in result.stdout and "Activations: 0" in result.stdout
    backwards = hmi("alarms", "report", "--from", "2026-11-02", "--to", "2026-11-01", "--db", url)
    assert backwards.returncode == 2 and "--to must be after --from" in backwards.stderr


BIG_FOLDER = 1500  # variables: a tree of about 150 kB, more than a pipe holds (64 kB)


@pytest.fixture(scope="module")
def big_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlantServer]:
    """A real asyncua server whose address space prints far more than a pipe holds."""
    server = PlantServer(free_port(), None)

    async def fill() -> None:
        folder = await server.server.nodes.objects.add_folder(
            ua.NodeId("Plant.Big", server.ns), "Big"
        )
        for i in range(BIG_FOLDER):
            name = f"FlowTransmitter{i:04d}_Totaliser"
            await folder.add_variable(ua.NodeId(f"Plant.Big.{name}", server.ns), name, float(i))

    try:
        server.call(fill(), timeout=120)
        yield server
    finally:
        server.close()


def cut_short(args: list[str], *, read_first_line: bool) -> tuple[int, str, str]:
    """Run ``hmi <args>`` with stdout into a pipe its reader closes early, after the first line
    or before reading anything (as ``| head -1`` does, whatever the timing); its exit status,
    the line read and stderr."""
    with subprocess.Popen(
        [sys.executable, "-m", "hmi.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline() if read_first_line else ""
        process.stdout.close()
        err = process.stderr.read()
        return process.wait(timeout=60), first, err


@pytest.mark.parametrize("read_first_line", [True, False], ids=["head -1", "closed at once"])
def test_browse_into_a_reader_that_stops_early_exits_quietly(
    big_server: PlantServer, read_first_line: bool
) -> None:
    whole = hmi("browse", big_server.endpoint)
    assert whole.returncode == 0, whole.stderr
    assert len(whole.stdout) > 100_000 and whole.stdout.count("s=Plant.Big.") == BIG_FOLDER

    status, first, err = cut_short(["browse", big_server.endpoint], read_first_line=read_first_line)
    assert (status, err) == (EXIT_READER_GONE, ""), err
    if read_first_line:
        assert first == "Objects  i=85  Object\n"


@pytest.mark.parametrize("args", [["schema"], ["browse", "{endpoint}", "--yaml", "plant"]])
def test_other_long_printers_stop_quietly_too(big_server: PlantServer, args: list[str]) -> None:
    args = [arg.format(endpoint=big_server.endpoint) for arg in args]
    status, _, err = cut_short(args, read_first_line=False)
    assert (status, err) == (EXIT_READER_GONE, ""), err
