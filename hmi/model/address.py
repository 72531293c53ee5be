"""Tag addresses: URIs parsed once, at the edge, into a frozen ``TagAddress``.

- ``opcua://<connection>/<NodeId>``  e.g. ``opcua://plant/ns=2;s=Plant.Tank1.Level``
- ``modbus://<connection>/<unit>/<table>/<offset>?type=float32&order=CDAB``
  table: coil, discrete, input, holding; offset 0-based (register 40001 is holding/0)
- ``sim://<function>?period=10&min=0&max=100`` generated signals
- ``local://<name>?type=float&initial=0`` memory tags

Split with ``urlsplit`` (``urlparse`` would cut ``;s=...`` off an OPC UA path).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import parse_qsl, urlsplit

from hmi.model.errors import AddressError

MODBUS_TABLES = ("coil", "discrete", "input", "holding")
MODBUS_TYPES = (
    "bool", "int16", "uint16", "int32", "uint32", "int64", "uint64",
    "float32", "float64", "string",
)  # fmt: skip
MODBUS_ORDERS = ("ABCD", "CDAB", "BADC", "DCBA")
MODBUS_PARAMS = ("type", "order", "bit", "length", "scale", "bias", "poll", "readback")
MODBUS_READBACKS = ("compare", "ignore")
SIM_PARAMS = ("period", "min", "max", "step", "interval", "value", "seed", "duty")
SIM_FUNCTIONS = ("sine", "ramp", "random", "square", "counter", "constant")
LOCAL_TYPES = ("float", "int", "bool", "str")

_NODEID = re.compile(r"^(?:ns=(?P<ns>[^;]*);)?(?P<kind>[isgb])=(?P<ident>.+)$", re.DOTALL)
_UINT16_MAX, _UINT32_MAX = 65_535, 4_294_967_295
_OPCUA_STRING_MAX = 4096  # characters of a string NodeId; servers refuse longer ones
_OPCUA_OPAQUE_MAX = 4096  # bytes of an opaque (b=) NodeId
# Registers a value spans, by type; a string takes (length + 1) // 2.
_REGISTERS = {"int32": 2, "uint32": 2, "float32": 2, "int64": 4, "uint64": 4, "float64": 4}
_NUMBER = re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True, slots=True)
class TagAddress:
    """A parsed tag address. ``connection`` is the project's connection name (or the sim
    function, or the local tag name); ``path`` is the scheme-specific rest."""

    scheme: str
    connection: str
    path: str
    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    raw: str = ""

    def __hash__(self) -> int:
        return hash(self.raw)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TagAddress) and other.raw == self.raw

    def __str__(self) -> str:
        return self.raw

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.params.get(name, default)

    def float_param(self, name: str, default: float) -> float:
        """A numeric parameter (checked to be a finite ASCII number when parsed)."""
        text = self.params.get(name)
        return default if text is None else float(text)

    @property
    def driver_key(self) -> str:
        """Which driver instance serves this address: one per connection for field
        protocols, one per scheme for sim and local."""
        if self.scheme in ("sim", "local"):
            return self.scheme
        return f"{self.scheme}://{self.connection}"


def _fail(raw: str, why: str, hint: str = "") -> AddressError:
    text = f"bad tag address {raw!r}: {why}"
    return AddressError(f"{text}; {hint}" if hint else text)


def _whole(text: str) -> int | None:
    """``text`` as a whole number written in ASCII digits, else None (``str.isdigit`` and
    ``int`` also take superscripts and other scripts' digits)."""
    if text.isascii() and text.isdigit():
        return int(text)
    return None


def _number(raw: str, params: Mapping[str, str], name: str) -> None:
    """A parameter, if given, is a finite number in ASCII digits (``float`` would also take
    'nan', 'inf', '1_0' and Arabic-Indic digits)."""
    if name in params:
        text = params[name].strip()
        if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
            raise _fail(raw, f"parameter {name}={params[name]!r} must be a finite number")
        if not _NUMBER.match(text):
            raise _fail(raw, f"parameter {name}={params[name]!r} is not a number")
        if not math.isfinite(float(text)):
            raise _fail(raw, f"parameter {name}={params[name]!r} must be a finite number")


def _check_opcua(raw: str, connection: str, path: str, params: Mapping[str, str]) -> None:
    if not connection:
        raise _fail(raw, "no connection name", "write opcua://<connection>/ns=2;s=Name")
    m = _NODEID.match(path)
    if not m:
        raise _fail(
            raw,
            f"{path!r} is not an OPC UA NodeId",
            "expected e.g. ns=2;s=Plant.Tank1.Level or i=2258",
        )
    if m["ns"] is not None:
        ns = _whole(m["ns"])
        if ns is None or ns > _UINT16_MAX:
            raise _fail(
                raw, f"namespace index ns={m['ns']!r} is not a whole number from 0 to {_UINT16_MAX}"
            )
    kind, ident = m["kind"], m["ident"]
    if kind == "i":
        number = _whole(ident)
        if number is None or number > _UINT32_MAX:
            raise _fail(
                raw, f"numeric NodeId i={ident!r} is not a whole number from 0 to {_UINT32_MAX}"
            )
    elif kind == "s" and len(ident) > _OPCUA_STRING_MAX:
        raise _fail(raw, f"string NodeId is {len(ident)} characters; at most {_OPCUA_STRING_MAX}")
    elif kind == "g":
        try:
            uuid.UUID(ident)
        except ValueError:
            raise _fail(
                raw,
                f"GUID NodeId g={ident!r} is not a GUID",
                "write e.g. g=09087e75-8e5e-499b-954f-f2a9603db28a",
            ) from None
    elif kind == "b":
        try:
            opaque = base64.b64decode(ident, validate=True)
        except (binascii.Error, ValueError):
            raise _fail(raw, f"opaque NodeId b={ident!r} is not base64") from None
        if len(opaque) > _OPCUA_OPAQUE_MAX:
            raise _fail(raw, f"opaque NodeId is {len(opaque)} bytes; at most {_OPCUA_OPAQUE_MAX}")


def _check_modbus(raw: str, connection: str, path: str, params: Mapping[str, str]) -> None:
    """Offsets are 0-based (register 40001 is holding/0). ``scale``/``bias`` turn the raw
    number into engineering units (``raw * scale + bias``); ``poll`` is the poll period in ms;
    ``readback=ignore`` accepts any read-back after a write (momentary commands)."""
    usage = "write modbus://<connection>/<unit>/<table>/<offset>?type=...&order=..."
    if not connection:
        raise _fail(raw, "no connection name", usage)
    parts = path.split("/")
    if len(parts) != 3:
        raise _fail(raw, "expected <unit>/<table>/<offset> after the connection", usage)
    unit, table, offset = parts
    unit_id = _whole(unit)
    if unit_id is None or unit_id > 255:
        raise _fail(raw, f"unit id {unit!r} is not a number from 0 to 255")
    if table not in MODBUS_TABLES:
        raise _fail(raw, f"table {table!r} is not one of {', '.join(MODBUS_TABLES)}")
    start = _whole(offset)
    if start is None or start > 65535:
        raise _fail(
            raw, f"offset {offset!r} is not a 0-based number from 0 to 65535",
            "register 40001 is holding/0",
        )  # fmt: skip
    unknown = sorted(set(params) - set(MODBUS_PARAMS))
    if unknown:
        raise _fail(
            raw,
            f"unknown parameter {unknown[0]}=",
            f"Modbus addresses take {', '.join(MODBUS_PARAMS)} (scaling is scale= and bias=)",
        )
    bits = table in ("coil", "discrete") or "bit" in params
    kind = params.get("type", "bool" if bits else "uint16")
    if kind not in MODBUS_TYPES:
        raise _fail(raw, f"type {kind!r} is not one of {', '.join(MODBUS_TYPES)}")
    if table in ("coil", "discrete") and kind != "bool":
        raise _fail(raw, f"a {table} holds one bit; type must be bool, not {kind}")
    order = params.get("order", "ABCD")
    if order not in MODBUS_ORDERS:
        raise _fail(raw, f"order {order!r} is not one of {', '.join(MODBUS_ORDERS)}")
    if "bit" in params:
        bit = params["bit"]
        number = _whole(bit)
        if table not in ("input", "holding") or number is None or number > 15:
            raise _fail(
                raw, f"bit={bit!r}: a bit in a register is 0 to 15 of an input or holding register"
            )
        if kind != "bool":
            raise _fail(raw, f"bit= reads one bit, so type must be bool (or left out), not {kind}")
    width = _REGISTERS.get(kind, 1)
    if kind == "string":
        length = _whole(params.get("length", ""))
        if length is None or length < 1:
            raise _fail(raw, "type=string needs length=<characters>, e.g. length=16")
        width = (length + 1) // 2
    elif "length" in params:
        raise _fail(raw, f"length= is for type=string, not {kind}")
    if start + width > 65536:
        raise _fail(
            raw,
            f"a {kind} at offset {start} spans {width} registers and runs past the end of the "
            f"table (the last register is 65535)",
        )
    for name in ("scale", "bias", "poll"):
        _number(raw, params, name)
    if ("scale" in params or "bias" in params) and kind in ("bool", "string"):
        raise _fail(raw, f"scale= and bias= apply to numbers, not to type={kind}")
    if "scale" in params and not float(params["scale"]) != 0:
        raise _fail(raw, "scale=0 would make every value the same; use a non-zero factor")
    if "poll" in params and not float(params["poll"]) >= 1:
        raise _fail(raw, f"poll={params['poll']} ms: the poll period must be at least 1 ms")
    if "readback" in params:
        if params["readback"] not in MODBUS_READBACKS:
            raise _fail(
                raw, f"readback={params['readback']!r} is not one of {', '.join(MODBUS_READBACKS)}"
            )
        if table not in ("coil", "holding"):
            raise _fail(raw, f"readback= is about writes; a {table} cannot be written")


def _check_sim(raw: str, connection: str, path: str, params: Mapping[str, str]) -> None:
    if connection not in SIM_FUNCTIONS:
        raise _fail(raw, f"sim function {connection!r} is not one of {', '.join(SIM_FUNCTIONS)}")
    unknown = sorted(set(params) - set(SIM_PARAMS))
    if unknown:
        raise _fail(raw, f"unknown parameter {unknown[0]}=", f"sim takes {', '.join(SIM_PARAMS)}")
    for name in SIM_PARAMS:
        _number(raw, params, name)
    if "period" in params and not float(params["period"]) > 0:
        raise _fail(raw, "period must be greater than 0 seconds")
    if "interval" in params and not float(params["interval"]) >= 0.01:
        raise _fail(raw, "interval must be at least 0.01 seconds")


def _check_local(raw: str, connection: str, path: str, params: Mapping[str, str]) -> None:
    if not _NAME.match(connection):
        raise _fail(raw, f"local tag name {connection!r} must start with a letter")
    kind = params.get("type", "float")
    if kind not in LOCAL_TYPES:
        raise _fail(raw, f"type {kind!r} is not one of {', '.join(LOCAL_TYPES)}")
    if "initial" in params and kind in ("float", "int"):
        _number(raw, params, "initial")


_CHECKS: Mapping[str, Callable[[str, str, str, Mapping[str, str]], None]] = MappingProxyType(
    {"opcua": _check_opcua, "modbus": _check_modbus, "sim": _check_sim, "local": _check_local}
)
SCHEMES = tuple(_CHECKS)


def parse_address(raw: str) -> TagAddress:
    """Parse and validate a tag address URI; raise ``AddressError`` saying what is wrong."""
    if not isinstance(raw, str) or not raw.strip():
        raise AddressError("empty tag address; write e.g. opcua://plant/ns=2;s=Tank1.Level")
    raw = raw.strip()
    if "://" not in raw:
        raise _fail(raw, "no scheme", f"start with one of {', '.join(s + '://' for s in SCHEMES)}")
    scheme = raw.split("://", 1)[0].lower()
    check = _CHECKS.get(scheme)
    if check is None:
        raise _fail(raw, f"unknown scheme {scheme!r}", f"use one of {', '.join(SCHEMES)}")
    if scheme == "opcua":
        # A NodeId may hold '?', '#' or '/': take everything after the connection literally.
        rest = raw.split("://", 1)[1]
        connection, _, path = rest.partition("/")
        params: dict[str, str] = {}
    else:
        parts = urlsplit(raw)
        connection = parts.netloc
        path = parts.path.lstrip("/")
        if parts.fragment:
            raise _fail(raw, f"unexpected fragment #{parts.fragment}")
        try:
            pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
        except ValueError:
            raise _fail(raw, f"query {parts.query!r} is not name=value pairs joined by &") from None
        params = {}
        for key, value in pairs:
            if key in params:
                raise _fail(raw, f"parameter {key!r} given twice")
            params[key] = value
    check(raw, connection, path, params)
    return TagAddress(scheme, connection, path, MappingProxyType(params), raw)
