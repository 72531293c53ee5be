"""Check, from this Linux machine, the part of a Windows build that can be checked here: that
every package the station and its PyInstaller build need exists at its pinned version
(``constraints.txt``) as a wheel for 64-bit Windows and CPython 3.11, so that ``pip install``
on Windows builds nothing from source.

    python packaging/windows_wheels.py [--dest build/windows-wheels]

It runs ``pip download --only-binary=:all: --platform win_amd64 --python-version 3.11`` on the
project's runtime dependencies (``pyproject.toml``) and PyInstaller, under the constraints
file; pip's dependency resolver adds what those need. Exit 0 when every one resolved to a
wheel, pip's exit code otherwise (it names the package with no such wheel). pip evaluates
environment markers for the machine it runs on, not for ``--platform``, so a dependency only
Windows needs (PyInstaller's ``pefile`` and ``pywin32-ctypes``: ``sys_platform == "win32"``) is
not fetched by that first call: the script reads every fetched wheel's ``Requires-Dist`` with a
Windows environment and fetches those too, until nothing is missing. It needs the
package index (PyPI, or the mirror pip is configured for), so it is not part of ``make test``;
it is a tool for whoever changes a pin. What it cannot check (PyInstaller on Windows, Qt's
Windows platform plugin, the smoke test) is in packaging/README.md.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PLATFORM = "win_amd64"
PYTHON = "3.11"
WINDOWS = {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
           "platform_machine": "AMD64", "python_version": PYTHON, "python_full_version": "3.11.9",
           "implementation_name": "cpython", "platform_python_implementation": "CPython",
           "extra": ""}  # fmt: skip


def requirements() -> list[str]:
    """The runtime dependencies of the project, and PyInstaller from its dev set."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime: list[str] = list(project["dependencies"])
    builder = [r for r in project["optional-dependencies"]["dev"] if _name(r) == "pyinstaller"]
    return runtime + builder


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    return match.group(0).lower() if match else requirement


def windows_only(wheels: list[Path], fetched: set[str]) -> list[str]:
    """Requirements of ``wheels`` whose markers hold on Windows but not here, not yet fetched."""
    wanted: list[str] = []
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            lines = archive.read(meta).decode("utf-8").splitlines()
        for line in lines:
            if not line.startswith("Requires-Dist:"):
                continue
            requirement = Requirement(line.split(":", 1)[1].strip())
            marker = requirement.marker
            if marker is None or not marker.evaluate(WINDOWS) or marker.evaluate():
                continue
            requirement.marker = None  # pip would evaluate it here, and skip the requirement
            if _canonical(requirement.name) not in fetched and str(requirement) not in wanted:
                wanted.append(str(requirement))
    return wanted


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _fetched(dest: Path) -> tuple[list[Path], set[str]]:
    wheels = sorted(dest.glob("*.whl"))
    return wheels, {_canonical(path.name.split("-")[0]) for path in wheels}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=ROOT / "build" / "windows-wheels")
    args = parser.parse_args(argv)
    base = [
        sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
        "--platform", PLATFORM, "--python-version", PYTHON, "--implementation", "cp",
        "--constraint", str(ROOT / "constraints.txt"), "--dest", str(args.dest),
    ]  # fmt: skip
    wanted = requirements()
    for _round in range(10):
        done = subprocess.run([*base, *wanted], check=False)
        if done.returncode != 0:
            print(f"windows_wheels: no {PLATFORM} wheel for CPython {PYTHON} of one of "
                  f"{', '.join(wanted)} at its pinned version (pip says which, above)",
                  file=sys.stderr)  # fmt: skip
            return done.returncode
        wanted = windows_only(*_fetched(args.dest))
        if not wanted:
            break
        print(f"windows_wheels: needed on Windows only: {', '.join(wanted)}")
    else:
        print("windows_wheels: still missing after 10 rounds", file=sys.stderr)
        return 1
    wheels = [path.name for path in _fetched(args.dest)[0]]
    for name in wheels:
        print(name)
    print(f"windows_wheels: {len(wheels)} wheels for {PLATFORM}, CPython {PYTHON}, in {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
