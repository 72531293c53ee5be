"""``hmi check`` on hostile projects, as a process with a memory limit: exit 1 with
``file:line:column`` and no traceback, within 15 s and 1 GiB (issue 14's acceptance)."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.model.conftest import DEFAULTS
from tests.model.screens.test_loader_errors import HEAD, _apply
from tests.model.test_hostile_files import CASES

LIMIT_BYTES = 1 << 30
LIMIT_S = 15
HMI = str(Path(sys.executable).with_name("hmi"))


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


def _screen(widgets: str) -> dict[str, str]:
    return {"main.yaml": HEAD + widgets}


def _label(extra: str) -> str:
    return "  - {type: label, text: x, rect: [0, 0, 10, 10], " + extra + "}\n"


def _bomb() -> dict[str, str]:
    lines = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    return {"main.yaml": HEAD.replace("widgets:\n", "") + lines + "widgets: [*i]\n"}


def _templates() -> dict[str, str]:
    names = [f"t{i}" for i in range(8)]
    files = {
        "project.yaml": DEFAULTS["project.yaml"].replace(
            "  - pump.yaml\n", "".join(f"  - {n}.yaml\n" for n in ["pump", *names])
        ),
        "main.yaml": HEAD + "  - {type: instance, template: t0, rect: [0, 0, 100, 100]}\n",
    }
    for i, name in enumerate(names):
        inner = (
            f"  - {{type: instance, template: t{i + 1}, rect: [0, 0, 10, 10]}}\n"
            if i < 7
            else "  - {type: label, text: x, rect: [0, 0, 10, 10]}\n"
        )
        files[f"{name}.yaml"] = (
            f"template: {{id: {name}, size: [100, 100]}}\nwidgets:\n" + inner * 10
        )
    return files


def _fifo(folder: Path) -> None:
    os.mkfifo(folder / "pipe.yaml")


def _zero(folder: Path) -> None:
    (folder / "zero.yaml").symlink_to("/dev/zero")


HOSTILE: dict[str, tuple[dict[str, str], Callable[[Path], None] | None]] = {
    "billion laughs": (_bomb(), None),
    "recursive alias": ({"main.yaml": HEAD.replace("widgets:\n", "widgets: &w [*w]\n")}, None),
    "templates 10^8 widgets": (_templates(), None),
    "1 MB expression": (_screen(_label('visible: "' + "Tank1.Level + " * 75_000 + '1 > 0"')), None),
    "100k chained not": (_screen(_label('visible: "' + "not " * 100_000 + 'Pump1.Running"')), None),
    "text times 4e9": (_screen(_label("visible: \"'a' * 4000000000 == 'b'\"")), None),
    "format 999999999": (
        _screen(
            "  - {type: value, tag: Tank1.Level, format: '999999999.1f', rect: [0, 0, 9, 9]}\n"
        ),
        None,
    ),
    "rect nan": (_screen("  - {type: label, text: x, rect: [.nan, 0, 10, 10]}\n"), None),
    "NUL": (_screen('  - {type: label, text: "\x00", rect: [0, 0, 10, 10]}\n'), None),
    "FIFO": ({"project.yaml": DEFAULTS["project.yaml"].replace("detail.yaml", "pipe.yaml")}, _fifo),
    "/dev/zero": (
        {"project.yaml": DEFAULTS["project.yaml"].replace("detail.yaml", "zero.yaml")},
        _zero,
    ),
    "etc/passwd": (
        {
            "project.yaml": DEFAULTS["project.yaml"].replace(
                "detail.yaml", "../../../../../../etc/passwd"
            )
        },
        None,
    ),
    "ns=70000": (
        {"project.yaml": DEFAULTS["project.yaml"].replace("ns=2;s=Flow", "ns=70000;s=X")},
        None,
    ),
}


def _check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HMI, "check", str(folder)],
        capture_output=True,
        text=True,
        timeout=LIMIT_S,
        preexec_fn=_limited,
        check=False,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )


@pytest.mark.parametrize("name", list(HOSTILE))
def test_check_refuses_within_bounds(tmp_path: Path, name: str) -> None:
    files, prepare = HOSTILE[name]
    for file, text in {**DEFAULTS, **files}.items():
        (tmp_path / file).write_text(text, encoding="utf-8")
    if prepare is not None:
        prepare(tmp_path)
    done = _check(tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "Traceback" not in out and "MemoryError" not in out, out
    assert re.search(r"\.yaml:\d+:\d+: ", out), out
    assert "root:" not in out


@pytest.mark.parametrize("name", list(CASES))
def test_check_refuses_each_hostile_file_of_the_model_tests(tmp_path: Path, name: str) -> None:
    """Each case of tests/model/test_hostile_files.py through the CLI: exit 1 at the case's
    own file:line:column, no traceback, within the bounds."""
    case = CASES[name]
    for file, text in _apply(DEFAULTS, case.edits).items():
        (tmp_path / file).write_text(text, encoding="utf-8")
    done = _check(tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "Traceback" not in out and "MemoryError" not in out, out
    assert f"{tmp_path / case.file}:{case.line}:{case.column}: " in out, out
