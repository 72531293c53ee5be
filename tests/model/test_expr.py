"""The expression language: what it allows, what it refuses (and where), how it evaluates."""

from __future__ import annotations

import pytest

from hmi.model.errors import ConfigError
from hmi.model.expr import Expression, ExpressionError

VALUES = {"Tank1.Level": 42.0, "Pump1.Running": 1, "a": 7, "b": 2, "zero": 0, "name": "P101"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tank1.Level > 5 and Pump1.Running == 1", True),
        ("Tank1.Level > 50 or Pump1.Running == 0", False),
        ("not Pump1.Running", False),
        ("a + b * 2 - 1", 10),
        ("a / b", 3.5),
        ("a % b", 1),
        ("-a + +b", -5),
        ("(a + b) * 2", 18),
        ("0 < Tank1.Level <= 100", True),
        ("a != b", True),
        ("'on' if Pump1.Running else 'off'", "on"),
        ("abs(b - a)", 5),
        ("min(a, b, 3)", 2),
        ("max(a, b)", 7),
        ("round(a / 3, 2)", 2.33),
        ("round(a / 2)", 4),
        ("name == 'P101'", True),
        ("True", True),
        ("1.5e2 > a", True),
    ],
)
def test_evaluates(text: str, expected: object) -> None:
    assert Expression.parse(text).evaluate(VALUES) == expected


def test_dotted_names_are_tag_names() -> None:
    expression = Expression.parse("Area.Tank1.Level > Tank1.Level and x_1 == 1")
    assert expression.tags == frozenset({"Area.Tank1.Level", "Tank1.Level", "x_1"})
    assert expression.references == (("Area.Tank1.Level", 1), ("Tank1.Level", 20), ("x_1", 36))


def test_function_names_are_not_tags() -> None:
    assert Expression.parse("abs(a) + max(a, b)").tags == frozenset({"a", "b"})


def test_missing_or_none_input_gives_none() -> None:
    expression = Expression.parse("a > 1")
    assert expression.evaluate({}) is None
    assert expression.evaluate({"a": None}) is None


def test_division_by_zero_gives_none() -> None:
    assert Expression.parse("a / zero").evaluate(VALUES) is None
    assert Expression.parse("a % zero").evaluate(VALUES) is None


def test_type_clash_gives_none() -> None:
    assert Expression.parse("name > 1").evaluate(VALUES) is None


def test_a_block_scalar_over_several_lines_parses() -> None:
    expression = Expression.parse("Tank1.Level > 5 and\nPump1.Running == 1\n")
    assert expression.evaluate(VALUES) is True
    assert dict(expression.references)["Pump1.Running"] == 21


def test_equal_text_is_equal_expression() -> None:
    assert Expression.parse("a > 1") == Expression.parse("a > 1")
    assert len({Expression.parse("a > 1"), Expression.parse("a > 1")}) == 1


@pytest.mark.parametrize(
    ("text", "column", "phrase"),
    [
        ("", 1, "empty expression"),
        ("   ", 1, "empty expression"),
        ("a ** 2", 3, "'**' is not allowed"),
        ("a // 2", 3, "'//' is not allowed"),
        ("a & b", 3, "use 'and'"),
        ("a | b", 3, "use 'or'"),
        ("~a", 1, "'~' is not allowed"),
        ("a in b", 3, "'in' is not allowed"),
        ("a is b", 3, "'is' is not allowed"),
        ("a[1]", 1, "indexing"),
        ("foo(a)", 1, "unknown function 'foo'; allowed: abs, min, max, round"),
        ("__import__('os')", 1, "unknown function '__import__'"),
        ("a.b()", 1, "unknown function 'a.b'"),
        ("'x'.upper()", 1, "unknown function"),
        ("(a + b).c", 1, "'.' is only allowed inside a tag name"),
        ("lambda: 1", 1, "lambda is not allowed"),
        ("[a, b]", 1, "lists, tuples"),
        ("(a, b)", 1, "lists, tuples"),
        ("{a: 1}", 1, "lists, tuples, sets and dicts"),
        ("[x for x in a]", 1, "comprehensions"),
        ("f'{a}'", 1, "f-strings"),
        ("(y := 1)", 2, "':=' is not allowed"),
        ("None", 1, "None is not allowed"),
        ("b'x'", 1, "constant b'x' is not allowed"),
        ("1j", 1, "constant 1j is not allowed"),
        ("min(a)", 1, "min() takes at least 2 arguments, got 1"),
        ("abs(a, b)", 1, "abs() takes 1 arguments, got 2"),
        ("round(a, key=1)", 1, "plain arguments only"),
        ("a = 1", 3, "use == to compare"),
        ("a +* b", 4, "unexpected '*'"),
        ("a >", 4, "ends too early"),
        ("(a", 1, "was never closed"),
        ("é + a ** 2", 7, "'**' is not allowed"),
        ("a and b ** 2", 9, "'**' is not allowed"),
    ],
)
def test_refused_with_column(text: str, column: int, phrase: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        Expression.parse(text)
    assert caught.value.column == column, caught.value
    assert phrase in caught.value.message
    assert isinstance(caught.value, ConfigError)
    assert f"column {column}" in str(caught.value)


def test_evaluation_has_no_builtins() -> None:
    """Even a name that is a builtin is read as a tag, never looked up in Python."""
    expression = Expression.parse("len > 1")
    assert expression.tags == frozenset({"len"})
    assert expression.evaluate({"len": 2}) is True
    assert expression.evaluate({}) is None
