"""A spool is checked before anything leaves it, and one that fails is kept as evidence.

Records wait in the station's spool while the central database is away. Whoever can write the
station's files can edit or delete them there, so before a forward the whole spool is verified
(its own hash chain, ``SpoolStore.verify``). A spool that fails, or cannot be read at all, is
never forwarded and never counted as empty: it is renamed beside itself
(``audit-spool.rejected-<UTC time>.sqlite``), a fresh spool takes its place, and a *hold* is
written (``audit-hold.json`` beside the spool, 0600) that names the problem and the evidence.
While the hold stands and the project's ``database.spool_failure`` is ``refuse`` (the default),
the station refuses audited operator actions (IEC 62443-3-3 SR 2.10: response to audit
processing failures) until an administrator decides and releases it
(``hmi audit spool release``). The hold outlives a restart.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from hmi.model.audit.record import AuditAction
from hmi.model.errors import HmiError
from hmi.storage.audit import AuditStore
from hmi.storage.audit_query import AuditQuery
from hmi.storage.db import private_file
from hmi.storage.spool import SpoolStore

log = logging.getLogger(__name__)

__all__ = [
    "SpoolHold", "check_spool", "hold_path", "quarantine", "read_hold", "release_hold",
    "restore_lost_hold", "unreleased_hold", "write_hold",
]  # fmt: skip

HOLD_FILE = "audit-hold.json"


@dataclass(frozen=True, slots=True)
class SpoolHold:
    """A spool that failed its check: what was wrong, where it is kept, since when (UTC)."""

    problem: str
    evidence: str
    since: str

    def describe(self) -> str:
        return (
            f"the audit spool failed its check ({self.problem}); it is kept as "
            f"{self.evidence} and nothing of it was forwarded"
        )

    def refusal(self) -> str:
        return (
            "refused until an administrator decides on the audit spool that failed its "
            "check (hmi audit spool show)"
        )


def hold_path(spool_path: Path) -> Path:
    return spool_path.with_name(HOLD_FILE)


def check_spool(spool: SpoolStore) -> str | None:
    """None when the spool may be forwarded, else what is wrong with it. A file that is not a
    readable spool is a problem, never an empty spool."""
    if not spool.path.exists():
        return None
    try:
        if spool.pending() == 0:
            return None
        result = spool.verify()
    except (SQLAlchemyError, HmiError, sqlite3.Error, OSError) as exc:
        return f"it cannot be read: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    if result.ok:
        return None
    try:
        if spool.written_with_another_key():
            log.warning(
                "the audit spool %s was written with another audit key (a station that ran "
                "with a wrong key): its links are intact, its content cannot be checked with "
                "this key; forwarding it", spool.path,
            )  # fmt: skip
            return None
    except (SQLAlchemyError, HmiError, sqlite3.Error, OSError):
        pass
    return str(result.first_problem or "its hash chain is broken")


def quarantine(spool: SpoolStore, problem: str) -> SpoolHold:
    """Close ``spool``, rename its files beside themselves, write and return the hold."""
    spool.close()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = spool.path
    kept = path.with_name(f"{path.stem}.rejected-{stamp}{path.suffix}")
    for suffix in ("", "-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, kept.with_name(kept.name + suffix))
    hold = SpoolHold(problem, str(kept), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    write_hold(path, hold)
    log.error("%s", hold.describe())
    return hold


def write_hold(spool_path: Path, hold: SpoolHold) -> None:
    target = hold_path(spool_path)
    private_file(target)
    target.write_text(json.dumps(asdict(hold), indent=1) + "\n", encoding="utf-8")


def unreleased_hold(store: AuditStore, workstation: str) -> SpoolHold | None:
    """A hold the central chain knows of and no administrator released: the newest
    ``audit_spool_rejected`` of ``workstation`` whose evidence no ``audit_spool_released``
    names. The hold file is the station's OS user's to delete; the chain is not, so a hold
    whose file went without a recorded decision is found here and stands again."""
    rejected, released = AuditAction.AUDIT_SPOOL_REJECTED, AuditAction.AUDIT_SPOOL_RELEASED
    query = AuditQuery(actions=(rejected, released))
    open_holds: dict[str, SpoolHold] = {}
    for record in store.iter_records(query):
        evidence = record.target_address.removeprefix("file:")
        if record.action is released:
            open_holds.pop(evidence, None)
        elif record.workstation == workstation:
            when = record.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ")
            open_holds[evidence] = SpoolHold(record.error, evidence, when)
    return list(open_holds.values())[-1] if open_holds else None


def read_hold(spool_path: Path) -> SpoolHold | None:
    """The hold standing for the spool at ``spool_path``, if any. A hold file that cannot be
    read still holds: it says so."""
    target = hold_path(spool_path)
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        return SpoolHold(f"the hold file cannot be read: {exc}", str(target), "")
    try:
        data = json.loads(text)
        return SpoolHold(str(data["problem"]), str(data["evidence"]), str(data["since"]))
    except (ValueError, KeyError, TypeError):
        return SpoolHold("the hold file is damaged", str(target), "")


def release_hold(spool_path: Path) -> SpoolHold | None:
    """Lift the hold (an administrator decided); the evidence stays where it is kept."""
    hold = read_hold(spool_path)
    if hold is not None:
        hold_path(spool_path).unlink(missing_ok=True)
    return hold


def restore_lost_hold(
    store: AuditStore, spool_path: Path, workstation: str, standing: SpoolHold | None
) -> SpoolHold | None:
    """The hold file is gone (or was never found at start): the hold that still stands, its
    file written again, or None when an administrator's release is recorded (or none was
    ever rejected). ``standing``: the hold the station knew of, kept while the central chain
    cannot say (a release is always recorded there first)."""
    try:
        hold = unreleased_hold(store, workstation)
    except (SQLAlchemyError, HmiError) as exc:
        log.warning("cannot look for a release of the audit spool hold now: %s", exc)
        hold = standing
    if hold is not None:
        log.error("the audit spool hold file %s was removed without an administrator's "
                  "release; the hold stands again", hold_path(spool_path))  # fmt: skip
        write_hold(spool_path, hold)
    return hold
