"""The project's alarms: section is validated with the rest of project.yaml, at file:line:col."""

from __future__ import annotations

from hmi.model.loader import check_project, load_project

from .conftest import PROJECT, MakeProject

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
    assert [a.id for a in project.alarms] == ["L.Hi", "P.Trip"]


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
