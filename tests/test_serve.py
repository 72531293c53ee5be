"""``hmi serve`` as a process: start-up check, clean stop on SIGTERM (NDEATH published, exit 0),
and the MQTT will when the process is killed, read from a real Mosquitto."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.sparkplug.mqtt_parts import Mosquitto, Subscriber, payload_class

TOPIC = "spBv1.0/Riverside/{}/HMI-01"


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path)
    broker.start()
    yield broker
    broker.stop()


def _project(folder: Path, broker: str) -> Path:
    folder.mkdir()
    (folder / "project.yaml").write_text(
        f"""
project: {{name: Headless, start_screen: main}}
screens: [main.yaml]
tags:
  Count: {{address: "sim://counter?min=0&max=100000&interval=0.1", datatype: int}}
  Flow: {{address: "sim://sine?period=5", units: m3/h, range: [0, 100]}}
mqtt:
  broker: {broker}
  sparkplug: {{group_id: Riverside, edge_node_id: HMI-01, publish_ms: 50}}
""",
        encoding="utf-8",
    )
    (folder / "main.yaml").write_text("screen: {id: main, title: Main}\n", encoding="utf-8")
    return folder


def _serve(project: Path, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "HMI_DATA_DIR": str(tmp_path / "data")}
    return subprocess.Popen(
        [sys.executable, "-m", "hmi.cli", "serve", str(project), *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _bdseq(payload: Any) -> int:
    return next(m.long_value for m in payload.metrics if m.name == "bdSeq")


def test_check_reports_every_connection(mosquitto: Mosquitto, tmp_path: Path) -> None:
    project = _project(tmp_path / "p", mosquitto.url)
    proc = _serve(project, tmp_path, "--check", "--timeout", "10")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert f"ok  mqtt {mosquitto.url} CONNECTED" in out


def test_check_says_which_connection_is_down(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", "mqtt://127.0.0.1:1")  # nothing listens on port 1
    proc = _serve(project, tmp_path, "--check", "--timeout", "1")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "BAD mqtt mqtt://127.0.0.1:1 NOT CONNECTED" in out


def test_sigterm_stops_cleanly_with_ndeath(mosquitto: Mosquitto, tmp_path: Path) -> None:
    sub = Subscriber(mosquitto.port, payload_class(tmp_path))
    proc = _serve(_project(tmp_path / "p", mosquitto.url), tmp_path)
    try:
        sub.wait(lambda: len(sub.of("NDATA")) > 3, 20, "NDATA from hmi serve")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        births, deaths = sub.of("NBIRTH"), sub.wait(lambda: sub.of("NDEATH"), 10, "NDEATH")
        assert deaths[0][0] == TOPIC.format("NDEATH")
        assert _bdseq(deaths[0][1]) == _bdseq(births[-1][1])
    finally:
        if proc.poll() is None:
            proc.kill()
        sub.close()


def test_killed_station_dies_through_its_will(mosquitto: Mosquitto, tmp_path: Path) -> None:
    sub = Subscriber(mosquitto.port, payload_class(tmp_path))
    proc = _serve(_project(tmp_path / "p", mosquitto.url), tmp_path)
    try:
        sub.wait(lambda: sub.of("NBIRTH") and sub.of("NDATA"), 20, "NBIRTH")
        proc.kill()  # SIGKILL: no goodbye; the broker publishes the will
        proc.communicate(timeout=30)
        deaths = sub.wait(lambda: sub.of("NDEATH"), 30, "the will (NDEATH)")
        assert _bdseq(deaths[0][1]) == _bdseq(sub.of("NBIRTH")[-1][1])
    finally:
        if proc.poll() is None:
            proc.kill()
        sub.close()


def test_commands_from_mqtt_go_through_the_command_service(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    import sqlite3

    folder = _project(tmp_path / "p", mosquitto.url)
    yaml = (folder / "project.yaml").read_text(encoding="utf-8")
    yaml = (
        yaml.replace(
            "mqtt:\n",
            "  Setpoint: {address: 'local://sp?type=float&initial=10', write: {min: 0, max: 40}}\n"
            "  Recipe: {address: 'local://recipe?type=int&initial=1', datatype: int,\n"
            "           write: {confirm: reason}}\n"
            "  Other: {address: 'local://other?type=float&initial=0', write: {}}\n"
            "mqtt:\n",
        )
        + "  commands: {tags: [Setpoint, Recipe], user: enterprise, role: operator}\n"
    )
    (folder / "project.yaml").write_text(yaml, encoding="utf-8")
    cls = payload_class(tmp_path)
    sub = Subscriber(mosquitto.port, cls)
    proc = _serve(folder, tmp_path)

    def ncmd(name: str, datatype: int, **value: Any) -> None:
        payload = cls()
        payload.metrics.add(name=name, datatype=datatype, **value)
        sub.publish(TOPIC.format("NCMD"), payload.SerializeToString())

    try:
        sub.wait(lambda: sub.of("NBIRTH"), 20, "NBIRTH")
        alias = next(m.alias for m in sub.of("NBIRTH")[0][1].metrics if m.name == "Setpoint")

        def setpoints() -> list[float]:
            return [m.double_value for _, p in sub.of("NDATA") for m in p.metrics
                    if m.alias == alias and not m.is_historical]  # fmt: skip

        ncmd("Setpoint", 10, double_value=45.0)  # above the write limit
        ncmd("Recipe", 4, long_value=3)  # needs a reason: refused from MQTT
        ncmd("Other", 10, double_value=5.0)  # not named in mqtt.commands.tags
        ncmd("Setpoint", 10, string_value="x")  # not a number
        sub.publish(TOPIC.format("NCMD"), b"\x08\xff")  # not a payload
        ncmd("Setpoint", 10, double_value=20.0)
        sub.wait(lambda: 20.0 in setpoints(), 10, "Setpoint 20 published")
        assert setpoints() == [20.0]  # nothing else was written
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
        sub.close()
    with sqlite3.connect(tmp_path / "data" / "hmi.sqlite") as db:
        rows = db.execute(
            "SELECT target_tag, new_value, result, user_id, role, origin, error FROM audit "
            "WHERE action = 'write' ORDER BY sequence"
        ).fetchall()
    assert [(r[0], r[2]) for r in rows] == [
        ("Setpoint", "denied"), ("Recipe", "denied"), ("Other", "denied"),
        ("Setpoint", "denied"), ("Setpoint", "done"),
    ]  # fmt: skip
    assert {(r[3], r[4], r[5]) for r in rows} == {("enterprise", "operator", "mqtt:127.0.0.1")}
    assert "above the write limit 40" in rows[0][6]
    assert "refused from MQTT" in rows[1][6]
    assert "not among mqtt.commands.tags" in rows[2][6]


def test_check_on_the_demo_project_reports_every_connection_good(tmp_path: Path) -> None:
    """The demo plant (its own process, on free ports) and the demo project pointed at it:
    ``--check`` exits 0 with both plant connections Good, and says when they were."""
    import re
    import shutil

    from hmi.cli import demo_project_dir, start_plant, stop_plant
    from tests.runtime.sparkplug.mqtt_parts import free_port

    ports = {"OPC UA": free_port(), "Modbus TCP": free_port()}
    plant = start_plant(ports)
    assert plant is not None, "the demo plant did not start"
    try:
        project = tmp_path / "demo"
        shutil.copytree(demo_project_dir(), project)
        yaml = (project / "project.yaml").read_text(encoding="utf-8")
        yaml, ua = re.subn(r"(opc\.tcp://127\.0\.0\.1:)4840", rf"\g<1>{ports['OPC UA']}", yaml)
        yaml, mb = re.subn(r"(\n    port: )5020\n", rf"\g<1>{ports['Modbus TCP']}\n", yaml)
        assert (ua, mb) == (1, 1)
        (project / "project.yaml").write_text(yaml, encoding="utf-8")
        env = {**os.environ, "HMI_DATA_DIR": str(tmp_path / "data")}
        done = subprocess.run(
            [sys.executable, "-m", "hmi.cli", "-v", "serve", str(project), "--check",
             "--timeout", "30"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        lines = done.stdout.splitlines()
        assert any(line.startswith("ok  plant_ua (opcua) CONNECTED") for line in lines), lines
        assert any(line.startswith("ok  plant_mb (modbus) CONNECTED") for line in lines), lines
        assert "all connections Good" in done.stderr
    finally:
        stop_plant(plant)
