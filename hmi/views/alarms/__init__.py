"""The operator's alarm views: the header's banner (``banner.AlarmBanner``) and its horn
(``tone``), the summary (``summary.AlarmSummaryView``, with its ``table``, ``detail`` pane and
``dialogs``), the journal's history (``history.AlarmHistoryView``) and KPIs
(``kpis.AlarmKpiView``).

Import from the modules; like ``hmi.views``, this package imports nothing."""

__all__ = ["banner", "detail", "dialogs", "history", "kpis", "summary", "table", "tone"]
