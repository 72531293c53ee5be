"""Hostile project and screen files (issue 14, items 1-5): NaN and infinity, alias bombs and
template cycles, expressions and format specs that would allocate gigabytes, files that are
not files or lie outside the project, and addresses past their protocol's range. Each one is
exactly one problem, at its file, line and column, that says what is wrong."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from hmi.model.screens.loader import check_project
from hmi.model.screens.schema import MAX_WIDGETS
from tests.model.screens.test_loader_errors import HEAD, _apply, only, widget


@dataclass(frozen=True)
class Case:
    edits: dict[str, str | tuple[str, str]]
    file: str
    line: int
    column: int
    phrase: str


def tag_address(address: str) -> dict[str, str | tuple[str, str]]:
    """project.yaml with Flow.Value (line 24) at this address."""
    return {"project.yaml": ("address: opcua://ua/ns=2;s=Flow", f'address: "{address}"')}


def alarm(line: str) -> dict[str, str | tuple[str, str]]:
    """project.yaml with one alarm, on line 31."""
    return {
        "project.yaml": (
            "templates:\n  - pump.yaml\n",
            f"templates:\n  - pump.yaml\nalarms:\n{line}\n",
        )
    }


FINITE = "Input should be a finite number"

CASES = {
    # 1. NaN and infinity
    "rect nan": Case(
        widget("  - {type: label, text: x, rect: [.nan, 0, 10, 10]}"), "main.yaml", 6, 35, FINITE
    ),
    "write min nan": Case(
        {"project.yaml": ("write: {min: 0, max: 100}", "write: {min: .nan, max: 100}")},
        "project.yaml",
        22,
        18,
        FINITE,
    ),
    "alarm limit nan": Case(
        alarm("  - {kind: hi, id: T.Hi, tag: Tank1.Level, limit: .nan}"),
        "project.yaml",
        31,
        51,
        FINITE,
    ),
    "limits lo nan": Case(
        {"project.yaml": ('format: ".1f"', 'format: ".1f"\n    limits: {lo: .nan}')},
        "project.yaml",
        13,
        18,
        FINITE,
    ),
    "presets_s nan": Case(
        widget("  - {type: trend, tags: [Tank1.Level], presets_s: [.nan], rect: [0, 0, 10, 10]}"),
        "main.yaml",
        6,
        52,
        FINITE,
    ),
    "sim interval nan": Case(
        {"project.yaml": ("address: sim://sine?period=60", "address: sim://counter?interval=nan")},
        "project.yaml",
        9,
        14,
        "interval='nan' must be a finite number",
    ),
    "font_size inf": Case(
        widget("  - {type: label, text: x, font_size: .inf, rect: [0, 0, 10, 10]}"),
        "main.yaml",
        6,
        39,
        FINITE,
    ),
    "font_size huge": Case(
        widget("  - {type: label, text: x, font_size: 1e300, rect: [0, 0, 10, 10]}"),
        "main.yaml",
        6,
        39,
        "1000",
    ),
    "span_s inf": Case(
        widget("  - {type: trend, tags: [Tank1.Level], span_s: .inf, rect: [0, 0, 10, 10]}"),
        "main.yaml",
        6,
        48,
        FINITE,
    ),
    "span_s huge": Case(
        widget("  - {type: trend, tags: [Tank1.Level], span_s: 1e300, rect: [0, 0, 10, 10]}"),
        "main.yaml",
        6,
        48,
        "86400",
    ),
    "design size huge": Case(
        {"main.yaml": ("size: [800, 600]", "size: [100000000, 600]")}, "main.yaml", 4, 9, "16384"
    ),
    # 2. Expansion and recursion
    "recursive alias": Case(
        {"main.yaml": HEAD.replace("widgets:\n", "widgets: &w [*w]\n")},
        "main.yaml",
        5,
        10,
        "recursive alias",
    ),
    "alias bomb": Case(
        {
            "main.yaml": HEAD.replace("widgets:\n", "")
            + "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n"
                for p, n in zip("abcdefgh", "bcdefghi", strict=True)
            )
            + "widgets: []\n"
        },
        "main.yaml",
        9,
        4,
        "more than 100,000 values",
    ),
    "template cycle": Case(
        {
            "project.yaml": ("  - pump.yaml\n", "  - pump.yaml\n  - motor.yaml\n"),
            "pump.yaml": (
                "widgets:\n",
                "widgets:\n  - {type: instance, template: motor, rect: [0, 0, 10, 10]}\n",
            ),
            "motor.yaml": "template: {id: motor, size: [10, 10]}\n"
            "widgets:\n  - {type: instance, template: pump, params: {unit: P}, rect: [0, 0, 10, 10]}\n",
        },
        "pump.yaml",
        7,
        32,
        "template placed in itself: pump -> motor -> pump",
    ),
    # 3. Expressions and format specs
    "text times 4e9": Case(
        widget(
            """  - {type: label, text: x, visible: "'a' * 4000000000 == 'a'", rect: [0, 0, 10, 10]}"""
        ),
        "main.yaml",
        6,
        42,
        "more than 10,000 characters",
    ),
    "text formatting": Case(
        widget(
            """  - {type: label, text: x, visible: "'%999999999s' % Tank1.Level", rect: [0, 0, 10, 10]}"""
        ),
        "main.yaml",
        6,
        52,
        "'%' on text is not allowed",
    ),
    "deep not": Case(
        widget(
            f"""  - {{type: label, text: x, visible: "{"not " * 2000}Pump1.Running", rect: [0, 0, 10, 10]}}"""
        ),
        "main.yaml",
        6,
        438,
        "nested more than 100 levels",
    ),
    "number of 5000 digits": Case(
        widget(
            f"""  - {{type: label, text: x, visible: "Tank1.Level > {"9" * 5000}", rect: [0, 0, 10, 10]}}"""
        ),
        "main.yaml",
        6,
        38,
        "more than 4300 digits",
    ),
    "huge format": Case(
        widget("  - {type: value, tag: Tank1.Level, format: '999999999.1f', rect: [0, 0, 10, 10]}"),
        "main.yaml",
        6,
        45,
        "width 999999999 is more than 100",
    ),
    "huge tag format": Case(
        {"project.yaml": ('format: ".1f"', 'format: ".999999999f"')},
        "project.yaml",
        12,
        13,
        "precision",
    ),
    "huge alarm message format": Case(
        alarm(
            "  - {kind: hi, id: T.Hi, tag: Tank1.Level, limit: 90, message: '{value:999999999}'}"
        ),
        "project.yaml",
        31,
        64,
        "width 999999999",
    ),
    # 4. Files
    "NUL in a screen file": Case(
        {"main.yaml": HEAD + '  - {type: label, text: "a\x00", rect: [0, 0, 10, 10]}\n'},
        "main.yaml",
        6,
        27,
        "U+0000",
    ),
    "bell in a screen file": Case(
        {"main.yaml": HEAD.replace("Main", "Ma\x07in")}, "main.yaml", 3, 12, "U+0007"
    ),
    "NUL in a listed name": Case(
        {"project.yaml": ("  - detail.yaml", '  - "det\\0ail.yaml"')}, "project.yaml", 27, 5, "NUL"
    ),
    "parent folders": Case(
        {"project.yaml": ("  - detail.yaml", "  - ../../../../../../etc/passwd")},
        "project.yaml",
        27,
        5,
        "outside the project folder",
    ),
    "absolute path": Case(
        {"project.yaml": ("  - detail.yaml", "  - /etc/passwd")},
        "project.yaml",
        27,
        5,
        "absolute path",
    ),
    "device": Case(
        {"project.yaml": ("  - detail.yaml", "  - /dev/zero")},
        "project.yaml",
        27,
        5,
        "absolute path",
    ),
    # 5. Addresses
    "ns past UInt16": Case(
        tag_address("opcua://ua/ns=70000;s=X"), "project.yaml", 24, 14, "from 0 to 65535"
    ),
    "i past UInt32": Case(
        tag_address("opcua://ua/i=4294967296"), "project.yaml", 24, 14, "from 0 to 4294967295"
    ),
    "superscript ns": Case(
        tag_address("opcua://ua/ns=²;s=X"), "project.yaml", 24, 14, "namespace index"
    ),
    "bad base64": Case(
        tag_address("opcua://ua/ns=2;b=!!!notbase64"), "project.yaml", 24, 14, "is not base64"
    ),
    "bad guid": Case(
        tag_address("opcua://ua/ns=2;g=nope"), "project.yaml", 24, 14, "is not a GUID"
    ),
    "superscript length": Case(
        tag_address("modbus://plc/1/holding/0?type=string&length=²"),
        "project.yaml",
        24,
        14,
        "needs length=",
    ),
    "superscript unit": Case(
        tag_address("modbus://plc/⁵/holding/0"), "project.yaml", 24, 14, "unit id"
    ),
    "Arabic-Indic offset": Case(
        tag_address("modbus://plc/1/holding/١٠"), "project.yaml", 24, 14, "offset"
    ),
    "Arabic-Indic scale": Case(
        tag_address("modbus://plc/1/holding/0?scale=٣"), "project.yaml", 24, 14, "is not a number"
    ),
    "float64 past the end": Case(
        tag_address("modbus://plc/1/holding/65535?type=float64"),
        "project.yaml",
        24,
        14,
        "runs past the end",
    ),
    "string too long": Case(
        tag_address("modbus://plc/1/holding/0?type=string&length=99999999"),
        "project.yaml",
        24,
        14,
        "spans 50000000 registers and runs past the end",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_one_problem_at_its_place(make_project, base_files, case: Case) -> None:
    folder = make_project(_apply(base_files, case.edits))
    problem = only(check_project(folder))
    where = problem.location
    assert (where.file.name, where.line, where.column) == (case.file, case.line, case.column), str(
        problem
    )
    assert case.phrase in problem.message, str(problem)
    assert "root:" not in problem.message


def _listed(make_project, base_files, name: str) -> Path:
    files = _apply(base_files, {"project.yaml": ("  - detail.yaml", f"  - {name}")})
    return make_project(files)


def test_a_fifo_is_named_and_never_read(make_project, base_files) -> None:
    folder = _listed(make_project, base_files, "pipe.yaml")
    os.mkfifo(folder / "pipe.yaml")  # reading it would wait for a writer for ever
    problem = only(check_project(folder))
    assert (problem.location.file.name, problem.location.line) == ("pipe.yaml", 1)
    assert "not a regular file" in problem.message


def test_a_directory_is_named(make_project, base_files) -> None:
    folder = _listed(make_project, base_files, "screens.d")
    (folder / "screens.d").mkdir()
    assert "is a directory" in only(check_project(folder)).message


def test_a_symlink_to_itself(make_project, base_files) -> None:
    folder = _listed(make_project, base_files, "loop.yaml")
    (folder / "loop.yaml").symlink_to("loop.yaml")
    problem = only(check_project(folder))
    assert "symbolic links" in problem.message, str(problem)


@pytest.mark.parametrize("target", ["/etc/passwd", "/dev/zero"])
def test_a_symlink_out_of_the_project_is_refused(make_project, base_files, target) -> None:
    folder = _listed(make_project, base_files, "outside.yaml")
    (folder / "outside.yaml").symlink_to(target)
    problem = only(check_project(folder))
    assert (problem.location.file.name, problem.location.line) == ("project.yaml", 27)
    assert "outside the project folder" in problem.message
    assert "root:" not in problem.message


def test_a_symlink_inside_the_project_is_followed(make_project, base_files) -> None:
    folder = _listed(make_project, base_files, "link.yaml")
    (folder / "link.yaml").symlink_to(folder / "detail.yaml")
    assert check_project(folder) == []


def test_widgets_placed_beyond_the_bound(make_project, base_files) -> None:
    """Eight templates each placing the next ten times: 10^8 widgets, refused at the first
    screen or template that crosses the bound instead of being expanded."""
    names = [f"t{i}" for i in range(8)]
    files = _apply(
        base_files,
        {"project.yaml": ("  - pump.yaml\n", "".join(f"  - {n}.yaml\n" for n in ["pump", *names]))},
    )
    for i, name in enumerate(names):
        inner = (
            f"  - {{type: instance, template: t{i + 1}, rect: [0, 0, 10, 10]}}\n"
            if i < 7
            else "  - {type: label, text: x, rect: [0, 0, 10, 10]}\n"
        )
        files[f"{name}.yaml"] = (
            f"template: {{id: {name}, size: [100, 100]}}\nwidgets:\n" + inner * 10
        )
    files["main.yaml"] = HEAD + "  - {type: instance, template: t0, rect: [0, 0, 100, 100]}\n"
    problems = check_project(make_project(files))
    places = {(p.location.file.name, p.location.line, p.location.column) for p in problems}
    assert ("main.yaml", 6, 32) in places, "\n".join(map(str, problems))
    assert {"t0.yaml", "t1.yaml", "t2.yaml", "t3.yaml"} <= {p[0] for p in places}
    assert "t4.yaml" not in {p[0] for p in places}  # 10^4 + ... widgets: within the bound
    assert all(f"more than {MAX_WIDGETS:,} widgets" in p.message for p in problems)


def test_a_screen_at_the_bound_is_accepted(make_project, base_files) -> None:
    line = "  - {type: label, text: x, rect: [0, 0, 10, 10]}\n"
    files = _apply(base_files, {})
    files["main.yaml"] = (
        HEAD
        + line * (MAX_WIDGETS - 1)
        + "  - {type: label, id: last, text: y, rect: [0, 0, 1, 1]}\n"
    )
    assert check_project(make_project(files)) == []
    files["main.yaml"] += line
    problem = only(check_project(make_project(files)))
    assert (problem.location.line, problem.location.column) == (6 + MAX_WIDGETS, 6)


def test_a_state_value_nan_is_refused(make_project, base_files) -> None:
    line = (
        "  - {type: indicator, tag: Pump1.Running, states: [{value: .nan}], rect: [0, 0, 10, 10]}"
    )
    problems = check_project(make_project(_apply(base_files, widget(line))))
    located = {(p.location.line, p.location.column, p.message) for p in problems}
    assert (6, 60, f"'value': {FINITE}") in located, "\n".join(map(str, problems))
