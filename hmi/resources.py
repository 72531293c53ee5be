"""Where the theme, symbols and icons live: ``hmi/_resources`` inside an installed wheel,
``<repo>/resources`` in a source checkout. Pure Python, no Qt."""

from __future__ import annotations

from pathlib import Path

from hmi.model.errors import ConfigError

__all__ = [
    "BUILTIN_SYMBOLS",
    "icon_path",
    "resources_dir",
    "symbol_path",
    "theme_path",
]

BUILTIN_SYMBOLS = ("tank", "pump", "valve", "motor", "fan", "pipe", "arrow")

_PACKAGE = Path(__file__).resolve().parent


def resources_dir() -> Path:
    """The resources folder of this installation (wheel first, then source checkout)."""
    for candidate in (_PACKAGE / "_resources", _PACKAGE.parent / "resources"):
        if (candidate / "theme").is_dir():
            return candidate
    raise ConfigError(
        f"no resources folder next to {_PACKAGE} (looked for _resources/ and ../resources/); "
        "reinstall the package or run from a full source checkout"
    )


def _existing(path: Path, what: str) -> Path:
    if not path.is_file():
        raise ConfigError(f"{what} not found: {path}")
    return path


def symbol_path(name: str) -> Path:
    """The SVG of a built-in symbol (see ``BUILTIN_SYMBOLS``)."""
    if name not in BUILTIN_SYMBOLS:
        raise ConfigError(
            f"no built-in symbol {name!r}; built-in symbols are {', '.join(BUILTIN_SYMBOLS)} "
            "(or give an SVG file relative to the project folder)"
        )
    return _existing(resources_dir() / "symbols" / f"{name}.svg", f"symbol {name!r}")


def theme_path(name: str = "isa101") -> Path:
    """A Qt style sheet from ``theme/<name>.qss``."""
    return _existing(resources_dir() / "theme" / f"{name}.qss", f"theme {name!r}")


def icon_path(name: str) -> Path:
    """An icon from ``icons/<name>.svg`` (name without extension)."""
    return _existing(resources_dir() / "icons" / f"{name}.svg", f"icon {name!r}")
