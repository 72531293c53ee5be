"""The audit trail as the runtime sees it: async appends, done in order on one worker thread,
with store-and-forward to a local spool while the central database is away (docs/audit.md).

* One thread does all database work in submission order: the UI loop never blocks, records
  keep their order; appends queued together are one commit, each caller answered after it.
* A failed central append starts *spooling*: this record and every later one go to the spool
  (a durable local SQLite chain) until it is empty again. Every ``retry`` seconds (capped
  backoff) the spool is forwarded oldest first: insert-if-absent by uuid, commit, then delete
  locally, so each record arrives once, chained on arrival (uuid, time, content kept).
* A refused audit key (``AuditKeyError``) spools loudly, retrying at the longest interval; a
  record stored nowhere fails its caller and blocks audited actions (``spool.AuditBlocked``).
* The spool is verified before anything leaves it (``hmi.storage.spool_check``): one that fails
  is kept as evidence, never forwarded nor counted as empty, recorded centrally
  (``audit_spool_rejected``), and a hold stands until an administrator releases it (a hold file
  removed without a recorded release is written again). With a ``HeadWitness`` the chain must
  extend the highest head this station saw (at start, after each append, every ``check_s``):
  one that went backwards is recorded (``audit_chain_behind``) and published (``trust``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from hmi.model.audit.record import AuditAction, AuditRecord, AuditResult
from hmi.model.errors import HmiError
from hmi.storage.audit import AuditKeyError, AuditStore
from hmi.storage.db import StorageError, short_error
from hmi.storage.shared.group_commit import append_gathered, settle
from hmi.storage.spool import AuditBlocked, SpoolStore, spool_writable
from hmi.storage.spool_check import SpoolHold, check_spool, quarantine, read_hold
from hmi.storage.spool_check import restore_lost_hold as _restore_lost_hold
from hmi.storage.witness import HeadWitness

log = logging.getLogger(__name__)

__all__ = ["AuditTrail", "AuditUnavailable", "TrailStatus"]

T = TypeVar("T")
_FORWARD_BATCH = 200
_GROUP_MAX = 256
_HOLD_POLL_S = 1.0


class AuditUnavailable(HmiError):
    """A record could be made durable nowhere (central database and spool both failed)."""


@dataclass(frozen=True, slots=True)
class TrailStatus:
    """What the status bar shows: ``spooling``, records wait on this station; ``key_refused``,
    because the central chain refuses its audit key (``detail`` says what to check)."""

    spooling: bool
    pending: int
    detail: str = ""
    key_refused: bool = False
    hold: str = ""  # a spool failed its check: what, and where it is kept (SpoolHold.describe)
    refusing: bool = False  # and audited actions are refused meanwhile (policy ``refuse``)
    trust: str = ""  # the central chain no longer extends a head this station witnessed
    blocked: str = ""  # records can be stored nowhere: audited actions refused (AuditBlocked)


@dataclass(slots=True)
class _Job:
    future: concurrent.futures.Future[Any]
    record: AuditRecord | None = None
    call: Callable[[], Any] | None = None


_STOP = object()


class AuditTrail:
    def __init__(
        self,
        store: AuditStore,
        spool: SpoolStore | None = None,
        *,
        on_status: Callable[[TrailStatus], None] | None = None,
        retry_s: float = 2.0,
        retry_max_s: float = 30.0,
        spool_failure: str = "refuse",
        identity: Mapping[str, str] | None = None,
        witness: HeadWitness | None = None,
    ) -> None:
        """``spool_failure``: ``refuse`` or ``warn`` (``database.spool_failure``);
        ``identity``: workstation and app_version for the records the trail makes itself."""
        self.store = store
        self.spool = spool
        self.spool_failure = spool_failure
        self._identity = dict(identity or {})
        self.witness = witness
        self._on_status = on_status
        self._retry_min = retry_s
        self._retry_max = retry_max_s
        self._retry = retry_s
        self._next_try = 0.0
        self._queue: queue.Queue[Any] = queue.Queue()
        self._held: Any = None
        self._standing: SpoolHold | None = None  # the hold last seen, if its file goes
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._spooling = False
        self._key_refused = False
        self._pending = 0
        self._status = TrailStatus(False, 0)
        self._blocked: AuditBlocked | None = None

    # -- public --------------------------------------------------------------------------------

    @property
    def spooling(self) -> bool:
        return self._spooling

    @property
    def hold(self) -> SpoolHold | None:
        """The standing hold on a spool that failed its check (read from its file, so an
        administrator's release from the command line counts at once)."""
        return None if self.spool is None else read_hold(self.spool.path)

    @property
    def refuses_actions(self) -> SpoolHold | AuditBlocked | None:
        """Why audited operator actions are refused now: records can be stored nowhere, or
        a hold stands and the policy says they wait for a decision."""
        return self._blocked or (self.hold if self.spool_failure == "refuse" else None)

    @property
    def status(self) -> TrailStatus:
        return self._status

    def start(self) -> None:
        if self._thread is not None:
            return
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        self._thread = threading.Thread(target=self._run, name="audit-trail", daemon=True)
        self._thread.start()

    def submit(self, record: AuditRecord) -> concurrent.futures.Future[AuditRecord]:
        """Queue an append from any thread; the future resolves once it is durable."""
        self.start()
        job = _Job(concurrent.futures.Future(), record=record)
        self._queue.put(job)
        return job.future

    async def append(self, record: AuditRecord) -> AuditRecord:
        """Make ``record`` durable (centrally, or in the spool) and return it as chained."""
        return await asyncio.wrap_future(self.submit(record))

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run other blocking database work (the user store) on the worker, in order."""
        self.start()
        job = _Job(concurrent.futures.Future(), call=lambda: fn(*args, **kwargs))
        self._queue.put(job)
        return await asyncio.wrap_future(job.future)

    async def forward_now(self) -> TrailStatus:
        """Try to forward the spool at once (e.g. from a status bar button)."""

        def attempt() -> TrailStatus:
            self._next_try = 0.0
            self._forward()
            return self._status

        return await self.call(attempt)

    async def aclose(self) -> None:
        if self._thread is None:
            return
        self._queue.put(_STOP)
        await asyncio.to_thread(self._thread.join)
        self._thread = None

    def close(self) -> None:
        """Stop the worker (after the jobs already queued) from synchronous code."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None

    # -- worker --------------------------------------------------------------------------------

    def _run(self) -> None:
        if self.spool is not None:
            self._standing = hold = self.hold or self._lost_hold(None)
            if hold is not None:
                self._publish(self._status.detail, hold=hold.describe())
            if self._spool_is_sound():
                self._pending = self.spool.pending()
            if self._pending:
                self._spooling = True
                self._publish(f"{self._pending} record(s) left from an earlier run")
                self._forward()
        self._observe_witness_if_due()
        while True:
            job = self._take()
            if job is None:
                self._forward_if_due()
                self._observe_witness_if_due()
                continue
            if job is _STOP:
                if self.witness is not None:
                    self.witness.save()
                return
            if job.call is not None:
                self._run_call(job)
                continue
            jobs = [job]
            self._gather(jobs)
            try:
                self._append(jobs)
            except BaseException as exc:  # a bug must not stop the worker and hang every caller
                log.exception("audit trail worker failed on %d record(s)", len(jobs))
                for waiting in jobs:
                    settle(waiting.future, error=exc)

    def _gather(self, jobs: list[_Job]) -> list[AuditRecord]:
        """Add the appends queued now to ``jobs`` (up to ``_GROUP_MAX``, stopping at other
        work, which waits its turn); returns their records. Called before an append and again
        once it holds the central head lock (``group_commit``): records that queued while this
        station waited for the lock join the same commit."""
        first = len(jobs)
        while len(jobs) < _GROUP_MAX and self._held is None:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is _STOP or more.call is not None:
                self._held = more
                break
            jobs.append(more)
        return [j.record for j in jobs[first:] if j.record is not None]

    def _take(self) -> Any:
        if self._held is not None:
            job, self._held = self._held, None
            return job
        timeout = max(0.05, self._next_try - time.monotonic()) if self._spooling else None
        if self._status.hold or self._blocked:  # an administrator's release, room on disk
            timeout = min(timeout or _HOLD_POLL_S, _HOLD_POLL_S)
        if self.witness is not None:
            due = self.witness.wait_s()
            timeout = due if timeout is None else min(timeout, due)
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            if self._blocked is not None and spool_writable(self._blocked.spool):
                self._unblock("there is room for the audit spool again")
            if self._status.hold and self.hold is None and self._lost_hold(self._standing) is None:
                log.warning("the audit spool hold was released; audited actions resume")
                self._publish(self._status.detail, hold="")
            return None

    def _lost_hold(self, standing: SpoolHold | None) -> SpoolHold | None:
        """A hold without its file and without a release recorded stands again, recorded."""
        assert self.spool is not None
        hold = _restore_lost_hold(
            self.store, self.spool.path, self._identity.get("workstation", ""), standing
        )
        if hold is not None:
            why = "the hold file was removed without an administrator's release; it stands again"
            self._record_own(AuditAction.AUDIT_SPOOL_REJECTED, reason=why, error=hold.problem,
                             target_address=f"file:{hold.evidence}")  # fmt: skip
        return hold

    @staticmethod
    def _run_call(job: _Job) -> None:
        assert job.call is not None
        if not job.future.set_running_or_notify_cancel():
            return
        try:
            job.future.set_result(job.call())
        except BaseException as exc:  # handed to the awaiting caller
            job.future.set_exception(exc)

    def _append(self, jobs: list[_Job]) -> None:
        placed: list[AuditRecord] | None = None
        error: BaseException | None = None
        if self._spooling:
            self._forward_if_due()
        if not self._spooling:
            try:
                placed = self._to_central(jobs)
            except (SQLAlchemyError, StorageError) as exc:
                if self.spool is None:
                    error = exc
                else:
                    self._enter_spooling(exc)
        records = [j.record for j in jobs if j.record is not None]  # with those gathered
        if placed is None and error is None and self.spool is not None:
            try:
                placed = self.spool.put(records)
                self._pending += len(placed)
                self._publish(self._status.detail)
            except (SQLAlchemyError, StorageError) as exc:
                log.critical("audit spool %s failed: %s", self.spool.path, exc)
                error = exc
                self._blocked = AuditBlocked(short_error(exc), self.spool.path)
                self._publish(self._status.detail)
        for index, job in enumerate(jobs):
            if error is not None:
                why = AuditUnavailable(f"the audit record could not be stored: {error}")
                settle(job.future, error=why)
            else:
                assert placed is not None
                settle(job.future, placed[index])

    def _to_central(self, jobs: list[_Job]) -> list[AuditRecord]:
        """Append centrally, with the appends that queued while the head lock was awaited
        (``group_commit``); a pooled connection found dead (the server restarted since) is
        retried once on a fresh one before the database counts as unreachable."""
        records = [j.record for j in jobs if j.record is not None]
        try:
            placed = append_gathered(self.store, records, lambda: self._gather(jobs))
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            records = [j.record for j in jobs if j.record is not None]
            placed = self.store.append_many(records, skip_existing=True)
        self._witnessed(placed)
        return placed

    # -- the station's witness of the head -----------------------------------------------------

    def _witnessed(self, placed: list[AuditRecord]) -> None:
        if self.witness is not None:
            problem = self.witness.after_append(placed)
            if problem is not None:
                self._chain_behind(problem)

    def _observe_witness_if_due(self) -> None:
        if self.witness is not None and not self._spooling:
            problem = self.witness.check_if_due(self.store)
            if problem is not None:
                self._chain_behind(problem)

    def _chain_behind(self, problem: str) -> None:
        """Record that the chain no longer extends the witnessed head; the witness is then
        kept as evidence and starts again from the chain as it is, while the status bar goes
        on saying what happened until the station restarts."""
        log.error("audit chain: %s", problem)
        self._publish(self._status.detail, trust=problem)
        where = f"file:{self.witness.path if self.witness else ''}"
        recorded = self._record_own(
            AuditAction.AUDIT_CHAIN_BEHIND, error=problem, target_address=where
        )
        if recorded and self.witness is not None:  # one incident, one record; the status stays
            with contextlib.suppress(SQLAlchemyError, StorageError):  # else again at next check
                self.witness.rebase(self.store)

    def _record_own(self, action: AuditAction, **fields: Any) -> bool:
        """A failed-result record the trail makes itself (with the station's identity):
        to the central chain, else the spool. True when it reached the central chain."""
        record = AuditRecord.create(
            action, result=AuditResult.FAILED, origin="audit trail",
            workstation=self._identity.get("workstation", ""),
            app_version=self._identity.get("app_version", ""), **fields,
        )  # fmt: skip
        try:
            self.store.append_many([record])
            return True
        except (SQLAlchemyError, StorageError) as exc:
            if self.spool is None:
                log.error("audit record %s could not be stored: %s", action.value, short_error(exc))
                return False
            self._enter_spooling(exc)
            self.spool.put([record])
            self._pending += 1
            return False

    def _enter_spooling(self, exc: BaseException) -> None:
        self._spooling = True
        self._retry = self._retry_min
        self._note_failure(exc)
        if self._key_refused:
            detail = _problem(exc)
        else:
            detail = f"central audit database unreachable ({short_error(exc)}); recording locally"
            log.warning("%s: spooling to %s", detail, self.spool.path if self.spool else "-")
        self._publish(detail)

    def _note_failure(self, exc: BaseException) -> None:
        """When to try the central database next: a refused key cannot change while the
        station runs, so it is tried again only at the longest interval (and logged once)."""
        refused = isinstance(exc, AuditKeyError)
        if refused and not self._key_refused:
            log.error(
                "%s; audit records are kept in the spool %s until the station runs with the "
                "right key", exc, self.spool.path if self.spool else "-",
            )  # fmt: skip
        self._key_refused = refused
        self._retry = self._retry_max if refused else self._retry
        self._next_try = time.monotonic() + self._retry

    def _forward_if_due(self) -> None:
        if self._spooling and time.monotonic() >= self._next_try:
            self._forward()

    def _spool_is_sound(self) -> bool:
        """Verify the spool; one that fails is quarantined, recorded centrally, and held."""
        assert self.spool is not None
        problem = check_spool(self.spool)
        if problem is None:
            return True
        hold = quarantine(self.spool, problem)
        self.spool = self.spool.fresh()
        self._pending = 0
        self._spooling = False
        self._record_own(
            AuditAction.AUDIT_SPOOL_REJECTED, target_address=f"file:{hold.evidence}",
            error=problem, reason="the spool failed its check before forwarding; kept as evidence",
        )  # fmt: skip
        self._standing = hold
        self._publish(self._status.detail, hold=hold.describe())
        return False

    def _forward(self) -> None:
        """Move the spool to the central chain, oldest first; stop at the first failure.
        The whole spool is verified first: one that fails is not forwarded at all."""
        if self.spool is None:
            return
        if self._pending and not self._spool_is_sound():
            return
        forwarded = 0
        try:
            while True:
                batch = self.spool.peek(_FORWARD_BATCH)
                if not batch:
                    break
                self.store.append_many(batch, skip_existing=True)
                self.spool.remove([r.uuid for r in batch])
                forwarded += len(batch)
                self._pending = max(0, self._pending - len(batch))
        except (SQLAlchemyError, StorageError) as exc:
            self._retry = min(self._retry * 2, self._retry_max)
            self._note_failure(exc)
            if forwarded:
                self._publish(f"forwarded {forwarded}, then: {short_error(exc)}")
            else:
                self._publish(_problem(exc))
            return
        if not forwarded and not self._spooling:
            return
        self._spooling = False
        self._key_refused = False
        self._pending = 0
        self._retry = self._retry_min
        self._unblock("the central audit database takes records again")
        if forwarded:
            log.info("forwarded %d spooled audit record(s) to %s", forwarded, self.store.url)
        self._publish(f"forwarded {forwarded} record(s)" if forwarded else "")

    def _publish(self, detail: str, *, hold: str | None = None, trust: str | None = None) -> None:
        hold = self._status.hold if hold is None else hold
        trust = self._status.trust if trust is None else trust
        status = TrailStatus(
            self._spooling, self._pending, detail, self._key_refused, hold,
            bool(hold) and self.spool_failure == "refuse", trust,
            self._blocked.describe() if self._blocked else "",
        )  # fmt: skip
        if status == self._status:
            return
        self._status = status
        callback, loop = self._on_status, self._loop
        if callback is None:
            return
        if loop is None:
            callback(status)
            return
        with contextlib.suppress(RuntimeError):  # a closed loop: the station is stopping
            loop.call_soon_threadsafe(callback, status)

    def _unblock(self, why: str) -> None:
        if self._blocked is not None:
            log.warning("%s; audited actions resume", why)
            self._blocked = None
            self._publish(self._status.detail)


def _problem(exc: BaseException) -> str:
    """Why the spool cannot be forwarded, for the status bar."""
    if isinstance(exc, AuditKeyError):
        return f"audit key refused; records are kept on this station: {exc}"
    return f"central audit database unreachable ({short_error(exc)})"
