"""``hmi edit [PROJECT] [--screen ID]``: the station in design mode (the screen designer)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["add_edit_command"]


def _cmd_edit(args: argparse.Namespace, *, demo: Callable[[], Path]) -> int:
    from hmi.startup import station_imports

    with station_imports():
        from hmi.app import run

    project = args.project or os.environ.get("HMI_PROJECT") or str(demo())
    return run(project, screen=args.screen, design=True)


def add_edit_command(sub: Any, *, demo: Callable[[], Path]) -> None:
    edit = sub.add_parser(
        "edit",
        help="open the station in design mode (engineers and admins edit the screens on live data)",
    )
    edit.add_argument(
        "project",
        nargs="?",
        help="project folder or project.yaml (default: $HMI_PROJECT, else the demo)",
    )
    edit.add_argument("--screen", help="screen id to design first (default: the start screen)")
    edit.set_defaults(func=lambda args: _cmd_edit(args, demo=demo))
