"""packaging/windows_wheels.py: which requirements of fetched wheels only Windows needs (the part
that runs offline; fetching itself needs the package index and is not a test)."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "windows_wheels", ROOT / "packaging" / "windows_wheels.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _wheel(folder: Path, name: str, requires: list[str]) -> Path:
    path = folder / f"{name}-1.0-py3-none-win_amd64.whl"
    lines = ["Metadata-Version: 2.1", f"Name: {name}", "Version: 1.0"]
    lines += [f"Requires-Dist: {each}" for each in requires]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}-1.0.dist-info/METADATA", "\n".join(lines) + "\n")
    return path


def test_windows_only_requirements_are_found_without_their_marker(tmp_path: Path) -> None:
    ww = _module()
    wheel = _wheel(tmp_path, "pyinstaller", [
        "altgraph",  # everywhere: pip fetched it already
        'pefile>=2022.5.30; sys_platform == "win32"',
        'pywin32-ctypes>=0.2.1; sys_platform == "win32"',
        'macholib>=1.8; sys_platform == "darwin"',  # not Windows
        'pytest; extra == "hook_testing"',  # an extra nobody asked for
        'tzdata; os_name == "nt"',
    ])  # fmt: skip
    fetched = {"pyinstaller", "altgraph", "tzdata"}
    assert ww.windows_only([wheel], fetched) == ["pefile>=2022.5.30", "pywin32-ctypes>=0.2.1"]


def test_fetched_names_are_canonical(tmp_path: Path) -> None:
    ww = _module()
    _wheel(tmp_path, "pywin32_ctypes", [])
    _wheel(tmp_path, "PySide6_Essentials", [])
    wheels, names = ww._fetched(tmp_path)
    assert len(wheels) == 2
    assert names == {"pywin32-ctypes", "pyside6-essentials"}
    wheel = _wheel(tmp_path, "x", ['pywin32-ctypes; sys_platform == "win32"'])
    assert ww.windows_only([wheel], names) == []


def test_every_pin_it_adds_is_in_the_constraints() -> None:
    pins = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    for name in ("pefile==", "pywin32-ctypes=="):
        assert f"\n{name}" in pins
    ww = _module()
    assert any(each.startswith("pyinstaller") for each in ww.requirements())
    assert any(each.startswith("PySide6-Essentials") for each in ww.requirements())
