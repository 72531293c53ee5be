"""What the log says about a line: one line when something changes, a summary while it stays
bad, never a line per poll.

The connection (lost with its reason, restored with how long it was down), each block whose
reads fail (garbled answers, ServerDeviceFailure) and each silent unit get one WARNING when
they go bad and one INFO when they are good again. While any of them stays bad, one WARNING
every ``summary_s`` says what is still wrong and how often it failed meanwhile. A connection
lost again within ``summary_s`` of its last loss and restored at once (a gateway that closes
connections now and then) is only counted in that summary.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from hmi.drivers.base import ConnectionState

__all__ = ["LineLog"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Trouble:
    """Something bad since ``since``: ``count`` failures, the last one said ``detail``."""

    since: float
    detail: str
    count: int = 1
    quiet: bool = False


class LineLog:
    """The log of one connection named ``name``. ``clock`` is monotonic seconds."""

    def __init__(
        self, name: str, *, summary_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.name = name
        self.summary_s = summary_s
        self._clock = clock
        self._connected_once = False
        self._down: _Trouble | None = None
        self._last_loss: float | None = None
        self._flaps = 0  # connections lost soon after the previous loss, since the summary
        self._flap_detail = ""
        self.failing: dict[str, _Trouble] = {}
        """Blocks whose reads fail, by their text (``unit 1 holding 0..9``)."""
        self._silent: dict[int, _Trouble] = {}
        self._summary_at = 0.0

    def line(self, state: ConnectionState, detail: str) -> None:
        now = self._clock()
        if state is ConnectionState.CONNECTED:
            down, self._down = self._down, None
            if down is not None and not down.quiet:
                log.info(
                    "%s: connection restored after %.1f s down (%d failed attempts): %s",
                    self.name, now - down.since, down.count - 1, detail,
                )  # fmt: skip
            elif not self._connected_once:
                log.info("%s: connected: %s", self.name, detail)
            self._connected_once = True
        elif state is ConnectionState.FAILED:
            log.error("%s: connection failed, not retried: %s", self.name, detail)
        elif state is ConnectionState.DISCONNECTED:
            down = self._down
            if down is None:
                # Lost again soon after the last loss (a gateway that closes its connections
                # now and then): counted for the summary; logged once it outlasts a reconnect.
                quiet = self._last_loss is not None and now - self._last_loss < self.summary_s
                self._first_trouble(now)
                self._down = _Trouble(now, detail, quiet=quiet)
                self._last_loss = now
                if quiet:
                    self._flaps += 1
                    self._flap_detail = detail
                else:
                    lost = "connection lost" if self._connected_once else "cannot connect"
                    log.warning("%s: %s: %s", self.name, lost, detail)
                return
            down.count += 1
            if down.quiet:
                down.quiet = False
                log.warning(
                    "%s: connection lost: %s; reconnecting failed: %s",
                    self.name, down.detail, detail,
                )  # fmt: skip
            down.detail = detail
            self.tick()

    def block_failed(self, block: str, detail: str) -> None:
        trouble = self.failing.get(block)
        if trouble is None:
            now = self._clock()
            self._first_trouble(now)
            self.failing[block] = _Trouble(now, detail)
            log.warning("%s: %s: %s", self.name, block, detail)
            return
        trouble.count += 1
        trouble.detail = detail
        self.tick()

    def block_read(self, block: str) -> None:
        trouble = self.failing.pop(block, None)
        if trouble is not None:
            log.info(
                "%s: %s read again after %d failed reads in %.1f s",
                self.name, block, trouble.count, self._clock() - trouble.since,
            )  # fmt: skip

    def unit(self, unit: int, online: bool, detail: str) -> None:
        now = self._clock()
        if online:
            trouble = self._silent.pop(unit, None)
            if trouble is not None:
                log.info(
                    "%s: unit %d answers again after %.1f s", self.name, unit, now - trouble.since
                )
            return
        if unit not in self._silent:
            self._first_trouble(now)
            self._silent[unit] = _Trouble(now, detail)
            log.warning("%s: unit %d does not answer: %s", self.name, unit, detail)

    def forget_units(self) -> None:
        """A new link: every unit gets a fresh chance (and a fresh line when it fails)."""
        self._silent.clear()

    def _bad(self) -> bool:
        return bool(self._down or self._flaps or self.failing or self._silent)

    def _first_trouble(self, now: float) -> None:
        if not self._bad():
            self._summary_at = now + self.summary_s

    def tick(self) -> None:
        """The summary, if anything is still bad and the last one is ``summary_s`` old."""
        if not self._bad():
            return
        now = self._clock()
        if now < self._summary_at:
            return
        self._summary_at = now + self.summary_s
        parts = []
        if self._flaps:
            parts.append(
                f"connection lost and restored {self._flaps} times more in the last "
                f"{self.summary_s:.0f} s, last: {self._flap_detail}"
            )
            self._flaps = 0
        if self._down is not None:
            parts.append(
                f"not connected for {now - self._down.since:.0f} s, {self._down.count} failed "
                f"attempts, last: {self._down.detail}"
            )
        for block, trouble in self.failing.items():
            parts.append(
                f"{block} failing for {now - trouble.since:.0f} s, {trouble.count} failed "
                f"reads, last: {trouble.detail}"
            )
        for unit, trouble in sorted(self._silent.items()):
            parts.append(f"unit {unit} silent for {now - trouble.since:.0f} s")
        log.warning("%s: still bad: %s", self.name, "; ".join(parts))
