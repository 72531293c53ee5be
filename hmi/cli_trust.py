"""``hmi audit spool ...``: what an administrator needs when a station's audit spool failed its
check (see ``hmi.storage.spool_check``). Parsing and printing only; the work is done by
``hmi.storage.admin``, which records the decision."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_trust_commands"]


def _cmd_spool(args: argparse.Namespace) -> int:
    from hmi.cli_admin import settings_from_args
    from hmi.storage import admin
    from hmi.storage.db import default_spool_path
    from hmi.storage.spool_check import read_hold

    spool = Path(args.spool) if args.spool else default_spool_path()
    if args.action == "show":
        hold = read_hold(spool)
        if hold is None:
            print(f"no hold: the spool {spool} has not failed a check")
            return 0
        print(f"HOLD since {hold.since or '?'}: {hold.describe()}")
        print("release it, once decided, with: hmi audit spool release --reason TEXT")
        return 1
    try:
        site = settings_from_args(args)
        hold = admin.release_spool_hold(args.reason, url=site.url, key=site.key, spool=spool)
    except Exception as exc:
        print(f"hmi audit spool release: {exc}", file=sys.stderr)
        return 2
    if hold is None:
        print(f"no hold stood for {spool}; nothing was recorded")
        return 0
    print(f"released; the evidence stays at {hold.evidence}; the decision is recorded")
    return 0


def add_trust_commands(audit_sub: Any, database_options: Any) -> None:
    """Add ``spool show|release`` to ``hmi audit``'s sub-parsers."""
    spool = audit_sub.add_parser(
        "spool", help="a station's audit spool that failed its check: show or release the hold"
    )
    spool_sub = spool.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = spool_sub.add_parser("show", help="the hold, if any (exit 1 while one stands)")
    release = spool_sub.add_parser("release", help="record the decision and lift the hold")
    release.add_argument("--reason", required=True, help="the administrator's decision")
    for parser in (show, release):
        parser.add_argument("--spool", help="the spool file (default: the station's own)")
        database_options(parser)
    spool.set_defaults(func=_cmd_spool)
