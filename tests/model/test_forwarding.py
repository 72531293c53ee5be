"""``forwarding:`` in project.yaml: what is accepted, and each mistake named at its place."""

from __future__ import annotations

from pathlib import Path

import pytest

from hmi.model.errors import ConfigError, ProjectError
from hmi.model.forwarding import FORWARDING_ALARM_ID, parse_collector
from hmi.model.screens.loader import load_project

SCREEN = "screen: {id: main, title: Main, level: 1}\nwidgets: []\n"


def _load(folder: Path, forwarding: str, alarms: str = "") -> object:
    folder.mkdir(exist_ok=True)
    (folder / "project.yaml").write_text(
        "project: {name: P, start_screen: main}\nscreens: [main.yaml]\n"
        + alarms + "forwarding:\n" + forwarding,
        encoding="utf-8",
    )  # fmt: skip
    (folder / "main.yaml").write_text(SCREEN, encoding="utf-8")
    return load_project(folder)


def test_a_collector_brings_the_station_alarm(tmp_path: Path) -> None:
    project = _load(tmp_path / "p", "  syslog: {url: 'tls://siem:6514', ca: ca.pem}\n"
                    "  alarm_after_s: 30\n")  # fmt: skip
    (alarm,) = [a for a in project.alarms if a.id == FORWARDING_ALARM_ID]  # type: ignore[attr-defined]
    assert alarm.on_delay_s == 30
    settings = project.file.forwarding.syslog.resolved(tmp_path / "p")  # type: ignore[attr-defined]
    assert settings.ca == str((tmp_path / "p" / "ca.pem").resolve())


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("  syslog: {url: 'http://siem'}\n", 4, "the scheme must be tcp://, tls:// or udp://"),
        ("  syslog: {url: 'tcp://siem:0x'}\n", 4, "the port must be a number 1-65535"),
        ("  syslog:\n    url: tcp://siem\n    ca: c.pem\n", 6, "ca only apply to tls://"),
        ("  syslog: {url: 'tls://siem', format: xml}\n", 4, "'rfc5424', 'json' or 'cef'"),
        ("  syslog: {url: 'tls://siem', sd_id: 'a b'}\n", 4, "1-32 printable ASCII"),
        ("  alarm_after_s: -1\n", 4, "greater than 0"),
    ],
)
def test_a_mistake_is_named_at_its_place(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    with pytest.raises(ProjectError) as caught:
        _load(tmp_path / "p", text)
    (problem,) = caught.value.problems
    assert message in problem.message, problem.message
    assert problem.location.line == line, str(problem)


def test_an_alarm_may_not_take_the_station_alarms_id(tmp_path: Path) -> None:
    alarms = "tags:\n  L: {address: 'local://l?type=float'}\nalarms:\n" \
             f"  - {{kind: hi, id: {FORWARDING_ALARM_ID}, tag: L, limit: 1}}\n"  # fmt: skip
    with pytest.raises(ProjectError) as caught:
        _load(tmp_path / "p", "  syslog: {url: 'tcp://siem'}\n", alarms)
    assert "the station's own alarm" in caught.value.problems[0].message


def test_collector_urls() -> None:
    assert parse_collector("tls://siem.example.org").port == 6514
    assert parse_collector("udp://[::1]:5514").url == "udp://[::1]:5514"
    with pytest.raises(ConfigError, match="no host"):
        parse_collector("tcp://:514")
    with pytest.raises(ConfigError, match="nothing after it"):
        parse_collector("tcp://siem:514/path")
