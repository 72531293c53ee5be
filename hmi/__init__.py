"""HMI: a desktop operator station for plants.

``__version__`` is read from the installed package's metadata on first use (importlib.metadata
costs a tenth of a second that a command not printing the version need not pay)."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    if name != "__version__":
        raise AttributeError(f"module 'hmi' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("hmi")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0.0.0+source"
    globals()["__version__"] = found
    return found
