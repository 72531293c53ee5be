"""What the edge node knows of its primary host application (Sparkplug B 3.0, "Primary Host
Application"): the host publishes ``spBv1.0/STATE/<host_id>``, retained, as JSON
``{"online": bool, "timestamp": ms}``. A STATE older than the last one seen is ignored (a stale
retained message must not undo a newer one); a STATE that is not that JSON is logged and
changes nothing."""

from __future__ import annotations

import json
import logging

__all__ = ["PrimaryHost"]

log = logging.getLogger(__name__)


class PrimaryHost:
    def __init__(self, host_id: str | None) -> None:
        self.host_id = host_id
        self.online = host_id is None  # no primary host configured: always "online"
        self.timestamp = -1  # of the last STATE taken

    @property
    def topic(self) -> str | None:
        return None if self.host_id is None else f"spBv1.0/STATE/{self.host_id}"

    def new_session(self) -> None:
        """A new MQTT session: the host is not known to be online until its STATE (retained)
        arrives again."""
        if self.host_id is not None:
            self.online = False

    def update(self, data: bytes) -> bool:
        """Take a STATE payload; True when the host's online state changed."""
        try:
            online, timestamp = _parse(data)
        except ValueError as exc:
            log.warning(
                "mqtt: STATE of primary host %r not understood (%s): %r; still taken as %s",
                self.host_id, exc, data[:80], "online" if self.online else "offline",
            )  # fmt: skip
            return False
        if timestamp < self.timestamp:
            log.info(
                "mqtt: STATE of primary host %r ignored: timestamp %d is older than %d",
                self.host_id, timestamp, self.timestamp,
            )  # fmt: skip
            return False
        self.timestamp = timestamp
        changed = online != self.online
        self.online = online
        return changed


def _parse(data: bytes) -> tuple[bool, int]:
    try:
        state = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg}") from None
    if not isinstance(state, dict):
        raise ValueError("not a JSON object")
    online, timestamp = state.get("online"), state.get("timestamp")
    if not isinstance(online, bool):
        raise ValueError('"online" is not true or false')
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or timestamp < 0:
        raise ValueError('"timestamp" is not a number of milliseconds')
    return online, timestamp
