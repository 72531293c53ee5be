"""Can Qt's xcb platform plugin load on this machine? Asked before the window starts.

When a library of the xcb plugin is missing, Qt aborts (exit 134) with a message that names
``xcb-cursor0`` whatever is actually missing. ``ldd`` on the plugin lists what the loader cannot
find; each missing library is mapped to its Debian/Ubuntu package, so the operator gets the
exact ``apt-get install`` line instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEBIAN_PACKAGES",
    "MissingLibraries",
    "debian_package",
    "missing_libraries",
    "not_found",
    "uses_xcb",
    "xcb_plugin",
    "xcb_problem",
]

DEBIAN_PACKAGES: Mapping[str, str] = {
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0",
    "libGLdispatch.so.0": "libglvnd0",
    "libICE.so.6": "libice6",
    "libSM.so.6": "libsm6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
}
"""The libraries the Qt 6 xcb plugin links against (found with ``ldd`` and ``dpkg -S``) and
the Debian 12 / Ubuntu package of each."""

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$", re.MULTILINE)
_SONAME = re.compile(r"^(lib.+?)\.so\.(\d+)")


def not_found(ldd_output: str) -> list[str]:
    """The libraries ``ldd`` reported as ``not found``, each once, in its order."""
    return list(dict.fromkeys(_NOT_FOUND.findall(ldd_output)))


def debian_package(library: str) -> str:
    """The Debian package of a library file name: from the table, else by Debian's naming
    rule (``libfoo-bar.so.3`` is in ``libfoo-bar3``, ``libfoo2.so.1`` in ``libfoo2-1``)."""
    if library in DEBIAN_PACKAGES:
        return DEBIAN_PACKAGES[library]
    match = _SONAME.match(library)
    if match is None:
        return library
    name, version = match.group(1).lower(), match.group(2)
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


@dataclass(frozen=True)
class MissingLibraries:
    """Libraries that the platform plugin ``plugin`` needs and the loader cannot find."""

    plugin: Path
    libraries: tuple[str, ...]

    @property
    def packages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(debian_package(lib) for lib in self.libraries))

    def message(self) -> str:
        return (
            f"the Qt xcb platform plugin cannot load: {', '.join(self.libraries)} "
            f"not found (needed by {self.plugin.name}).\n"
            "Install them (Debian, Ubuntu) with:\n"
            f"    sudo apt-get install {' '.join(self.packages)}\n"
            "then start again; or run without a display: QT_QPA_PLATFORM=offscreen"
        )


def xcb_plugin() -> Path | None:
    """The xcb platform plugin of the Qt this program runs on, if there is one."""
    from PySide6.QtCore import QLibraryInfo  # QtCore alone: no display is opened

    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    plugin = plugins / "platforms" / "libqxcb.so"
    return plugin if plugin.exists() else None


def missing_libraries(plugin: Path, *, ldd: str | None = None) -> MissingLibraries | None:
    """What ``ldd`` cannot find for ``plugin`` (and the libraries it pulls in), or None when
    nothing is missing or there is no ``ldd`` to ask."""
    ldd = ldd or shutil.which("ldd")
    if ldd is None:
        return None
    try:
        result = subprocess.run(
            [ldd, str(plugin)], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    missing = not_found(result.stdout)
    return MissingLibraries(plugin, tuple(missing)) if missing else None


def uses_xcb(env: Mapping[str, str] | None = None) -> bool:
    """Qt will pick the xcb platform: asked for by ``QT_QPA_PLATFORM``, or, on Linux with the
    variable unset, the X11 default (a Wayland session picks Wayland first)."""
    env = os.environ if env is None else env
    platform = env.get("QT_QPA_PLATFORM", "").strip()
    if platform:
        return platform.split(":")[0].split(";")[0] == "xcb"
    return sys.platform.startswith("linux") and not env.get("WAYLAND_DISPLAY")


def xcb_problem(env: Mapping[str, str] | None = None) -> str | None:
    """Why the window cannot start on xcb here, as a message for the operator; None when
    it can, or when Qt will not use xcb."""
    env = os.environ if env is None else env
    if not uses_xcb(env):
        return None
    if not env.get("DISPLAY"):
        return (
            "no X display to open the window on (DISPLAY is not set): start it from a "
            "desktop session, or without a display: QT_QPA_PLATFORM=offscreen"
        )
    plugin = xcb_plugin()
    if plugin is None:
        return None
    missing = missing_libraries(plugin)
    return missing.message() if missing is not None else None
