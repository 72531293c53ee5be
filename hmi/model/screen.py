"""Schema of screen and template files (YAML), validated with pydantic.

A screen is a canvas of a design size holding widgets with geometry ``rect: [x, y, w, h]``
in design pixels; the window scales it keeping the aspect. Templates (faceplates) are widget
groups defined once with ``${param}`` placeholders and instantiated with parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Rect = tuple[float, float, float, float]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Look(StrEnum):
    """How a state looks. ISA-101: grey for normal, colour only for abnormal and alarms.
    The colours live in the style sheet, selected by this name."""

    NORMAL = "normal"  # stopped / closed / off: light grey
    ACTIVE = "active"  # running / open / on: dark grey, filled
    TRANSITION = "transition"  # starting, opening: dark grey outline
    ABNORMAL = "abnormal"  # off-normal but not an alarm
    ALARM = "alarm"
    DISABLED = "disabled"


class StateLook(Strict):
    """One row of a multi-state table: the value that selects it, and its text and look."""

    value: float | str | bool
    text: str = ""
    look: Look = Look.NORMAL


class WidgetSpecBase(Strict):
    id: str | None = Field(
        default=None, description="unique within the screen; used by tests and navigation"
    )
    rect: Rect = Field(description="[x, y, width, height] in design pixels")
    tooltip: str = ""
    visible: str | None = Field(
        default=None,
        description="expression over tags, e.g. 'Pump1.Running == 1 and Tank1.Level > 5'",
    )
    font_size: float | None = Field(
        default=None, gt=0, description="design pixels; default from the theme"
    )

    @field_validator("rect")
    @classmethod
    def _rect(cls, rect: Rect) -> Rect:
        if rect[2] <= 0 or rect[3] <= 0:
            raise ValueError(
                f"width and height must be greater than 0, got {rect[2]:g} x {rect[3]:g}"
            )
        return rect


class LabelSpec(WidgetSpecBase):
    type: Literal["label"]
    text: str
    style: Literal["normal", "heading", "title", "caption"] = "normal"
    align: Literal["left", "center", "right"] = "left"


class ValueSpec(WidgetSpecBase):
    type: Literal["value"]
    tag: str
    format: str | None = Field(default=None, description="overrides the tag's format spec")
    units: bool = Field(default=True, description="show the tag's units after the value")
    align: Literal["left", "center", "right"] = "right"


class BarSpec(WidgetSpecBase):
    type: Literal["bar"]
    tag: str
    orientation: Literal["vertical", "horizontal"] = "vertical"
    range: tuple[float, float] | None = Field(default=None, description="overrides the tag's range")
    show_limits: bool = Field(default=True, description="mark the tag's lo/hi limits on the bar")

    @field_validator("range")
    @classmethod
    def _range(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not value[0] < value[1]:
            raise ValueError(f"range low {value[0]:g} must be below high {value[1]:g}")
        return value


class IndicatorSpec(WidgetSpecBase):
    type: Literal["indicator"]
    tag: str
    states: tuple[StateLook, ...] = Field(min_length=1)
    default: StateLook | None = Field(default=None, description="shown for a value in no row")


class SymbolSpec(WidgetSpecBase):
    type: Literal["symbol"]
    symbol: str = Field(
        description="tank, pump, valve, motor, fan, pipe, arrow or a file in the project"
    )
    tag: str | None = None
    states: tuple[StateLook, ...] = ()
    rotation: Literal[0, 90, 180, 270] = 0
    mirror: bool = False


class SetAction(Strict):
    kind: Literal["set"]
    tag: str
    value: float | str | bool


class MomentaryAction(Strict):
    kind: Literal["momentary"]
    tag: str
    value: float | bool = 1
    release: float | bool = 0


class ToggleAction(Strict):
    kind: Literal["toggle"]
    tag: str


class NavigateAction(Strict):
    kind: Literal["navigate"]
    screen: str


class FaceplateAction(Strict):
    kind: Literal["faceplate"]
    template: str
    params: dict[str, str] = {}


ButtonAction = Annotated[
    SetAction | MomentaryAction | ToggleAction | NavigateAction | FaceplateAction,
    Field(discriminator="kind"),
]


class ButtonSpec(WidgetSpecBase):
    type: Literal["button"]
    text: str
    action: ButtonAction


class SetpointSpec(WidgetSpecBase):
    type: Literal["setpoint"]
    tag: str
    format: str | None = None


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
        description="hold each value until the next (default for bool, int and state tags)",
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
    tags: tuple[str, ...] = Field(min_length=1)
    span_s: float = Field(default=600, gt=0, description="live window in seconds")
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
            if pen.range is not None and not pen.range[0] < pen.range[1]:
                raise ValueError(f"pen {pen.tag!r}: range low must be below high")
        if any(p <= 0 for p in self.presets_s):
            raise ValueError("presets_s must be spans greater than 0 seconds")
        return self

    def pen(self, tag: str) -> TrendPenSpec:
        """The style given for ``tag``, or the default one."""
        return next((p for p in self.pens if p.tag == tag), None) or TrendPenSpec(tag=tag)


class InstanceSpec(WidgetSpecBase):
    """A template placed on a screen; its widgets are scaled into ``rect``."""

    type: Literal["instance"]
    template: str
    params: dict[str, str] = {}


class GroupSpec(WidgetSpecBase):
    """A frame holding widgets whose rects are relative to the group."""

    type: Literal["group"]
    title: str = ""
    widgets: tuple[WidgetSpec, ...] = ()


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


class ScreenHeader(Strict):
    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$")
    title: str
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
        if size[0] <= 0 or size[1] <= 0:
            raise ValueError("size must be [width, height] greater than 0")
        return size


class ScreenFile(Strict):
    """One screen file: ``screen:`` header and ``widgets:`` list."""

    screen: ScreenHeader
    widgets: tuple[WidgetSpec, ...] = ()


class TemplateHeader(Strict):
    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$")
    title: str = Field(default="", description="popup title; may use ${params}")
    params: tuple[str, ...] = ()
    size: tuple[int, int] = Field(description="design size [width, height]")


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
