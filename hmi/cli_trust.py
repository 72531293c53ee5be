"""``hmi audit checkpoint``, ``hmi audit verify --checkpoint`` and ``hmi audit spool ...``: the
witnesses of the audit chain outside its database (``hmi.storage.witness``) and what an
administrator needs when a station's spool failed its check (``hmi.storage.spool_check``).
Parsing and printing only; ``hmi.storage.admin`` does the work and records it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

__all__ = ["add_trust_commands"]

Settings = Callable[[argparse.Namespace], Any]
"""The site (``url``, ``key``, ...) that the parsed arguments name."""


def _cmd_spool(args: argparse.Namespace, *, settings_from_args: Settings) -> int:
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


def _signing_key() -> tuple[Any, str]:
    """The station's own certificate key and certificate (PEM), made on first use."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key

    from hmi.drivers.opcua.certs import ensure_own_certificate

    own = ensure_own_certificate()
    key = load_pem_private_key(own.key_path.read_bytes(), password=None)
    cert = x509.load_der_x509_certificate(own.der).public_bytes(Encoding.PEM)
    return key, cert.decode("ascii")


def _cmd_checkpoint(args: argparse.Namespace, *, settings_from_args: Settings) -> int:
    from hmi.model.audit.checkpoint import SignedCheckpoint
    from hmi.storage import admin
    from hmi.storage.audit import AuditStore
    from hmi.storage.db import default_database_url
    from hmi.storage.witness import make_checkpoint

    out = Path(args.output)
    try:
        site = settings_from_args(args)
        store = AuditStore.open(site.url or default_database_url(), key=site.key, migrate=False)
        try:
            checkpoint = make_checkpoint(store)
        finally:
            store.close()
        private_key, certificate = _signing_key()
        signed = SignedCheckpoint.sign(
            checkpoint, private_key=private_key, certificate_pem=certificate, key=site.key
        )
        temporary = out.with_name(out.name + ".tmp")
        temporary.write_text(signed.to_json(), encoding="utf-8")
        temporary.replace(out)
        admin.record_checkpoint(out, checkpoint, url=site.url, key=site.key)
    except Exception as exc:
        print(f"hmi audit checkpoint: {exc}", file=sys.stderr)
        return 2
    state = "verified" if checkpoint.verified else "NOT verified (run hmi audit verify)"
    print(
        f"checkpoint of {checkpoint.describe()}, chain {state}, written to {out}; signed by "
        f"this station's certificate {signed.thumbprint()}"
    )
    return 0 if checkpoint.verified else 1


def add_trust_commands(audit_sub: Any, database_options: Any, settings: Settings) -> None:
    """Add ``checkpoint`` and ``spool show|release`` to ``hmi audit``'s sub-parsers; ``settings``
    reads the site from ``--db`` and ``--project`` (``hmi.cli_admin.settings_from_args``, passed
    in so that this module does not import the one that imports it)."""
    checkpoint = audit_sub.add_parser(
        "checkpoint", help="write a signed statement of the chain's head, for an auditor to keep"
    )
    checkpoint.add_argument("-o", "--output", required=True, help="the file to write")
    database_options(checkpoint)
    checkpoint.set_defaults(func=partial(_cmd_checkpoint, settings_from_args=settings))
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
    spool.set_defaults(func=partial(_cmd_spool, settings_from_args=settings))
