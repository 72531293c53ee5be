"""Screen changes as audit records (`screen_save`, `screen_new`, `screen_rename`,
`screen_delete`): what the designer changed, in the same hash chain as every operator action.

A record holds, sealed by its hash:

- `target_address` `screen:<id>` (the id after the change), or `project:tags` for the tags
  the designer's Browse server added to project.yaml (`config_change`), `origin` the tool
  ("designer");
- `details`, compact sorted JSON: `file` (relative to the project folder), `sha256_before`
  and `sha256_after` of its bytes ("" for a file that did not or does not exist), `old_id`
  for a rename, `also` (the other files the change wrote, each with its hashes),
  `diff_lines` and `diff_sha256` of the whole unified diff, and `diff_shown`, how many of its
  lines the record holds;
- `new_value`: the unified diff's first `MAX_DIFF_LINES` lines (a list of text), headed
  `--- a/<file>` / `+++ b/<file>` as git writes them. A longer diff is cut, and says so; its
  `diff_sha256` still proves which diff it was (`git diff` of the same change hashes alike).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hmi.model.audit.record import AuditAction, AuditRecord

__all__ = [
    "MAX_DIFF_LINES",
    "SCREEN_ACTIONS",
    "FileHashes",
    "ScreenChange",
    "diff_sha256",
    "read_screen_change",
    "unified_diff",
]

MAX_DIFF_LINES = 999  # with the line that says what was cut: the 1,000 items a value keeps
SCREEN_ACTIONS = frozenset(
    {
        AuditAction.SCREEN_SAVE,
        AuditAction.SCREEN_NEW,
        AuditAction.SCREEN_RENAME,
        AuditAction.SCREEN_DELETE,
        AuditAction.CONFIG_CHANGE,  # the designer's browse added tags to project.yaml
    }
)


def unified_diff(before: str, after: str, file: str) -> list[str]:
    """The diff of one file's text, as lines without line ends, headed as git heads them."""
    return list(
        difflib.unified_diff(
            before.splitlines(),
            after.splitlines(),
            fromfile=f"a/{file}" if before else "/dev/null",
            tofile=f"b/{file}" if after else "/dev/null",
            lineterm="",
        )
    )


def diff_sha256(lines: Sequence[str]) -> str:
    """SHA-256 of the diff as a file (each line ended by LF), lower-case hex."""
    return hashlib.sha256("".join(f"{line}\n" for line in lines).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FileHashes:
    file: str
    sha256_before: str
    sha256_after: str


@dataclass(frozen=True)
class ScreenChange:
    """One designer change, ready to record: the main file, any other files it wrote, and
    the whole diff."""

    action: AuditAction
    screen_id: str
    main: FileHashes
    diff: tuple[str, ...]
    old_id: str = ""
    also: tuple[FileHashes, ...] = field(default_factory=tuple)

    def record_fields(self) -> dict[str, Any]:
        """The `AuditRecord` fields that say what changed."""
        details: dict[str, Any] = {
            "file": self.main.file,
            "sha256_before": self.main.sha256_before,
            "sha256_after": self.main.sha256_after,
            "diff_lines": len(self.diff),
            "diff_sha256": diff_sha256(self.diff),
            "diff_shown": min(len(self.diff), MAX_DIFF_LINES),
        }
        if self.old_id:
            details["old_id"] = self.old_id
        if self.also:
            details["also"] = [
                {"file": f.file, "sha256_before": f.sha256_before, "sha256_after": f.sha256_after}
                for f in self.also
            ]
        shown = list(self.diff[:MAX_DIFF_LINES])
        if len(self.diff) > MAX_DIFF_LINES:
            shown.append(
                f"… [{len(self.diff) - MAX_DIFF_LINES} more diff lines cut; "
                f"the whole diff's SHA-256 is {details['diff_sha256']}]"
            )
        return {
            "target_address": (
                f"project:{self.screen_id}"
                if self.action is AuditAction.CONFIG_CHANGE
                else f"screen:{self.screen_id}"
            ),
            "old_value": self.old_id or None,
            "new_value": shown,
            "details": json.dumps(details, sort_keys=True, separators=(",", ":")),
        }


@dataclass(frozen=True)
class ScreenChangeView:
    """A recorded screen change as the auditor reads it."""

    file: str
    sha256_before: str
    sha256_after: str
    diff: tuple[str, ...]
    diff_lines: int
    diff_sha256: str
    old_id: str = ""
    also: tuple[FileHashes, ...] = ()

    @property
    def cut(self) -> bool:
        return self.diff_lines > MAX_DIFF_LINES


def read_screen_change(record: AuditRecord) -> ScreenChangeView | None:
    """The change a screen record holds; None for any other record (or one whose details
    are not what a screen change writes)."""
    if record.action not in SCREEN_ACTIONS:
        return None
    try:
        details = json.loads(record.details)
        also = tuple(
            FileHashes(str(f["file"]), str(f["sha256_before"]), str(f["sha256_after"]))
            for f in details.get("also", ())
        )
        lines = record.new_value if isinstance(record.new_value, (list, tuple)) else []
        return ScreenChangeView(
            file=str(details["file"]),
            sha256_before=str(details["sha256_before"]),
            sha256_after=str(details["sha256_after"]),
            diff=tuple(str(line) for line in lines),
            diff_lines=int(details["diff_lines"]),
            diff_sha256=str(details["diff_sha256"]),
            old_id=str(details.get("old_id", "")),
            also=also,
        )
    except (ValueError, KeyError, TypeError):
        return None
