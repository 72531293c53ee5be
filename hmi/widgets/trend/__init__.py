"""The trend widget (``widget.TrendWidget``) and its parts: pens (``pen``, ``style``), axes
(``axis``), legend, cursor, toolbar, backfill from history (``backfill``), CSV/PNG export
(``export``), and the operator's ad-hoc trend dialog (``adhoc.AdhocTrendDialog``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hmi.widgets.trend.adhoc import AdhocTrendDialog
    from hmi.widgets.trend.widget import TrendWidget

__all__ = ["AdhocTrendDialog", "TrendWidget"]


def __getattr__(name: str) -> Any:
    """The parts import pyqtgraph: ``hmi.widgets.trend.style`` and the like stay light."""
    if name == "AdhocTrendDialog":
        from hmi.widgets.trend.adhoc import AdhocTrendDialog

        return AdhocTrendDialog
    if name == "TrendWidget":
        from hmi.widgets.trend.widget import TrendWidget

        return TrendWidget
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
