"""Windows and dialogs: the main window, header, status bar, navigation, screen canvas,
faceplates; a package per concern: ``alarms``, ``audit``, ``login``, ``reload`` (live reload).

Import from the modules (``hmi.views.main_window`` etc.); this package imports nothing, so a
tool that needs one view does not load them all."""
