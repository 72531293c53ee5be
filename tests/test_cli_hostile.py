"""``hmi check`` on hostile projects, as a process with a memory limit: exit 1 with
``file:line:column`` and no traceback, within 15 s and 1 GiB (issue 14's acceptance)."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


# Every case in one interpreter under the memory limit: the checks are the point, and 38
# interpreters (2 s of imports each) cost more than a minute of the suite. Each case's output is
# captured apart (logging's handler re-made on each case's stream), its return code is main()'s,
# and its time is measured; one case is also run as its own `hmi check` process below.
_BATCH = """
import contextlib, io, json, logging, sys, time, traceback
from hmi.cli import main
out = {}
for folder in sys.argv[1:]:
    buf = io.StringIO()
    logging.root.handlers.clear()
    began = time.monotonic()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            code = main(["check", folder])
        except SystemExit as stop:
            code = stop.code
        except BaseException:
            traceback.print_exc(file=buf)
            code = None
    out[folder] = {"code": code, "out": buf.getvalue(), "s": time.monotonic() - began}
sys.__stdout__.write(json.dumps(out))
"""


def _limited_run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_limited,
        check=False,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )


def _write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir()
    for file, text in {**DEFAULTS, **files}.items():
        (folder / file).write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, Any]]]:
    root = tmp_path_factory.mktemp("hostile")
    folders: dict[str, Path] = {}
    for n, (name, (files, prepare)) in enumerate(HOSTILE.items()):
        folders[f"hostile:{name}"] = folder = root / f"h{n}"
        _write(folder, files)
        if prepare is not None:
            prepare(folder)
    for n, (name, case) in enumerate(CASES.items()):
        folders[f"case:{name}"] = folder = root / f"c{n}"
        folder.mkdir()
        for file, text in _apply(DEFAULTS, case.edits).items():
            (folder / file).write_text(text, encoding="utf-8")
    done = _limited_run([sys.executable, "-c", _BATCH, *map(str, folders.values())], LIMIT_S * 6)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    results = json.loads(done.stdout)
    return {key: (folder, results[str(folder)]) for key, folder in folders.items()}


def _refused(result: dict[str, Any]) -> str:
    out = str(result["out"])
    assert result["code"] == 1, out
    assert "Traceback" not in out and "MemoryError" not in out, out
    assert result["s"] < LIMIT_S, result["s"]
    return out


@pytest.mark.parametrize("name", list(HOSTILE))
def test_check_refuses_within_bounds(outcomes: dict[str, Any], name: str) -> None:
    out = _refused(outcomes[f"hostile:{name}"][1])
    assert re.search(r"\.yaml:\d+:\d+: ", out), out
    assert "root:" not in out


@pytest.mark.parametrize("name", list(CASES))
def test_check_refuses_each_hostile_file_of_the_model_tests(
    outcomes: dict[str, Any], name: str
) -> None:
    """Each case of tests/model/test_hostile_files.py through the CLI: exit 1 at the case's
    own file:line:column, no traceback, within the bounds."""
    case = CASES[name]
    folder, result = outcomes[f"case:{name}"]
    out = _refused(result)
    assert f"{folder / case.file}:{case.line}:{case.column}: " in out, out


def test_check_as_its_own_process_exits_1_on_a_billion_laughs(tmp_path: Path) -> None:
    """The real `hmi` program, its own process and exit code, on the worst case of the set."""
    _write(tmp_path / "p", HOSTILE["billion laughs"][0])
    done = _limited_run([HMI, "check", str(tmp_path / "p")], LIMIT_S)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "Traceback" not in out and "MemoryError" not in out, out
    assert re.search(r"\.yaml:\d+:\d+: ", out), out
