"""The screen designer's Qt half: design mode on the station window (``mode``), the overlay
that edits the canvas (``overlay``), the screen being edited (``editor``), its undo stack
entries (``undo``) and the design tools (``toolbar``). The pure half is ``hmi.model.design``.

Import from the modules: a station builds ``mode.DesignMode`` (its action and tool bar) at
start, and the rest loads when an engineer first designs a screen."""
