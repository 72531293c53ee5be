"""The tag picker's search (the project's tags whose name, description or units hold every
word of the query, case-insensitive, names that start with it first), and adding browsed tags
to project.yaml."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML

from hmi.model.design.headers import edit_block
from hmi.model.errors import ConfigError
from hmi.model.tags import TagConfig

__all__ = ["add_tags", "search_tags"]


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
