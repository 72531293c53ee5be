"""The theme reaches screen widgets as palettes and pictures, never as a style sheet
(hmi.widgets.theme): colours read by Qt's parser from the ScreenTheme rule, the compound
widgets' own sheets, shared palettes and cached outline pictures."""

from __future__ import annotations

import logging
import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from hmi.model.quality import Quality, QualityReason
from hmi.model.screens.schema import (
    BarSpec,
    ButtonSpec,
    IndicatorSpec,
    LabelSpec,
    Look,
    StateLook,
    ValueSpec,
)
from hmi.resources import theme_path
from hmi.widgets import WIDGET_CLASSES
from hmi.widgets.theme import chrome
from hmi.widgets.theme.colors import DEFAULTS, own_sheet, read_colors
from hmi.widgets.theme.dress import Dress, Line, put_on

from .conftest import Station
from .test_sheet import build_sheet

THEME = theme_path().read_text(encoding="utf-8")
COMPOUND = ("SetpointWidget",)  # it carries a sheet of its own


def test_the_theme_file_names_every_screen_colour_and_only_those() -> None:
    rule = re.search(r"ScreenTheme\s*\{([^}]*)\}", re.sub(r"/\*.*?\*/", "", THEME, flags=re.S))
    assert rule is not None
    named = re.findall(r"qproperty-(\w+)\s*:", rule.group(1))
    assert sorted(named) == sorted(DEFAULTS), "a typo in a name would be silently ignored"
    assert len(named) == len(set(named))


def test_colours_are_read_by_qt_and_a_bad_one_keeps_its_default(qapp, caplog) -> None:
    sheet = (
        "ScreenTheme { qproperty-stage: #123456; qproperty-labelText: rgb(1, 2, 3); "
        "qproperty-valueFill: nonsense; }"
    )
    with caplog.at_level(logging.WARNING):
        colors = read_colors(sheet)
    assert colors["stage"].name() == "#123456"
    assert colors["labelText"].name() == "#010203"
    assert colors["valueFill"].name() == DEFAULTS["valueFill"]
    assert "valueFill is no colour" in caplog.text
    assert colors["untrusted"].name() == DEFAULTS["untrusted"], "left out: the default"
    assert read_colors(THEME)["indicatorDisabledFill"].alpha() == 0, "transparent"
    assert colors.rgba("labelText") == colors["labelText"].rgba()  # kept, not asked of Qt
    names = {"a": "stage", "b": "labelText"}
    subset = colors.subset(names)
    assert {k: c.name() for k, c in subset.items()} == {"a": "#123456", "b": "#010203"}
    assert colors.subset(dict(names)) is subset, "made once, shared by every widget"


def test_a_compound_widget_s_own_sheet_is_the_rules_that_start_at_it() -> None:
    sheet = """
    /* SetpointWidget { color: red; } a comment */
    SetpointWidget { border: none; }
    SetpointWidget QLineEdit, SetpointWidget[quality="bad"] QLineEdit { color: #6e6e6e; }
    SetpointWidgetX { color: blue; }
    ValueWidget, SetpointWidget QLabel { color: green; }
    #Header > QPushButton { color: black; }
    """
    own = own_sheet(sheet, "SetpointWidget")
    assert "border: none" in own and "#6e6e6e" in own
    assert "red" not in own and "blue" not in own and "green" not in own and "black" not in own
    for cls in COMPOUND:
        assert own_sheet(THEME, cls), cls
    assert "ScreenTheme" not in own_sheet(THEME, "SetpointWidget")


def test_a_dress_is_one_shared_palette_and_an_outline_one_cached_picture(qtbot, qapp) -> None:
    first, second = QWidget(), QWidget()
    for widget in (first, second):
        qtbot.addWidget(widget)
        widget.resize(80, 30)
    outlined = Dress(fill=0xFFE0E0E0, line=Line(0xFFC000C0, 2, "dashed"))
    assert put_on(first, outlined) and put_on(second, outlined)
    assert put_on(first, outlined) is False, "nothing to do: the same dress, the same size"
    brush = first.palette().window()
    assert brush.texture().cacheKey() == second.palette().window().texture().cacheKey()
    image = first.grab().toImage()
    assert image.pixelColor(0, 0).name() == "#c000c0", "a dash starts in the corner"
    assert image.pixelColor(40, 15).name() == "#e0e0e0"
    first.resize(100, 30)
    assert put_on(first, outlined), "a new size: a picture of that size"
    assert first.palette().window().texture().width() == 100
    plain = Dress(fill=0xFF4A4A4A, text=0xFFFFFFFF)
    put_on(first, plain)
    assert first.palette().window().color().name() == "#4a4a4a"
    assert first.palette().windowText().color().name() == "#ffffff"
    assert first.autoFillBackground()


def styled_by_sheet(widget: QWidget) -> bool:
    return widget.style().metaObject().className() == "QStyleSheetStyle"


def inside(widget: QWidget, names: tuple[str, ...] = COMPOUND) -> bool:
    """``widget`` or one of its parents is of a class named in ``names``."""
    parent: QWidget | None = widget
    while parent is not None:
        if type(parent).__name__ in names:
            return True
        parent = parent.parentWidget()
    return False


def test_no_style_sheet_reaches_a_screen_widget(station: Station, qtbot, tmp_path, themed) -> None:
    """Every widget type in every quality (the widget sheet's screen): none but the setpoint's own
    parts is drawn through Qt's style-sheet style, and none is plain."""
    sheet, widgets = build_sheet(station, tmp_path)
    qtbot.addWidget(sheet)
    sheet.show()
    qtbot.waitExposed(sheet)
    kinds = {f"{kind.title()}Widget" for kind in WIDGET_CLASSES}
    assert {type(w).__name__ for w in widgets} >= kinds
    everything = sheet.findChildren(QWidget)
    assert len(everything) > len(widgets)
    wrong = [type(w).__name__ for w in everything if styled_by_sheet(w) != inside(w)]
    assert not wrong, wrong


def test_without_a_theme_the_widgets_keep_qt_s_look(station: Station, qtbot) -> None:
    chrome.uninstall()
    specs = [
        ValueSpec(type="value", tag="Tank1.Level", rect=(0, 0, 120, 30)),
        IndicatorSpec(type="indicator", tag="Pump1.Running", rect=(0, 0, 120, 30), states=(
            StateLook(value=1, text="RUNNING", look=Look.ACTIVE),)),
        LabelSpec(type="label", text="x", rect=(0, 0, 120, 30)),
        BarSpec(type="bar", tag="Tank1.Level", rect=(0, 0, 40, 120)),
        ButtonSpec(type="button", text="Go", rect=(0, 0, 120, 30),
                   action={"kind": "navigate", "screen": "overview"}),
    ]  # fmt: skip
    for spec in specs:
        widget = WIDGET_CLASSES[spec.type](spec, station.ctx)
        qtbot.addWidget(widget)
        station.feed("Tank1.Level", 1.0, Quality.bad(QualityReason.COMM_FAILURE))
        assert not widget.autoFillBackground(), spec.type
        assert widget.contentsMargins().left() == 0, spec.type
        assert not getattr(widget, "isFlat", lambda: False)()


def test_a_widget_built_hidden_is_dressed_once_at_its_real_size(
    station: Station, qtbot, themed
) -> None:
    """Made on a hidden parent and placed later (as a canvas does): nothing of the size-bound
    look is computed before the resize event Qt sends it before its first paint, and that one
    dress is the outline of the size it was given; a bar places its parts once, there too."""
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.resize(400, 300)
    value = WIDGET_CLASSES["value"](
        ValueSpec(type="value", tag="Tank1.Level", rect=(0, 0, 120, 30)), station.ctx, parent
    )
    bar = WIDGET_CLASSES["bar"](
        BarSpec(type="bar", tag="Tank1.Level", rect=(0, 0, 40, 120)), station.ctx, parent
    )
    dresses: list[object] = []
    set_palette = value.setPalette
    value.setPalette = lambda palette: (dresses.append(palette), set_palette(palette))[1]
    value.setGeometry(10, 10, 123, 31)
    bar.setGeometry(200, 10, 41, 121)
    bar.apply_scale(1.5)  # as a canvas rescales before the first show
    assert dresses == [] and "_hmi_dress" not in value.__dict__, "not dressed before its size"
    placed = Qt.WidgetAttribute.WA_Resized
    assert not bar.trough.testAttribute(placed), "parts not placed before the bar's size is known"
    parent.show()
    qtbot.waitExposed(parent)
    assert len(dresses) == 1, "dressed once, at its first resize"
    worn = value.__dict__["_hmi_dress"]
    assert worn[1:3] == (123, 31) and worn[0].line is not None, "the outline of its real size"
    assert bar.trough.testAttribute(placed) and bar.trough.height() > 100, "the bar placed"
    assert bar.autoFillBackground(), "and outlined"


def test_the_expression_mark_is_read_without_asking_qt(station: Station, qtbot, themed) -> None:
    from hmi.widgets.base import expression_bad, mark_expression

    label = WIDGET_CLASSES["label"](
        LabelSpec(type="label", text="x", rect=(0, 0, 120, 30)), station.ctx
    )
    qtbot.addWidget(label)
    label.resize(120, 30)
    assert not expression_bad(label) and label.property("expression") is None
    assert mark_expression(label, True) and expression_bad(label)
    assert label.property("expression") == "bad"
    label.redress()
    assert label.__dict__["_hmi_dress"][0].line.stroke == "dashed", "outlined as untrusted"
    assert not mark_expression(label, True), "no change"
    assert mark_expression(label, False) and not expression_bad(label)


def test_a_worn_look_is_the_widget_s_own_whatever_its_parent_or_the_desktop_says(
    station: Station, qtbot, qapp, themed
) -> None:
    """The theme's palettes hold every role: a change of the parent's palette or of the
    application's (a desktop switching to dark mode) changes neither a widget's look nor its
    badge, and a look's change on the host leaves the badge's palette as it was."""
    from PySide6.QtGui import QColor, QPalette

    parent = QWidget()
    qtbot.addWidget(parent)
    value = WIDGET_CLASSES["value"](
        ValueSpec(type="value", tag="Tank1.Level", rect=(0, 0, 120, 30)), station.ctx, parent
    )
    value.setGeometry(0, 0, 120, 30)
    parent.show()
    qtbot.waitExposed(parent)
    role = QPalette.ColorRole
    text, fill = value.palette().color(role.WindowText), value.palette().brush(role.Window)
    badge = value.binding.badge.palette().brush(role.Window)
    station.feed("Tank1.Level", 42.0, Quality.good())
    assert (
        value.palette().color(role.WindowText) != text or value.palette().brush(role.Window) != fill
    ), "the look changed with the quality"
    assert value.binding.badge.palette().brush(role.Window) == badge, "the badge kept its own"
    worn = QPalette(value.palette())
    dark = QPalette(qapp.palette())
    for each in (role.Window, role.WindowText, role.Text, role.Base, role.Button):
        dark.setColor(each, QColor("#202020") if each is not role.WindowText else QColor("#fff"))
    before = qapp.palette()
    try:
        parent.setPalette(dark)
        qapp.setPalette(dark)
        assert value.palette() == worn, "neither the parent nor the desktop reaches it"
    finally:
        qapp.setPalette(before)


def test_a_state_s_dress_is_worked_out_once_per_colours(qapp) -> None:
    from hmi.widgets.theme import dress as dress_module
    from hmi.widgets.theme.dress import dress_for

    made: list[str] = []

    def make(name: str) -> Dress:
        made.append(name)
        return Dress(fill=len(made))

    colors, other = read_colors(THEME), read_colors(THEME)
    first = dress_for(colors, ("Test", "normal"), lambda: make("normal"))
    assert dress_for(colors, ("Test", "normal"), lambda: make("again")) is first
    assert dress_for(colors, ("Test", "active"), lambda: make("active")) != first
    assert dress_for(other, ("Test", "normal"), lambda: make("other colours")) != first
    assert made == ["normal", "active", "other colours"]
    for i in range(dress_module._DRESS_LIMIT + 1):  # bounded: a theme change, a flood of states
        dress_for(colors, ("Test", i), lambda: Dress())
    assert len(dress_module._DRESSES) <= dress_module._DRESS_LIMIT
