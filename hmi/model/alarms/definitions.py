"""Alarm definitions as the project writes them (``alarms:`` in project.yaml), validated once.

One definition is one alarm: a condition on a tag (limit, digital state, deviation from a
setpoint, rate of change, bad quality), its priority, delays, deadband, the message the operator
reads and the rationalisation behind it (cause, consequence, corrective action). The state
machine that runs them is ``hmi.model.alarms.engine``; the rules are in docs/alarms.md.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from hmi.model.expr import EvaluationError, Expression, ExpressionError
from hmi.model.numbers import SCHEMA_CONFIG
from hmi.model.tags import DataType, TagConfig, format_spec_problem

__all__ = [
    "AlarmDefinition",
    "AlarmProblem",
    "AlarmSettings",
    "CommLossSettings",
    "ConnectionAlarm",
    "DeviationAlarm",
    "DigitalAlarm",
    "LimitAlarm",
    "MessageTemplate",
    "Priority",
    "QualityAlarm",
    "RateAlarm",
    "check_alarms",
]

_ID = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"
_TAG = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class Priority(StrEnum):
    """Alarm priority; ``rank`` orders them, most urgent first."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Priority.CRITICAL: 0, Priority.HIGH: 1, Priority.MEDIUM: 2, Priority.LOW: 3}


class MessageTemplate:
    """``"Tank T1 level high: {value:.1f} %, inlet {XV101.Position:.0f} %"``: fields are
    ``value`` (the alarm's tag), ``limit``, ``setpoint``, ``tag``, ``id`` or any tag by name,
    each with an optional format spec. Checked once at load; rendering never raises."""

    __slots__ = ("parts", "tags", "text")
    NAMES = frozenset({"value", "limit", "setpoint", "tag", "id"})

    def __init__(self, text: str) -> None:
        self.text = text
        self.parts: tuple[tuple[str, str | None, str], ...] = _parse_template(text)
        self.tags = frozenset(f for _, f, _ in self.parts if f is not None and f not in self.NAMES)

    def render(self, fields: Mapping[str, Any]) -> str:
        """The text with every field filled; a missing value shows as ``----`` and a value the
        spec does not fit is shown plain."""
        out: list[str] = []
        for literal, name, spec in self.parts:
            out.append(literal)
            if name is None:
                continue
            value = fields.get(name)
            if value is None:
                out.append("----")
                continue
            try:
                out.append(format(value, spec))
            except (TypeError, ValueError):
                out.append(str(value))
        return "".join(out)

    def __repr__(self) -> str:
        return f"MessageTemplate({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MessageTemplate) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _parse_template(text: str) -> tuple[tuple[str, str | None, str], ...]:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValueError(
            f"message {text!r}: {exc}; write a literal brace as {{{{ or }}}}"
        ) from None
    parts: list[tuple[str, str | None, str]] = []
    for literal, name, spec, conversion in parsed:
        if name is None:
            parts.append((literal, None, ""))
            continue
        name = name.strip()
        if not name or name.isdigit():
            raise ValueError(f"message {text!r}: name the value in braces, e.g. {{value:.1f}}")
        if conversion:
            raise ValueError(f"message {text!r}: '!{conversion}' is not allowed in {{{name}}}")
        if not _TAG.match(name):
            raise ValueError(f"message {text!r}: {{{name}}} is not a field or tag name")
        spec = spec or ""
        if "{" in spec:
            raise ValueError(f"message {text!r}: nested braces in {{{name}:{spec}}}")
        bound = format_spec_problem(spec) if spec else None
        if bound is not None:
            raise ValueError(f"message {text!r}: {{{name}:{spec}}}: {bound}")
        if spec and not _spec_fits(spec):
            raise ValueError(
                f"message {text!r}: {spec!r} in {{{name}:{spec}}} is not a format spec; "
                "use e.g. .1f or d"
            )
        parts.append((literal, name, spec))
    return tuple(parts)


def _spec_fits(spec: str) -> bool:
    for sample in (1.5, 1, "text"):
        try:
            format(sample, spec)
            return True
        except (TypeError, ValueError):
            continue
    return False


def _to_template(raw: Any) -> MessageTemplate:
    if isinstance(raw, MessageTemplate):
        return raw
    if not isinstance(raw, str):
        raise ValueError("message must be text, e.g. 'Tank level high: {value:.1f} %'")
    return MessageTemplate(raw)


def _to_expression(raw: Any) -> Expression | None:
    if raw is None or isinstance(raw, Expression):
        return raw
    if isinstance(raw, bool) or not isinstance(raw, str):
        raise ValueError("suppress_when must be an expression, e.g. 'Pump1.Running == 0'")
    try:
        expression = Expression.parse(raw)
        if not expression.tags:  # made of constants: its evaluation error is known now
            expression.evaluate({})
    except ExpressionError as exc:
        raise ValueError(f"suppress_when {raw!r}: {exc}") from None
    except EvaluationError as exc:
        raise ValueError(f"suppress_when {raw!r}: {exc.message}") from None
    return expression


Template = Annotated[MessageTemplate, BeforeValidator(_to_template)]
Condition = Annotated[Expression | None, BeforeValidator(_to_expression)]
Seconds = Annotated[float, Field(ge=0, le=86_400)]


class _Alarm(BaseModel):
    """What every kind of alarm has. ``id`` is unique in the project."""

    model_config = ConfigDict(**SCHEMA_CONFIG, arbitrary_types_allowed=True)

    kind: str
    id: str = Field(pattern=_ID, description="unique in the project, e.g. T100.LevelHi")
    tag: str = Field(min_length=1, description="the tag the alarm watches")
    priority: Priority = Priority.MEDIUM
    on_delay_s: Seconds = Field(default=0, description="condition must hold this long to alarm")
    off_delay_s: Seconds = Field(default=0, description="condition must be gone this long")
    message: Template = Field(default=MessageTemplate(""), description="'{value:.1f}', '{Tag}'")
    cause: str = ""
    consequence: str = ""
    action: str = Field(default="", description="corrective action the operator takes")
    latching: bool = Field(default=False, description="stays until acknowledged and reset")
    suppress_when: Condition = Field(default=None, description="suppressed by design while true")
    max_shelve_s: float | None = Field(
        default=None, ge=0, description="shelve limit; None: the project's, 0: never shelved"
    )
    uncertain: Literal["hold", "evaluate"] = Field(
        default="hold",
        description="an Uncertain value holds the alarm state (default), or is evaluated",
    )

    @property
    def text(self) -> MessageTemplate:
        """The message template, or a plain one naming tag and kind if none is written."""
        if self.message.text:
            return self.message
        return MessageTemplate(f"{{tag}} {_KIND_WORDS[self.kind]}: {{value}}")

    def referenced_tags(self) -> frozenset[str]:
        """Every tag this alarm reads: its own, setpoint, suppression and message tags."""
        tags = {self.tag, *self.message.tags}
        if self.suppress_when is not None:
            tags |= self.suppress_when.tags
        setpoint = getattr(self, "setpoint", None)
        if setpoint:
            tags.add(setpoint)
        return frozenset(tags)


_KIND_WORDS = {
    "hihi": "high high",
    "hi": "high",
    "lo": "low",
    "lolo": "low low",
    "digital": "alarm state",
    "deviation": "deviation from setpoint",
    "rate": "rate of change",
    "bad_quality": "bad quality, communication lost",
    "comm_loss": "communication lost",
}


class LimitAlarm(_Alarm):
    """HiHi/Hi when the value rises past ``limit``, Lo/LoLo when it falls past it; it clears
    only once the value is back past ``limit`` -/+ ``deadband``."""

    kind: Literal["hihi", "hi", "lo", "lolo"]
    limit: float
    deadband: float = Field(default=0, ge=0, description="in the tag's units")

    @property
    def rising(self) -> bool:
        return self.kind in ("hihi", "hi")


class DigitalAlarm(_Alarm):
    """Active while the value equals ``equals`` (or differs from ``not_equals``)."""

    kind: Literal["digital"]
    equals: bool | int | float | str | None = None
    not_equals: bool | int | float | str | None = None

    @model_validator(mode="after")
    def _one_state(self) -> DigitalAlarm:
        if (self.equals is None) == (self.not_equals is None):
            raise ValueError("a digital alarm needs exactly one of 'equals' or 'not_equals'")
        return self


class DeviationAlarm(_Alarm):
    """Active while the value is more than ``band`` away from the ``setpoint`` tag."""

    kind: Literal["deviation"]
    setpoint: str = Field(min_length=1, description="the tag holding the setpoint")
    band: float = Field(gt=0, description="allowed absolute deviation, in the tag's units")
    deadband: float = Field(default=0, ge=0)
    direction: Literal["both", "above", "below"] = "both"

    @model_validator(mode="after")
    def _deadband(self) -> DeviationAlarm:
        if not self.deadband < self.band:
            raise ValueError(f"deadband {self.deadband} must be below band {self.band}")
        return self


class RateAlarm(_Alarm):
    """Active while the value changes faster than ``rate`` units per second, measured as the
    change over the last ``window_s`` seconds (values held between samples)."""

    kind: Literal["rate"]
    rate: float = Field(gt=0, description="units per second")
    window_s: float = Field(default=10, gt=0, le=3600)
    deadband: float = Field(default=0, ge=0, description="in units per second")
    direction: Literal["both", "rising", "falling"] = "both"

    @model_validator(mode="after")
    def _deadband(self) -> RateAlarm:
        if not self.deadband < self.rate:
            raise ValueError(f"deadband {self.deadband} must be below rate {self.rate}")
        return self


class QualityAlarm(_Alarm):
    """Communication lost: the tag's quality has been Bad for longer than ``on_delay_s``."""

    kind: Literal["bad_quality"]
    on_delay_s: Seconds = Field(default=10, description="Bad for this long raises the alarm")


class ConnectionAlarm(_Alarm):
    """Communication lost with a connection: it has been disconnected (or has failed) for
    longer than ``on_delay_s``. One per connection, not one per tag; every connection gets one
    by default (``settings.alarms.comm_loss``); write one by hand to rationalise it. Its
    ``tag`` is the connection's name (what the summary shows); it reads no tag."""

    kind: Literal["comm_loss"]
    connection: str = Field(min_length=1, description="the connection, a key of connections:")
    tag: str = Field(default="", description="set to the connection's name")
    priority: Priority = Priority.HIGH
    on_delay_s: Seconds = Field(default=10, description="lost for this long raises the alarm")

    @field_validator("tag")
    @classmethod
    def _no_tag(cls, tag: str) -> str:
        if tag:
            raise ValueError("a comm_loss alarm watches its connection, not a tag: leave 'tag' out")
        return tag

    @model_validator(mode="after")
    def _tag_is_the_connection(self) -> ConnectionAlarm:
        object.__setattr__(self, "tag", self.connection)  # what the summary and journal show
        return self

    @property
    def text(self) -> MessageTemplate:
        if self.message.text:
            return self.message
        return MessageTemplate("Communication lost with connection {tag}")

    def referenced_tags(self) -> frozenset[str]:
        tags = set(self.message.tags)
        if self.suppress_when is not None:
            tags |= self.suppress_when.tags
        return frozenset(tags)


AlarmDefinition = Annotated[
    LimitAlarm | DigitalAlarm | DeviationAlarm | RateAlarm | QualityAlarm | ConnectionAlarm,
    Field(discriminator="kind"),
]


class CommLossSettings(BaseModel):
    """The communication-loss alarm every connection gets unless switched off, here for all
    connections or per connection (``comm_loss_alarm: false`` on it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="false: no connection gets one by default")
    priority: Priority = Priority.HIGH
    on_delay_s: Seconds = Field(default=10, description="lost for this long raises the alarm")


class AlarmSettings(BaseModel):
    """Project-wide alarm settings (``settings: alarms:``)."""

    model_config = SCHEMA_CONFIG

    max_shelve_s: float = Field(default=8 * 3600, gt=0, description="longest shelve allowed")
    tick_s: float = Field(default=1.0, gt=0, le=10, description="delay and shelve timer period")
    comm_loss: CommLossSettings = Field(
        default_factory=CommLossSettings,
        description="the communication-loss alarm each connection gets by default",
    )


@dataclass(frozen=True, slots=True)
class AlarmProblem:
    """A cross-check failure: ``alarms[index].field`` in project.yaml."""

    index: int
    field: str
    message: str


def check_alarms(
    alarms: Sequence[_Alarm],
    tags: Mapping[str, TagConfig | None],
    connections: Collection[str] = (),
) -> list[AlarmProblem]:
    """Cross-check alarms against the project's tags and connections: unique ids, every tag
    and connection known, one comm_loss alarm per connection, analog kinds on numeric tags.
    ``tags`` maps a name to its config, or None if that is broken."""
    problems: list[AlarmProblem] = []
    seen: dict[str, int] = {}
    watched: dict[str, int] = {}
    for index, alarm in enumerate(alarms):
        first = seen.setdefault(alarm.id, index)
        if first != index:
            problems.append(
                AlarmProblem(index, "id", f"duplicate alarm id {alarm.id!r}; alarm {first} has it")
            )
        where = f"alarm {alarm.id!r}"
        if alarm.id.startswith("station."):  # hmi.model.alarms.station: built into every station
            problems.append(AlarmProblem(index, "id", f"{where}: ids under 'station.' are the "
                                         "station's built-in alarms; choose another id"))  # fmt: skip
        if isinstance(alarm, ConnectionAlarm):
            _connection(problems, index, alarm, connections, watched)
        else:
            _known(problems, index, "tag", alarm.tag, tags, where)
        if isinstance(alarm, DeviationAlarm):
            _known(problems, index, "setpoint", alarm.setpoint, tags, where)
        for name in sorted(alarm.message.tags):
            _known(problems, index, "message", name, tags, where + " message")
        if alarm.suppress_when is not None:
            for name in sorted(alarm.suppress_when.tags):
                _known(problems, index, "suppress_when", name, tags, where + " suppress_when")
        config = tags.get(alarm.tag)
        analog = isinstance(alarm, (LimitAlarm, DeviationAlarm, RateAlarm))
        if analog and config is not None and config.datatype in (DataType.BOOL, DataType.STR):
            problems.append(
                AlarmProblem(
                    index,
                    "kind",
                    f"{where}: a {alarm.kind} alarm needs a number, but tag {alarm.tag!r} is "
                    f"{config.datatype.value}; use kind: digital",
                )
            )
    return problems


def _connection(
    problems: list[AlarmProblem],
    index: int,
    alarm: ConnectionAlarm,
    connections: Collection[str],
    watched: dict[str, int],
) -> None:
    name = alarm.connection
    if name not in connections:
        close = difflib.get_close_matches(name, list(connections), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        known = ", ".join(sorted(connections)) or "none"
        problems.append(
            AlarmProblem(
                index, "connection",
                f"alarm {alarm.id!r}: unknown connection {name!r}{hint} (known: {known})",
            )
        )  # fmt: skip
        return
    first = watched.setdefault(name, index)
    if first != index:
        problems.append(
            AlarmProblem(
                index, "connection",
                f"alarm {alarm.id!r}: connection {name!r} has a comm_loss alarm already "
                f"(alarm {first}); one per connection",
            )
        )  # fmt: skip


def _known(
    problems: list[AlarmProblem],
    index: int,
    field: str,
    name: str,
    tags: Mapping[str, TagConfig | None],
    where: str,
) -> None:
    if name not in tags:
        close = difflib.get_close_matches(name, list(tags), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        problems.append(AlarmProblem(index, field, f"{where}: unknown tag {name!r}{hint}"))
