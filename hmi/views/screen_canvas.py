"""A screen, or one template instance, built into widgets and scaled to the space it is given.

The design size is scaled keeping its aspect (letterboxed, centred in the canvas). Group
children are laid out relative to their group; an ``instance`` places a template's widgets,
scaled uniformly into the instance rect. Every widget gets ``apply_scale`` after each resize,
so fonts and pens follow the window size.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, cast

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QHelpEvent, QResizeEvent
from PySide6.QtWidgets import QToolTip, QWidget

from hmi.model.design.edits import WidgetPath
from hmi.model.errors import ConfigError
from hmi.model.expr import EvaluationError, Expression
from hmi.model.quality import Quality, QualityReason
from hmi.model.screens.schema import GroupSpec, InstanceSpec, ScreenFile, TemplateFile, WidgetSpec
from hmi.model.screens.templates import instantiate
from hmi.model.value import TagValue
from hmi.runtime.qt_bridge import Binding, QtTagBridge
from hmi.widgets import WIDGET_CLASSES
from hmi.widgets.base import BADGE_PX, QualityBadge, TagBinding, mark_expression, quality_text
from hmi.widgets.context import WidgetContext
from hmi.widgets.theme import chrome

__all__ = ["WIDGET_CLASSES", "ScreenCanvas"]

log = logging.getLogger(__name__)

MAX_TEMPLATE_DEPTH = 8


class ScreenWidget(Protocol):
    """What the canvas needs of a screen widget besides being a QWidget."""

    def apply_scale(self, scale: float) -> None: ...

    def release(self) -> None: ...


@dataclass(frozen=True, slots=True)
class _Frame:
    """Maps a parent's local design coordinates to the canvas's: ``origin + local * zoom``."""

    x: float
    y: float
    zoom: float
    prefix: str = ""  # id path of the enclosing instances, "pumps/p1/"

    def place(self, rect: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        x, y, w, h = rect
        return (self.x + x * self.zoom, self.y + y * self.zoom, w * self.zoom, h * self.zoom)


@dataclass(slots=True)
class _Placed:
    widget: QWidget
    rect: tuple[float, float, float, float]  # canvas design pixels
    parent_origin: tuple[float, float]  # canvas design pixels of the Qt parent's corner
    zoom: float
    screen_widget: ScreenWidget | None  # None for a template instance's box


class _VisibleRule(QObject):
    """Shows or hides one widget from a ``visible:`` expression. A Bad or missing input keeps
    the widget visible: an operator must never lose sight of equipment because of a comms
    fault. An expression that cannot be evaluated (``EvaluationError``) keeps it visible too,
    and makes the rule Bad(ConfigError): the widget is marked as a Bad value is (the
    ``expression`` property the theme outlines, a quality badge) and its tooltip leads with
    the message."""

    def __init__(
        self, widget: QWidget, expression: Expression, bridge: QtTagBridge, *, zoom: float = 1.0
    ) -> None:
        super().__init__(widget)
        self._widget = widget
        self._expression = expression
        self._tags = sorted(expression.tags)
        self._values: dict[str, TagValue] = {}
        self._bindings: list[Binding] = []
        self.quality = Quality.good()
        self.problem = ""
        self._badge: QualityBadge | None = None
        self.zoom = zoom  # of the frame the widget sits in, for the badge's size
        self._badge_px = round(BADGE_PX)
        for tag in self._tags:
            self._bindings.append(bridge.bind(tag, partial(self._on_value, tag)))
        if not self._tags:
            widget.setHidden(not self.shown())

    def _on_value(self, tag: str, value: TagValue) -> None:
        self._values[tag] = value
        self._widget.setHidden(not self.shown())

    def shown(self) -> bool:
        values: dict[str, Any] = {}
        for tag in self._tags:
            current = self._values.get(tag)
            if current is None or current.value is None or current.quality.is_bad:
                self._mark("")
                return True
            values[tag] = current.value
        try:
            result = self._expression.evaluate(values)
        except EvaluationError as exc:
            self._mark(str(exc))
            return True
        self._mark("")
        return True if result is None else bool(result)

    def _mark(self, problem: str) -> None:
        if problem == self.problem:
            return
        if problem:
            log.warning("visible: %s", problem)
        self.problem = problem
        self.quality = Quality.bad(QualityReason.CONFIG_ERROR) if problem else Quality.good()
        mark_expression(self._widget, bool(problem))
        redress = getattr(self._widget, "redress", None)
        if redress is not None:
            redress()  # the dashed outline (a compound widget's own sheet does it itself)
        # the widget's events reach Python only while there is a problem to show (its badge
        # placed on a resize, its tooltip): not every event of every widget with a rule
        if problem:
            self._widget.installEventFilter(self)
        else:
            self._widget.removeEventFilter(self)
        if problem and self._badge is None:
            self._badge = QualityBadge(self._widget)
            self._badge.set_size(self._badge_px)
        if self._badge is not None:
            self._badge.set_state(self.quality.css_name)

    def apply_scale(self, scale: float) -> None:
        self._badge_px = round(BADGE_PX * scale)
        if self._badge is not None:
            self._badge.set_size(self._badge_px)

    def tooltip_text(self) -> str:
        """The rule's problem, then what the widget itself would show."""
        own = [b.tooltip_text() for b in self._widget.findChildren(TagBinding)]
        lines = [f"Quality: {quality_text(self.quality)}", self.problem]
        return "\n".join([*lines, *(own or [self._widget.toolTip()])]).rstrip()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._widget and self.problem:
            if event.type() == QEvent.Type.Resize and self._badge is not None:
                self._badge.place()
            elif event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
                QToolTip.showText(event.globalPos(), self.tooltip_text(), self._widget)
                return True
        return False

    def release(self) -> None:
        for binding in self._bindings:
            binding.release()
        self._bindings.clear()


class ScreenCanvas(QWidget):
    """Widgets of one screen (or one template instance), scaled keeping the aspect."""

    def __init__(
        self,
        widgets: tuple[WidgetSpec, ...],
        *,
        design_size: tuple[int, int],
        ctx: WidgetContext,
        templates: Mapping[str, TemplateFile],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("ScreenCanvas")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        chrome.wear_ground(self, "area")
        self.ctx = ctx
        self.design_size = design_size
        self._templates = templates
        self._stage = QWidget(self)
        self._stage.setObjectName("ScreenStage")
        self._stage.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        chrome.wear_ground(self._stage, "stage")
        self._placed: list[_Placed] = []
        self._paths: dict[WidgetPath, _Placed] = {}  # the screen's own widgets (the designer's)
        self._spec_rects: dict[WidgetPath, tuple[float, float, float, float]] = {}  # as in the file
        self._by_id: dict[str, QWidget] = {}
        self._rules: list[_VisibleRule] = []
        self._scale = 0.0
        self._released = False
        try:
            frame = _Frame(0.0, 0.0, 1.0)
            for index, spec in enumerate(widgets):
                self._build(spec, self._stage, frame, 0, (index,))
        except BaseException:
            self.release()
            raise
        # No layout yet: the first resize event (sent when the canvas is shown) places and
        # scales everything once, at the real size.

    @classmethod
    def for_screen(
        cls,
        screen: ScreenFile,
        ctx: WidgetContext,
        templates: Mapping[str, TemplateFile],
        parent: QWidget | None = None,
    ) -> ScreenCanvas:
        return cls(
            screen.widgets,
            design_size=screen.screen.size,
            ctx=ctx,
            templates=templates,
            parent=parent,
        )

    @classmethod
    def for_template(
        cls,
        template: TemplateFile,
        params: Mapping[str, str],
        ctx: WidgetContext,
        templates: Mapping[str, TemplateFile],
        parent: QWidget | None = None,
    ) -> ScreenCanvas:
        return cls(
            instantiate(template, params),
            design_size=template.template.size,
            ctx=ctx,
            templates=templates,
            parent=parent,
        )

    # -- building ------------------------------------------------------------------------------

    def _build(
        self, spec: WidgetSpec, parent: QWidget, frame: _Frame, depth: int, path: WidgetPath = ()
    ) -> None:
        """``path``: the widget's place in the screen file; () inside a template instance."""
        rect = frame.place(spec.rect)
        at = len(self._placed)
        if isinstance(spec, InstanceSpec):
            self._build_instance(spec, parent, frame, rect, depth)
        else:
            widget = WIDGET_CLASSES[spec.type](spec, self.ctx, parent)
            self._adopt(spec, widget, rect, frame, scalable=True)
            if isinstance(spec, GroupSpec):
                inner = _Frame(rect[0], rect[1], frame.zoom, frame.prefix)
                for index, child in enumerate(spec.widgets):
                    self._build(child, widget, inner, depth, (*path, index) if path else ())
        if path:
            self._paths[path] = self._placed[at]  # the widget, or the instance's box
            self._spec_rects[path] = rect

    def _build_instance(
        self,
        spec: InstanceSpec,
        parent: QWidget,
        frame: _Frame,
        rect: tuple[float, float, float, float],
        depth: int,
    ) -> None:
        if depth >= MAX_TEMPLATE_DEPTH:
            raise ConfigError(
                f"template {spec.template!r} nests more than {MAX_TEMPLATE_DEPTH} instances deep; "
                "does a template place itself?"
            )
        template = self._templates.get(spec.template)
        if template is None:
            raise ConfigError(
                f"instance {spec.id or ''} names template {spec.template!r}, which the project "
                f"does not list (known: {', '.join(sorted(self._templates)) or 'none'})"
            )
        width, height = template.template.size
        fit = min(rect[2] / width, rect[3] / height)
        fitted = (
            rect[0] + (rect[2] - width * fit) / 2,
            rect[1] + (rect[3] - height * fit) / 2,
            width * fit,
            height * fit,
        )
        box = QWidget(parent)
        box.setObjectName("TemplateInstance")
        box.setProperty("template", spec.template)
        self._adopt(spec, box, fitted, frame, scalable=False)
        prefix = f"{frame.prefix}{spec.id}/" if spec.id else frame.prefix
        inner = _Frame(fitted[0], fitted[1], frame.zoom * fit, prefix)
        for child in instantiate(template, spec.params):
            self._build(child, box, inner, depth + 1)

    def _adopt(
        self,
        spec: WidgetSpec,
        widget: QWidget,
        rect: tuple[float, float, float, float],
        frame: _Frame,
        *,
        scalable: bool,
    ) -> None:
        # The frame's origin is the Qt parent's corner: stage, group or instance box.
        screen_widget = cast(ScreenWidget, widget) if scalable else None
        self._placed.append(_Placed(widget, rect, (frame.x, frame.y), frame.zoom, screen_widget))
        if spec.id:
            self._by_id.setdefault(f"{frame.prefix}{spec.id}", widget)
        if spec.visible:
            self._rules.append(
                _VisibleRule(
                    widget, Expression.parse(spec.visible), self.ctx.bridge, zoom=frame.zoom
                )
            )

    # -- geometry ------------------------------------------------------------------------------

    @property
    def scale(self) -> float:
        """Screen pixels per design pixel at the current size."""
        return self._scale

    def stage_rect(self) -> tuple[int, int, int, int]:
        """Where the design area sits in the canvas (the rest is letterbox)."""
        geometry = self._stage.geometry()
        return geometry.x(), geometry.y(), geometry.width(), geometry.height()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._layout()

    def _layout(self) -> None:
        if self._released:
            return
        width, height = self.design_size
        area_w, area_h = max(1, self.width()), max(1, self.height())
        scale = min(area_w / width, area_h / height)
        stage_w, stage_h = round(width * scale), round(height * scale)
        self._stage.setGeometry((area_w - stage_w) // 2, (area_h - stage_h) // 2, stage_w, stage_h)
        rescale = scale != self._scale
        self._scale = scale
        for placed in self._placed:
            self._place(placed, rescale=rescale)
        if rescale:
            for rule in self._rules:
                rule.apply_scale(rule.zoom * scale)

    def _place(self, placed: _Placed, *, rescale: bool) -> None:
        scale = self._scale
        x, y, w, h = placed.rect
        left, top = round(x * scale), round(y * scale)
        placed.widget.setGeometry(
            left - round(placed.parent_origin[0] * scale),
            top - round(placed.parent_origin[1] * scale),
            max(1, round((x + w) * scale) - left),
            max(1, round((y + h) * scale) - top),
        )
        if rescale and placed.screen_widget is not None:
            placed.screen_widget.apply_scale(scale * placed.zoom)

    # -- the designer --------------------------------------------------------------------------

    def at_path(self, path: WidgetPath) -> QWidget | None:
        """The widget built for the screen file's widget at ``path`` (an instance: its box)."""
        placed = self._paths.get(path)
        return None if placed is None else placed.widget

    def move_widgets(self, rects: Mapping[WidgetPath, tuple[float, float, float, float]]) -> bool:
        """Give widgets new rects (absolute design pixels; a moved group's children included)
        without rebuilding the screen. False, changing nothing, if one has no widget or is a
        template instance whose size changes (its widgets are fitted into it: rebuild); an
        instance that only moves takes its fitted widgets along."""
        for path, rect in rects.items():
            placed, old = self._paths.get(path), self._spec_rects.get(path)
            if placed is None or old is None:
                return False
            if placed.screen_widget is None and rect[2:] != old[2:]:
                return False
        for path in sorted(rects, key=len):  # a group before its children
            placed, rect = self._paths[path], rects[path]
            parent = self._paths.get(path[:-1]) if len(path) > 1 else None
            if placed.screen_widget is None:  # an instance's box: the fitted rect, moved
                old = self._spec_rects[path]
                x, y, w, h = placed.rect
                placed.rect = (x + rect[0] - old[0], y + rect[1] - old[1], w, h)
            else:
                placed.rect = rect
            self._spec_rects[path] = rect
            placed.parent_origin = (parent.rect[0], parent.rect[1]) if parent else (0.0, 0.0)
        if self._scale:
            for path in sorted(rects, key=len):
                self._place(self._paths[path], rescale=False)
        return True

    # -- lookup and teardown -------------------------------------------------------------------

    def widget(self, widget_id: str) -> QWidget | None:
        """The widget whose spec has this id; inside an instance ``"<instance id>/<id>"``."""
        return self._by_id.get(widget_id)

    def ids(self) -> list[str]:
        return list(self._by_id)

    def widgets(self) -> Iterator[QWidget]:
        """Every built widget, parents before children (template instance boxes included)."""
        return (placed.widget for placed in self._placed)

    def release(self) -> None:
        """Unbind every widget and every ``visible:`` rule; idempotent."""
        if self._released:
            return
        self._released = True
        for rule in self._rules:
            rule.release()
        self._rules.clear()
        for placed in reversed(self._placed):
            if placed.screen_widget is not None:
                try:
                    placed.screen_widget.release()
                except Exception:
                    log.exception("widget %s did not release cleanly", placed.widget)
