"""The audit record, its canonical form and the hash chain that makes changes evident.

Every record is chained to the one before it: ``hash = SHA-256(canonical)`` (or HMAC-SHA256 with
the site's key), where the canonical form includes ``prev_hash`` and ``sequence``. Changing,
removing, inserting or reordering a record breaks the chain at that record, and
``hmi.model.audit.verify.verify_chain`` names it.

Canonical form (what an auditor's own tool must reproduce, byte for byte): the JSON object of the
record's fields (``CANONICAL_FIELDS``, everything but ``hash``) as written by
``json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``, UTF-8 encoded,
where ``sequence`` is a JSON integer, ``spooled`` a JSON boolean, ``timestamp`` the text
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC, always six digits), every other field text, and the three
tag values (``old_value``, ``new_value``, ``read_back``) the two-element list ``[type, payload]``
made by ``encode_value`` so that 1, 1.0, True and "1" all differ. Genesis ``prev_hash`` is 64
zeros. Hashes are lower-case hex.

Fields added after the first format (``ADDED_FIELDS``) are text, in the object only when not
empty: a record written before they existed hashes as it did; a new record's are sealed too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import uuid as uuid_module
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from json.encoder import encode_basestring as _encode_str  # type: ignore[attr-defined]
from numbers import Integral, Real
from typing import Any

from hmi.model.audit.storable import (
    MAX_INT_BITS,
    MAX_VALUE_BYTES,
    MAX_VALUE_DEPTH,
    MAX_VALUE_ITEMS,
    clean_text,
    cut_bytes,
    cut_items,
    huge_int,
    safe_repr,
    storable_text,
)

__all__ = [
    "ADDED_FIELDS",
    "CANONICAL_FIELDS",
    "GENESIS_HASH",
    "JOINED_TEXTS",
    "JOINED_VALUES",
    "AuditAction",
    "AuditRecord",
    "AuditResult",
    "SignatureMeaning",
    "canonical",
    "canonical_joined",
    "canonical_row",
    "chain_hash",
    "datetime_from_us",
    "decode_value",
    "encode_value",
    "iso_from_us",
    "us_from_datetime",
]

GENESIS_HASH = "0" * 64


class AuditAction(StrEnum):
    WRITE = "write"
    LOGIN = "login"
    LOGOUT = "logout"
    LOGIN_FAILED = "login_failed"
    LOCKOUT = "lockout"
    SESSION_LOCK = "session_lock"
    SESSION_UNLOCK = "session_unlock"
    SIGNATURE = "signature"  # an electronic signature given, or refused, in a confirmation
    USER_ADD = "user_add"
    USER_CHANGE = "user_change"
    USER_DISABLE = "user_disable"
    USER_ENABLE = "user_enable"
    USER_UNLOCK = "user_unlock"
    PASSWORD_CHANGE = "password_change"
    USER_SEAL = "user_seal"  # a user row from before seals, sealed as it was by the upgrade
    ALARM_ACK = "alarm_ack"
    ALARM_RESET = "alarm_reset"
    ALARM_SHELVE = "alarm_shelve"
    ALARM_UNSHELVE = "alarm_unshelve"
    ALARM_OUT_OF_SERVICE = "alarm_out_of_service"
    ALARM_IN_SERVICE = "alarm_in_service"
    ALARM_COMMENT = "alarm_comment"
    ALARM_SHARE_REFUSED = "alarm_share_refused"  # another station's action without its record
    CONFIG_CHANGE = "config_change"
    AUDIT_EXPORT = "audit_export"
    AUDIT_VERIFY = "audit_verify"
    AUDIT_SPOOL_REJECTED = "audit_spool_rejected"  # a spool failed its check: kept, not sent
    AUDIT_SPOOL_RELEASED = "audit_spool_released"  # an administrator decided on it
    AUDIT_CHAIN_BEHIND = "audit_chain_behind"  # the chain no longer extends a witnessed head
    AUDIT_CHECKPOINT = "audit_checkpoint"  # a checkpoint of the head was written
    UNREADABLE = "unreadable"  # a stored row that is not a record any more: changed outside
    SCREEN_SAVE = "screen_save"  # the designer saved a screen file (details: hashes; the diff)
    SCREEN_NEW = "screen_new"
    SCREEN_RENAME = "screen_rename"
    SCREEN_DELETE = "screen_delete"
    APP_START = "app_start"
    APP_STOP = "app_stop"


class AuditResult(StrEnum):
    DONE = "done"
    DENIED = "denied"
    CANCELLED = "cancelled"
    FAILED = "failed"


class SignatureMeaning(StrEnum):
    """What an electronic signature means (21 CFR 11.50); a verifier always signs VERIFIED."""

    PERFORMED = "performed by"
    VERIFIED = "verified by"
    APPROVED = "approved by"
    REVIEWED = "reviewed by"


# -- tag values --------------------------------------------------------------------------------


def _tagged(value: Any, depth: int = 0) -> list[Any]:
    if value is None:
        return ["null", None]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, str):
        return ["str", storable_text(value)]
    if isinstance(value, Integral):  # int and numpy integers
        number = int(value)
        if number.bit_length() > MAX_INT_BITS:
            return ["str", huge_int(number)]
        return ["int", str(number)]
    if isinstance(value, Real):  # float and numpy floats
        real = float(value)
        return ["float", repr(real) if math.isfinite(real) else str(real)]
    if isinstance(value, (bytes, bytearray)):
        if len(value) > MAX_VALUE_BYTES:
            return ["str", cut_bytes(bytes(value))]
        return ["bytes", bytes(value).hex()]
    if isinstance(value, datetime):
        return ["time", iso_from_us(us_from_datetime(value))]
    if isinstance(value, (list, tuple)) and depth < MAX_VALUE_DEPTH:
        items = [_tagged(item, depth + 1) for item in value[:MAX_VALUE_ITEMS]]
        if len(value) > MAX_VALUE_ITEMS:
            items.append(["str", cut_items(len(value))])
        return ["list", items]
    return ["repr", safe_repr(value)]


def encode_value(value: Any) -> str:
    """A tag value as canonical tagged JSON text: ``["float","1.0"]``, ``["int","1"]``,
    ``["bool",true]``, ``["str","1"]``, ``["null",null]``, ``["list",[...]]``; anything else is
    kept as ``["repr","..."]`` so that an odd value never loses the record. Text, bytes, lists
    and integers are made storable first (``hmi.model.audit.storable``)."""
    return json.dumps(_tagged(value), separators=(",", ":"), ensure_ascii=False)


def _untagged(item: list[Any]) -> Any:
    kind, payload = item
    if kind in ("null", "bool", "str", "repr"):
        return payload
    if kind == "int":
        return int(payload)
    if kind == "float":
        return float(payload)
    if kind == "bytes":
        return bytes.fromhex(payload)
    if kind == "time":
        return datetime.fromisoformat(payload.replace("Z", "+00:00"))
    if kind == "list":
        return [_untagged(x) for x in payload]
    raise ValueError(f"unknown value type tag {kind!r}")


def decode_value(text: str) -> Any:
    """The value ``encode_value`` wrote (a ``repr`` fallback comes back as its text)."""
    return _untagged(json.loads(text))


# -- time --------------------------------------------------------------------------------------

_HOURS: dict[int, str] = {}
_MINUTES = [f"{m:02d}:" for m in range(60)]
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def iso_from_us(us: int) -> str:
    """Microseconds since the Unix epoch as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (fast: verify runs
    this once per record, so the date and hour part is cached)."""
    hour, rest = divmod(us, 3_600_000_000)
    prefix = _HOURS.get(hour)
    if prefix is None:
        days, hh = divmod(hour, 24)
        prefix = f"{date.fromordinal(_EPOCH_ORDINAL + days).isoformat()}T{hh:02d}:"
        if len(_HOURS) >= 200_000:
            _HOURS.clear()
        _HOURS[hour] = prefix
    minutes, rest = divmod(rest, 60_000_000)
    digits = str(rest + 100_000_000)  # "1SSffffff": seconds and microseconds, zero-padded
    return f"{prefix}{_MINUTES[minutes]}{digits[1:3]}.{digits[3:]}Z"


def us_from_datetime(moment: datetime) -> int:
    """An aware datetime as whole microseconds since the epoch (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def datetime_from_us(us: int) -> datetime:
    return datetime.fromisoformat(iso_from_us(us)[:-1] + "+00:00")


# -- canonical form and hash -------------------------------------------------------------------

CANONICAL_FIELDS = (
    "action", "app_version", "error", "meaning", "new_value", "old_value", "origin",
    "prev_hash", "read_back", "reason", "result", "role", "sequence", "session_id", "spooled",
    "target_address", "target_tag", "timestamp", "user_id", "user_name", "uuid",
    "verifier_id", "verifier_name", "workstation",
)  # fmt: skip
"""Sorted; the storage layer keeps its columns in this order (timestamp as microseconds)."""

ADDED_FIELDS = ("details", "old_source")
"""Canonical only when not empty (module docstring); stored after ``hash``, in this order."""


def canonical(
    action: str, app_version: str, error: str, meaning: str, new_value: str, old_value: str,
    origin: str, prev_hash: str, read_back: str, reason: str, result: str, role: str,
    sequence: int, session_id: str, spooled: bool, target_address: str, target_tag: str,
    timestamp_us: int, user_id: str, user_name: str, uuid: str, verifier_id: str,
    verifier_name: str, workstation: str, details: str = "", old_source: str = "",
) -> bytes:  # fmt: skip
    """The canonical bytes from the stored fields (tag values already encoded). Written out by
    hand for speed; ``tests/model/audit/test_audit_chain.py`` proves it equals the ``json.dumps``
    definition in the module docstring."""
    e = _encode_str
    d = f'"details":{e(details)},' if details else ""
    o = f'"old_source":{e(old_source)},' if old_source else ""
    return (
        f'{{"action":{e(action)},"app_version":{e(app_version)},{d}"error":{e(error)},'
        f'"meaning":{e(meaning)},"new_value":{new_value},{o}"old_value":{old_value},'
        f'"origin":{e(origin)},"prev_hash":{e(prev_hash)},"read_back":{read_back},'
        f'"reason":{e(reason)},"result":{e(result)},"role":{e(role)},'
        f'"sequence":{int(sequence)},"session_id":{e(session_id)},'
        f'"spooled":{"true" if spooled else "false"},"target_address":{e(target_address)},'
        f'"target_tag":{e(target_tag)},"timestamp":"{iso_from_us(timestamp_us)}",'
        f'"user_id":{e(user_id)},"user_name":{e(user_name)},"uuid":{e(uuid)},'
        f'"verifier_id":{e(verifier_id)},"verifier_name":{e(verifier_name)},'
        f'"workstation":{e(workstation)}}}'
    ).encode("utf-8", "surrogatepass")


def canonical_row(row: Sequence[Any]) -> bytes:
    """``canonical`` of a stored row (``AuditRecord.stored()`` order: the canonical fields,
    ``hash``, then ``ADDED_FIELDS``; a row without them is of the first format)."""
    return canonical(*row[:24], *row[25:27])


JOINED_TEXTS = (
    "action", "app_version", "error", "meaning", "origin", "prev_hash", "reason", "result",
    "role", "session_id", "target_address", "target_tag", "user_id", "user_name", "uuid",
    "verifier_id", "verifier_name", "workstation", "details", "old_source",
)  # fmt: skip
"""The text fields, in canonical order and then ``ADDED_FIELDS``, as a store joins them with
U+001F for fast verify."""
JOINED_VALUES = ("new_value", "old_value", "read_back")
_SEP = "\\u001f"


def canonical_joined(
    texts: str, values: str, sequence: int, spooled: bool, timestamp_us: int
) -> bytes | None:
    """``canonical`` from the text fields joined by U+001F (``JOINED_TEXTS``) and the tag
    values joined likewise: one string escape instead of eighteen, for verify. None where this
    shortcut cannot be exact (a backslash or separator inside a field): use ``canonical``."""
    if "\\" in texts:
        return None
    t = _encode_str(texts)[1:-1].split(_SEP)
    v = values.split("\x1f")
    if len(t) != 20 or len(v) != 3:
        return None
    d = f'"details":"{t[18]}",' if t[18] else ""
    o = f'"old_source":"{t[19]}",' if t[19] else ""
    text = (
        f'{{"action":"{t[0]}","app_version":"{t[1]}",{d}"error":"{t[2]}","meaning":"{t[3]}",'
        f'"new_value":{v[0]},{o}"old_value":{v[1]},"origin":"{t[4]}","prev_hash":"{t[5]}",'
        f'"read_back":{v[2]},"reason":"{t[6]}","result":"{t[7]}","role":"{t[8]}",'
        f'"sequence":{int(sequence)},"session_id":"{t[9]}",'
        f'"spooled":{"true" if spooled else "false"},"target_address":"{t[10]}",'
        f'"target_tag":"{t[11]}","timestamp":"{iso_from_us(timestamp_us)}",'
        f'"user_id":"{t[12]}","user_name":"{t[13]}","uuid":"{t[14]}",'
        f'"verifier_id":"{t[15]}","verifier_name":"{t[16]}","workstation":"{t[17]}"}}'
    )
    try:
        return text.encode()
    except UnicodeEncodeError:
        return None


def chain_hash(canonical_bytes: bytes, key: bytes | None = None) -> str:
    """SHA-256 of the canonical bytes, or HMAC-SHA256 with the site key when one is set."""
    if key:
        return hmac.digest(key, canonical_bytes, "sha256").hex()
    return hashlib.sha256(canonical_bytes).hexdigest()


# -- the record --------------------------------------------------------------------------------


def _now_us() -> int:
    return us_from_datetime(datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audited action. Made with ``AuditRecord.create`` (uuid and time set once, so a retry
    or a forward of the same record is recognised); ``sequence``, ``prev_hash`` and ``hash`` are
    filled by the store that chains it. Tag values are kept as given (encoded only for storage
    and hashing); ``timestamp_us`` is microseconds since the epoch, UTC."""

    uuid: str
    timestamp_us: int
    action: AuditAction
    result: AuditResult = AuditResult.DONE
    user_id: str = ""
    user_name: str = ""
    role: str = ""
    workstation: str = ""
    session_id: str = ""
    target_tag: str = ""
    target_address: str = ""
    old_value: Any = None
    new_value: Any = None
    read_back: Any = None
    reason: str = ""
    meaning: str = ""  # meaning of the performer's signature; "" when the action was not signed
    verifier_id: str = ""
    verifier_name: str = ""
    error: str = ""
    origin: str = ""
    app_version: str = ""
    old_source: str = ""  # where old_value came from: "broker", "device", "none" ("" : not a write)
    details: str = ""  # compact sorted JSON of what the action adds (a shelve's duration, expiry)
    spooled: bool = False  # held in a station's spool before it reached this chain
    sequence: int = 0
    prev_hash: str = ""
    hash: str = ""

    @classmethod
    def create(
        cls,
        action: AuditAction | str,
        *,
        result: AuditResult | str = AuditResult.DONE,
        timestamp: datetime | None = None,
        **fields: Any,
    ) -> AuditRecord:
        """A new, unchained record with a fresh uuid and the current UTC time."""
        values: dict[str, Any] = {
            name: clean_text(value) if name in _TEXT_FIELDS else value
            for name, value in fields.items()
        }
        return cls(
            uuid=str(uuid_module.uuid4()),
            timestamp_us=_now_us() if timestamp is None else us_from_datetime(timestamp),
            action=AuditAction(action),
            result=AuditResult(result),
            **values,
        )

    @property
    def timestamp(self) -> datetime:
        return datetime_from_us(self.timestamp_us)

    @property
    def chained(self) -> bool:
        return bool(self.hash)

    def canonical(self) -> bytes:
        return canonical_row(self.stored())

    def stored(self) -> tuple[Any, ...]:
        """The fields as stored: ``CANONICAL_FIELDS`` order, values encoded, then ``hash``."""
        return (
            self.action.value, self.app_version, self.error, self.meaning,
            encode_value(self.new_value), encode_value(self.old_value), self.origin,
            self.prev_hash, encode_value(self.read_back), self.reason, self.result.value,
            self.role, self.sequence, self.session_id, self.spooled, self.target_address,
            self.target_tag, self.timestamp_us, self.user_id, self.user_name, self.uuid,
            self.verifier_id, self.verifier_name, self.workstation, self.hash, self.details,
            self.old_source,
        )  # fmt: skip

    @classmethod
    def from_stored(cls, row: Iterable[Any]) -> AuditRecord:
        """The record from a stored row (``stored()`` order). A row that is no record any more
        (a field of the wrong type or an unknown action, written outside the audit store) comes
        back as an ``unreadable`` record holding the row's text, so reading and exporting a
        tampered trail never stop at it; verify names it."""
        fields = tuple(row)
        try:
            return cls._from_stored(fields)
        except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
            return cls._unreadable(fields, exc)

    @classmethod
    def _unreadable(cls, row: tuple[Any, ...], exc: BaseException) -> AuditRecord:
        text = [storable_text("" if v is None else str(v)) for v in row] + [""] * 25
        try:
            sequence = int(row[12])
        except (ValueError, TypeError, IndexError):
            sequence = 0
        try:
            timestamp_us = int(row[17])
        except (ValueError, TypeError, IndexError):
            timestamp_us = 0
        return cls(
            uuid=text[20], timestamp_us=timestamp_us, action=AuditAction.UNREADABLE,
            result=AuditResult.FAILED, user_id=text[18], user_name=text[19], role=text[11],
            workstation=text[23], session_id=text[13], target_tag=text[16],
            target_address=text[15], old_value=text[5], new_value=text[4], read_back=text[8],
            reason=text[9], meaning=text[3], verifier_id=text[21], verifier_name=text[22],
            error=storable_text(
                f"this stored row is not a record ({type(exc).__name__}: {exc}); it was "
                f"changed outside the audit store; stored action {text[0]!r}, result {text[10]!r}"
            ),
            origin=text[6], app_version=text[1], spooled=False, sequence=sequence,
            prev_hash=text[7], hash=text[24], details=text[25], old_source=text[26],
        )  # fmt: skip

    @classmethod
    def _from_stored(cls, row: tuple[Any, ...]) -> AuditRecord:
        """``from_stored`` of a sound row; one without ``ADDED_FIELDS``: the first format."""
        (action, app_version, error, meaning, new_value, old_value, origin, prev_hash,
         read_back, reason, result, role, sequence, session_id, spooled, target_address,
         target_tag, timestamp_us, user_id, user_name, uid, verifier_id, verifier_name,
         workstation, hash_, *added) = row  # fmt: skip
        details, old_source = (*added, "", "")[:2]
        return cls(
            uuid=uid, timestamp_us=int(timestamp_us), action=AuditAction(action),
            result=AuditResult(result), user_id=user_id, user_name=user_name, role=role,
            workstation=workstation, session_id=session_id, target_tag=target_tag,
            target_address=target_address, old_value=decode_value(old_value),
            new_value=decode_value(new_value), read_back=decode_value(read_back), reason=reason,
            meaning=meaning, verifier_id=verifier_id, verifier_name=verifier_name, error=error,
            origin=origin, app_version=app_version, spooled=bool(spooled),
            sequence=int(sequence), prev_hash=prev_hash, hash=hash_, details=details or "",
            old_source=old_source or "",
        )  # fmt: skip

    def chain(self, sequence: int, prev_hash: str, key: bytes | None = None) -> AuditRecord:
        """This record placed after ``prev_hash`` at ``sequence``, with its hash."""
        return self.chained_row(sequence, prev_hash, key)[0]

    def chained_row(
        self, sequence: int, prev_hash: str, key: bytes | None = None
    ) -> tuple[AuditRecord, tuple[Any, ...]]:
        """``chain``, and the placed record's ``stored()`` row: values encoded once for the hash
        and the INSERT (on a shared chain this runs under the head lock others wait for)."""
        row = list(self.stored())
        row[7], row[12] = prev_hash, sequence
        row[24] = digest = chain_hash(canonical_row(row), key)
        return replace(self, sequence=sequence, prev_hash=prev_hash, hash=digest), tuple(row)

    def as_dict(self) -> dict[str, Any]:
        """Plain fields for export and display (timestamp as ISO text, values decoded)."""
        return {
            "sequence": self.sequence, "uuid": self.uuid,
            "timestamp": iso_from_us(self.timestamp_us), "action": self.action.value,
            "result": self.result.value, "user_id": self.user_id, "user_name": self.user_name,
            "role": self.role, "workstation": self.workstation, "session_id": self.session_id,
            "target_tag": self.target_tag, "target_address": self.target_address,
            "old_value": self.old_value, "new_value": self.new_value,
            "read_back": self.read_back, "reason": self.reason, "meaning": self.meaning,
            "verifier_id": self.verifier_id, "verifier_name": self.verifier_name,
            "error": self.error, "origin": self.origin, "app_version": self.app_version,
            "spooled": self.spooled, "prev_hash": self.prev_hash, "hash": self.hash,
            "old_source": self.old_source, "details": self.details,
        }  # fmt: skip


_TEXT_FIELDS = frozenset(
    ("user_id", "user_name", "role", "workstation", "session_id", "target_tag",
     "target_address", "reason", "meaning", "verifier_id", "verifier_name", "error", "origin",
     "app_version", "old_source", "details")
)  # fmt: skip
