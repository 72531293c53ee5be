"""Pictures Qt paints alone, drawn from Python only when what they show changes.

No screen widget paints from Python. With the network drivers decoding on an I/O thread, every
Python ``paintEvent`` waits for the GIL, once per widget per frame: 500 symbols, or values with
quality badges or alarm marks, painted in 30-47 ms alone and 120-780 ms beside a busy Python
thread; as cached pictures, in 10-20 ms and 22-38 ms. So the pictures of the quality badge, the
alarm mark, symbols and images are drawn once per (state, colours, size, pixel ratio) into a
``PixmapCache`` when one of those changes, and shown by a widget whose painting is all C++: a
``QLabel``'s pixmap, or a ``CornerMark``'s background on widgets that may be disabled.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QWidget

T = TypeVar("T")

__all__ = ["EVERY_ROLE", "CornerMark", "PixmapCache", "draw_pixmap"]


def draw_pixmap(width: int, height: int, dpr: float, paint: Callable[[QPainter], None]) -> QPixmap:
    """A transparent ``width`` x ``height`` pixmap (device-independent pixels) for a screen of
    pixel ratio ``dpr``, painted by ``paint``."""
    pixmap = QPixmap(max(1, math.ceil(width * dpr)), max(1, math.ceil(height * dpr)))
    pixmap.setDevicePixelRatio(dpr)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    try:
        paint(painter)
    finally:
        painter.end()
    return pixmap


class PixmapCache:
    """Pictures drawn once per (key, size, pixel ratio) and shared by every widget showing the
    same one. Bounded: the least recently used go first, since sizes follow the window's
    scaling."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._pixmaps: OrderedDict[Hashable, QPixmap] = OrderedDict()

    def __len__(self) -> int:
        return len(self._pixmaps)

    def get(
        self,
        key: Hashable,
        width: int,
        height: int,
        dpr: float,
        paint: Callable[[QPainter], None],
    ) -> QPixmap:
        full = (key, width, height, dpr)
        return self._lru(self._pixmaps, full, lambda: draw_pixmap(width, height, dpr, paint))

    def _lru(self, store: OrderedDict[Hashable, T], key: Hashable, make: Callable[[], T]) -> T:
        """``store[key]``, made on a miss; the least recently used goes past ``limit``."""
        found = store.get(key)
        if found is not None:
            store.move_to_end(key)
            return found
        made = store[key] = make()
        if len(store) > self.limit:
            store.popitem(last=False)
        return made


class CornerMark(QWidget):
    """A small picture in a corner of a host widget (quality badge, alarm mark), painted by Qt
    alone: the picture is the brush its background is filled with, in every colour group of
    its palette, so it looks the same while disabled, as its host may be (write widgets are
    disabled while their tag is Bad); a label would grey its pixmap, and a tool button's style
    would shrink its icon inside a frame margin. It takes no mouse, focus or key."""

    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Window)  # not a button host's role
        self.picture: QPixmap | None = None

    def show_picture(self, picture: QPixmap) -> None:
        """Show ``picture`` (drawn at the mark's size)."""
        if self.picture is not None and self.picture.cacheKey() == picture.cacheKey():
            return
        self.picture = picture
        key = picture.cacheKey()
        palette = _PALETTES.get(key)
        if palette is None:
            palette = QPalette()
            palette.setBrush(QPalette.ColorRole.Window, QBrush(picture))
            # every role its own: a change of the host's palette (its look) does not reach
            # the mark (no re-resolve, no PaletteChange event, no repaint of the mark)
            palette.setResolveMask(EVERY_ROLE)
            _PALETTES[key] = palette
            if len(_PALETTES) > _PALETTE_LIMIT:
                _PALETTES.popitem(last=False)
        self.setPalette(palette)


_PALETTES: OrderedDict[int, QPalette] = OrderedDict()  # by picture: shared by every mark
_PALETTE_LIMIT = 256
EVERY_ROLE = (1 << 64) - 1
"""A ``QPalette`` resolve mask (one bit per group and role) that makes every role the palette's
own: a widget wears it as it is, neither resolved against nor changed by its parent's."""
