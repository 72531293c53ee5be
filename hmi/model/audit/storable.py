"""One rule that makes any text or tag value storable in every database before it is hashed.

A record must never fail because of what somebody typed or what a device sent, and one odd
record must never fail the records committed with it. So, before a record is hashed:

* text (every text field, and text inside a tag value) has NUL and lone surrogates replaced by
  U+FFFD (PostgreSQL refuses NUL; a lone surrogate is not UTF-8), and is cut to
  ``MAX_TEXT_CHARS`` characters, the cut said at its end (``… [1234 more characters cut]``);
* bytes longer than ``MAX_VALUE_BYTES`` are kept as their first bytes in hex, as text that says so;
* a list or tuple keeps its first ``MAX_VALUE_ITEMS`` items, nested at most ``MAX_VALUE_DEPTH``
  deep, the rest said in a last text item;
* an integer too long to write in decimal (Python refuses over 4,300 digits) becomes text that
  gives its size; any other object is kept as its ``repr()``, cleaned and cut the same way
  (an object whose ``repr()`` fails is named by its type).

What was cut is said in the record itself, so the trail never claims more than it holds.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "MAX_INT_BITS",
    "MAX_TEXT_CHARS",
    "MAX_VALUE_BYTES",
    "MAX_VALUE_DEPTH",
    "MAX_VALUE_ITEMS",
    "clean_text",
    "cut_bytes",
    "cut_items",
    "huge_int",
    "safe_repr",
    "storable_text",
]

MAX_TEXT_CHARS = 4096
MAX_VALUE_BYTES = 1024
MAX_VALUE_ITEMS = 1000
MAX_VALUE_DEPTH = 8
MAX_INT_BITS = 13_000  # about 3,900 decimal digits, under Python's 4,300-digit limit


_SURROGATE = re.compile("[\ud800-\udfff]")  # a Python str never pairs them: each is lone


def storable_text(text: str) -> str:
    """``text`` with NUL and lone surrogates replaced by U+FFFD and cut to MAX_TEXT_CHARS."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATE.sub("\ufffd", text)
    if len(text) > MAX_TEXT_CHARS:
        cut = len(text) - MAX_TEXT_CHARS
        text = f"{text[:MAX_TEXT_CHARS]}… [{cut} more characters cut]"
    return text


def safe_repr(value: Any) -> str:
    """``repr(value)`` made storable; an object whose repr fails is named by its type."""
    try:
        text = repr(value)
    except Exception:  # a hostile or broken object must not lose the record
        text = f"<{type(value).__qualname__} object: repr() failed>"
    return storable_text(text if isinstance(text, str) else str(type(value)))


def clean_text(text: object) -> str:
    """A record's text field as every database stores it (``storable_text``): ``str``, no
    NUL, no lone surrogates, at most ``MAX_TEXT_CHARS``."""
    if text is None:
        return ""
    if not isinstance(text, str):
        try:
            text = str(text)
        except Exception:  # a hostile object must not lose the record
            text = safe_repr(text)
    return storable_text(text)


def cut_bytes(value: bytes) -> str:
    return f"{value[:MAX_VALUE_BYTES].hex()}… [{len(value)} bytes, cut to {MAX_VALUE_BYTES}]"


def huge_int(value: int) -> str:
    return f"<integer of {value.bit_length()} bits, too long to record>"


def cut_items(count: int) -> str:
    return f"… [{count - MAX_VALUE_ITEMS} more items cut]"
