"""The expression language: what it allows, what it refuses (and where), how it evaluates."""

from __future__ import annotations

import pytest

from hmi.model.errors import ConfigError
from hmi.model.expr import EvaluationError, Expression, ExpressionError

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


BIG = 10**400  # an int no float holds
ERRORS = {
    "division by zero": ("a / zero", "division by zero"),
    "modulo by zero": ("a % zero", "division by zero"),
    "float division by zero": ("Tank1.Level / (a - 7)", "division by zero"),
    "compare text with number": ("name > 1", "values of the wrong type"),
    "text minus number": ("name - 1", "values of the wrong type"),
    "text times float": ("name * 1.5", "values of the wrong type"),
    "negate text": ("-name", "values of the wrong type"),
    "abs of text": ("abs(name)", "values of the wrong type"),
    "min of text and number": ("min(name, 1)", "values of the wrong type"),
    "round digits of text": ("round(a, name)", "values of the wrong type"),
    "text plus number": ("name + 1", "values of the wrong type"),
    "format with %": ("name % a", "'%' on text would format it"),
    "text times tag": ("name * big", "more than 10,000 characters"),
    "text plus text": ("long + long", "more than 10,000 characters"),
    "round digits": ("round(a, big)", "round() takes digits from -100 to 100"),
    "int to float overflow": ("big / 3", "a number out of range"),
    "float overflow to inf": ("Tank1.Level * 1e308", "not a finite number"),
    "round of infinity": ("round(huge * 10)", "a number out of range"),
    "round of nan": ("round(huge * 10 - huge * 10)", "cannot convert float NaN"),
}
ERROR_VALUES = {**VALUES, "big": BIG, "long": "x" * 6_000, "huge": 1e308}


@pytest.mark.parametrize("case", list(ERRORS))
def test_an_evaluation_error_is_an_evaluation_error_with_its_message(case: str) -> None:
    text, phrase = ERRORS[case]
    with pytest.raises(EvaluationError) as caught:
        Expression.parse(text).evaluate(ERROR_VALUES)
    assert isinstance(caught.value, ConfigError)
    assert phrase in caught.value.message, caught.value.message
    assert text in str(caught.value)


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
