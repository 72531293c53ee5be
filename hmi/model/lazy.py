"""A package's names loaded on first use (PEP 562): ``__getattr__ = lazy.exports(__name__,
{"Name": "module", ...})`` in its ``__init__``, so that importing the package loads none of its
heavier modules (numpy, ruamel.yaml) until one of their names is asked for."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["exports"]


def exports(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: each name of ``homes`` imported from its
    module (``package.<home>``) when first asked for; any other name is an AttributeError."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(f"{package}.{home}"), name)

    return __getattr__
