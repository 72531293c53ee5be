"""Screen widgets: one per file, each bound to tags through the bridge.

Every widget is built as ``XWidget(spec, ctx, parent=None)`` and offers ``apply_scale(scale)``
and ``release()`` to the canvas. The trend (and pyqtgraph, numpy with it) is imported when the
first trend is built, not with the others."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hmi.widgets.bar import BarWidget
from hmi.widgets.base import QualityBadge, TagBinding
from hmi.widgets.button import ButtonWidget
from hmi.widgets.context import WidgetContext
from hmi.widgets.group import GroupWidget
from hmi.widgets.image import ImageWidget
from hmi.widgets.indicator import IndicatorWidget
from hmi.widgets.label import LabelWidget
from hmi.widgets.setpoint import SetpointWidget
from hmi.widgets.symbol import SymbolWidget
from hmi.widgets.value import ValueWidget

if TYPE_CHECKING:
    from hmi.widgets.trend.widget import TrendWidget

__all__ = [
    "WIDGET_CLASSES",
    "BarWidget",
    "ButtonWidget",
    "GroupWidget",
    "ImageWidget",
    "IndicatorWidget",
    "LabelWidget",
    "QualityBadge",
    "SetpointWidget",
    "SymbolWidget",
    "TagBinding",
    "TrendWidget",
    "ValueWidget",
    "WidgetContext",
]


def _trend(*args: Any, **kwargs: Any) -> TrendWidget:
    from hmi.widgets.trend.widget import TrendWidget

    return TrendWidget(*args, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "TrendWidget":
        from hmi.widgets.trend.widget import TrendWidget

        return TrendWidget
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


WIDGET_CLASSES: dict[str, Callable[..., Any]] = {
    "label": LabelWidget,
    "value": ValueWidget,
    "bar": BarWidget,
    "indicator": IndicatorWidget,
    "symbol": SymbolWidget,
    "button": ButtonWidget,
    "setpoint": SetpointWidget,
    "group": GroupWidget,
    "image": ImageWidget,
    "trend": _trend,
}
"""Widget class (or, for the trend, a factory) per screen-file ``type`` (``instance`` is
expanded by the canvas)."""
