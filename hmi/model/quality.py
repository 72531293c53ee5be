"""One quality model for every protocol: Good, Uncertain or Bad, each with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum


class QualityLevel(IntEnum):
    """Ordered so that ``min()`` over several inputs gives the worst."""

    BAD = 0
    UNCERTAIN = 1
    GOOD = 2


class QualityReason(Enum):
    NONE = "ok"
    INITIAL = "Initial"  # nothing received yet: the widget starts here
    WAITING_FOR_DATA = "WaitingForData"
    NOT_CONNECTED = "NotConnected"
    COMM_FAILURE = "CommFailure"
    CONFIG_ERROR = "ConfigError"
    DEVICE_FAILURE = "DeviceFailure"
    SENSOR_FAILURE = "SensorFailure"
    OUT_OF_SERVICE = "OutOfService"
    STALE = "Stale"
    LAST_USABLE = "LastUsable"
    SUBSTITUTE = "Substitute"
    ENGINEERING_UNITS_EXCEEDED = "EngineeringUnitsExceeded"
    SUB_NORMAL = "SubNormal"
    LOCAL_OVERRIDE = "LocalOverride"
    OTHER = "Other"


@dataclass(frozen=True, slots=True)
class Quality:
    level: QualityLevel
    reason: QualityReason = QualityReason.NONE

    @property
    def is_good(self) -> bool:
        return self.level is QualityLevel.GOOD

    @property
    def is_bad(self) -> bool:
        return self.level is QualityLevel.BAD

    @property
    def css_name(self) -> str:
        """Value of the ``quality`` widget property the style sheet selects on."""
        if self.level is QualityLevel.GOOD:
            return "good"
        if self.level is QualityLevel.UNCERTAIN:
            return "uncertain"
        if self.reason in (QualityReason.INITIAL, QualityReason.NOT_CONNECTED):
            return "disconnected"
        return "bad"

    def __str__(self) -> str:
        if self.level is QualityLevel.GOOD and self.reason is QualityReason.NONE:
            return "Good"
        return f"{self.level.name.title()}({self.reason.value})"

    @staticmethod
    def good() -> Quality:
        return GOOD

    @staticmethod
    def bad(reason: QualityReason) -> Quality:
        return Quality(QualityLevel.BAD, reason)

    @staticmethod
    def uncertain(reason: QualityReason) -> Quality:
        return Quality(QualityLevel.UNCERTAIN, reason)


GOOD = Quality(QualityLevel.GOOD)
INITIAL = Quality(QualityLevel.BAD, QualityReason.INITIAL)
NOT_CONNECTED = Quality(QualityLevel.BAD, QualityReason.NOT_CONNECTED)
