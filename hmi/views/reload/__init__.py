"""Live reload of a project's files (``watcher``) and what it found, shown to engineers
(``problems``)."""

from hmi.views.reload.problems import ReloadProblemsView
from hmi.views.reload.watcher import LiveReload, project_dir, project_yaml

__all__ = ["LiveReload", "ReloadProblemsView", "project_dir", "project_yaml"]
