"""The auditor's view of the audit trail, read-only: ``viewer.AuditorView`` with its filter
bar (``filters``), paged records table (``table``), detail pane (``detail``), integrity badge
(``integrity``) and PDF report (``report``).

Import from the modules; like ``hmi.views``, this package imports nothing."""

__all__ = ["detail", "filters", "integrity", "report", "table", "viewer"]
