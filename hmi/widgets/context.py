"""What every screen widget is given when a screen is built."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from hmi.model.tags import TagConfig
from hmi.runtime.history import HistorySource
from hmi.runtime.qt_bridge import QtTagBridge

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget


class PlacedMark(Protocol):
    """A mark shown on a bound widget: it follows the widget's size and corner."""

    def place(self) -> None: ...

    def set_size(self, size: int) -> None: ...


Mark = TypeVar("Mark", bound=PlacedMark)


class MarkSource(Protocol[Mark]):
    """Where a bound widget gets its alarm mark (``hmi.widgets.alarm_mark.AlarmMarks``). A
    protocol, so this module (under every widget) does not import the marks (over the base)."""

    def attach(self, host: QWidget, tag: str) -> Mark: ...

    def detach(self, mark: Mark, tag: str) -> None: ...


@dataclass(frozen=True)
class WidgetContext:
    bridge: QtTagBridge  # bind(tag, callback) -> Binding; submit_write(tag, value, origin)
    tags: Mapping[str, TagConfig]
    navigate: Callable[[str], None]  # go to a screen by id
    open_faceplate: Callable[[str, Mapping[str, str]], None]  # template id, params
    project_root: Path  # images and custom symbols are relative to it
    screen_id: str  # for the origin of commands: "<screen>/<widget id>"
    history: HistorySource | None = None  # where trends backfill what the live buffer lacks
    alarms: MarkSource[Any] | None = None  # alarm marks on bound widgets
