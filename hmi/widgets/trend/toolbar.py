"""The small toolbar over a trend: what is shown, range presets, zoom, fit, cursor, live or
paused, export. It only emits what the operator asked for; the trend does it."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSize, Signal, SignalInstance
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QToolButton,
    QWidget,
)


def span_text(seconds: float) -> str:
    """``300`` -> ``5 min``, ``86400`` -> ``24 h``, ``604800`` -> ``7 d``."""
    if seconds >= 172_800 and seconds % 86_400 == 0:
        return f"{seconds / 86_400:g} d"
    if seconds >= 3_600 and seconds % 3_600 == 0:
        return f"{seconds / 3_600:g} h"
    if seconds >= 60:
        return f"{seconds / 60:.3g} min"
    return f"{seconds:.3g} s"


class TrendToolbar(QWidget):
    preset = Signal(float)  # span in seconds
    zoom = Signal(float)  # factor: < 1 zooms in
    fit = Signal()
    live = Signal(bool)  # True: live, False: paused
    cursor = Signal(bool)
    export_csv = Signal(str)  # the file the operator chose
    export_png = Signal(str)

    def __init__(self, presets_s: tuple[float, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrendToolbar")
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.note = QLabel(self)
        self.note.setObjectName("TrendNote")
        layout.addWidget(self.note, 1)
        self.presets: dict[float, QToolButton] = {}
        for seconds in presets_s:
            button = self._button(span_text(seconds), f"Show the last {span_text(seconds)}")
            button.setCheckable(True)
            button.clicked.connect(lambda _=False, s=seconds: self.preset.emit(s))
            self.presets[seconds] = button
            layout.addWidget(button)
        layout.addSpacing(6)
        self.zoom_in = self._button("+", "Zoom in (time)")
        self.zoom_in.clicked.connect(lambda: self.zoom.emit(0.5))
        self.zoom_out = self._button("−", "Zoom out (time)")
        self.zoom_out.clicked.connect(lambda: self.zoom.emit(2.0))
        self.fit_button = self._button("Fit", "Fit the y axes to the data in view")
        self.fit_button.clicked.connect(self.fit.emit)
        self.cursor_button = self._button("Cursor", "Read every pen at one time")
        self.cursor_button.setCheckable(True)
        self.cursor_button.toggled.connect(self.cursor.emit)
        self.live_button = self._button("Pause", "Pause or resume scrolling")
        self.live_button.setCheckable(True)
        self.live_button.setChecked(True)
        self.live_button.toggled.connect(self.live.emit)
        self.export_button = self._button("Export…", "Save the visible range as CSV or PNG")
        self.export_button.setObjectName("TrendExport")
        # "Export…" says it opens something: the menu is not the button's own, so no style
        # draws its arrow over the last letter; a click opens it under the button
        self.export_menu = QMenu(self.export_button)
        self.export_menu.addAction("CSV…", lambda: self._ask("csv", self.export_csv))
        self.export_menu.addAction("PNG…", lambda: self._ask("png", self.export_png))
        self.export_button.clicked.connect(
            lambda: self.export_menu.popup(
                self.export_button.mapToGlobal(QPoint(0, self.export_button.height()))
            )
        )
        for button in (
            self.zoom_in,
            self.zoom_out,
            self.fit_button,
            self.cursor_button,
            self.live_button,
            self.export_button,
        ):
            layout.addWidget(button)
        self._notes: tuple[str, ...] = ()
        self._keep_note = False
        # What gives way first when the trend is narrow; Pause/Live always stays.
        self._optional: list[QWidget] = [
            *reversed(self.presets.values()),
            self.fit_button,
            self.export_button,
            self.zoom_out,
            self.zoom_in,
            self.cursor_button,
        ]

    def minimumSizeHint(self) -> QSize:
        return QSize(self.live_button.sizeHint().width(), super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_width(event.size().width())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit_width(self.width())

    def set_note(self, *texts: str, keep: bool = False) -> None:
        """What is shown, longest form first (``"Paused · 2025-03-01 06:00:00 – 06:15:00"``,
        ``"Paused · 06:00:00 – 06:15:00"``, ``"Paused"``). ``keep``: the note matters more
        than the buttons (a paused trend must say so): it gives way last, in its shorter
        forms; else it gives way first. Never cut: a form that does not fit is not shown."""
        self._notes = tuple(t for t in texts if t)
        self._keep_note = keep
        self.note.setText(self._notes[0] if self._notes else "")
        self.fit_width(self.width())

    def _note_px(self, text: str) -> int:
        margins = self.note.contentsMargins()
        return self.note.fontMetrics().horizontalAdvance(text) + margins.left() + margins.right()

    def fit_width(self, width: int) -> None:
        """Show as much as fits in ``width``, hiding the least needed parts first."""
        for widget in (self.live_button, self.note, *self._optional):
            widget.ensurePolished()  # size hints with the style sheet's padding
        spacing = self.layout().spacing()
        need = self.live_button.sizeHint().width() + 6
        needs = [w.sizeHint().width() + spacing for w in self._optional]
        notes = self._notes or (self.note.text(),)
        room = width - need - sum(needs)
        if self._keep_note:  # the longest form beside every button, else a shorter one alone
            fits = [t for t in notes if self._note_px(t) + spacing <= room]
            alone = [t for t in notes[1:] or notes if self._note_px(t) + spacing <= width - need]
            note = fits[0] if fits else (alone[0] if alone else "")
        else:  # the full note only if every button fits beside it
            note = notes[0] if self._note_px(notes[0]) + spacing <= room else ""
        self.note.setVisible(bool(note))
        if note:
            self.note.setText(note)
        total = need + sum(needs) + (self._note_px(note) + spacing if note else 0)
        for widget, each in zip(self._optional, needs, strict=True):
            widget.setVisible(total <= width)
            total -= each

    def _ask(self, kind: str, signal: SignalInstance) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export trend", f"trend.{kind}", f"{kind.upper()} (*.{kind})"
        )
        if path:
            signal.emit(path)

    def _button(self, text: str, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        return button

    def show_state(self, *, live: bool, span_s: float, cursor: bool) -> None:
        """Reflect the trend's state without emitting anything back."""
        for each in (self.live_button, self.cursor_button, *self.presets.values()):
            each.blockSignals(True)
        self.live_button.setChecked(live)
        self.live_button.setText("Pause" if live else "Live")
        self.live_button.setToolTip("Pause scrolling" if live else "Back to live: scroll to now")
        self.cursor_button.setChecked(cursor)
        for seconds, button in self.presets.items():
            button.setChecked(abs(seconds - span_s) < 1e-6 * seconds)
        for each in (self.live_button, self.cursor_button, *self.presets.values()):
            each.blockSignals(False)
