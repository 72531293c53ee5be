"""The audible side of the alarm banner: when a new alarm of a sounding priority comes (high
and critical), the horn plays a short tone, and again every ``repeat_s`` while that alarm stays
unacknowledged, until the operator silences it; the next new alarm sounds again.

QtMultimedia is not in PySide6-Essentials, so ``SystemTone`` plays ``sounds/alarm.wav`` with
the platform's own player (winsound, afplay, paplay/pw-play/aplay) and falls back to
``QApplication.beep()``. Anything with ``play()`` can stand in (tests count the tones).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.states import UNACKNOWLEDGED, AlarmEvent, AlarmState, AlarmStatus
from hmi.model.errors import ConfigError
from hmi.resources import resources_dir

__all__ = ["SOUNDING", "AlarmHorn", "SystemTone", "ToneOutput"]

log = logging.getLogger(__name__)

SOUNDING = frozenset({Priority.CRITICAL, Priority.HIGH})
_PLAYERS = (("paplay",), ("pw-play",), ("aplay", "-q"))


class ToneOutput(Protocol):
    def play(self) -> None:
        """Start the tone and return at once."""
        ...


def alarm_sound() -> Path | None:
    try:
        path = resources_dir() / "sounds" / "alarm.wav"
    except ConfigError:
        return None
    return path if path.is_file() else None


class SystemTone:
    """The alarm tone through the platform's player, or the system beep."""

    def __init__(self, wav: Path | None = None) -> None:
        self.wav = wav or alarm_sound()
        self._command: list[str] | None = None
        if self.wav is not None and sys.platform != "win32":
            players = (("afplay",),) if sys.platform == "darwin" else _PLAYERS
            for player in players:
                exe = shutil.which(player[0])
                if exe:
                    self._command = [exe, *player[1:], str(self.wav)]
                    break
        self._process: subprocess.Popen[bytes] | None = None

    def play(self) -> None:
        try:
            if self.wav is not None and sys.platform == "win32":
                import winsound

                winsound.PlaySound(
                    str(self.wav),
                    winsound.SND_FILENAME | winsound.SND_ASYNC | winsound.SND_NODEFAULT,
                )
                return
            if self._command is not None:
                if self._process is not None and self._process.poll() is None:
                    return  # still playing the last one
                self._process = subprocess.Popen(
                    self._command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                return
        except (OSError, RuntimeError) as exc:
            log.warning("alarm tone: %s; using the system beep", exc)
            self._command = None
        QApplication.beep()


class AlarmHorn(QObject):
    """Decides when the tone sounds; ``sounding`` is true from a new alarm of a sounding
    priority until silenced or until no such alarm is unacknowledged any more."""

    sounding_changed = Signal(bool)

    def __init__(
        self,
        output: ToneOutput,
        *,
        priorities: frozenset[Priority] = SOUNDING,
        repeat_s: float = 10.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.output = output
        self.priorities = priorities
        self.sounding = False
        self._waiting: set[str] = set()  # new, still unacknowledged, since the last silence
        self._repeat = QTimer(self)
        self._repeat.setInterval(max(1, round(repeat_s * 1000)))
        self._repeat.timeout.connect(self._again)
        self._repeat_on = repeat_s > 0

    def on_event(self, event: AlarmEvent) -> None:
        """Call with every alarm event, in order."""
        if event.priority not in self.priorities:
            return
        if event.to_state is AlarmState.UNACK and event.from_state is not AlarmState.UNACK:
            self._waiting.add(event.alarm_id)
            self.output.play()
            if self._repeat_on:
                self._repeat.start()
            self._set(True)
        elif event.to_state not in UNACKNOWLEDGED:
            self._waiting.discard(event.alarm_id)
            if not self._waiting:
                self.silence()

    def check(self, summary: list[AlarmStatus]) -> None:
        """Stop once none of the alarms that sounded is unacknowledged any more."""
        unack = {s.alarm_id for s in summary if s.state in UNACKNOWLEDGED}
        self._waiting &= unack
        if self.sounding and not self._waiting:
            self.silence()

    def silence(self) -> None:
        """Quiet until the next new alarm."""
        self._repeat.stop()
        self._waiting.clear()
        self._set(False)

    def _again(self) -> None:
        if self.sounding:
            self.output.play()

    def _set(self, sounding: bool) -> None:
        if sounding != self.sounding:
            self.sounding = sounding
            self.sounding_changed.emit(sounding)
