"""Windows and dialogs: the main window, screen canvas, faceplates, live reload.

Import from the modules (``hmi.views.main_window`` etc.); this package imports nothing, so a
tool that needs one view does not load them all."""
