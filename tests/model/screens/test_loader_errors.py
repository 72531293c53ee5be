"""Malformed projects: each case breaks one thing and expects exactly one problem, at an exact
file, line and column, with a message an engineer understands."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hmi.model.errors import ProjectError, ProjectProblem
from hmi.model.screens.loader import check_project, load_project

HEAD = """\
screen:
  id: main
  title: Main
  size: [800, 600]
widgets:
"""  # widgets written after this start on line 6


@dataclass(frozen=True)
class Case:
    """``edits``: file -> whole new text, or (old, new) replaced in the base file."""

    edits: dict[str, str | tuple[str, str]]
    file: str
    line: int
    column: int
    phrase: str


def widget(line: str) -> dict[str, str | tuple[str, str]]:
    """The main screen holding just this one widget line (on line 6)."""
    return {"main.yaml": HEAD + line + "\n"}


CASES = {
    "unknown widget type": Case(
        widget("  - {type: gauge, rect: [0, 0, 10, 10]}"),
        "main.yaml", 6, 12, "unknown widget type 'gauge'",
    ),
    "misspelt widget type": Case(
        widget("  - {type: lable, text: x, rect: [0, 0, 10, 10]}"),
        "main.yaml", 6, 12, "did you mean 'label'? (known types: label, value, bar,",
    ),
    "unknown tag with suggestion": Case(
        widget("  - {type: value, tag: Tank1.Levl, rect: [0, 0, 10, 10]}"),
        "main.yaml", 6, 24, "unknown tag 'Tank1.Levl'; did you mean 'Tank1.Level'?",
    ),
    "negative size": Case(
        widget("  - {type: label, text: x, rect: [0, 0, -10, 10]}"),
        "main.yaml", 6, 34, "bad geometry: rect [0, 0, -10, 10]: width and height must be",
    ),
    "outside the canvas": Case(
        widget("  - {type: label, text: x, rect: [750, 0, 100, 10]}"),
        "main.yaml", 6, 34, "bad geometry: rect [750, 0, 100, 10] does not fit in the screen (800 x 600)",
    ),
    "negative position": Case(
        widget("  - {type: label, text: x, rect: [-5, 0, 100, 10]}"),
        "main.yaml", 6, 34, "bad geometry: rect [-5, 0, 100, 10]",
    ),
    "outside a group": Case(
        {"main.yaml": HEAD + "  - type: group\n    rect: [0, 0, 100, 100]\n    widgets:\n"
         "      - {type: label, text: x, rect: [50, 50, 60, 10]}\n"},
        "main.yaml", 9, 38, "does not fit in the group (100 x 100)",
    ),
    "bad expression, column inside it": Case(
        widget("  - {type: label, text: x, rect: [0, 0, 9, 9], visible: 'Tank1.Level >> 5'}"),
        "main.yaml", 6, 70, "bad expression 'Tank1.Level >> 5': '>>' is not allowed",
    ),
    "expression syntax error in double quotes": Case(
        widget('  - {type: label, text: x, rect: [0, 0, 9, 9], visible: "Tank1.Level = 5"}'),
        "main.yaml", 6, 70, "unexpected '='; use == to compare",
    ),
    "unknown tag in a folded expression": Case(
        {"main.yaml": HEAD + "  - type: label\n    text: x\n    rect: [0, 0, 9, 9]\n"
         "    visible: >\n      Tank1.Level > 5 and\n      Pump1.Runing == 1\n"},
        "main.yaml", 11, 7, "unknown tag 'Pump1.Runing' in expression",
    ),
    "duplicate widget id": Case(
        {"main.yaml": HEAD + "  - {type: label, id: a, text: x, rect: [0, 0, 9, 9]}\n"
         "  - {type: label, id: a, text: y, rect: [0, 0, 9, 9]}\n"},
        "main.yaml", 7, 23, "duplicate widget id 'a'; already used at line 6, column 23",
    ),
    "duplicate key": Case(
        {"main.yaml": HEAD + "  - type: label\n    text: x\n    rect: [0, 0, 9, 9]\n    text: y\n"},
        "main.yaml", 9, 5, "duplicate key 'text'; it is already defined at line 7, column 5",
    ),
    "YAML syntax error": Case(
        {"main.yaml": HEAD + "  - type: label\n    text: x: y\n    rect: [0, 0, 9, 9]\n"},
        "main.yaml", 7, 12, "YAML syntax error: mapping values are not allowed",
    ),
    "missing required field": Case(
        widget("  - {type: value, rect: [0, 0, 10, 10]}"),
        "main.yaml", 6, 5, "value widget needs 'tag'",
    ),
    "missing header field": Case(
        {"main.yaml": "screen:\n  id: main\nwidgets: []\n"},
        "main.yaml", 1, 1, "'screen:' header needs 'title'",
    ),
    "unknown field": Case(
        widget("  - {type: value, tag: Tank1.Level, colour: red, rect: [0, 0, 9, 9]}"),
        "main.yaml", 6, 37, "unknown field 'colour' in a value widget (allowed: id, rect,",
    ),
    "bad address": Case(
        {"project.yaml": ("modbus://plc/1/holding/0", "modbus://plc/1/holdin/0")},
        "project.yaml", 21, 14, "table 'holdin' is not one of coil, discrete, input, holding",
    ),
    "misspelt tag field": Case(
        {"project.yaml": ('    units: "%"', '    unit: "%"')},
        "project.yaml", 10, 5, "unknown field 'unit' in tag 'Tank1.Level'; did you mean 'units'?",
    ),
    "OPC UA endpoint without opc.tcp://": Case(
        {"project.yaml": ("opc.tcp://localhost:4840", "http://localhost")},
        "project.yaml", 6, 33, "'endpoint' must start with opc.tcp://, got 'http://localhost'",
    ),
    "unknown connection": Case(
        {"project.yaml": ("modbus://plc/1/", "modbus://plc2/1/")},
        "project.yaml", 21, 14, "connection 'plc2' is not defined in 'connections:'; did you mean 'plc'?",
    ),
    "connection of another driver": Case(
        {"project.yaml": ("opcua://ua/", "opcua://plc/")},
        "project.yaml", 24, 14, "connection 'plc' is a modbus connection, but the address is opcua",
    ),
    "unknown connection driver": Case(
        {"project.yaml": ("driver: modbus", "driver: modbuss")},
        "project.yaml", 5, 17, "unknown connection driver 'modbuss'; did you mean 'modbus'?",
    ),
    "unknown screen in navigate": Case(
        {"detail.yaml": ("screen: main}", "screen: mian}")},
        "detail.yaml", 10, 38, "unknown screen 'mian' in a navigate action; did you mean 'main'?",
    ),
    "unknown parent screen": Case(
        {"detail.yaml": ("parent: main", "parent: man")},
        "detail.yaml", 4, 11, "parent screen 'man' is not a screen of this project",
    ),
    "unknown template": Case(
        {"main.yaml": ("template: pump", "template: pmp")},
        "main.yaml", 13, 15, "unknown template 'pmp' in an instance; did you mean 'pump'?",
    ),
    "missing template param": Case(
        {"main.yaml": ("params: {unit: Pump1}", "params: {}")},
        "main.yaml", 14, 5, "instance of template 'pump' misses param 'unit'",
    ),
    "unknown template param": Case(
        {"main.yaml": ("params: {unit: Pump1}", "params: {unit: Pump1, units: x}")},
        "main.yaml", 14, 27, "template 'pump' has no param 'units'; did you mean 'unit'?",
    ),
    "template param that is not text": Case(
        {"main.yaml": ("params: {unit: Pump1}", "params: {unit: 101}")},
        "main.yaml", 14, 20, "'unit' must be text, got 101; put it in quotes",
    ),
    "undeclared placeholder in a template": Case(
        {"pump.yaml": ('tag: "${unit}.Running"', 'tag: "${unt}.Running"')},
        "pump.yaml", 7, 40, "${unt} is not a param of this template; did you mean 'unit'?",
    ),
    "write action on a read-only tag": Case(
        {"main.yaml": ("tag: Pump1.Start, value: 1", "tag: Pump1.Running, value: 1")},
        "main.yaml", 11, 30, "a set action writes tag 'Pump1.Running', which is read-only",
    ),
    "set value beyond the write limit": Case(
        {"main.yaml": ("tag: Pump1.Start, value: 1", "tag: Flow.Setpoint, value: 150")},
        "main.yaml", 11, 52, "150.0 is above the write limit 100.0",
    ),
    "setpoint on a read-only tag": Case(
        widget("  - {type: setpoint, tag: Tank1.Level, rect: [0, 0, 9, 9]}"),
        "main.yaml", 6, 27, "a setpoint widget writes tag 'Tank1.Level', which is read-only",
    ),
    "bad format spec": Case(
        widget("  - {type: value, tag: Tank1.Level, format: '.1q', rect: [0, 0, 9, 9]}"),
        "main.yaml", 6, 45, "bad format spec '.1q' for float tag 'Tank1.Level'",
    ),
    "bad format spec on a tag": Case(
        {"project.yaml": ('format: ".1f"', 'format: ".1q"')},
        "project.yaml", 12, 13, "format '.1q' is not a Python format spec",
    ),
    "missing screen file": Case(
        {"project.yaml": ("- detail.yaml", "- details.yaml")},
        "project.yaml", 27, 5, "screen file 'details.yaml' does not exist",
    ),
    "bad range": Case(
        {"project.yaml": ("range: [0, 100]", "range: [100, 0]")},
        "project.yaml", 11, 12, "range low 100 must be below high 0",
    ),
    "bad bar range": Case(
        widget("  - {type: bar, tag: Tank1.Level, range: [5, 5], rect: [0, 0, 9, 9]}"),
        "main.yaml", 6, 42, "range low 5 must be below high 5",
    ),
    "bad limits order": Case(
        {"project.yaml": ('format: ".1f"', 'format: ".1f"\n    limits: {lo: 20, hi: 10}')},
        "project.yaml", 13, 14, "limit lo=20.0 is above hi=10.0",
    ),
    "write min above max": Case(
        {"project.yaml": ("write: {min: 0, max: 100}", "write: {max: 0, min: 100}")},
        "project.yaml", 22, 21, "write min 100.0 is above write max 0.0",
    ),
    "wrong type: text where a number is expected": Case(
        widget("  - {type: trend, tags: [Tank1.Level], span_s: ten, rect: [0, 0, 9, 9]}"),
        "main.yaml", 6, 48, "'span_s' must be a number, got 'ten'",
    ),
    "wrong type: list where a scalar is expected": Case(
        {"main.yaml": ("value: 1}", "value: [1]}")},
        "main.yaml", 11, 50, "'value' must be a number, text or true/false, got [1]",
    ),
    "rect too short": Case(
        widget("  - {type: label, text: x, rect: [0, 0, 10]}"),
        "main.yaml", 6, 34, "'rect' needs 4 values ([x, y, width, height]",
    ),
    "unknown symbol": Case(
        widget("  - {type: symbol, symbol: tnak, rect: [0, 0, 9, 9]}"),
        "main.yaml", 6, 28, "unknown symbol 'tnak': not a built-in (tank, pump,",
    ),
    "missing image": Case(
        widget("  - {type: image, source: logo.png, rect: [0, 0, 9, 9]}"),
        "main.yaml", 6, 27, "image file 'logo.png' does not exist",
    ),
    "start_screen unknown": Case(
        {"project.yaml": ("start_screen: main", "start_screen: mains")},
        "project.yaml", 3, 17, "start_screen 'mains' is not a screen of this project; did you mean",
    ),
    "duplicate screen id": Case(
        {"detail.yaml": ("id: detail", "id: main")},
        "detail.yaml", 2, 7, "duplicate screen id 'main'; main.yaml already uses it",
    ),
    "bad screen id": Case(
        {"detail.yaml": ("id: detail", "id: 2nd")},
        "detail.yaml", 2, 7, "id '2nd' must start with a letter",
    ),
    "widget without type": Case(
        widget("  - {text: x, rect: [0, 0, 9, 9]}"),
        "main.yaml", 6, 5, "this widget needs 'type': one of label, value,",
    ),
    "unknown action kind": Case(
        {"main.yaml": ("kind: set", "kind: sett")},
        "main.yaml", 11, 20, "unknown action kind 'sett'; did you mean 'set'?",
    ),
    "state key that is not a number": Case(
        {"project.yaml": ("datatype: bool\n  Pump1.Start", "datatype: bool\n    states: {a: x}\n  Pump1.Start")},
        "project.yaml", 16, 14, "key 'a' in 'states' must be a whole number",
    ),
    "tag in a template instance": Case(
        {"main.yaml": ("params: {unit: Pump1}", "params: {unit: Pump1}\n    id: p1"),
         "pump.yaml": ("${unit}.Start", "${unit}.Stop")},
        "main.yaml", 14, 5, "template 'pump' (pump.yaml) with unit='Pump1': unknown tag 'Pump1.Stop'",
    ),
    "empty screen file": Case(
        {"main.yaml": ""}, "main.yaml", 1, 1, "the file is empty",
    ),
    "not a mapping": Case(
        {"main.yaml": "- a\n- b\n"}, "main.yaml", 1, 1, "expected a mapping of 'name: value' lines",
    ),
}  # fmt: skip


def _apply(base: dict[str, str], edits: dict[str, str | tuple[str, str]]) -> dict[str, str]:
    files = dict(base)
    for name, edit in edits.items():
        if isinstance(edit, tuple):
            assert edit[0] in files[name], f"{edit[0]!r} is not in {name}"
            files[name] = files[name].replace(edit[0], edit[1], 1)
        else:
            files[name] = edit
    return files


def only(problems: list[ProjectProblem]) -> ProjectProblem:
    assert len(problems) == 1, "\n".join(str(p) for p in problems)
    return problems[0]


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_one_problem_at_its_place(make_project, base_files, case: Case) -> None:
    folder = make_project(_apply(base_files, case.edits))
    problem = only(check_project(folder))
    where = problem.location
    assert (where.file.name, where.line, where.column) == (case.file, case.line, case.column), str(
        problem
    )
    assert case.phrase in problem.message, str(problem)
    assert where.file == folder / case.file


def test_load_project_raises_every_problem_sorted(make_project, base_files) -> None:
    files = _apply(base_files, {"project.yaml": ("start_screen: main", "start_screen: mains")})
    files = _apply(files, {"main.yaml": ("tag: Tank1.Level", "tag: Tank1.Lvl")})
    files = _apply(files, {"detail.yaml": ("screen: main}", "screen: nowhere}")})
    with pytest.raises(ProjectError) as caught:
        load_project(make_project(files))
    names = [(p.location.file.name, p.location.line) for p in caught.value.problems]
    assert names == [("detail.yaml", 10), ("main.yaml", 7), ("project.yaml", 3)]
    assert "main.yaml:7:35: unknown tag 'Tank1.Lvl'" in str(caught.value)


def test_a_broken_tag_is_not_reported_again_where_it_is_used(make_project, base_files) -> None:
    files = _apply(base_files, {"project.yaml": ("sim://sine?period=60", "sim://sine?period=0")})
    problem = only(check_project(make_project(files)))
    assert "period must be greater than 0" in problem.message


def test_a_screen_that_cannot_be_parsed_does_not_make_its_id_unknown(
    make_project, base_files
) -> None:
    """detail.yaml navigates to main; main.yaml is broken, so its id cannot be known."""
    folder = make_project({"main.yaml": "screen: [\n"})
    problem = only(check_project(folder))
    assert problem.location.file.name == "main.yaml"
    assert "YAML syntax error" in problem.message


def test_a_template_with_problems_is_not_checked_again_at_each_instance(
    make_project, base_files
) -> None:
    files = _apply(base_files, {"pump.yaml": ("${unit}.Start", "Nowhere.Start")})
    problem = only(check_project(make_project(files)))
    assert (problem.location.file.name, problem.location.line) == ("pump.yaml", 12)


def test_template_placed_in_itself(make_project, base_files) -> None:
    nested = "  - {type: instance, template: pump, params: {unit: x}, rect: [0, 0, 9, 9]}\n"
    problems = check_project(make_project({"pump.yaml": base_files["pump.yaml"] + nested}))
    assert any("template placed in itself: pump -> pump" in p.message for p in problems), problems


def test_faceplate_action_params_are_checked(make_project) -> None:
    button = (
        "  - {type: button, text: P, rect: [0, 0, 9, 9],"
        " action: {kind: faceplate, template: pump, params: {unt: Pump1}}}"
    )
    problems = check_project(make_project({"main.yaml": HEAD + button + "\n"}))
    messages = sorted(p.message for p in problems)
    assert len(messages) == 2, messages
    assert "faceplate action of template 'pump' misses param 'unit'" in messages[0]
    assert "template 'pump' has no param 'unt'; did you mean 'unit'?" in messages[1]


def test_no_project_yaml(tmp_path) -> None:
    problem = only(check_project(tmp_path))
    assert (problem.location.file.name, problem.location.line) == ("project.yaml", 1)
    assert "no project.yaml" in problem.message


def test_file_listed_twice(make_project, base_files) -> None:
    files = _apply(
        base_files, {"project.yaml": ("  - detail.yaml\n", "  - detail.yaml\n  - main.yaml\n")}
    )
    problem = only(check_project(make_project(files)))
    assert (problem.location.line, problem.location.column) == (28, 5)
    assert "'main.yaml' is listed twice" in problem.message
