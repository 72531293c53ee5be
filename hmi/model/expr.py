"""A small, safe expression language over tags, for ``visible:`` and alarm conditions.

Python syntax, parsed with ``ast`` once and checked against a short whitelist: constants
(numbers, text, True/False), tag references written as dotted names (``Tank1.Level``),
comparisons, ``and``/``or``/``not``, ``+ - * / %``, unary minus, ``x if c else y`` and the
functions abs, min, max and round. Anything else is refused with the column where it is, so
an engineer sees the mistake when the project loads, not when the plant is running.

Tag names are letters, digits, ``_`` and ``.``; a part after a dot must not start with a digit
(``Line.1.Speed`` would read as a number).

Bounded, because a screen file is data: an expression is at most ``MAX_CHARS`` characters and
``MAX_DEPTH`` levels of nesting; text made by ``*`` or ``+`` is at most ``MAX_TEXT`` characters
(refused at check when it is made of constants, an evaluation error at run time), and ``%``
never formats text. An evaluation raises nothing but ``EvaluationError`` (a ``ConfigError``):
a division by zero, a type clash, a result beyond a bound or not a finite number is a fault
of the expression, which the caller shows as such (Bad(ConfigError) with the message), never
a silent unknown.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from types import CodeType, MappingProxyType
from typing import Any

from hmi.model.errors import ConfigError

__all__ = [
    "MAX_CHARS",
    "MAX_DEPTH",
    "MAX_TEXT",
    "EvaluationError",
    "Expression",
    "ExpressionError",
]

MAX_CHARS = 10_000
MAX_DEPTH = 100
MAX_TEXT = 10_000


class _TooLarge(ValueError):
    """A result beyond ``MAX_TEXT``, refused before it is made."""


def _text_size(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0


def _add(a: Any, b: Any) -> Any:
    if _text_size(a) + _text_size(b) > MAX_TEXT:
        raise _TooLarge(f"'+' would make a text of more than {MAX_TEXT:,} characters")
    return a + b


def _mul(a: Any, b: Any) -> Any:
    text, times = (a, b) if isinstance(a, str) else (b, a)
    if isinstance(text, str) and isinstance(times, int) and len(text) * times > MAX_TEXT:
        raise _TooLarge(f"'*' would make a text of more than {MAX_TEXT:,} characters")
    return a * b


def _mod(a: Any, b: Any) -> Any:
    if isinstance(a, str):
        raise TypeError("'%' on text would format it; it only takes numbers")
    return a % b


# Operators evaluated through these guards: they refuse a result too large before making it.
_GUARDED: Mapping[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]] = MappingProxyType(
    {ast.Add: ("__add", _add), ast.Mult: ("__mul", _mul), ast.Mod: ("__mod", _mod)}
)


def _round(number: Any, ndigits: Any = None) -> Any:
    """``round``, with digits bounded: ``round(10, -999999999)`` would compute 10**999999999."""
    if ndigits is not None and isinstance(ndigits, int) and not -100 <= ndigits <= 100:
        raise ValueError("round() takes digits from -100 to 100")
    return round(number, ndigits)


# name -> (function, fewest arguments, most arguments)
_FUNCTIONS: Mapping[str, tuple[Callable[..., Any], int, int]] = MappingProxyType(
    {"abs": (abs, 1, 1), "min": (min, 2, 64), "max": (max, 2, 64), "round": (_round, 1, 2)}
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
    **dict(_GUARDED.values()),
}


class ExpressionError(ConfigError):
    """An expression that cannot be used; ``column`` is 1-based within the expression text
    (a character index, newlines counted as one character, for a text of several lines)."""

    def __init__(self, message: str, column: int) -> None:
        self.message = message
        self.column = column
        super().__init__(f"column {column}: {message}")


class EvaluationError(ConfigError):
    """An expression that parsed but cannot be evaluated for these values: the message says
    what went wrong (``division by zero``, a type clash, a result beyond a bound)."""

    def __init__(self, expression: str, message: str) -> None:
        self.expression = expression
        self.message = message
        super().__init__(f"expression {expression.strip()!r} cannot be evaluated: {message}")


def _evaluation_message(exc: BaseException) -> str:
    if isinstance(exc, ZeroDivisionError):
        return "division by zero"
    if isinstance(exc, RecursionError):
        return "nested too deeply to evaluate"
    if isinstance(exc, MemoryError):
        return "the result is too large to make"
    if isinstance(exc, OverflowError):
        return f"a number out of range ({exc})"
    if isinstance(exc, TypeError):
        return f"values of the wrong type ({exc})"
    return str(exc) or type(exc).__name__


class _Checker(ast.NodeTransformer):
    """Refuses what is not whitelisted and rewrites tag references into ``__values['A.B']``."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._chars: list[int] | None = None  # UTF-8 byte offset -> character index
        if not text.isascii():
            self._chars = []
            for index, char in enumerate(text):
                self._chars.extend([index] * len(char.encode()))
            self._chars.append(len(text))
        self.references: list[tuple[str, int]] = []

    def column(self, node: ast.AST) -> int:
        """1-based character column (``ast`` counts UTF-8 bytes); constant time per node."""
        offset = getattr(node, "col_offset", 0)
        if self._chars is None:
            return offset + 1
        return self._chars[min(offset, len(self._chars) - 1)] + 1

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
        if isinstance(node.op, ast.Mod) and _is_text(node.left):
            raise self._operator(node.op, node.left, node, "'%' on text is not allowed")
        self._children(node)
        guard = _GUARDED.get(type(node.op))
        if guard is None:
            return node
        name, function = guard
        if isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Constant):
            try:  # folded, so ('a' * 100) * 1000 is caught as well
                folded = function(node.left.value, node.right.value)
            except _TooLarge as exc:
                raise self._operator(node.op, node.left, node, str(exc)) from None
            except (ArithmeticError, TypeError, ValueError):
                pass  # e.g. 'a' * 1.5: unknown at run time, as with tags
            else:
                return ast.copy_location(ast.Constant(folded), node)
        call = ast.Call(
            func=ast.Name(id=name, ctx=ast.Load()), args=[node.left, node.right], keywords=[]
        )
        return ast.copy_location(call, node)

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

    def _operator(
        self, op: ast.AST, left: ast.expr | None, node: ast.AST, message: str = ""
    ) -> ExpressionError:
        """Point just past the left operand, where the operator is written."""
        message = message or _REFUSED_OPERATORS.get(
            type(op), f"operator {type(op).__name__} is not allowed"
        )
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
        if len(text) > MAX_CHARS:
            raise ExpressionError(
                f"the expression is {len(text):,} characters; at most {MAX_CHARS:,}",
                MAX_CHARS + 1,
            )
        # A YAML block scalar may span lines; as one line, columns stay character indexes.
        flat = text.replace("\r", " ").replace("\n", " ")
        try:
            tree = ast.parse(flat, mode="eval")
        except SyntaxError as exc:
            raise _syntax_error(flat, exc) from None
        except (RecursionError, MemoryError):
            raise ExpressionError(f"nested more than {MAX_DEPTH} levels deep", 1) from None
        checker = _Checker(flat)
        _check_depth(tree.body, checker)
        body = checker.visit(tree.body)
        code = compile(
            ast.fix_missing_locations(ast.Expression(body=body)),  # type: ignore[arg-type]
            "<expression>",
            "eval",
        )
        return cls(text, code, tuple(checker.references))

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """The result for these tag values (plain values, not ``TagValue``); None when an
        input is missing or None (unknown: the caller decides what that means). Whatever else
        goes wrong (a division by zero, a type clash, a text beyond ``MAX_TEXT``, a number
        out of range, a result that is not a finite number) raises ``EvaluationError`` and
        nothing else."""
        for tag in self.tags:
            if values.get(tag) is None:
                return None
        try:
            result = eval(self._code, _GLOBALS, {_VALUES: values})  # only whitelisted nodes
        except Exception as exc:  # the whitelist leaves arithmetic, type and size errors
            raise EvaluationError(self.text, _evaluation_message(exc)) from None
        if isinstance(result, float) and not math.isfinite(result):
            raise EvaluationError(self.text, f"the result is {result}, not a finite number")
        return result

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expression) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _check_depth(root: ast.AST, checker: _Checker) -> None:
    """Refuse nesting beyond ``MAX_DEPTH`` before the recursive checker and compiler see it."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise checker.fail(node, f"nested more than {MAX_DEPTH} levels deep")
        stack.extend((item, depth + 1) for item in ast.iter_child_nodes(node))


def _syntax_error(text: str, exc: SyntaxError) -> ExpressionError:
    """``text`` is one line; ``offset`` is 1-based in characters, 0 or None at the end."""
    if exc.msg.startswith("Exceeds the limit"):
        return ExpressionError("a number of more than 4300 digits is not allowed", 1)
    index = (exc.offset or 0) - 1
    if index < 0 or index >= len(text.rstrip()) or (exc.lineno or 1) > 1:
        return ExpressionError("the expression ends too early", len(text.rstrip()) + 1)
    found = text[index]
    message = exc.msg if exc.msg != "invalid syntax" else f"unexpected {found!r}"
    if found == "=" and text[index : index + 2] != "==":
        message += "; use == to compare"
    return ExpressionError(f"syntax error: {message}", index + 1)
