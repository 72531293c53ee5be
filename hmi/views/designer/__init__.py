"""The screen designer's Qt half: design mode on the station window (``mode``), the overlay
that edits the canvas (``overlay``), the screen being edited (``editor``), its undo stack
entries (``undo``) and the design tools (``toolbar``). The pure half is ``hmi.model.design``."""

from hmi.views.designer.editor import ScreenEditor
from hmi.views.designer.mode import DESIGN_SHORTCUT, DesignMode, open_screen_document
from hmi.views.designer.overlay import DesignOverlay

__all__ = ["DESIGN_SHORTCUT", "DesignMode", "DesignOverlay", "ScreenEditor", "open_screen_document"]
