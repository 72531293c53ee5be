"""The tree explains itself and stays that way: no folder of ``hmi`` over 15 modules, no module
over 500 lines, and docs/architecture.md names every package and only modules that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HMI = ROOT / "hmi"
MAX_MODULES = 15
MAX_LINES = 500


def _packages() -> list[Path]:
    return sorted(p.parent for p in HMI.rglob("__init__.py") if "migrations" not in p.parts)


def test_no_folder_holds_more_than_15_modules() -> None:
    crowded = {
        str(folder.relative_to(ROOT)): n
        for folder in _packages()
        if (n := len([p for p in folder.glob("*.py") if p.name != "__init__.py"])) > MAX_MODULES
    }
    assert not crowded, f"group these by concern: {crowded}"


def test_no_module_is_over_500_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in HMI.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"split these: {long}"


def test_the_architecture_page_names_every_package_and_only_real_modules() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = page.split("## A folder per concern", 1)[1].split("```")[1]
    texts: dict[str, str] = {}
    current = ""
    for line in filter(str.strip, block.splitlines()):
        head = re.match(r"(hmi/[\w/]*/)\s+(.*)", line)
        if head:
            current = head.group(1)
            texts[current] = head.group(2)
        else:
            texts[current] += " " + line.strip()
    folders = {  # the modules named, not what they hold (in brackets)
        folder: re.findall(r"\b(_?[a-z][a-z0-9_]*)\b", re.sub(r"\([^)]*\)", "", text))
        for folder, text in texts.items()
    }
    packages = {str(p.relative_to(ROOT)) + "/" for p in _packages()} - {"hmi/"}
    assert packages <= set(folders), f"not on the page: {sorted(packages - set(folders))}"
    missing = [
        f"{folder}{name}"
        for folder, names in folders.items()
        for name in names
        if not (ROOT / folder / f"{name}.py").exists() and not (ROOT / folder / name).is_dir()
    ]
    assert not missing, f"named on the page but not in the tree: {missing}"
