"""What one ``modbus://`` address reads, and how its registers turn into a value and back.

Orders name the bytes of a value as they arrive, A being the most significant byte:

- ``ABCD`` big-endian, the Modbus default: first register holds the most significant word.
- ``CDAB`` word swap: registers in reverse order, bytes within each big-endian.
- ``BADC`` byte swap: registers in order, the two bytes of each swapped.
- ``DCBA`` little-endian: every byte reversed.

The same rule applies to every width (for 64-bit ``CDAB`` is GH EF CD AB) and to strings,
whose characters are packed two per register, first character in the high byte (``ABCD``).
Each order is its own inverse, so one function both decodes and encodes.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import add, itemgetter, mul
from typing import Any

from hmi.model.address import TagAddress
from hmi.model.errors import ConfigError, WriteDenied

from .pdu import BIT_TABLES

_FORMATS = {
    "int16": ("h", 1, -(2**15), 2**15 - 1),
    "uint16": ("H", 1, 0, 2**16 - 1),
    "int32": ("i", 2, -(2**31), 2**31 - 1),
    "uint32": ("I", 2, 0, 2**32 - 1),
    "int64": ("q", 4, -(2**63), 2**63 - 1),
    "uint64": ("Q", 4, 0, 2**64 - 1),
    "float32": ("f", 2, -3.4028234663852886e38, 3.4028234663852886e38),
    "float64": ("d", 4, -1.7976931348623157e308, 1.7976931348623157e308),
}
_INTEGERS = frozenset({"int16", "uint16", "int32", "uint32", "int64", "uint64"})
FLOATS = frozenset({"float32", "float64"})


def reorder(data: bytes, order: str) -> bytes:
    """Wire bytes in ``order`` <-> big-endian (ABCD) bytes; ``data`` is whole registers."""
    if order == "ABCD":
        return data
    if order == "DCBA":
        return data[::-1]
    if order == "BADC":
        swapped = bytearray(data)
        swapped[0::2], swapped[1::2] = data[1::2], data[0::2]
        return bytes(swapped)
    return b"".join(data[i : i + 2] for i in range(len(data) - 2, -1, -2))  # CDAB


def _text_number(text: str) -> object:
    """``'42'`` as 42, ``'12.5'`` as 12.5 (ASCII only); the text itself if it is no number."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


@dataclass(frozen=True, slots=True)
class Point:
    """One address on the device. ``offset`` is the 0-based protocol address; ``width`` is
    how many registers it spans (1 for a coil or discrete input)."""

    address: TagAddress
    unit: int
    table: str
    offset: int
    kind: str
    order: str = "ABCD"
    bit: int | None = None
    length: int = 0
    scale: float = 1.0
    bias: float = 0.0
    poll_ms: float = 500.0
    width: int = 1
    check_readback: bool = True
    """Compare the read-back after a write; False for momentary commands the device resets."""
    _struct: struct.Struct | None = field(default=None, repr=False, compare=False)

    @staticmethod
    def from_address(address: TagAddress, default_poll_ms: float) -> Point:
        """Parse the already validated URI parts; ``ConfigError`` for what the URI check
        cannot know (a value running past address 65535)."""
        unit, table, offset = address.path.split("/")
        params = address.params
        bits = table in BIT_TABLES or "bit" in params
        kind = params.get("type", "bool" if bits else "uint16")
        order = params.get("order", "ABCD")
        length = int(params.get("length", "0"))
        if table in BIT_TABLES or kind == "bool":
            width = 1
        elif kind == "string":
            width = (length + 1) // 2
        else:
            width = _FORMATS[kind][1]
        if int(offset) + width > 65536:
            raise ConfigError(f"{address}: {width} registers from {offset} run past 65535")
        fmt = _FORMATS.get(kind)
        return Point(
            address=address,
            unit=int(unit),
            table=table,
            offset=int(offset),
            kind=kind,
            order=order,
            bit=int(params["bit"]) if "bit" in params else None,
            length=length,
            scale=float(params.get("scale", "1")),
            bias=float(params.get("bias", "0")),
            poll_ms=float(params.get("poll", default_poll_ms)),
            width=width,
            check_readback=params.get("readback", "compare") == "compare",
            _struct=struct.Struct(">" + fmt[0]) if fmt else None,
        )

    @property
    def end(self) -> int:
        """One past the last register (or bit) this point reads."""
        return self.offset + self.width

    @property
    def is_bit(self) -> bool:
        return self.table in BIT_TABLES

    @property
    def scaled(self) -> bool:
        return self.scale != 1.0 or self.bias != 0.0

    @property
    def writable(self) -> bool:
        return self.table in ("coil", "holding")

    # -- reading -------------------------------------------------------------------------------

    def decode(self, data: bytes, start: int) -> bool | int | float | str:
        """The value out of a read block's data bytes, the block starting at ``start``
        (``BlockDecoder`` reads a whole block faster)."""
        index = self.offset - start
        if self.table in BIT_TABLES:
            return bool(data[index >> 3] >> (index & 7) & 1)
        pos = 2 * index
        if self._struct is not None and self.order == "ABCD":
            raw = self._struct.unpack_from(data, pos)[0]
        else:
            chunk = reorder(data[pos : pos + 2 * self.width], self.order)
            if self.kind == "bool":
                word = chunk[0] << 8 | chunk[1]
                return bool(word >> self.bit & 1) if self.bit is not None else word != 0
            if self.kind == "string":
                return chunk[: self.length].decode("latin-1").rstrip("\x00")
            assert self._struct is not None
            raw = self._struct.unpack(chunk)[0]
        if self.scale != 1.0 or self.bias != 0.0:
            return raw * self.scale + self.bias
        return raw

    # -- writing -------------------------------------------------------------------------------

    def encode(self, value: object) -> bytes:
        """The register bytes to write, in wire order, after checking ``value`` fits; raises
        ``WriteDenied`` before anything is sent. Not for coils or bits (see ``encode_bool``)."""
        if self.kind == "bool":
            return reorder(b"\x00\x01" if self.encode_bool(value) else b"\x00\x00", self.order)
        if self.kind == "string":
            return reorder(self._encode_string(value), self.order)
        fmt, _, low, high = _FORMATS[self.kind]
        number = self._number(value)
        if self.scaled:
            number = (number - self.bias) / self.scale
        if self.kind in _INTEGERS:
            if isinstance(number, float):
                if not number.is_integer() and not self.scaled:
                    raise self._denied(value, "is not a whole number")
                number = round(number)
            if not low <= number <= high:
                raw = f"(raw {number}) " if self.scaled else ""
                raise self._denied(value, f"{raw}is outside the {self.kind} range {low}..{high}")
        elif not math.isfinite(number) or not low <= number <= high:
            raise self._denied(value, f"is outside the {self.kind} range")
        return reorder(struct.pack(">" + fmt, number), self.order)

    def encode_bool(self, value: object) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        raise self._denied(value, "is not a boolean (true/false, 1/0)")

    def with_bit(self, register: bytes, value: bool) -> bytes:
        """The 2 wire bytes of a register with this point's bit set or cleared."""
        assert self.bit is not None
        chunk = reorder(register, self.order)
        word = chunk[0] << 8 | chunk[1]
        word = word | 1 << self.bit if value else word & ~(1 << self.bit)
        return reorder(word.to_bytes(2, "big"), self.order)

    def _number(self, value: object) -> int | float:
        if isinstance(value, str) and value.strip().isascii() and "_" not in value:
            value = _text_number(value.strip())  # a str tag on a numeric register
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._denied(value, f"is not a number for a {self.kind} register")
        if isinstance(value, float) and not math.isfinite(value):
            raise self._denied(value, "is not a finite number")
        return value

    def _encode_string(self, value: object) -> bytes:
        if not isinstance(value, str):
            raise self._denied(value, "is not text")
        if len(value) > self.length:
            raise self._denied(value, f"is longer than the {self.length} characters configured")
        try:
            data = value.encode("latin-1")
        except UnicodeEncodeError:
            raise self._denied(value, "has characters outside Latin-1") from None
        return data.ljust(2 * self.width, b"\x00")

    def _denied(self, value: object, why: str) -> WriteDenied:
        return WriteDenied(f"{self.address}: {value!r} {why}; nothing was sent")


# Which struct layout reads an order: (swap the bytes of each register first, byte order).
_LAYOUT = {"ABCD": (False, ">"), "DCBA": (False, "<"), "BADC": (True, ">"), "CDAB": (True, "<")}


class BlockDecoder:
    """Decodes every point of one read block at once: the driver's hot path.

    Numbers go through precompiled ``struct.Struct`` layouts spanning the block, with pad
    bytes over the registers in between: ``ABCD`` is big-endian and ``DCBA`` little-endian as
    the bytes arrive, and once the two bytes of every register are swapped (one slice
    assignment for the whole block) ``BADC`` is big-endian and ``CDAB`` little-endian, at
    every width. Scaling is applied afterwards. A bit (a coil, a discrete input, ``bit=`` of a
    register) is a precomputed byte index and mask. The rest (strings, a bool on a whole
    register, a point overlapping one already in a layout) goes through ``Point.decode``.
    ``decode`` gives the values in the order of ``points``, which is not the block's."""

    def __init__(self, start: int, points: Sequence[Point]) -> None:
        self.start = start
        # Per layout, (bytes swapped, byte order): its points, struct codes, and end so far.
        chosen: dict[tuple[bool, str], list[Point]] = {key: [] for key in _LAYOUT.values()}
        codes: dict[tuple[bool, str], list[str]] = {key: [] for key in _LAYOUT.values()}
        ends = dict.fromkeys(_LAYOUT.values(), start)
        bits: list[tuple[Point, int, int]] = []
        others: list[Point] = []
        for point in sorted(points, key=lambda p: (p.offset, p.end, p.address.raw)):
            index = point.offset - start
            if point.is_bit:
                bits.append((point, index >> 3, 1 << (index & 7)))
            elif point.bit is not None:
                # Bits 0-7 are in the second byte of a register, unless the order swaps them.
                low_first = point.order in ("BADC", "DCBA")
                byte = 2 * index + ((point.bit < 8) != low_first)
                bits.append((point, byte, 1 << (point.bit & 7)))
            elif point.kind in _FORMATS and point.offset >= ends[_LAYOUT[point.order]]:
                key = _LAYOUT[point.order]
                pad = 2 * (point.offset - ends[key])
                codes[key].append((f"{pad}x" if pad else "") + _FORMATS[point.kind][0])
                chosen[key].append(point)
                ends[key] = point.end
            else:
                others.append(point)  # a string, a bool register, or shares registers
        self._layouts = tuple(
            (swapped, struct.Struct(order + "".join(codes[swapped, order])))
            for swapped, order in _LAYOUT.values()
            if codes[swapped, order]
        )
        self._swap = any(swapped for swapped, _ in self._layouts)
        self._bits = tuple((byte, mask) for _, byte, mask in bits)
        self._others = tuple(others)
        # As unpacked, then reordered (in C) to put the scaled ones last, where they are
        # scaled in C too: raw * scale + bias, as Point.decode does.
        unpacked = [p for key in _LAYOUT.values() for p in chosen[key]]
        order = sorted(range(len(unpacked)), key=lambda i: unpacked[i].scaled)
        numbers = [unpacked[i] for i in order]
        self._reorder = itemgetter(*order) if order != sorted(order) else None
        self._unscaled = sum(1 for p in numbers if not p.scaled)
        self._scales = tuple(p.scale for p in numbers[self._unscaled :])
        self._biases = tuple(p.bias for p in numbers[self._unscaled :])
        self.points: tuple[Point, ...] = (*numbers, *(p for p, _, _ in bits), *others)
        self.float_slots = tuple(i for i, p in enumerate(self.points) if p.kind in FLOATS)
        self._floats = _picker(self.float_slots)

    def decode(self, data: bytes) -> list[Any]:
        """The value of each of ``points`` from the block's data bytes."""
        values: list[Any] = []
        if self._layouts:
            swapped = reorder(data, "BADC") if self._swap else data
            for swap, layout in self._layouts:
                values += layout.unpack_from(swapped if swap else data)
            if self._reorder is not None:
                values = list(self._reorder(values))
            if self._scales:
                scaled = map(mul, values[self._unscaled :], self._scales)
                values[self._unscaled :] = map(add, scaled, self._biases)
        if self._bits:
            values += [data[byte] & mask != 0 for byte, mask in self._bits]
        if self._others:
            start = self.start
            values += [point.decode(data, start) for point in self._others]
        return values

    def not_finite(self, values: Sequence[Any]) -> list[int]:
        """The slots of float points whose value is NaN or infinite (checked in C when all
        are finite, the usual case)."""
        if self._floats is None or all(map(math.isfinite, self._floats(values))):
            return []
        return [slot for slot in self.float_slots if not math.isfinite(values[slot])]


def _picker(slots: tuple[int, ...]) -> Any:
    """A C-level ``values -> tuple of values[slot]`` (``itemgetter`` of one slot returns the
    item itself, not a tuple); None for no slots."""
    if not slots:
        return None
    if len(slots) == 1:
        getter = itemgetter(slots[0])
        return lambda values: (getter(values),)
    return itemgetter(*slots)


def pack_bits(bits: list[bool]) -> bytes:
    """Bits as a read response carries them (first bit in the least significant bit)."""
    packed = bytearray((len(bits) + 7) // 8)
    for i, bit in enumerate(bits):
        if bit:
            packed[i >> 3] |= 1 << (i & 7)
    return bytes(packed)
