"""The trend widget (``widget.TrendWidget``) and its parts: pens (``pen``, ``style``), axes
(``axis``), legend, cursor, toolbar, backfill from history (``backfill``), CSV/PNG export
(``export``), and the operator's ad-hoc trend dialog (``adhoc.AdhocTrendDialog``)."""

from hmi.widgets.trend.adhoc import AdhocTrendDialog
from hmi.widgets.trend.widget import TrendWidget

__all__ = ["AdhocTrendDialog", "TrendWidget"]
