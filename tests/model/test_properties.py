"""Property-based tests (hypothesis) of the address parser, the expression engine and the
loader, with strategies that reach depth, size and odd Unicode: whatever the input, the
answer is a value or the library's own error with a place, never another exception, a hang
or an unbounded result."""

from __future__ import annotations

import math
import string
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hmi.model.address import (
    MODBUS_PARAMS,
    MODBUS_TABLES,
    MODBUS_TYPES,
    SIM_FUNCTIONS,
    SIM_PARAMS,
    parse_address,
)
from hmi.model.errors import AddressError, ConfigError
from hmi.model.expr import MAX_TEXT, EvaluationError, Expression, ExpressionError
from hmi.model.screens._yaml import read_yaml
from hmi.model.screens.loader import check_project, load_project
from tests.model.conftest import DEFAULTS

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is stable
    suppress_health_check=[HealthCheck.too_slow],
)

# Digits of other scripts, superscripts, fractions, letters, controls, surrogates excluded.
ODD = st.characters(categories=["Nd", "No", "Nl", "Lo", "Zs", "Cc", "Sm", "Po"])
NUMBER_TEXT = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "inf", "-inf", "1_0", "1e999", "0x10", " 5", "٣", "²", "⁵", ""]),
    st.text(ODD, min_size=1, max_size=4),
)


@st.composite
def addresses(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["opcua", "modbus", "sim", "local", "Modbus", "http"]))
    if scheme == "opcua":
        ns = draw(st.one_of(st.none(), NUMBER_TEXT))
        kind = draw(st.sampled_from("isgbx"))
        ident = draw(st.one_of(NUMBER_TEXT, st.text(max_size=30), st.uuids().map(str)))
        head = "" if ns is None else f"ns={ns};"
        return f"opcua://{draw(st.sampled_from(['c', '']))}/{head}{kind}={ident}"
    params = draw(
        st.dictionaries(
            st.one_of(
                st.sampled_from([*MODBUS_PARAMS, "period", "interval", "initial"]),
                st.text(max_size=5),
            ),
            st.one_of(NUMBER_TEXT, st.sampled_from([*MODBUS_TYPES, "ABCD", "CDAB", "compare"])),
            max_size=4,
        )
    )
    query = "&".join(f"{k}={v}" for k, v in params.items())
    if scheme.lower() == "modbus":
        unit, offset = draw(NUMBER_TEXT), draw(NUMBER_TEXT)
        table = draw(st.one_of(st.sampled_from(MODBUS_TABLES), st.text(max_size=6)))
        path = f"{unit}/{table}/{offset}"
        return f"{scheme}://plc/{path}?{query}"
    name = draw(st.one_of(st.sampled_from(SIM_FUNCTIONS), st.text(ODD, max_size=6)))
    return f"{scheme}://{name}?{query}"


@SETTINGS
@given(st.one_of(addresses(), st.text(max_size=60)))
def test_an_address_parses_or_says_why(raw: str) -> None:
    try:
        address = parse_address(raw)
    except AddressError as exc:
        assert str(exc)
        return
    numeric = {"modbus": ("scale", "bias", "poll"), "sim": SIM_PARAMS}.get(address.scheme, ())
    for name in numeric:
        if name in address.params:
            text = address.params[name].strip()
            assert text.isascii() and math.isfinite(float(text)), raw
    if address.scheme == "modbus":
        unit, _, offset = address.path.split("/")
        assert unit.isascii() and offset.isascii() and 0 <= int(offset) <= 65535, raw
    if address.scheme == "opcua" and address.path.startswith("ns="):
        ns = address.path[3:].split(";", 1)[0]
        assert ns.isascii() and int(ns) <= 65535, raw


NAMES = st.one_of(
    st.sampled_from(["A", "Tank1.Level", "x_1", "T"]),
    st.text(st.characters(categories=["Lu", "Ll", "Lo"]), min_size=1, max_size=5),
)
LEAVES = st.one_of(
    NAMES,
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(st.characters(exclude_characters="'\\\n\r"), max_size=8).map(lambda s: f"'{s}'"),
    st.sampled_from(["True", "False", "'a' * 4000000000", "'%9999s' % A"]),
)


def _node(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(
        children,
        st.sampled_from(["+", "-", "*", "/", "%", "==", "<", "and", "or", "**", "//"]),
        children,
    ).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    unary = st.tuples(st.sampled_from(["-", "not ", "+"]), children).map("".join)
    call = st.tuples(
        st.sampled_from(["abs", "min", "max", "round", "len"]),
        st.lists(children, min_size=1, max_size=3),
    ).map(lambda t: f"{t[0]}({', '.join(t[1])})")
    ternary = st.tuples(children, children, children).map(
        lambda t: f"({t[0]} if {t[1]} else {t[2]})"
    )
    return st.one_of(binary, unary, call, ternary)


EXPRESSIONS = st.recursive(LEAVES, _node, max_leaves=60)
CHAINS = st.tuples(
    st.sampled_from(["not ", "-", "+", "(", "A + ", "A * ", "'ab' * "]), st.integers(0, 3000)
).map(lambda t: t[0] * t[1] + "A" + (")" * t[1] if t[0] == "(" else ""))
VALUES = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(),
    st.booleans(),
    st.text(max_size=20),
    st.text(min_size=5_000, max_size=6_000, alphabet="ab"),
    st.just(10**9),
)


@SETTINGS
@given(st.one_of(EXPRESSIONS, CHAINS, st.text(max_size=40)), st.dictionaries(NAMES, VALUES))
def test_an_expression_parses_or_says_where_and_evaluates_or_says_why(
    text: str, values: dict[str, Any]
) -> None:
    try:
        expression = Expression.parse(text)
    except ExpressionError as exc:
        assert 1 <= exc.column <= len(text) + 1 or exc.column == 10_001, (text, exc.column)
        return
    inputs = {tag: values.get(tag, 10**9) for tag in expression.tags}
    try:
        result = expression.evaluate(inputs)
    except EvaluationError as exc:  # the only error, with what went wrong
        assert exc.message and isinstance(exc, ConfigError), exc
        return
    if isinstance(result, str):
        assert len(result) <= MAX_TEXT
    if isinstance(result, float):
        assert math.isfinite(result), (text, result)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**40), 10**40),
    st.floats(),
    st.text(max_size=12),
    st.text(ODD, max_size=6),
)
TREES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(string.ascii_lowercase, max_size=6), inner, max_size=5),
    ),
    max_leaves=40,
)
WIDGET_KEYS = [
    "type",
    "rect",
    "text",
    "tag",
    "font_size",
    "visible",
    "format",
    "span_s",
    "widgets",
    "template",
]


@st.composite
def screens(draw: st.DrawFn) -> str:
    widgets = draw(
        st.lists(
            st.dictionaries(
                st.sampled_from(WIDGET_KEYS),
                st.one_of(
                    st.sampled_from(["label", "value", "group", "trend", "instance", "pump"]),
                    st.lists(st.floats(), min_size=4, max_size=4),
                    TREES,
                    EXPRESSIONS,
                ),
                max_size=6,
            ),
            max_size=8,
        )
    )
    doc = {
        "screen": draw(st.one_of(st.just({"id": "main", "title": "M"}), TREES)),
        "widgets": widgets,
    }
    text = yaml.safe_dump(doc, allow_unicode=draw(st.booleans()))
    if draw(st.booleans()):  # aliases, nested to a depth and width the draw picks
        depth, width = draw(st.integers(1, 12)), draw(st.integers(1, 12))
        chain = "a0: &a0 [x]\n" + "".join(
            f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]\n" for i in range(1, depth)
        )
        text = chain + text
    if draw(st.booleans()):  # a raw character YAML may not allow, anywhere
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at]
            + draw(st.characters(categories=["Cc", "Cs", "Co"], exclude_characters="\n"))
            + text[at:]
        )
    return text


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(screens())
def test_any_screen_file_is_loaded_or_each_problem_has_its_place(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name, content in DEFAULTS.items():
            (root / name).write_text(content, encoding="utf-8")
        (root / "main.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
        doc = read_yaml(root / "main.yaml")
        assert doc.parsed or doc.problems
        problems = check_project(root)
        for problem in problems:
            where = problem.location
            assert where.line >= 1 and where.column >= 1, str(problem)
            assert Path(where.file).is_relative_to(root.resolve()), str(problem)
        if not problems:  # what check accepts, hmi run's loading takes
            assert load_project(root).screens
