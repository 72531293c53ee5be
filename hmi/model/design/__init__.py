"""The screen designer's pure half: edits to a screen file and the document they apply to.

The Qt designer (`hmi/views/designer/`) turns mouse and keyboard into `Edit` values and applies
them to a `DesignDocument`; each `apply` returns the edit that undoes it, which is what the undo
stack keeps. Nothing here imports Qt.

The names below are loaded on first use: a station that shows screens (``WidgetPath``, from
``edits``) does not load ruamel.yaml (``document``) until a screen is designed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hmi.model import lazy

if TYPE_CHECKING:
    from hmi.model.design.document import ScreenDocument, WidgetText
    from hmi.model.design.edits import (
        REMOVE,
        Batch,
        DesignDocument,
        Edit,
        InsertWidget,
        MoveWidget,
        RemoveWidget,
        SetFields,
        WidgetPath,
    )

__all__ = [
    "REMOVE",
    "Batch",
    "DesignDocument",
    "Edit",
    "InsertWidget",
    "MoveWidget",
    "RemoveWidget",
    "ScreenDocument",
    "SetFields",
    "WidgetPath",
    "WidgetText",
]

_HOME = {name: "edits" for name in __all__} | {
    "ScreenDocument": "document",
    "WidgetText": "document",
}

__getattr__ = lazy.exports(__name__, _HOME)
