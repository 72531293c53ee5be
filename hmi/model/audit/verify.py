"""Walking the audit chain: streams records (constant memory), counts them and names the first
broken one (which record, and what is wrong with it) for ``hmi audit verify``."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hmi.model.audit.record import (
    GENESIS_HASH,
    AuditRecord,
    canonical_joined,
    canonical_row,
    chain_hash,
)

__all__ = ["ChainProblem", "ChainVerifier", "ProblemKind", "VerifyResult", "verify_chain"]


class ProblemKind(StrEnum):
    CONTENT_CHANGED = "content_changed"  # the hash does not match the record's content
    LINK_BROKEN = "link_broken"  # prev_hash is not the hash of the record before
    GAP = "gap"  # sequence numbers missing: records deleted
    DUPLICATE = "duplicate"  # a sequence number twice: a record inserted
    OUT_OF_ORDER = "out_of_order"
    FOREIGN = "foreign"  # a record the chain goes around: added outside the audit store
    HEAD_MISMATCH = "head_mismatch"  # the chain does not end where the store says it does


@dataclass(frozen=True, slots=True)
class ChainProblem:
    kind: ProblemKind
    sequence: int
    uuid: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """How a walk along the chain went: ``first_problem`` is the first break, if any."""

    count: int
    problems: int
    first_problem: ChainProblem | None
    first_sequence: int | None
    last_sequence: int | None
    last_hash: str

    @property
    def ok(self) -> bool:
        return self.problems == 0

    def __str__(self) -> str:
        if self.ok:
            span = f" ({self.first_sequence}..{self.last_sequence})" if self.count else ""
            return f"chain OK: {self.count} records{span}, last hash {self.last_hash}"
        return (
            f"chain BROKEN: {self.first_problem}; {self.problems} problem(s) "
            f"in {self.count} records"
        )

    def as_dict(self) -> dict[str, Any]:
        problem = self.first_problem
        return {
            "ok": self.ok, "count": self.count, "problems": self.problems,
            "first_sequence": self.first_sequence, "last_sequence": self.last_sequence,
            "last_hash": self.last_hash,
            "first_problem": None if problem is None else {
                "kind": problem.kind.value, "sequence": problem.sequence,
                "uuid": problem.uuid, "message": problem.message,
            },
        }  # fmt: skip


class ChainVerifier:
    """Checks records fed in sequence order, in constant memory. After a break it carries on
    from the stored hash, so later breaks are counted too; the first one is kept in full."""

    __slots__ = ("_count", "_first_link", "_first_seq", "_good_hash", "_good_seq", "_key",
                 "_last_hash", "_last_prev", "_last_seq", "_last_uuid", "_problem", "_problems",
                 "_start_hash", "_start_seq")  # fmt: skip

    def __init__(
        self,
        *,
        key: bytes | None = None,
        start_sequence: int | None = 1,
        start_hash: str | None = GENESIS_HASH,
    ) -> None:
        self._key = key or None
        self._start_seq = start_sequence
        self._start_hash = start_hash
        self._count = 0
        self._problems = 0
        self._problem: ChainProblem | None = None
        self._first_seq: int | None = None
        self._last_seq: int | None = None
        self._last_hash = start_hash or ""
        self._last_prev: str | None = None  # prev_hash of the last record fed
        self._last_uuid = ""
        self._good_hash = start_hash or ""  # the last record that passed every check
        self._good_seq: int | None = None
        self._first_link: tuple[str, str] | None = None

    @property
    def count(self) -> int:
        return self._count

    @property
    def first_link(self) -> tuple[str, str] | None:
        """(prev_hash, uuid) of the first record fed: what joins this walk to the one before."""
        return self._first_link

    @classmethod
    def merged(
        cls,
        parts: Sequence[tuple[VerifyResult, tuple[str, str] | None]],
        *,
        key: bytes | None = None,
    ) -> ChainVerifier:
        """One verifier for consecutive ranges walked separately (in parallel): each part's
        result and first link, in order. The first part carries the chain's anchor; the others
        must start where the one before ended, and their joints are checked here."""
        merged = cls(key=key, start_sequence=None, start_hash=None)
        found: list[ChainProblem] = []
        for result, link in parts:
            if not result.count or link is None:
                continue
            merged._count += result.count
            merged._problems += result.problems
            if result.first_problem is not None:
                found.append(result.first_problem)
            if merged._last_seq is None:
                merged._first_seq = result.first_sequence
            elif link[0] != merged._last_hash and not (
                result.first_problem and result.first_problem.sequence == result.first_sequence
            ):
                merged._problems += 1
                sequence = result.first_sequence or 0
                found.append(ChainProblem(
                    ProblemKind.LINK_BROKEN, sequence, link[1],
                    f"record {sequence} ({link[1]}) does not follow record {merged._last_seq}: "
                    f"a record was inserted, deleted or reordered before {sequence}, or record "
                    f"{merged._last_seq} was changed and re-hashed",
                ))  # fmt: skip
            merged._last_seq, merged._last_hash = result.last_sequence, result.last_hash
        merged._problem = min(found, key=lambda p: p.sequence, default=None)
        return merged

    def feed(
        self,
        sequence: int,
        uuid: str,
        prev_hash: str,
        stored_hash: str,
        canonical_bytes: bytes | None,
    ) -> None:
        """One record, in sequence order; ``canonical_bytes`` None: its stored row could not be
        read as a record (a field of the wrong type, written outside the audit store)."""
        self._count += 1
        last = self._last_seq
        problems = self._problems
        if last is None:
            self._first_seq = sequence
            self._first_link = (prev_hash, uuid)
            expected_seq, expected_prev = self._start_seq, self._start_hash
        else:
            expected_seq, expected_prev = last + 1, self._last_hash
        if expected_seq is not None and sequence != expected_seq:
            self._sequence_problem(sequence, uuid, expected_seq)
        elif canonical_bytes is None:
            self._report(
                ProblemKind.CONTENT_CHANGED, sequence, uuid,
                f"record {sequence} ({uuid}): its stored row is not a record (a field of the "
                f"wrong type): it was changed outside the audit store",
            )  # fmt: skip
        elif chain_hash(canonical_bytes, self._key) != stored_hash:
            self._report(
                ProblemKind.CONTENT_CHANGED, sequence, uuid,
                f"record {sequence} ({uuid}): its hash does not match its content; a field was "
                f"changed after it was written, or the record was moved or renumbered",
            )  # fmt: skip
        elif expected_prev is not None and prev_hash != expected_prev:
            sound = self._check_link(sequence, uuid, prev_hash, last)
            problems = self._problems if sound else problems
        if self._problems == problems:
            self._good_hash, self._good_seq = stored_hash, sequence
        self._last_seq = sequence
        self._last_hash = stored_hash
        self._last_prev = prev_hash
        self._last_uuid = uuid

    def _check_link(self, sequence: int, uuid: str, prev_hash: str, last: int | None) -> bool:
        """``prev_hash`` is not the hash of the record before: say which record is wrong.
        True when it is not this one."""
        if last is not None and prev_hash == self._last_prev:
            # the record before has the same predecessor: the chain goes around it (the
            # store appends after any row it finds past its head), so that one does not belong
            self._report(
                ProblemKind.FOREIGN, last, self._last_uuid,
                f"record {last} ({self._last_uuid}) is not part of the chain: record "
                f"{sequence} follows the record before it; record {last} was added outside "
                f"the audit store",
            )  # fmt: skip
            return True
        if last is not None and prev_hash == self._good_hash and (self._good_seq or 0) < last:
            return True  # it follows the last sound record, around records already reported
        self._link_problem(sequence, uuid, last)
        return False

    def _link_problem(self, sequence: int, uuid: str, last: int | None) -> None:
        before = f"record {last}" if last is not None else "the start of the chain"
        self._report(
            ProblemKind.LINK_BROKEN, sequence, uuid,
            f"record {sequence} ({uuid}) does not follow {before}: a record was inserted, "
            f"deleted or reordered before {sequence}, or {before} was changed and re-hashed",
        )  # fmt: skip

    def feed_joined(
        self,
        rows: Iterable[tuple[str, str, int, bool, int, str, str]],
        full_row: Callable[[int], tuple[Any, ...]],
    ) -> None:
        """Fast path for a store: rows of (joined texts, joined values, sequence, spooled,
        timestamp_us, prev_hash, hash), see ``canonical_joined``. A row that is not plainly right is
        fetched whole with ``full_row(sequence)`` (``AuditRecord.stored()`` order) and checked
        the slow, exact way, so every message names it exactly."""
        key = self._key
        sha256 = hashlib.sha256
        digest = hmac.digest
        last_seq = self._last_seq
        last_hash = self._last_hash
        last_prev = self._last_prev
        count = 0
        for texts, values, sequence, spooled, timestamp_us, prev_hash, stored_hash in rows:
            try:
                content = canonical_joined(texts, values, sequence, spooled, timestamp_us)
            except (TypeError, ValueError, OverflowError, AttributeError):
                content = None
            if (
                content is not None
                and last_seq is not None
                and sequence == last_seq + 1
                and prev_hash == last_hash
                and stored_hash == (digest(key, content, "sha256").hex() if key
                                    else sha256(content).hexdigest())
            ):  # fmt: skip
                count += 1
                last_seq = sequence
                last_hash = stored_hash
                last_prev = prev_hash
                continue
            self._count += count
            if count:  # every row since the last slow one passed: the last of them is sound
                self._good_hash, self._good_seq = last_hash, last_seq
            count = 0
            self._last_seq, self._last_hash, self._last_prev = last_seq, last_hash, last_prev
            if last_seq is not None and last_prev == prev_hash:
                self._last_uuid = full_row(last_seq)[20]  # the uuid to name, if it is foreign
            row = full_row(sequence)
            try:
                exact: bytes | None = canonical_row(row)
            except (TypeError, ValueError, OverflowError, AttributeError):
                exact = None
            self.feed(_whole(row[12]), str(row[20]), str(row[7]), str(row[24]), exact)
            last_seq, last_hash, last_prev = self._last_seq, self._last_hash, self._last_prev
        self._count += count
        if count:
            self._good_hash, self._good_seq = last_hash, last_seq
        self._last_seq, self._last_hash, self._last_prev = last_seq, last_hash, last_prev

    def check_head(self, sequence: int, head_hash: str, *, beyond: int = 0) -> None:
        """Compare where the walk ended with the store's chain head (records cut off the end
        leave no gap, only this); ``beyond``: the highest sequence stored past the head, if
        any (records added behind the store's back)."""
        if beyond:
            extra = (
                f"record {beyond} is" if beyond == sequence + 1
                else f"records {sequence + 1}..{beyond} are"
            )  # fmt: skip
            self._report(
                ProblemKind.HEAD_MISMATCH, sequence + 1, "",
                f"{extra} stored after the chain head (record {sequence}): added outside "
                f"the audit store",
            )  # fmt: skip
        if self._last_seq == sequence and (sequence == 0 or self._last_hash == head_hash):
            return
        if sequence == 0 and self._last_seq is None:
            return
        ended = "no records" if self._last_seq is None else f"record {self._last_seq}"
        self._report(
            ProblemKind.HEAD_MISMATCH, self._last_seq or 0, "",
            f"the chain ends at {ended} but the store's chain head is record {sequence} "
            f"({head_hash[:16]}...): records at the end were deleted, or the head was changed",
        )  # fmt: skip

    def result(self) -> VerifyResult:
        return VerifyResult(
            count=self._count,
            problems=self._problems,
            first_problem=self._problem,
            first_sequence=self._first_seq,
            last_sequence=self._last_seq,
            last_hash=self._last_hash,
        )

    def _sequence_problem(self, sequence: int, uuid: str, expected: int) -> None:
        last = self._last_seq
        if last is not None and sequence == last:
            kind, text = (
                ProblemKind.DUPLICATE,
                f"sequence {sequence} appears twice: a record was inserted",
            )
        elif last is not None and sequence < last:
            kind, text = (
                ProblemKind.OUT_OF_ORDER,
                f"it comes after record {last}: records reordered",
            )
        elif sequence > expected:
            missing = str(expected) if sequence == expected + 1 else f"{expected}..{sequence - 1}"
            kind, text = ProblemKind.GAP, f"record(s) {missing} before it are missing: deleted"
        else:
            kind, text = ProblemKind.GAP, f"the chain should start at {expected}"
        self._report(kind, sequence, uuid, f"record {sequence} ({uuid}): {text}")

    def _report(self, kind: ProblemKind, sequence: int, uuid: str, message: str) -> None:
        self._problems += 1
        if self._problem is None:
            self._problem = ChainProblem(kind, sequence, uuid, message)


def _whole(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def verify_chain(
    records: Iterable[AuditRecord],
    *,
    key: bytes | None = None,
    start_sequence: int | None = 1,
    start_hash: str | None = GENESIS_HASH,
) -> VerifyResult:
    """Walk records in sequence order in constant memory; the result names the first break.
    ``start_sequence``/``start_hash`` anchor the first record (None: accept what it says, for
    verifying a range whose predecessor is not at hand)."""
    verifier = ChainVerifier(key=key, start_sequence=start_sequence, start_hash=start_hash)
    for record in records:
        verifier.feed(
            record.sequence, record.uuid, record.prev_hash, record.hash, record.canonical()
        )
    return verifier.result()
