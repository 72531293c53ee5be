"""Schema of screen and template files (YAML), validated with pydantic.

A screen is a canvas of a design size holding widgets with geometry ``rect: [x, y, w, h]``
in design pixels; the window scales it keeping the aspect. Templates (faceplates) are widget
groups defined once with ``${param}`` placeholders and instantiated with parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from hmi.model.numbers import SCHEMA_CONFIG, span_problem

Rect = tuple[float, float, float, float]

# Every schema model shares SCHEMA_CONFIG (hmi.model.numbers): unknown keys are refused, and
# every number is finite unless a field says otherwise with ``Field(allow_inf_nan=True)``.

MAX_DESIGN_SIZE = 16_384  # design pixels; Qt cannot lay out a widget beyond 16,777,215 device px
MAX_WIDGETS = 20_000  # per screen or template, once its templates are placed
MAX_TEMPLATE_DEPTH = 16  # templates placed in templates placed in ...
MAX_FONT_SIZE = 1_000.0  # design pixels
# A trend's live window: its live buffer is sized from it (20 samples a second per pen), so
# a day is the most; the range buttons (presets_s) show longer spans from the historian.
TREND_SPAN_S = (1.0, 86_400.0)
TREND_PRESETS_MAX_S = 400 * 86_400.0  # hmi.widgets.trend.widget MAX_SPAN_S


class Strict(BaseModel):
    model_config = SCHEMA_CONFIG


class Look(StrEnum):
    """How a state looks. ISA-101: grey for normal, colour only for abnormal and alarms.
    The colours live in the theme (its ScreenTheme rule: indicator<Look>Fill and Text,
    symbol<Look>Fill), chosen by this name."""

    NORMAL = "normal"  # stopped / closed / off: light grey
    ACTIVE = "active"  # running / open / on: dark grey, filled
    TRANSITION = "transition"  # starting, opening: dark grey outline
    ABNORMAL = "abnormal"  # off-normal but not an alarm
    ALARM = "alarm"
    DISABLED = "disabled"


class StateLook(Strict):
    """One row of a multi-state table: the value that selects it, and its text and look."""

    value: float | str | bool = Field(description="the tag value that selects this row")
    text: str = Field(default="", description="what the widget shows in this state")
    look: Look = Field(default=Look.NORMAL, description="how it looks (colours from the theme)")


class WidgetSpecBase(Strict):
    id: str | None = Field(
        default=None, description="unique within the screen; used by tests and navigation"
    )
    rect: Rect = Field(description="[x, y, width, height] in design pixels")
    tooltip: str = Field(default="", description="shown on hover, before the tag's details")
    visible: str | None = Field(
        default=None,
        description="expression over tags, e.g. 'Pump1.Running == 1 and Tank1.Level > 5'",
    )
    font_size: float | None = Field(
        default=None, gt=0, le=MAX_FONT_SIZE, description="design pixels; default from the theme"
    )

    @field_validator("rect")
    @classmethod
    def _rect(cls, rect: Rect) -> Rect:
        if not (rect[2] > 0 and rect[3] > 0):
            raise ValueError(
                f"width and height must be greater than 0, got {rect[2]:g} x {rect[3]:g}"
            )
        return rect


class LabelSpec(WidgetSpecBase):
    type: Literal["label"]
    text: str = Field(description="the text shown")
    style: Literal["normal", "heading", "title", "caption"] = Field(
        default="normal", description="text size and weight from the theme"
    )
    align: Literal["left", "center", "right"] = "left"


class ValueSpec(WidgetSpecBase):
    type: Literal["value"]
    tag: str = Field(description="the tag shown, by its name in project.yaml")
    format: str | None = Field(default=None, description="overrides the tag's format spec")
    units: bool = Field(default=True, description="show the tag's units after the value")
    align: Literal["left", "center", "right"] = "right"


class BarSpec(WidgetSpecBase):
    type: Literal["bar"]
    tag: str = Field(description="the tag shown, by its name in project.yaml")
    orientation: Literal["vertical", "horizontal"] = "vertical"
    range: tuple[float, float] | None = Field(default=None, description="overrides the tag's range")
    show_limits: bool = Field(default=True, description="mark the tag's lo/hi limits on the bar")

    @field_validator("range")
    @classmethod
    def _range(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        problem = None if value is None else span_problem(*value)
        if problem is not None:
            raise ValueError(problem)
        return value


class IndicatorSpec(WidgetSpecBase):
    type: Literal["indicator"]
    tag: str = Field(description="the tag whose value selects the row")
    states: tuple[StateLook, ...] = Field(
        min_length=1, description="value -> text and look; the first matching row is shown"
    )
    default: StateLook | None = Field(default=None, description="shown for a value in no row")


class SymbolSpec(WidgetSpecBase):
    type: Literal["symbol"]
    symbol: str = Field(
        description="tank, pump, valve, motor, fan, pipe, arrow or a file in the project"
    )
    tag: str | None = Field(default=None, description="the tag whose value selects the look")
    states: tuple[StateLook, ...] = Field(default=(), description="value -> look (text unused)")
    rotation: Literal[0, 90, 180, 270] = Field(default=0, description="degrees, clockwise")
    mirror: bool = Field(default=False, description="flip left to right")


class SetAction(Strict):
    """Write one value to a tag (through the command service)."""

    kind: Literal["set"]
    tag: str = Field(description="a writable tag")
    value: float | str | bool = Field(description="the value written")


class MomentaryAction(Strict):
    """Write ``value`` while the button is held down, ``release`` when it is let go."""

    kind: Literal["momentary"]
    tag: str = Field(description="a writable tag")
    value: float | bool = Field(default=1, description="written on press")
    release: float | bool = Field(default=0, description="written on release")


class ToggleAction(Strict):
    """Write the opposite of a boolean tag's current value."""

    kind: Literal["toggle"]
    tag: str = Field(description="a writable bool tag")


class NavigateAction(Strict):
    """Go to another screen of the project."""

    kind: Literal["navigate"]
    screen: str = Field(description="the screen's id")


class FaceplateAction(Strict):
    """Open a template as a popup faceplate."""

    kind: Literal["faceplate"]
    template: str = Field(description="the template's id")
    params: dict[str, str] = Field(default={}, description="value of each ${param}")


ButtonAction = Annotated[
    SetAction | MomentaryAction | ToggleAction | NavigateAction | FaceplateAction,
    Field(discriminator="kind"),
]


class ButtonSpec(WidgetSpecBase):
    type: Literal["button"]
    text: str = Field(description="the button's caption")
    action: ButtonAction = Field(description="what a click does; chosen by its 'kind'")


class SetpointSpec(WidgetSpecBase):
    type: Literal["setpoint"]
    tag: str = Field(description="a writable tag; its write limits are checked on entry")
    format: str | None = Field(default=None, description="overrides the tag's format spec")


class ImageSpec(WidgetSpecBase):
    type: Literal["image"]
    source: str = Field(description="image file relative to the project folder (PNG, JPEG or SVG)")


class TrendPenSpec(Strict):
    """How one of a trend's tags is drawn; every field has a calm default."""

    tag: str = Field(description="one of the trend's tags")
    color: str | None = Field(
        default=None,
        pattern=r"^#[0-9A-Fa-f]{6}$",
        description="'#rrggbb'; default: the next muted colour of the theme",
    )
    width: float = Field(default=1, gt=0, le=6, description="line width in pixels")
    style: Literal["solid", "dash"] = "solid"
    step: bool | None = Field(
        default=None,
        description="hold each value until the next; default: the tag's own `step` (bool, int, "
        "state and writable tags)",
    )
    axis: str | None = Field(
        default=None, description="pens naming the same axis share it; default from y_axes"
    )
    range: tuple[float, float] | None = Field(
        default=None, description="y range of the pen's axis; default the tag's range, else auto"
    )


TREND_PRESETS_S = (300.0, 900.0, 3600.0, 28_800.0, 86_400.0, 604_800.0, 2_592_000.0)


class TrendSpec(WidgetSpecBase):
    type: Literal["trend"]
    tags: tuple[str, ...] = Field(min_length=1, description="the tags drawn, one pen each")
    span_s: float = Field(
        default=600,
        ge=TREND_SPAN_S[0],
        le=TREND_SPAN_S[1],
        description="live window in seconds",
    )
    pens: tuple[TrendPenSpec, ...] = Field(
        default=(), description="styles of some or all of the tags, matched by tag"
    )
    y_axes: Literal["shared", "units", "pen"] = Field(
        default="units",
        description="one y axis for all pens, one per engineering unit, or one per pen",
    )
    presets_s: tuple[float, ...] = Field(
        default=TREND_PRESETS_S, description="range buttons in seconds (5 min ... 30 d)"
    )

    @model_validator(mode="after")
    def _pens_name_tags(self) -> TrendSpec:
        for pen in self.pens:
            if pen.tag not in self.tags:
                raise ValueError(f"pen {pen.tag!r} is not one of the trend's tags")
            problem = None if pen.range is None else span_problem(*pen.range)
            if problem is not None:
                raise ValueError(f"pen {pen.tag!r}: {problem}")
        low, high = TREND_SPAN_S[0], TREND_PRESETS_MAX_S
        if not all(low <= p <= high for p in self.presets_s):
            raise ValueError(f"presets_s must be spans from {low:g} to {high:g} seconds")
        return self

    def pen(self, tag: str) -> TrendPenSpec:
        """The style given for ``tag``, or the default one."""
        return next((p for p in self.pens if p.tag == tag), None) or TrendPenSpec(tag=tag)


class InstanceSpec(WidgetSpecBase):
    """A template placed on a screen; its widgets are scaled into ``rect``."""

    type: Literal["instance"]
    template: str = Field(description="the template's id")
    params: dict[str, str] = Field(default={}, description="value of each ${param}")


class GroupSpec(WidgetSpecBase):
    """A frame holding widgets whose rects are relative to the group."""

    type: Literal["group"]
    title: str = Field(default="", description="shown on the frame; empty: no title")
    widgets: tuple[WidgetSpec, ...] = Field(default=(), description="rects relative to the group")


WidgetSpec = Annotated[
    LabelSpec
    | ValueSpec
    | BarSpec
    | IndicatorSpec
    | SymbolSpec
    | ButtonSpec
    | SetpointSpec
    | GroupSpec
    | ImageSpec
    | TrendSpec
    | InstanceSpec,
    Field(discriminator="type"),
]
GroupSpec.model_rebuild()

WIDGET_TYPES = (
    "label",
    "value",
    "bar",
    "indicator",
    "symbol",
    "button",
    "setpoint",
    "group",
    "image",
    "trend",
    "instance",
)


def _design_size(size: tuple[int, int]) -> tuple[int, int]:
    if not (0 < size[0] <= MAX_DESIGN_SIZE and 0 < size[1] <= MAX_DESIGN_SIZE):
        raise ValueError(
            f"size must be [width, height], each from 1 to {MAX_DESIGN_SIZE}, "
            f"got {size[0]} x {size[1]}"
        )
    return size


class ScreenHeader(Strict):
    id: str = Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", description="how navigation and buttons name it"
    )
    title: str = Field(description="shown in the header and the navigation")
    level: Literal[1, 2, 3, 4] = Field(
        default=2, description="ISA-101 hierarchy: 1 overview, 2 area, 3 detail, 4 diagnostics"
    )
    parent: str | None = Field(
        default=None, description="the screen one level up, for the breadcrumb"
    )
    size: tuple[int, int] = Field(default=(1920, 1080), description="design size [width, height]")

    @field_validator("size")
    @classmethod
    def _size(cls, size: tuple[int, int]) -> tuple[int, int]:
        return _design_size(size)


class ScreenFile(Strict):
    """One screen file: ``screen:`` header and ``widgets:`` list."""

    screen: ScreenHeader
    widgets: tuple[WidgetSpec, ...] = ()


class TemplateHeader(Strict):
    id: str = Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", description="how instances and faceplates name it"
    )
    title: str = Field(default="", description="popup title; may use ${params}")
    params: tuple[str, ...] = Field(default=(), description="names used as ${name} in its widgets")
    size: tuple[int, int] = Field(description="design size [width, height]")

    @field_validator("size")
    @classmethod
    def _size(cls, size: tuple[int, int]) -> tuple[int, int]:
        return _design_size(size)


class TemplateFile(Strict):
    """A faceplate/template file: ``template:`` header and ``widgets:`` with ``${param}``."""

    template: TemplateHeader
    widgets: tuple[WidgetSpec, ...] = ()


def iter_widgets(widgets: tuple[WidgetSpec, ...]) -> Iterator[WidgetSpec]:
    """Every widget, depth first, groups included."""
    for widget in widgets:
        yield widget
        if isinstance(widget, GroupSpec):
            yield from iter_widgets(widget.widgets)
