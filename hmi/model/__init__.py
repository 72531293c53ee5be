"""Pure model of the HMI: tags, addresses, quality, values, project.yaml's schema, security; a
package per concern: ``screens`` (loading and checking project and screen files), ``alarms``,
``audit``, ``trends``. No Qt here."""

from hmi.model.address import TagAddress, parse_address
from hmi.model.errors import (
    AddressError,
    ConfigError,
    DriverError,
    HmiError,
    ProjectError,
    SourceLocation,
    WriteDenied,
    WriteFailed,
)
from hmi.model.quality import Quality, QualityLevel, QualityReason
from hmi.model.value import TagValue

__all__ = [
    "AddressError",
    "ConfigError",
    "DriverError",
    "HmiError",
    "ProjectError",
    "Quality",
    "QualityLevel",
    "QualityReason",
    "SourceLocation",
    "TagAddress",
    "TagValue",
    "WriteDenied",
    "WriteFailed",
    "parse_address",
]
