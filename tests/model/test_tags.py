"""Tag metadata: how a value is shown, how operator input is coerced, what a write may be."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from hmi.model.errors import WriteDenied
from hmi.model.tags import ConfirmPolicy, DataType, TagConfig


def tag(**fields: object) -> TagConfig:
    return TagConfig.model_validate({"name": "T1", "address": "sim://sine", **fields})


def test_display_uses_format_and_units() -> None:
    level = tag(units="%", format=".1f")
    assert level.display(42.345) == "42.3 %"
    assert level.display(42.345, units=False) == "42.3"
    assert level.display(None) == "----"


def test_display_defaults() -> None:
    plain = tag()
    assert plain.display(1.0 / 3) == "0.33"
    assert plain.display(math.inf) == "inf"
    assert plain.display(True) == "1"
    assert plain.display("text") == "text"
    assert tag(datatype="int").display(7) == "7"


def test_display_state_text() -> None:
    pump = tag(datatype="bool", states={0: "STOPPED", 1: "RUNNING"})
    assert pump.display(True) == "RUNNING"
    assert pump.display(0) == "STOPPED"
    assert tag(states={1: "ONE"}).display(2.0) == "2.00"


def test_display_survives_a_format_that_does_not_fit_the_value() -> None:
    assert tag(format="d").display(1.5) == "1.5"


@pytest.mark.parametrize(
    ("datatype", "given", "expected"),
    [
        ("float", "1.5", 1.5),
        ("float", 2, 2.0),
        ("int", "3", 3),
        ("int", 4.0, 4),
        ("bool", "on", True),
        ("bool", "No", False),
        ("bool", 1, True),
        ("str", 12, "12"),
    ],
)
def test_coerce(datatype: str, given: object, expected: object) -> None:
    result = tag(datatype=datatype).coerce(given)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("datatype", "given"),
    [("float", "abc"), ("float", "nan"), ("float", math.inf), ("int", 1.5), ("int", "x"), ("bool", "maybe")],
)  # fmt: skip
def test_coerce_refuses(datatype: str, given: object) -> None:
    with pytest.raises(WriteDenied, match=f"is not a valid {datatype}"):
        tag(datatype=datatype).coerce(given)


def test_check_write_read_only() -> None:
    assert not tag().writable
    with pytest.raises(WriteDenied, match="T1 is read-only"):
        tag().check_write(1)


def test_check_write_limits() -> None:
    setpoint = tag(units="m3/h", write={"min": 0, "max": 100, "confirm": "reason"})
    assert setpoint.writable
    assert setpoint.write is not None and setpoint.write.confirm is ConfirmPolicy.REASON
    assert setpoint.check_write("50") == 50.0
    assert setpoint.check_write(0) == 0.0
    with pytest.raises(WriteDenied, match=r"above the write limit 100\.0 m3/h"):
        setpoint.check_write(100.5)
    with pytest.raises(WriteDenied, match=r"below the write limit 0\.0 m3/h"):
        setpoint.check_write(-1)


def test_check_write_bool_is_not_range_checked() -> None:
    switch = tag(datatype="bool", write={"min": 5})
    assert switch.check_write("true") is True


def test_defaults() -> None:
    config = tag()
    assert config.datatype is DataType.FLOAT
    assert config.write is None
    assert config.limits.hi is None


@pytest.mark.parametrize(
    ("fields", "phrase"),
    [
        ({"range": [10, 10]}, "range low 10 must be below high 10"),
        ({"format": ".2q"}, "is not a Python format spec"),
        ({"limits": {"lo": 5, "lolo": 6}}, "limit lolo=6.0 is above lo=5.0"),
        ({"write": {"min": 2, "max": 1}}, "write min 2.0 is above write max 1.0"),
        ({"address": "sim://nothing"}, "sim function 'nothing'"),
        ({"address": 5}, "address must be a text URI"),
        ({"colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_configs(fields: dict[str, object], phrase: str) -> None:
    with pytest.raises(ValidationError, match=phrase.replace("(", r"\(").replace(".", r"\.")):
        tag(**fields)


def test_which_tags_trends_draw_as_steps() -> None:
    """Setpoints (writable), bool, int and state tags hold their value until the next one;
    a measurement is a line; the tag's ``step`` decides where given."""
    from hmi.model.tags import TagConfig, WritePolicy

    def tag(**fields: object) -> TagConfig:
        return TagConfig(address="local://x?type=float", **fields)  # type: ignore[arg-type]

    assert not tag().steps
    assert tag(write=WritePolicy(min=0, max=100)).steps
    assert tag(datatype="bool").steps and tag(datatype="int").steps
    assert tag(states={0: "STOP", 1: "RUN"}).steps
    assert tag(step=True).steps and not tag(write=WritePolicy(), step=False).steps
