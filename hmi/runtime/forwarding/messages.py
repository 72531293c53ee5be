"""Audit records and alarm events as syslog messages (RFC 5424), in one of three bodies:
``rfc5424`` (one structured-data element), ``json`` (one object as the message) or ``cef``
(ArcSight Common Event Format as the message). Every message carries the record's id (the
audit sequence, the journal row id) so a SIEM can drop the duplicates a reconnect may send.

Everything an operator typed (reasons, comments, values) is escaped for the body it goes in:
it can neither close the structured data nor start a second message."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.kpi import JournalEvent
from hmi.model.audit.record import AuditRecord, AuditResult, encode_value, iso_from_us
from hmi.model.forwarding import SyslogSettings

__all__ = ["Formatter", "alarm_fields", "audit_fields", "formatter"]

_BOM = "\ufeff"
_SD_ESCAPE = re.compile(r'["\\\]]')
_HEADER = re.compile(r"[^!-~]")  # HOSTNAME, APP-NAME: printable US-ASCII only
_CEF_HEADER = re.compile(r"[|\\]")
_CEF_VALUE = re.compile(r"[=\\\r\n]")
_CEF_VALUE_MAP = {"=": "\\=", "\\": "\\\\", "\r": "\\r", "\n": "\\n"}

# syslog severities: 2 critical, 3 error, 4 warning, 5 notice, 6 informational
_AUDIT_SEVERITY = {
    AuditResult.DONE: 5,
    AuditResult.CANCELLED: 6,
    AuditResult.DENIED: 4,
    AuditResult.FAILED: 3,
}
_ALARM_SEVERITY = {Priority.CRITICAL: 2, Priority.HIGH: 3, Priority.MEDIUM: 4, Priority.LOW: 5}
_CEF_SEVERITY = {2: 9, 3: 7, 4: 5, 5: 3, 6: 1}

Formatter = Callable[[AuditRecord | JournalEvent], bytes]


def _value(value: Any) -> str:
    """A tag value as the SIEM reads it: text as is, anything else as JSON; none: ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return encode_value(value)


def audit_fields(record: AuditRecord) -> dict[str, str]:
    """What every format says about an audit record, in this order."""
    return {
        "id": str(record.sequence), "uuid": record.uuid, "chain": "audit",
        "hash": record.hash, "prev": record.prev_hash, "user": record.user_id,
        "role": record.role, "workstation": record.workstation, "action": str(record.action),
        "tag": record.target_tag, "old": _value(record.old_value),
        "new": _value(record.new_value), "readback": _value(record.read_back),
        "result": str(record.result), "reason": record.reason, "error": record.error,
        "verifier": record.verifier_id, "origin": record.origin,
    }  # fmt: skip


def alarm_fields(event: JournalEvent) -> dict[str, str]:
    """What every format says about an alarm event, in this order."""
    return {
        "id": str(event.id), "alarm": event.alarm_id, "priority": str(event.priority),
        "transition": f"{event.from_state}>{event.to_state}", "action": str(event.action),
        "value": event.value or "", "tag": event.tag, "user": event.user,
        "workstation": event.workstation, "comment": event.comment,
    }  # fmt: skip


def _text(kind: str, fields: dict[str, str]) -> str:
    """The human line of a message."""
    if kind == "audit":
        change = f" {fields['old']} -> {fields['new']}" if fields["new"] else ""
        target = f" {fields['tag']}" if fields["tag"] else ""
        who = fields["user"] or "-"
        return f"{fields['action']}{target}{change} by {who}: {fields['result']}"
    return (
        f"alarm {fields['alarm']} ({fields['priority']}) {fields['action']}: {fields['transition']}"
    )


def _header_name(text: str, limit: int) -> str:
    if text.isascii() and text.isprintable() and " " not in text:
        return text[:limit] or "-"
    return _HEADER.sub("_", text)[:limit] or "-"


class _Syslog:
    """The RFC 5424 header common to the three bodies."""

    def __init__(self, settings: SyslogSettings, hostname: str = "") -> None:
        self.settings = settings
        self.facility = settings.facility * 8
        self.app = _header_name(settings.app_name, 48)
        self.hostname = hostname
        self.sd_id = settings.sd_id

    def header(self, severity: int, time_us: int, host: str, msgid: str) -> str:
        name = _header_name(self.hostname or host, 255)
        return f"<{self.facility + severity}>1 {iso_from_us(time_us)} {name} {self.app} - {msgid}"

    def __call__(self, item: AuditRecord | JournalEvent) -> bytes:
        if isinstance(item, AuditRecord):
            fields = audit_fields(item)
            severity = _AUDIT_SEVERITY.get(item.result, 5)
            head = self.header(severity, item.timestamp_us, item.workstation, "audit")
            body = self.body("audit", fields, severity, item.timestamp_us)
        else:
            fields = alarm_fields(item)
            severity = _ALARM_SEVERITY.get(item.priority, 4)
            head = self.header(severity, item.time_us, item.workstation, "alarm")
            body = self.body("alarm", fields, severity, item.time_us)
        return f"{head} {body}".encode()

    def body(self, kind: str, fields: dict[str, str], severity: int, time_us: int) -> str:
        raise NotImplementedError


def _sd_value(text: str) -> str:
    """A PARAM-VALUE: ``"``, ``\\`` and ``]`` escaped with a backslash (RFC 5424, 6.3.3)."""
    if '"' in text or "\\" in text or "]" in text:
        return _SD_ESCAPE.sub(lambda m: "\\" + m.group(0), text)
    return text


class _Rfc5424(_Syslog):
    def body(self, kind: str, fields: dict[str, str], severity: int, time_us: int) -> str:
        params = " ".join(f'{name}="{_sd_value(value)}"' for name, value in fields.items())
        return f'[{self.sd_id} kind="{kind}" {params}] {_BOM}{_text(kind, fields)}'


class _Json(_Syslog):
    def body(self, kind: str, fields: dict[str, str], severity: int, time_us: int) -> str:
        document = {"kind": kind, "time": iso_from_us(time_us), **fields}
        document["text"] = _text(kind, fields)
        return "- " + _BOM + json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _cef_value(text: str) -> str:
    return _CEF_VALUE.sub(lambda m: _CEF_VALUE_MAP[m.group(0)], text)


class _Cef(_Syslog):
    _AUDIT = (("cs1", "tag"), ("cs2", "old"), ("cs3", "new"), ("cs4", "readBack"),
              ("cs5", "chainHash"), ("cs6", "recordUuid"))  # fmt: skip
    _ALARM = (("cs1", "alarm"), ("cs2", "priority"), ("cs3", "transition"), ("cs4", "value"),
              ("cs5", "tag"), ("cs6", "comment"))  # fmt: skip

    def body(self, kind: str, fields: dict[str, str], severity: int, time_us: int) -> str:
        from hmi import __version__

        signature = fields["action"]
        name = _CEF_HEADER.sub(lambda m: "\\" + m.group(0), _text(kind, fields))
        extension = {
            "rt": str(time_us // 1000), "externalId": fields["id"],
            "dvchost": fields["workstation"], "suser": fields["user"], "act": fields["action"],
            "cat": kind,
        }  # fmt: skip
        if kind == "audit":
            extension |= {"spriv": fields["role"], "outcome": fields["result"],
                          "reason": fields["reason"]}  # fmt: skip
            labels = self._AUDIT
            values = [fields["tag"], fields["old"], fields["new"], fields["readback"],
                      fields["hash"], fields["uuid"]]  # fmt: skip
        else:
            labels = self._ALARM
            values = [fields["alarm"], fields["priority"], fields["transition"],
                      fields["value"], fields["tag"], fields["comment"]]  # fmt: skip
        for (key, label), value in zip(labels, values, strict=True):
            extension[f"{key}Label"] = label
            extension[key] = value
        ext = " ".join(f"{k}={_cef_value(v)}" for k, v in extension.items())
        head = f"CEF:0|hmi|hmi|{__version__}|{kind}:{signature}|{name}|"
        return f"- {head}{_CEF_SEVERITY.get(severity, 3)}|{ext}"


_FORMATS: dict[str, type[_Syslog]] = {"rfc5424": _Rfc5424, "json": _Json, "cef": _Cef}


def formatter(settings: SyslogSettings, *, hostname: str = "") -> Formatter:
    """The message maker of ``settings.format``. ``hostname``: the HOSTNAME field (default:
    the workstation each record names)."""
    return _FORMATS[settings.format](settings, hostname)
