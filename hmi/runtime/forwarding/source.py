"""Where forwarding reads from and how far it got: the audit trail and the alarm journal read
after a position (``Position``), and that position kept in a file (``ForwardCursor``) so a
restart resumes where the collector last confirmed."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from hmi.model.alarms.kpi import JournalEvent
from hmi.model.audit.record import AuditRecord
from hmi.storage.alarm_journal import AlarmJournal
from hmi.storage.audit import AuditQuery, AuditStore
from hmi.storage.db import private_file

__all__ = ["EventSource", "ForwardCursor", "Position"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Position:
    """The last audit sequence and the last alarm journal row id delivered (0: none)."""

    audit: int = 0
    alarms: int = 0


class ForwardCursor:
    """The position in a small JSON file, replaced atomically (write, fsync, rename): a crash
    leaves the old position or the new one, never half of one. ``key`` names what it is a
    position of (the database and the collector): a file for another pair is not used."""

    def __init__(self, path: Path, *, key: str) -> None:
        self.path = path
        self.key = key

    def load(self) -> Position:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return Position()
        except (OSError, ValueError) as exc:
            log.error("forwarding cursor %s unreadable (%s): starting from the beginning",
                      self.path, exc)  # fmt: skip
            return Position()
        if not isinstance(data, dict) or data.get("key") != self.key:
            log.warning("forwarding cursor %s is for %r: starting from the beginning",
                        self.path, data.get("key") if isinstance(data, dict) else None)  # fmt: skip
            return Position()
        return Position(int(data.get("audit", 0)), int(data.get("alarms", 0)))

    def save(self, position: Position) -> None:
        private_file(self.path)
        temporary = self.path.with_name(self.path.name + ".tmp")
        body = {"key": self.key, "audit": position.audit, "alarms": position.alarms}
        with open(temporary, "w", encoding="utf-8") as out:
            json.dump(body, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)


class EventSource:
    """Reads the audit trail and the alarm journal of one database, oldest first, after a
    position; ``workstation``: only that station's records (``forwarding.scope: station``).
    Blocking (a database), called from the forwarder's own thread."""

    def __init__(
        self,
        audit: AuditStore,
        alarms: AlarmJournal | None,
        *,
        workstation: str | None = None,
    ) -> None:
        self.audit = audit
        self.alarms = alarms
        self.workstation = workstation

    @classmethod
    def open(cls, url: str, *, alarms: bool = True, workstation: str | None = None) -> EventSource:
        return cls(
            AuditStore.open(url, migrate=False),
            AlarmJournal.open(url, migrate=False) if alarms else None,
            workstation=workstation,
        )

    def close(self) -> None:
        self.audit.close()
        if self.alarms is not None:
            self.alarms.close()

    def audit_after(self, sequence: int, limit: int) -> list[AuditRecord]:
        query = AuditQuery(first_sequence=sequence + 1, workstation=self.workstation)
        return self.audit.page(query, limit=limit, newest_first=False).records

    def alarms_after(self, row: int, limit: int) -> list[JournalEvent]:
        if self.alarms is None:
            return []
        return self.alarms.after(row, limit=limit, workstation=self.workstation)

    def backlog(self, position: Position) -> int:
        """Events stored after ``position`` (alarm events of other stations included when the
        scope is this station's: an upper bound then)."""
        audit = self.audit.count(
            AuditQuery(first_sequence=position.audit + 1, workstation=self.workstation)
        )
        if self.alarms is None:
            return audit
        return audit + max(0, self.alarms.last_id() - position.alarms)
