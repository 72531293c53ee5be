"""Tag metadata from the project: what a tag is, how to show it, and who may write it."""

from __future__ import annotations

import itertools
import math
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from hmi.model.address import TagAddress, parse_address
from hmi.model.errors import AddressError, WriteDenied
from hmi.model.numbers import SCHEMA_CONFIG, span_problem

MAX_FORMAT_WIDTH = 100  # characters a format spec may pad a value to
MAX_FORMAT_PRECISION = 50  # digits after the point
_SPEC = re.compile(
    r"^(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>[0-9]*)[,_]?(?:\.(?P<precision>[0-9]*))?[a-zA-Z%]?$",
    re.DOTALL,
)


def format_spec_problem(spec: str) -> str | None:
    """Why a Python format spec is refused before it is ever tried, or None: a width or
    precision beyond the bounds (``'999999999.1f'`` makes a 1 GB text), or non-ASCII digits."""
    match = _SPEC.match(spec)
    if match is None or not spec.isascii():
        return None if spec.isascii() else "format specs are written in ASCII"
    width, precision = match["width"], match["precision"]
    if width and int(width) > MAX_FORMAT_WIDTH:
        return f"width {int(width)} is more than {MAX_FORMAT_WIDTH} characters"
    if precision and int(precision) > MAX_FORMAT_PRECISION:
        return f"precision {int(precision)} is more than {MAX_FORMAT_PRECISION} digits"
    return None


def _to_address(raw: Any) -> TagAddress:
    if isinstance(raw, TagAddress):
        return raw
    if not isinstance(raw, str):
        raise ValueError("address must be a text URI such as sim://sine?period=60")
    try:
        return parse_address(raw)
    except AddressError as exc:
        raise ValueError(str(exc)) from None


Address = Annotated[TagAddress, BeforeValidator(_to_address)]


class Strict(BaseModel):
    model_config = ConfigDict(**SCHEMA_CONFIG, arbitrary_types_allowed=True)


class ConfirmPolicy(StrEnum):
    """What an operator must do before a write goes out (enforced by the command service)."""

    NONE = "none"
    CONFIRM = "confirm"  # an "are you sure" showing old and new value
    REASON = "reason"  # confirm and type a reason, stored with the record
    SIGNATURE = "signature"  # re-enter own password (electronic signature)
    VERIFY = "verify"  # a second user verifies with their own credentials


class DataType(StrEnum):
    FLOAT = "float"
    INT = "int"
    BOOL = "bool"
    STR = "str"


class WritePolicy(Strict):
    """Present only on writable tags: a tag without ``write`` is read-only."""

    min: float | None = None
    max: float | None = None
    roles: tuple[str, ...] = ("operator", "supervisor", "engineer", "admin")
    confirm: ConfirmPolicy = ConfirmPolicy.NONE

    @model_validator(mode="after")
    def _ordered(self) -> WritePolicy:
        if self.min is not None and self.max is not None and not self.min <= self.max:
            raise ValueError(f"write min {self.min} is above write max {self.max}")
        return self


class Limits(Strict):
    """Operating limits drawn as marks on bars and trends (alarms come from the alarm config)."""

    lolo: float | None = None
    lo: float | None = None
    hi: float | None = None
    hihi: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Limits:
        given = [
            (n, v)
            for n, v in (("lolo", self.lolo), ("lo", self.lo), ("hi", self.hi), ("hihi", self.hihi))
            if v is not None
        ]
        for (n1, v1), (n2, v2) in itertools.pairwise(given):
            if not v1 <= v2:
                raise ValueError(
                    f"limit {n1}={v1} is above {n2}={v2}; expected lolo <= lo <= hi <= hihi"
                )
        return self


class TagConfig(Strict):
    """One tag as the project defines it. ``name`` is filled from the key in ``tags:``."""

    name: str = ""
    address: Address
    description: str = ""
    units: str = ""
    datatype: DataType = DataType.FLOAT
    range: tuple[float, float] | None = Field(
        default=None, description="engineering range [low, high]"
    )
    format: str = Field(default="", description="Python format spec, e.g. '.1f' or 'd'")
    states: dict[int, str] = Field(
        default_factory=dict, description="text per value of a discrete tag"
    )
    limits: Limits = Limits()
    write: WritePolicy | None = None
    step: bool | None = Field(
        default=None,
        description="trends hold each value until the next, drawn as steps; default: bool, "
        "int, state and writable (setpoint) tags",
    )

    @field_validator("range")
    @classmethod
    def _range(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        problem = None if value is None else span_problem(*value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("format")
    @classmethod
    def _format(cls, spec: str) -> str:
        if spec:
            bound = format_spec_problem(spec)
            if bound is not None:
                raise ValueError(f"format {spec!r}: {bound}")
            sample: Any = 1 if spec[-1:] in ("d", "x", "X", "b", "o", "n", "c") else 1.5
            try:
                format(sample, spec)
            except (ValueError, TypeError):
                raise ValueError(
                    f"format {spec!r} is not a Python format spec; use e.g. '.1f' or 'd'"
                ) from None
        return spec

    @property
    def writable(self) -> bool:
        return self.write is not None

    @property
    def steps(self) -> bool:
        """Whether the tag's value holds until the next one (a setpoint, a state, a count):
        trends draw it as steps. ``step`` decides where given."""
        if self.step is not None:
            return self.step
        return self.writable or self.datatype in (DataType.BOOL, DataType.INT) or bool(self.states)

    def display(self, value: Any, *, units: bool = True) -> str:
        """The value as an operator reads it: state text, format spec, units."""
        if value is None:
            return "----"
        if self.states and isinstance(value, (int, float, bool)) and int(value) in self.states:
            return self.states[int(value)]
        text: str
        if isinstance(value, bool):
            text = "1" if value else "0"
        elif isinstance(value, (int, float)) and self.format:
            try:
                text = format(value, self.format)
            except (ValueError, TypeError):
                text = str(value)
        elif isinstance(value, float):
            text = f"{value:.2f}" if math.isfinite(value) else str(value)
        else:
            text = str(value)
        return f"{text} {self.units}" if units and self.units else text

    def coerce(self, value: Any) -> bool | int | float | str:
        """Turn an operator's input into this tag's type, or raise ``WriteDenied`` saying why."""
        try:
            if self.datatype is DataType.BOOL:
                if isinstance(value, str):
                    lowered = value.strip().lower()
                    if lowered in ("1", "true", "on", "yes"):
                        return True
                    if lowered in ("0", "false", "off", "no"):
                        return False
                    raise ValueError
                return bool(value)
            if self.datatype is DataType.INT:
                number = float(value)
                if not number.is_integer():
                    raise ValueError
                return int(number)
            if self.datatype is DataType.FLOAT:
                number = float(value)
                if not math.isfinite(number):
                    raise ValueError
                return number
            return str(value)
        except (TypeError, ValueError):
            raise WriteDenied(
                f"{self.name}: {value!r} is not a valid {self.datatype.value}"
            ) from None

    def check_write(self, value: Any) -> bool | int | float | str:
        """Coerce and range-check a value before anything is sent."""
        if self.write is None:
            raise WriteDenied(f"{self.name} is read-only")
        coerced = self.coerce(value)
        if isinstance(coerced, (int, float)) and not isinstance(coerced, bool):
            low, high = self.write.min, self.write.max
            if low is not None and not coerced >= low:
                raise WriteDenied(
                    f"{self.name}: {coerced} is below the write limit {low} {self.units}".rstrip()
                )
            if high is not None and not coerced <= high:
                raise WriteDenied(
                    f"{self.name}: {coerced} is above the write limit {high} {self.units}".rstrip()
                )
        return coerced
