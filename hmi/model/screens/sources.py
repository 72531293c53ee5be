"""Screen text that is not (yet) the file on disk: parse it with positions exactly as the loader
reads a file, and check a whole project with some files' text replaced (the designer checks
before it saves, with the same checker as ``hmi check``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path

from hmi.model.errors import ProjectProblem
from hmi.model.screens._files import _no_cycle_collection as no_cycle_collection
from hmi.model.screens._overlay import overlay
from hmi.model.screens._yaml import PosMap, PosSeq, YamlDoc, plain, read_yaml
from hmi.model.screens.loader import Project, check_project, load_project

__all__ = [
    "PosMap",
    "PosSeq",
    "YamlDoc",
    "check_with",
    "load_with",
    "overlay_texts",
    "parse_text",
    "plain",
    "resolved",
]


def resolved(path: Path) -> Path:
    """``path`` as the loader names files (absolute, symlinks followed)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return Path(os.path.abspath(path))


def overlay_texts(texts: Mapping[Path, str]) -> AbstractContextManager[None]:
    """While inside, the loader reads each of ``texts`` instead of its file."""
    return overlay({resolved(p): t for p, t in texts.items()})


def parse_text(text: str, path: Path) -> YamlDoc:
    """``text`` read as the loader reads the file ``path`` (YAML 1.2 core, positions kept)."""
    with overlay({resolved(path): text}), no_cycle_collection():
        return read_yaml(resolved(path))


def check_with(project: str | Path, texts: Mapping[Path, str]) -> list[ProjectProblem]:
    """Every problem of the project (its folder or project.yaml) if ``texts`` were written in
    place of their files (a file not on disk yet counts as existing); empty if it is valid."""
    with overlay({resolved(p): t for p, t in texts.items()}):
        return check_project(project)


def load_with(project: str | Path, texts: Mapping[Path, str]) -> Project:
    """``load_project`` with ``texts`` in place of their files; raises ``ProjectError``."""
    with overlay({resolved(p): t for p, t in texts.items()}):
        return load_project(project)
