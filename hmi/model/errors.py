"""The one exception tree. Messages say what was wrong, where, and what to do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class HmiError(Exception):
    """Root of every error the HMI raises on purpose."""


class AddressError(HmiError, ValueError):
    """A tag address URI that cannot be parsed."""


class ConfigError(HmiError):
    """A project, screen or settings value that is not valid."""


class DriverError(HmiError):
    """A driver could not do what was asked (connect, subscribe, write)."""


class WriteDenied(HmiError):
    """A write refused before anything was sent (permission, limits, type, quality)."""


class WriteFailed(HmiError):
    """A write that was sent and failed, or whose read-back did not match."""


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """A place in a project file; line and column are 1-based, as editors show them."""

    file: Path
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class ProjectProblem:
    """One thing wrong in a project, with where it is."""

    location: SourceLocation
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class ProjectError(ConfigError):
    """A project or screen file is not valid; carries every problem found, each with its place."""

    def __init__(self, problems: list[ProjectProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
