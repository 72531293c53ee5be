"""Screen widgets: one per file, each bound to tags through the bridge.

Every widget is built as ``XWidget(spec, ctx, parent=None)`` and offers ``apply_scale(scale)``
and ``release()`` to the canvas."""

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
from hmi.widgets.trend.widget import TrendWidget
from hmi.widgets.value import ValueWidget

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

WIDGET_CLASSES: dict[str, type] = {
    "label": LabelWidget,
    "value": ValueWidget,
    "bar": BarWidget,
    "indicator": IndicatorWidget,
    "symbol": SymbolWidget,
    "button": ButtonWidget,
    "setpoint": SetpointWidget,
    "group": GroupWidget,
    "image": ImageWidget,
    "trend": TrendWidget,
}
"""Widget class per screen-file ``type`` (``instance`` is expanded by the canvas)."""
