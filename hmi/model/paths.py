"""Where the station keeps its own files (certificates, local databases, spool)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def user_data_dir() -> Path:
    """``$HMI_DATA_DIR`` if set (tests, site installs), else the platform's per-user data folder:
    ``%APPDATA%\\hmi`` on Windows, ``~/Library/Application Support/hmi`` on macOS,
    ``$XDG_DATA_HOME/hmi`` (default ``~/.local/share/hmi``) elsewhere. Not created here."""
    override = os.environ.get("HMI_DATA_DIR")
    if override:
        return Path(override)
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / "hmi"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "hmi"
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "hmi"
