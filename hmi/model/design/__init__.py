"""The screen designer's pure half: edits to a screen file and the document they apply to.

The Qt designer (`hmi/views/designer/`) turns mouse and keyboard into `Edit` values and applies
them to a `DesignDocument`; each `apply` returns the edit that undoes it, which is what the undo
stack keeps. Nothing here imports Qt.
"""

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
