"""What a Modbus line raises when it cannot carry a request, below every transport.

``tcp.py`` and ``rtu.py`` raise them, ``transport.py`` opens those and the scheduler catches
them: here, so none of them imports another for its errors.
"""

from __future__ import annotations

from hmi.model.errors import DriverError

__all__ = ["LineDown", "NoResponse"]


class LineDown(DriverError):
    """The connection or port is gone: no unit on this line can be reached until reconnected."""


class NoResponse(DriverError):
    """No answer within the timeout: the unit is silent (or the line, if all are)."""
