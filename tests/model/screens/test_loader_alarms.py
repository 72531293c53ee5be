"""The project's alarms: section is validated with the rest of project.yaml, at file:line:col."""

from __future__ import annotations

from hmi.model.alarms.definitions import ConnectionAlarm
from hmi.model.screens.loader import Project, check_project, load_project
from tests.model.conftest import PROJECT, MakeProject

ALARMS = """\
alarms:
  - {id: L.Hi, tag: Tank1.Level, kind: hi, limit: 80, priority: high, message: "high {value:.1f}"}
  - {id: P.Trip, tag: Pump1.Running, kind: digital, equals: 0, priority: medium}
"""


def problems(make_project: MakeProject, alarms: str) -> list[tuple[int, int, str]]:
    folder = make_project({"project.yaml": PROJECT + alarms})
    return [(p.location.line, p.location.column, p.message) for p in check_project(folder)]


def first_alarm_line() -> int:
    return PROJECT.count("\n") + 2


def test_alarms_load_into_the_project(make_project: MakeProject) -> None:
    project = load_project(make_project({"project.yaml": PROJECT + ALARMS}))
    assert [a.id for a in project.file.alarms] == ["L.Hi", "P.Trip"]
    assert [a.id for a in project.alarms] == ["L.Hi", "P.Trip", "plc.CommLoss", "ua.CommLoss"]


# -- communication loss: one alarm per connection by default ----------------------------------


def comm_loss(project: Project) -> dict[str, tuple[str, str, str, float]]:
    return {
        a.id: (a.connection, a.tag, a.priority.value, a.on_delay_s)
        for a in project.alarms
        if isinstance(a, ConnectionAlarm)
    }


def test_every_connection_gets_a_communication_loss_alarm(make_project: MakeProject) -> None:
    project = load_project(make_project({"project.yaml": PROJECT}))
    assert comm_loss(project) == {
        "plc.CommLoss": ("plc", "plc", "high", 10),
        "ua.CommLoss": ("ua", "ua", "high", 10),
    }
    (alarm,) = [a for a in project.alarms if a.id == "ua.CommLoss"]
    assert alarm.text.render({"tag": "ua"}) == "Communication lost with connection ua"
    assert alarm.referenced_tags() == frozenset()


def test_communication_loss_alarms_switched_off_per_connection_or_for_all(
    make_project: MakeProject,
) -> None:
    one_off = PROJECT.replace("host: 127.0.0.1}", "host: 127.0.0.1, comm_loss_alarm: false}")
    project = load_project(make_project({"project.yaml": one_off}))
    assert list(comm_loss(project)) == ["ua.CommLoss"]
    settings = "settings:\n  alarms:\n    comm_loss: {enabled: false, priority: low}\n"
    project = load_project(make_project({"project.yaml": PROJECT + settings}))
    assert comm_loss(project) == {}
    one_on = PROJECT.replace("host: 127.0.0.1}", "host: 127.0.0.1, comm_loss_alarm: true}")
    settings = "settings:\n  alarms:\n    comm_loss: {enabled: false}\n"
    project = load_project(make_project({"project.yaml": one_on + settings}))
    assert list(comm_loss(project)) == ["plc.CommLoss"]
    settings = "settings:\n  alarms:\n    comm_loss: {priority: critical, on_delay_s: 30}\n"
    project = load_project(make_project({"project.yaml": PROJECT + settings}))
    assert comm_loss(project)["plc.CommLoss"] == ("plc", "plc", "critical", 30)


def test_a_communication_loss_alarm_written_by_hand_replaces_the_default(
    make_project: MakeProject,
) -> None:
    alarms = (
        "alarms:\n"
        "  - {id: UA.Lost, kind: comm_loss, connection: ua, priority: critical, on_delay_s: 30,\n"
        "     cause: Server down, message: 'OPC UA server lost'}\n"
    )
    project = load_project(make_project({"project.yaml": PROJECT + alarms}))
    assert comm_loss(project) == {
        "UA.Lost": ("ua", "ua", "critical", 30),
        "plc.CommLoss": ("plc", "plc", "high", 10),
    }


def test_communication_loss_mistakes_are_named_at_file_line_column(
    make_project: MakeProject,
) -> None:
    line = first_alarm_line()
    found = problems(
        make_project,
        "alarms:\n"
        "  - {id: A, kind: comm_loss, connection: pcl}\n"
        "  - {id: B, kind: comm_loss, connection: ua}\n"
        "  - {id: C, kind: comm_loss, connection: ua}\n"
        "  - {id: plc.CommLoss, tag: Tank1.Level, kind: hi, limit: 5}\n",
    )
    assert (
        line, 42, "alarm 'A': unknown connection 'pcl'; did you mean 'plc'? (known: plc, ua)"
    ) in found  # fmt: skip
    assert any(
        f[:2] == (line + 2, 42)
        and "connection 'ua' has a comm_loss alarm already (alarm 1)" in f[2]
        for f in found
    )
    assert any(
        f[:2] == (5, 3)
        and "connection 'plc' gets the communication-loss alarm 'plc.CommLoss', "
        "but alarm 3 already has that id"
        in f[2]
        for f in found
    )
    assert len(found) == 3, found
    found = problems(
        make_project, "alarms:\n  - {id: D, kind: comm_loss, connection: ua, tag: X}\n"
    )
    assert found == [
        (line, 51, "a comm_loss alarm watches its connection, not a tag: leave 'tag' out")
    ]


def test_a_wrong_comm_loss_setting_is_named_where_it_is(make_project: MakeProject) -> None:
    settings = "settings:\n  alarms:\n    comm_loss: {enabled: maybe}\n"
    found = problems(make_project, settings)
    ((line, column, message),) = found
    assert (line, column) == (PROJECT.count("\n") + 3, 26)
    assert "enabled" in message


def test_an_unknown_alarm_kind_is_named_with_a_suggestion(make_project: MakeProject) -> None:
    found = problems(
        make_project, "alarms:\n  - {id: A, tag: Tank1.Level, kind: hihihi, limit: 5}\n"
    )
    ((line, column, message),) = found
    assert (line, column) == (first_alarm_line(), 37)
    assert "unknown alarm kind 'hihihi'; did you mean 'hihi'?" in message


def test_a_limit_alarm_without_a_limit(make_project: MakeProject) -> None:
    found = problems(make_project, "alarms:\n  - {id: A, tag: Tank1.Level, kind: hi}\n")
    ((line, column, message),) = found
    assert (line, column) == (first_alarm_line(), 5)
    assert "needs 'limit'" in message


def test_cross_checks_unknown_tag_duplicate_id_and_message_tags(make_project: MakeProject) -> None:
    found = problems(
        make_project,
        "alarms:\n"
        "  - {id: A, tag: Tank1.Levl, kind: lo, limit: 5}\n"
        "  - {id: A, tag: Tank1.Level, kind: lo, limit: 3, message: 'low {Nope.Tag}'}\n",
    )
    line = first_alarm_line()
    assert (line, 18, "alarm 'A': unknown tag 'Tank1.Levl'; did you mean 'Tank1.Level'?") in found
    assert any(f[:2] == (line + 1, 10) and "duplicate alarm id 'A'" in f[2] for f in found)
    assert any(f[0] == line + 1 and "unknown tag 'Nope.Tag'" in f[2] for f in found)
