"""Resource lookup and the theme's conventions (no Qt needed for the lookup)."""

from __future__ import annotations

import re

import pytest

from hmi.model.errors import ConfigError
from hmi.resources import BUILTIN_SYMBOLS, icon_path, resources_dir, symbol_path, theme_path


def test_builtin_resources_exist() -> None:
    assert (resources_dir() / "theme").is_dir()
    for name in BUILTIN_SYMBOLS:
        text = symbol_path(name).read_text(encoding="utf-8")
        assert "viewBox" in text and ("#FILL" in text or "#STROKE" in text)
    for name in ("hmi", "alarm-bell", "user", "connection-ok", "connection-bad", "fullscreen"):
        assert icon_path(name).suffix == ".svg"


def test_unknown_names_say_what_exists() -> None:
    with pytest.raises(ConfigError, match="built-in symbols are tank, pump"):
        symbol_path("reactor")
    with pytest.raises(ConfigError, match="theme 'neon' not found"):
        theme_path("neon")


def test_theme_defines_every_quality_look_and_priority() -> None:
    qss = theme_path().read_text(encoding="utf-8")
    for quality in ("uncertain", "bad", "disconnected"):
        assert f'[quality="{quality}"]' in qss
    for look in ("normal", "active", "transition", "abnormal", "alarm", "disabled"):
        title = look.title()
        for colour in (f"indicator{title}Fill", f"indicator{title}Text", f"symbol{title}Fill"):
            assert f"qproperty-{colour}:" in qss, colour
    for priority in ("critical", "high", "medium", "low"):
        assert f'[priority="{priority}"]' in qss
    for chrome in ("#Header", "#AlarmBanner", "#NavBar", "#Breadcrumb", "#StatusBar",
                   "#ConnectionOk", "#ConnectionBad", "#Clock", "#ReloadMark", "#ReloadPanel"):  # fmt: skip
        assert chrome in qss
    rules = re.sub(r"/\*.*?\*/", "", qss, flags=re.DOTALL)
    assert "font-size" not in rules, "the canvas scales fonts; the theme must not fix their size"
    assert "gradient" not in rules
