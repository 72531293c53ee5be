"""A small, safe expression language over tags, for ``visible:`` and alarm conditions.

Python syntax, parsed with ``ast`` once and checked against a short whitelist: constants
(numbers, text, True/False), tag references written as dotted names (``Tank1.Level``),
comparisons, ``and``/``or``/``not``, ``+ - * / %``, unary minus, ``x if c else y`` and the
functions abs, min, max and round. Anything else is refused with the column where it is, so
an engineer sees the mistake when the project loads, not when the plant is running.

Tag names are letters, digits, ``_`` and ``.``; a part after a dot must not start with a digit
(``Line.1.Speed`` would read as a number).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from types import CodeType, MappingProxyType
from typing import Any

from hmi.model.errors import ConfigError

__all__ = ["Expression", "ExpressionError"]

# name -> (function, fewest arguments, most arguments)
_FUNCTIONS: Mapping[str, tuple[Callable[..., Any], int, int]] = MappingProxyType(
    {"abs": (abs, 1, 1), "min": (min, 2, 64), "max": (max, 2, 64), "round": (round, 1, 2)}
)
_BINARY: Mapping[type[ast.operator], str] = MappingProxyType(
    {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%"}
)
_COMPARE = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_REFUSED_OPERATORS: Mapping[type[ast.AST], str] = MappingProxyType(
    {
        ast.Pow: "'**' is not allowed; multiply instead",
        ast.FloorDiv: "'//' is not allowed; use round(a / b) instead",
        ast.BitAnd: "'&' is not allowed; use 'and'",
        ast.BitOr: "'|' is not allowed; use 'or'",
        ast.BitXor: "'^' is not allowed",
        ast.LShift: "'<<' is not allowed",
        ast.RShift: "'>>' is not allowed",
        ast.MatMult: "'@' is not allowed",
        ast.Invert: "'~' is not allowed; use 'not'",
        ast.In: "'in' is not allowed; compare with == and join with 'or'",
        ast.NotIn: "'not in' is not allowed; compare with != and join with 'and'",
        ast.Is: "'is' is not allowed; use ==",
        ast.IsNot: "'is not' is not allowed; use !=",
    }
)
_VALUES = "__values"
_GLOBALS: dict[str, Any] = {  # eval() wants a real dict; never changed after import
    "__builtins__": {},
    **{name: entry[0] for name, entry in _FUNCTIONS.items()},
}


class ExpressionError(ConfigError):
    """An expression that cannot be used; ``column`` is 1-based within the expression text
    (a character index, newlines counted as one character, for a text of several lines)."""

    def __init__(self, message: str, column: int) -> None:
        self.message = message
        self.column = column
        super().__init__(f"column {column}: {message}")


class _Checker(ast.NodeTransformer):
    """Refuses what is not whitelisted and rewrites tag references into ``__values['A.B']``."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._encoded = text.encode()
        self.references: list[tuple[str, int]] = []

    def column(self, node: ast.AST) -> int:
        """1-based character column (``ast`` counts UTF-8 bytes)."""
        offset = getattr(node, "col_offset", 0)
        return len(self._encoded[:offset].decode(errors="ignore")) + 1

    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        return ExpressionError(message, self.column(node))

    def refuse(self, node: ast.AST) -> ExpressionError:
        if isinstance(node, ast.Subscript):
            raise self.fail(node, "indexing with [...] is not allowed")
        if isinstance(node, ast.Lambda):
            raise self.fail(node, "lambda is not allowed")
        if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
            raise self.fail(node, "lists, tuples, sets and dicts are not allowed")
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            raise self.fail(node, "comprehensions are not allowed")
        if isinstance(node, (ast.JoinedStr, ast.FormattedValue)):
            raise self.fail(node, "f-strings are not allowed")
        if isinstance(node, ast.NamedExpr):
            raise self.fail(node, "':=' is not allowed")
        return self.fail(node, f"{type(node).__name__} is not allowed in an expression")

    def visit(self, node: ast.AST) -> ast.AST:
        if isinstance(node, (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)):
            return node  # operators are checked by the node that holds them
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise self.refuse(node)
        result: ast.AST = method(node)
        return result

    def _children(self, node: ast.AST) -> ast.AST:
        return super().generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, (bool, int, float, str)):
            return node
        if node.value is None:
            raise self.fail(node, "None is not allowed; a missing value already gives no result")
        raise self.fail(node, f"constant {node.value!r} is not allowed")

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return self._reference(node.id, node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        parts = [node.attr]
        inner: ast.expr = node.value
        while isinstance(inner, ast.Attribute):
            parts.append(inner.attr)
            inner = inner.value
        if not isinstance(inner, ast.Name):
            raise self.fail(node, "'.' is only allowed inside a tag name such as Tank1.Level")
        parts.append(inner.id)
        return self._reference(".".join(reversed(parts)), node)

    def _reference(self, tag: str, node: ast.expr) -> ast.AST:
        self.references.append((tag, self.column(node)))
        lookup = ast.Subscript(
            value=ast.Name(id=_VALUES, ctx=ast.Load()), slice=ast.Constant(tag), ctx=ast.Load()
        )
        return ast.copy_location(lookup, node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        if type(node.op) not in _BINARY:
            raise self._operator(node.op, node.left, node)
        return self._children(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        if not isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            raise self._operator(node.op, None, node)
        return self._children(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        return self._children(node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        for op, left in zip(node.ops, [node.left, *node.comparators], strict=False):
            if not isinstance(op, _COMPARE):
                raise self._operator(op, left, node)
        return self._children(node)

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        return self._children(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        allowed = ", ".join(_FUNCTIONS)
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise self.fail(node, f"unknown function {name!r}; allowed: {allowed}")
        if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args):
            raise self.fail(node, f"{node.func.id}() takes plain arguments only")
        _, fewest, most = _FUNCTIONS[node.func.id]
        if not fewest <= len(node.args) <= most:
            wanted = str(fewest) if fewest == most else f"{fewest} to {most}"
            if most == 64:
                wanted = f"at least {fewest}"
            raise self.fail(
                node, f"{node.func.id}() takes {wanted} arguments, got {len(node.args)}"
            )
        node.args = [self.visit(arg) for arg in node.args]  # type: ignore[misc]
        return node

    def _operator(self, op: ast.AST, left: ast.expr | None, node: ast.AST) -> ExpressionError:
        """Point just past the left operand, where the operator is written."""
        message = _REFUSED_OPERATORS.get(type(op), f"operator {type(op).__name__} is not allowed")
        if left is not None and left.end_col_offset is not None:
            marker = ast.Constant(0, col_offset=left.end_col_offset)
            column = self.column(marker)
            while column <= len(self._text) and self._text[column - 1].isspace():
                column += 1
            return ExpressionError(message, column)
        return self.fail(node, message)


class Expression:
    """A parsed, checked expression; compiled once so evaluating it is cheap."""

    __slots__ = ("_code", "references", "tags", "text")

    def __init__(self, text: str, code: CodeType, references: tuple[tuple[str, int], ...]):
        self.text = text
        self._code = code
        self.references = references  # (tag name, 1-based column) in order of appearance
        self.tags: frozenset[str] = frozenset(tag for tag, _ in references)

    @classmethod
    def parse(cls, text: str) -> Expression:
        """Parse and check ``text``; raise ``ExpressionError`` with the column of the problem."""
        if not isinstance(text, str) or not text.strip():
            raise ExpressionError("empty expression; write e.g. Pump1.Running == 1", 1)
        # A YAML block scalar may span lines; as one line, columns stay character indexes.
        flat = text.replace("\r", " ").replace("\n", " ")
        try:
            tree = ast.parse(flat, mode="eval")
        except SyntaxError as exc:
            raise _syntax_error(flat, exc) from None
        checker = _Checker(flat)
        body = checker.visit(tree.body)
        code = compile(
            ast.fix_missing_locations(ast.Expression(body=body)),  # type: ignore[arg-type]
            "<expression>",
            "eval",
        )
        return cls(text, code, tuple(checker.references))

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """The result for these tag values (plain values, not ``TagValue``). A missing or None
        input, a division by zero or a type clash gives None: the caller decides what an
        unknown result means (a widget stays visible)."""
        for tag in self.tags:
            if values.get(tag) is None:
                return None
        try:
            return eval(self._code, _GLOBALS, {_VALUES: values})  # only whitelisted nodes
        except (ArithmeticError, TypeError, ValueError):
            return None

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expression) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _syntax_error(text: str, exc: SyntaxError) -> ExpressionError:
    """``text`` is one line; ``offset`` is 1-based in characters, 0 or None at the end."""
    index = (exc.offset or 0) - 1
    if index < 0 or index >= len(text.rstrip()) or (exc.lineno or 1) > 1:
        return ExpressionError("the expression ends too early", len(text.rstrip()) + 1)
    found = text[index]
    message = exc.msg if exc.msg != "invalid syntax" else f"unexpected {found!r}"
    if found == "=" and text[index : index + 2] != "==":
        message += "; use == to compare"
    return ExpressionError(f"syntax error: {message}", index + 1)
