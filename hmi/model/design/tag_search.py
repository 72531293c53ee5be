"""The tag picker's search (the project's tags whose name, description or units hold every
word of the query, case-insensitive, names that start with it first), and adding browsed tags
to project.yaml."""

from __future__ import annotations

import io
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from hmi.model.audit.record import AuditAction
from hmi.model.design.headers import edit_block
from hmi.model.design.save import (
    PROJECT_FILE,
    FileWrite,
    PlannedChange,
    checked,
    file_sha256,
    project_root,
)
from hmi.model.errors import ConfigError
from hmi.model.screens.sources import resolved
from hmi.model.tags import TagConfig

__all__ = ["TAGS_CHANGE", "add_tags", "name_problem", "plan_add_tags", "search_tags"]

TAGS_CHANGE = "tags"  # what the audit record of tags added to project.yaml names
# A name an expression can use (`Tank1.Level > 80`): dotted Python identifiers.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def search_tags(tags: Mapping[str, TagConfig], query: str, limit: int = 200) -> list[str]:
    words = query.lower().split()
    hits: list[tuple[int, str]] = []
    for name, tag in tags.items():
        text = f"{name} {tag.description} {tag.units}".lower()
        if all(word in text for word in words):
            rank = 0 if words and name.lower().startswith(words[0]) else 1
            hits.append((rank, name))
    hits.sort()
    return [name for _rank, name in hits[:limit]]


def add_tags(project_text: str, where: str, tags_text: str, names: Sequence[str]) -> str:
    """`project_text` (project.yaml) with the tags `names` of `tags_text` (a `tags:` block, as
    `hmi.drivers.opcua.tags_yaml` writes one from a browse) added at the end of its `tags:`;
    only that block is rewritten (ruamel.yaml round trip: comments kept). A name the project
    has already is refused."""
    new = YAML().load(io.StringIO(tags_text))["tags"]

    def change(tags: Any) -> None:
        for name in names:
            if name in tags:
                raise ConfigError(f"{where}: there is a tag '{name}' already")
            if name not in new:
                raise ConfigError(f"{where}: the browse found no tag '{name}'")
            tags[name] = new[name]

    return edit_block(project_text, where, "tags", change)


def name_problem(name: str, taken: Collection[str]) -> str | None:
    """Why `name` cannot be a new tag's name (None: it can): empty, not a name expressions
    can use, or one of `taken` (the project's tags and the other new names)."""
    if not name:
        return "give the tag a name"
    if not _NAME.fullmatch(name):
        return (
            f"'{name}': letters, digits and _, parts joined by dots, none starting with a "
            "digit (expressions write tag names as Tank1.Level)"
        )
    if name in taken:
        return f"there is a tag '{name}' already"
    return None


def plan_add_tags(
    project_dir: str | Path, tags_text: str, names: Sequence[str], *, reason: str = ""
) -> PlannedChange:
    """Plan adding the tags `names` of `tags_text` (from a browse) to project.yaml: refused
    with the checker's messages (`ProjectError`) if the project would not be valid, or
    `ConfigError` for a name that is there already. One `config_change` record when the
    station writes it (`AuditRecorder.screen_change`)."""
    root = project_root(project_dir)
    path = resolved(root / PROJECT_FILE)
    before = path.read_text(encoding="utf-8")
    after = add_tags(before, str(path), tags_text, names)
    write = FileWrite(path, PROJECT_FILE, before, after, file_sha256(path))
    checked(root, (write,), reason)
    return PlannedChange(AuditAction.CONFIG_CHANGE, TAGS_CHANGE, (write,), root, reason)
