"""The tag picker's search: the project's tags whose name, description or units hold every
word of the query (case-insensitive), names that start with the query first."""

from __future__ import annotations

from collections.abc import Mapping

from hmi.model.tags import TagConfig

__all__ = ["search_tags"]


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
