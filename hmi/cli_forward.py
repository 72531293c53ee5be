"""``hmi audit forward``: send a range of the audit trail (and, if asked, of the alarm journal)
to a syslog collector by hand, for a backfill or a collector added late. The same sender and
formats as the station's forwarding (``hmi.runtime.forwarding``); no cursor is kept."""

from __future__ import annotations

import argparse
import asyncio
import sys
from functools import partial
from typing import Any

from hmi.cli_trust import Settings

__all__ = ["add_forward_command"]


def _cmd_forward(args: argparse.Namespace, *, settings_from_args: Settings) -> int:
    from pydantic import ValidationError

    from hmi.model.errors import HmiError
    from hmi.model.forwarding import SyslogSettings
    from hmi.runtime.forwarding import EventForwarder, EventSource, Position
    from hmi.storage.db import default_database_url

    try:
        settings = SyslogSettings(
            url=args.to, ca=args.ca, cert=args.cert, key=args.key, format=args.format,
            server_name=args.server_name,
        )  # fmt: skip
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        print(f"hmi audit forward: {problems}", file=sys.stderr)
        return 2
    start = Position(
        max(args.since - 1, 0), max(args.alarms_from - 1, 0) if args.alarms_from else 0
    )
    try:
        site = settings_from_args(args)
        url = site.url or default_database_url()
        source = EventSource.open(url, alarms=args.alarms_from is not None)
    except Exception as exc:
        print(f"hmi audit forward: {exc}", file=sys.stderr)
        return 1
    forwarder = EventForwarder(settings, source, start=start)
    try:
        done = asyncio.run(forwarder.run(until_caught_up=True))
    except (HmiError, OSError) as exc:
        got = forwarder.status.delivered
        print(
            f"hmi audit forward: {exc}\n  delivered up to audit #{got.audit}"
            + (f", alarm event #{got.alarms}" if args.alarms_from else "")
            + f"; run again with --from {got.audit + 1} once the collector answers",
            file=sys.stderr,
        )
        return 1
    finally:
        source.close()
    sent = forwarder.status.sent
    text = f"forwarded audit records #{args.since}..#{done.audit}"
    if args.alarms_from:
        text += f" and alarm events #{args.alarms_from}..#{done.alarms}"
    print(f"{text} to {settings.collector.url} ({sent} messages)")
    return 0


def add_forward_command(audit_sub: Any, database_options: Any, settings: Settings) -> None:
    """Add ``forward`` to ``hmi audit``'s sub-parsers."""
    forward = audit_sub.add_parser(
        "forward", help="send audit records (from --from on) to a syslog collector by hand"
    )
    forward.add_argument("--to", required=True, metavar="URL", help="tcp://, tls:// or udp://")
    forward.add_argument("--from", dest="since", type=int, default=1, metavar="ID",
                         help="the first audit sequence to send (default: 1)")  # fmt: skip
    forward.add_argument("--alarms-from", type=int, metavar="ID",
                         help="also send alarm events from this journal id")  # fmt: skip
    forward.add_argument("--format", choices=("rfc5424", "json", "cef"), default="rfc5424")
    forward.add_argument("--ca", help="tls: the CA file the collector's certificate must match")
    forward.add_argument("--cert", help="tls: a client certificate (PEM)")
    forward.add_argument("--key", help="tls: the client certificate's key (PEM)")
    forward.add_argument("--server-name", help="tls: the name the certificate must carry")
    database_options(forward)
    forward.set_defaults(func=partial(_cmd_forward, settings_from_args=settings))
