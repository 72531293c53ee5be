"""The check before the window starts: what ldd cannot find for Qt's xcb plugin, and the
apt-get line that installs it, instead of Qt's abort that blames xcb-cursor0."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from hmi.qt_platform import (
    MissingLibraries,
    debian_package,
    missing_libraries,
    not_found,
    uses_xcb,
    xcb_plugin,
    xcb_problem,
)

# ldd's own words on this machine's libqxcb.so before libxcb-icccm4 and libxcb-keysyms1 were in.
LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd5a9f2000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x7f1)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f7d4b5e0000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f7d4b200000)
\tlibxcb-icccm.so.4 => not found
\t/lib64/ld-linux-x86-64.so.2 (0x00007f7d4b9f0000)
"""


def test_ldd_not_found_lines_each_once() -> None:
    assert not_found(LDD_OUTPUT) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert not_found("\tlibc.so.6 => /lib/libc.so.6 (0x1)\n") == []


@pytest.mark.parametrize(
    ("library", "package"),
    [
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libglib-2.0.so.0", "libglib2.0-0"),
        ("libX11-xcb.so.1", "libx11-xcb1"),
        ("libxcb-future.so.3", "libxcb-future3"),  # not in the table: Debian's naming rule
        ("libfoo2.so.1", "libfoo2-1"),
    ],
)
def test_libraries_map_to_debian_packages(library: str, package: str) -> None:
    assert debian_package(library) == package


def test_the_message_is_the_exact_apt_get_line() -> None:
    missing = MissingLibraries(Path("/q/libqxcb.so"), ("libxcb-icccm.so.4", "libxcb-keysyms.so.1"))
    text = missing.message()
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1 not found (needed by libqxcb.so)" in text
    assert "\n    sudo apt-get install libxcb-icccm4 libxcb-keysyms1\n" in text
    assert "xcb-cursor0" not in text


@pytest.mark.parametrize(
    ("env", "xcb"),
    [
        ({"QT_QPA_PLATFORM": "xcb"}, True),
        ({"QT_QPA_PLATFORM": "xcb:nograb"}, True),
        ({"QT_QPA_PLATFORM": "offscreen"}, False),
        ({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"}, False),
        ({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, False),
    ],
)
def test_the_check_runs_only_for_xcb(env: dict[str, str], xcb: bool) -> None:
    assert uses_xcb(env) is xcb


@pytest.mark.skipif(not (shutil.which("gcc") and shutil.which("ldd")), reason="needs gcc, ldd")
def test_a_library_that_is_gone_is_found_missing(tmp_path: Path) -> None:
    """A real ELF file linked against a library that was deleted after the link."""
    library = tmp_path / "absent.c"
    library.write_text("int hmi_absent(void) { return 1; }\n", encoding="utf-8")
    user = tmp_path / "probe.c"
    user.write_text("int hmi_absent(void);\nint probe(void) { return hmi_absent(); }\n")
    absent = tmp_path / "libhmiabsent.so.1"
    gcc = ["gcc", "-shared", "-fPIC"]
    subprocess.run([*gcc, "-Wl,-soname,libhmiabsent.so.1", "-o", absent, library], check=True)
    probe = tmp_path / "libprobe.so"
    linked = ["-Wl,--no-as-needed", f"-Wl,-rpath,{tmp_path}", "-o", probe, user, absent]
    subprocess.run([*gcc, *linked], check=True)
    assert missing_libraries(probe) is None, "everything is there while the library is"
    absent.unlink()
    missing = missing_libraries(probe)
    assert missing is not None
    assert missing.libraries == ("libhmiabsent.so.1",)
    assert missing.packages == ("libhmiabsent1",)


@pytest.mark.skipif(shutil.which("ldd") is None, reason="needs ldd (Linux)")
def test_this_machine_has_what_the_xcb_plugin_needs() -> None:
    """`.ci/run` installs the xcb plugin's libraries; on a machine without them this names
    the apt-get line."""
    plugin = xcb_plugin()
    assert plugin is not None and plugin.name == "libqxcb.so"
    missing = missing_libraries(plugin)
    assert missing is None, missing.message()


def test_no_display_is_said_before_qt_aborts() -> None:
    problem = xcb_problem({"QT_QPA_PLATFORM": "xcb"})
    assert problem is not None and "DISPLAY is not set" in problem
    assert xcb_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
