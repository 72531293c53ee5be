"""Faceplates: level-3 popups showing one template instance, e.g. the pump faceplate of P101.

Non-modal tool windows, so the operator can keep several open beside the screen. One popup per
(template, params): opening it again raises the one already open. Closing releases its tags.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from hmi.model.errors import ConfigError
from hmi.model.screens.schema import TemplateFile
from hmi.model.screens.templates import instantiate_title
from hmi.views.screen_canvas import ScreenCanvas
from hmi.widgets.context import WidgetContext
from hmi.widgets.dialog import OperatorDialog

__all__ = ["FaceplateKey", "FaceplateManager", "FaceplateWindow"]

log = logging.getLogger(__name__)

FaceplateKey = tuple[str, tuple[tuple[str, str], ...]]
ContextFactory = Callable[[str], WidgetContext]
"""Makes the widget context for a faceplate, given the ``screen_id`` its commands come from."""


def faceplate_key(template_id: str, params: Mapping[str, str]) -> FaceplateKey:
    return template_id, tuple(sorted(params.items()))


def faceplate_origin(template_id: str, params: Mapping[str, str]) -> str:
    """Where a faceplate's commands say they came from: ``pump_faceplate(pump=P101)``."""
    args = ",".join(f"{name}={value}" for name, value in sorted(params.items()))
    return f"{template_id}({args})"


class FaceplateWindow(OperatorDialog):
    """One template instance in its own canvas, at the template's design size. Enter presses
    none of its buttons: an entry sends its own value, and that is all."""

    closed = Signal(object)  # FaceplateKey

    def __init__(
        self,
        template: TemplateFile,
        params: Mapping[str, str],
        ctx: WidgetContext,
        templates: Mapping[str, TemplateFile],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Tool)
        self.setObjectName("Faceplate")
        self.setModal(False)
        self._finished = False
        self.key = faceplate_key(template.template.id, params)
        self.params = dict(params)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.canvas = self._make_canvas(template, ctx, templates)
        self.setWindowTitle(instantiate_title(template, params) or template.template.id)
        self.resize(*template.template.size)

    def _make_canvas(
        self, template: TemplateFile, ctx: WidgetContext, templates: Mapping[str, TemplateFile]
    ) -> ScreenCanvas:
        canvas = ScreenCanvas.for_template(template, self.params, ctx, templates, self)
        self._layout.addWidget(canvas)
        return canvas

    def rebuild(
        self, template: TemplateFile, ctx: WidgetContext, templates: Mapping[str, TemplateFile]
    ) -> None:
        """Show a reloaded template; on failure the old content stays and the error is raised."""
        canvas = ScreenCanvas.for_template(template, self.params, ctx, templates, self)
        old = self.canvas
        self._layout.replaceWidget(old, canvas)
        self.canvas = canvas
        old.release()
        old.deleteLater()
        self.quiet_buttons()
        self.setWindowTitle(instantiate_title(template, self.params) or template.template.id)

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
        self._finish()

    def done(self, result: int) -> None:
        """Escape ends the popup like the window's close button does."""
        super().done(result)
        self._finish()

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        self.canvas.release()
        self.closed.emit(self.key)
        self.deleteLater()


class FaceplateManager(QObject):
    """Keeps the open faceplates: one per (template, params)."""

    def __init__(
        self,
        templates: Mapping[str, TemplateFile],
        make_context: ContextFactory,
        parent_window: QWidget | None = None,
    ) -> None:
        super().__init__(parent_window)
        self._templates = templates
        self._make_context = make_context
        self._parent_window = parent_window
        self._open: dict[FaceplateKey, FaceplateWindow] = {}

    def open(self, template_id: str, params: Mapping[str, str]) -> FaceplateWindow:
        """Show the faceplate, or raise the one already open for the same params."""
        key = faceplate_key(template_id, params)
        window = self._open.get(key)
        if window is None:
            template = self._templates.get(template_id)
            if template is None:
                raise ConfigError(
                    f"no faceplate template {template_id!r} (known: "
                    f"{', '.join(sorted(self._templates)) or 'none'})"
                )
            ctx = self._make_context(faceplate_origin(template_id, params))
            window = FaceplateWindow(template, params, ctx, self._templates, self._parent_window)
            window.closed.connect(self._forget)
            self._open[key] = window
            window.show()
        window.raise_()
        window.activateWindow()
        return window

    def _forget(self, key: FaceplateKey) -> None:
        self._open.pop(key, None)

    def get(self, template_id: str, params: Mapping[str, str]) -> FaceplateWindow | None:
        return self._open.get(faceplate_key(template_id, params))

    @property
    def windows(self) -> list[FaceplateWindow]:
        return list(self._open.values())

    def set_templates(self, templates: Mapping[str, TemplateFile]) -> None:
        """After a live reload: rebuild the open faceplates from the new templates; one that
        no longer exists is closed."""
        self._templates = templates
        for key, window in list(self._open.items()):
            template = templates.get(key[0])
            if template is None:
                window.close()
                continue
            try:
                ctx = self._make_context(faceplate_origin(key[0], dict(key[1])))
                window.rebuild(template, ctx, templates)
            except Exception:
                log.exception("faceplate %s could not be rebuilt; keeping the old one", key[0])

    def close_all(self) -> None:
        for window in list(self._open.values()):
            window.close()
