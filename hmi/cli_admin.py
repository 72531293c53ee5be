"""``hmi users ...``, ``hmi audit ...`` and ``hmi db upgrade``: the command line of the audit
trail and the users, for IT and auditors. Parsing and printing only; the work is done by
``hmi.storage.admin`` (which records every change as made by ``os:<login>`` from the
``command line``) and, for PDF reports, ``hmi.views.audit.report``.

The database is ``--db URL``, else the ``database.url`` of ``--project``, else the station's
own SQLite file. ``--project`` also brings the site's roles, password policy and audit key;
commands that record need that key when the project names one (users list and db upgrade
do not), and a key that cannot extend the chain is refused before anything is written.
"""

from __future__ import annotations

import argparse
import getpass
import os
import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from hmi.model.audit.verify import VerifyResult
    from hmi.model.security import SecurityConfig
    from hmi.storage.audit import AuditQuery

__all__ = ["ProgressBar", "add_admin_commands"]

LONG_RUN = 100_000  # records: from here on, verify and export draw a progress bar


class ProgressBar:
    """``progress(done, total)`` drawn on ``stream`` for long runs: a bar redrawn in place on a
    terminal, a line per tenth elsewhere (logs)."""

    def __init__(self, label: str, stream: TextIO | None = None, *, always: bool = False) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.always = always
        self._last = 0.0
        self._tenth = -1
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        if total <= 0 or (total < LONG_RUN and not self.always):
            return
        share = min(done, total) / total
        if self.stream.isatty():
            now = time.monotonic()
            if now - self._last < 0.2 and done < total:
                return
            self._last = now
            bar = "#" * int(30 * share)
            end = "\n" if done >= total else ""
            self.stream.write(f"\r{self.label} [{bar:<30}] {done:,}/{total:,} {share:4.0%}{end}")
        elif int(share * 10) > self._tenth:
            self._tenth = int(share * 10)
            self.stream.write(f"{self.label}: {done:,}/{total:,} ({share:.0%})\n")
        self.stream.flush()
        self.drawn = True


@dataclass(frozen=True, slots=True)
class _Site:
    """What --db and --project give: the database, the site's roles and password policy, its
    audit key, and where that key comes from (for telling the user what to set)."""

    url: str | None
    security: SecurityConfig | None = None
    key: bytes | None = None
    project: str | None = None
    key_env: str | None = None  # the variable the project names for its audit key
    key_setting: str = "database.hmac_key_env"  # the setting in project.yaml that names it
    name: str = ""  # the project's name, which reports are titled with
    states: dict[str, dict[int, str]] | None = None  # per tag, its states' texts


def _key_hint(site: _Site | None, keyed: bool, given: bool) -> str:
    """What to do when the key cannot extend the chain (``AuditKeyError``), in the site's terms."""
    if site is None or site.project is None:
        if keyed and not given:
            return (
                "give --project FOLDER (the site's project) and set the variable its "
                "database.hmac_key_env names to the site's audit key"
            )
        return "give --project FOLDER of the project this database belongs to"
    if keyed and given:
        return f"check that {site.key_env} holds the site's audit key"
    if keyed:
        return (
            f"{site.project}: project.yaml names no audit key variable; set "
            "database.hmac_key_env to the variable that holds the site's audit key, and set it"
        )
    return (
        f"{site.project}: this chain has no site key; remove {site.key_setting} from "
        "project.yaml, or give the database this project belongs to"
    )


def _fail(command: str, exc: BaseException, site: _Site | None = None) -> int:
    from hmi.model.security import PasswordRejected
    from hmi.storage.admin import AuditKeyError

    if isinstance(exc, PasswordRejected):  # (a ProjectError has problems too: not passwords)
        print(f"hmi {command}: password not accepted:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
    elif isinstance(exc, AuditKeyError):
        print(f"hmi {command}: {exc}; {_key_hint(site, exc.keyed, exc.given)}", file=sys.stderr)
    else:
        print(f"hmi {command}: {exc}", file=sys.stderr)
    return 1


def settings_from_args(args: argparse.Namespace, *, need_key: bool = True) -> _Site:
    """The site (database, security, audit key) that ``--db`` and ``--project`` name."""
    return _settings(args, need_key=need_key)


def _settings(args: argparse.Namespace, *, need_key: bool = True) -> _Site:
    """The site from --db and --project. The audit key is read only if ``need_key`` (commands
    that record): then the variable the project names must be set."""
    if not args.project:
        return _Site(args.db)
    from hmi.model.errors import ConfigError
    from hmi.model.screens.loader import load_project

    project = load_project(args.project)
    name = project.file.audit_key_env
    setting = project.file.audit_key_setting
    key = None
    if name and need_key:
        value = os.environ.get(name)
        if not value:
            raise ConfigError(
                f"{args.project}: project.yaml's {setting} names {name} as the variable "
                f"holding the site's audit key, and {name} is not set; set it to the site's "
                "audit key (nothing was written)"
            )
        key = value.encode("utf-8")
    states = {tag: dict(config.states) for tag, config in project.tags.items() if config.states}
    return _Site(
        args.db or project.file.database.url, project.file.security, key, args.project, name,
        setting, project.file.project.name, states,
    )  # fmt: skip


def _password(prompt: str, *, twice: bool) -> str:
    """From the terminal (hidden, asked twice for a new one), or one line of standard input."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"{prompt}: ")
    if twice and getpass.getpass("Repeat it: ") != first:
        raise ValueError("the two entries differ")
    return first


def _cmd_users(args: argparse.Namespace) -> int:
    from hmi.storage import admin

    site: _Site | None = None
    try:
        action = args.action
        site = _settings(args, need_key=action != "list")
        url, security, key = site.url, site.security, site.key
        if action == "list":
            users = admin.list_users(url, security)
            rows = [("USER", "NAME", "ROLE", "STATE", "PASSWORD CHANGED")]
            rows += [(u.user_id, u.full_name, u.role, u.state,
                      f"{u.password_changed_at:%Y-%m-%d %H:%M} UTC") for u in users]  # fmt: skip
            widths = [max(len(row[i]) for row in rows) for i in range(5)]
            for row in rows:
                print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
            return 0
        if action == "add":
            password = _password(f"Password for {args.user}", twice=True)
            user = admin.add_user(
                args.user, args.name, args.role, password, url=url, security=security,
                key=key, must_change=args.must_change,
            )  # fmt: skip
            print(f"added {user.user_id} ({user.full_name}, {user.role})")
        elif action == "change":
            user = admin.change_user(
                args.user, full_name=args.name, role=args.role, url=url, security=security,
                key=key,
            )  # fmt: skip
            print(f"{user.user_id}: {user.full_name}, {user.role}")
        elif action == "passwd":
            password = _password(f"New password for {args.user}", twice=True)
            user = admin.set_password(
                args.user, password, url=url, security=security, key=key,
                must_change=args.must_change,
            )  # fmt: skip
            print(f"password of {user.user_id} set" + (
                "; it must be changed at the next login" if args.must_change else ""))  # fmt: skip
        else:
            change = {"disable": admin.disable_user, "enable": admin.enable_user,
                      "unlock": admin.unlock_user}[action]  # fmt: skip
            user = change(args.user, url=url, security=security, key=key)
            print(f"{user.user_id}: {user.state}")
        return 0
    except Exception as exc:
        return _fail(f"users {args.action}", exc, site)


def _describe(result: VerifyResult) -> str:
    if result.ok:
        span = f" (#{result.first_sequence}..#{result.last_sequence})" if result.count else ""
        return f"chain verified: {result.count:,} records{span}; last hash {result.last_hash}"
    problem = result.first_problem
    first = f"first broken record: {problem.message}" if problem else "the chain is broken"
    return f"TAMPERED: {first}\n{result.problems} problem(s) in {result.count:,} records checked"


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    from hmi.storage import admin

    site: _Site | None = None
    try:
        site = _settings(args)
        progress = ProgressBar("verifying", always=args.progress)
        problems = admin.check_checkpoints(  # before verify's own record moves the head
            [Path(p) for p in args.checkpoint or ()], url=site.url, key=site.key
        )
        result = admin.verify_audit(site.url, key=site.key, progress=progress,
                                    workers=args.workers, checkpoint_problems=problems)  # fmt: skip
    except Exception as exc:
        _fail("audit verify", exc, site)
        return 2
    print(_describe(result), file=sys.stdout if result.ok else sys.stderr)
    for problem in problems:
        print(f"CHECKPOINT FAILED: {problem}", file=sys.stderr)
    if args.checkpoint and not problems:
        print(f"the chain extends every checkpoint given ({len(args.checkpoint)})")
    return 0 if result.ok and not problems else 1


def _when(text: str) -> datetime:
    """ISO date or date and time; without an offset it is local time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: use an ISO date or time, e.g. 2025-03-01 or 2025-03-01T06:00"
        ) from None
    return moment.astimezone() if moment.tzinfo is None else moment


def _query(args: argparse.Namespace) -> AuditQuery:
    from hmi.model.audit.record import AuditAction, AuditResult
    from hmi.storage.audit import AuditQuery

    return AuditQuery(
        since=args.since, until=args.until, user_id=args.user,
        actions=tuple(AuditAction(a) for a in args.action or ()),
        results=tuple(AuditResult(r) for r in args.result or ()),
        tag=args.tag, workstation=args.workstation, text=args.text,
    )  # fmt: skip


def _checkpoint_statement(files: Sequence[str], site: _Site) -> str:
    """What comparing the chain with the checkpoints showed, for the PDF; "" for none."""
    if not files:
        return ""
    from hmi.model.audit.checkpoint import SignedCheckpoint
    from hmi.storage import admin

    paths = [Path(f) for f in files]
    problems = admin.check_checkpoints(paths, url=site.url, key=site.key)
    if problems:
        return "NOT HELD: " + "; ".join(problems)
    held = [
        f"{path.name}, {SignedCheckpoint.from_json(path.read_text('utf-8')).checkpoint.describe()}"
        for path in paths
    ]
    return f"held: the chain still extends {'; '.join(held)} (its signature checked)"


def _export_pdf(
    path: Path, site: _Site, query: AuditQuery, site_name: str, checkpoint: str = ""
) -> tuple[int, VerifyResult]:
    from PySide6.QtGui import QGuiApplication

    from hmi import __version__
    from hmi.model.audit.record import AuditAction, AuditRecord
    from hmi.storage.admin import check_audit_key
    from hmi.storage.audit import AuditStore
    from hmi.storage.db import default_database_url, make_engine
    from hmi.views.audit.report import write_store_report

    app = QGuiApplication.instance() or QGuiApplication(["hmi", "-platform", "offscreen"])
    key = site.key
    store = AuditStore(make_engine(site.url or default_database_url()), key=key)
    try:
        check_audit_key(store, key)  # before the report: its export is recorded
        who = f"os:{getpass.getuser()}"
        count, result = write_store_report(
            store, path, query, site=site_name, generated_by=f"{who} (command line)",
            progress=ProgressBar("writing"), states=site.states, checkpoint=checkpoint,
        )  # fmt: skip
        store.append(
            AuditRecord.create(
                AuditAction.AUDIT_EXPORT, user_id=who, workstation=socket.gethostname(),
                origin="command line", app_version=__version__, target_address=f"file:{path}",
                new_value=count, reason=str(query.describe()),
            )
        )  # fmt: skip
    finally:
        store.close()
    del app
    return count, result


def _database_name(url: str | None) -> str:
    """What names the trail without a project: the database file's or server's name."""
    from sqlalchemy.engine import make_url

    from hmi.storage.db import default_database_url

    parsed = make_url(url or default_database_url())
    if parsed.get_backend_name() == "sqlite":
        return f"database {Path(parsed.database or 'memory').name}"
    return f"database {parsed.database or ''} on {parsed.host or 'localhost'}"


def _cmd_audit_export(args: argparse.Namespace) -> int:
    from hmi.storage import admin

    path = Path(args.output)
    fmt = args.format or path.suffix.lstrip(".").lower()
    if fmt not in ("csv", "json", "pdf"):
        print(f"hmi audit export: format {fmt!r}: use csv, json or pdf", file=sys.stderr)
        return 2
    site: _Site | None = None
    try:
        site = _settings(args)
        url, key = site.url, site.key
        query = _query(args)
        verification: VerifyResult | None
        if fmt == "pdf":
            # The project's name; without --project the database's (its file or server).
            site_name = args.site or site.name or _database_name(url)
            checkpoint = _checkpoint_statement(args.checkpoint or (), site)
            count, verification = _export_pdf(path, site, query, site_name, checkpoint)
        else:
            summary = admin.export_audit(
                path,
                url=url,
                key=key,
                query=query,
                fmt=fmt,
                progress=ProgressBar("exporting"),
                states=site.states,
            )
            count, verification = summary.count, summary.verification
    except Exception as exc:
        _fail("audit export", exc, site)
        return 2
    print(f"exported {count:,} record(s) to {path}")
    if verification is not None and not verification.ok:
        print(_describe(verification), file=sys.stderr)
        return 1
    return 0


def _cmd_db(args: argparse.Namespace) -> int:
    from hmi.model.errors import ConfigError
    from hmi.storage import admin

    try:
        try:  # a key is needed only to seal users from before seals, on a keyed chain
            site = _settings(args)
        except ConfigError:
            site = _settings(args, need_key=False)
        revision = admin.upgrade_database(site.url, key=site.key)
    except Exception as exc:
        _fail("db upgrade", exc, site if "site" in locals() else None)
        return 1
    print(f"database schema at revision {revision}")
    return 0


def _database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL", help="sqlite:///file or postgresql+psycopg://...")
    parser.add_argument(
        "--project", help="a project folder: its database, roles, password policy and audit key"
    )


def add_admin_commands(sub: Any) -> None:
    """Add ``users``, ``audit`` and ``db`` to the ``hmi`` command's sub-parsers."""
    from hmi.model.audit.record import AuditAction, AuditResult

    users = sub.add_parser("users", help="list, add, change the station's users")
    users_sub = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    _database_options(users_sub.add_parser("list", help="every user, role and state"))
    add = users_sub.add_parser("add", help="add a user (the password is asked for)")
    add.add_argument("user")
    add.add_argument("--name", required=True, help="the person's full name (on every record)")
    add.add_argument("--role", required=True, help="viewer, operator, supervisor, ... admin")
    change = users_sub.add_parser("change", help="change a user's name or role")
    change.add_argument("user")
    change.add_argument("--name", help="the person's full name")
    change.add_argument("--role", help="the new role")
    _database_options(change)
    passwd = users_sub.add_parser("passwd", help="set a user's password (asked for)")
    passwd.add_argument("user")
    for parser in (add, passwd):
        parser.add_argument(
            "--must-change", action=argparse.BooleanOptionalAction, default=True,
            help="the user must change it at the next login (default: yes)",
        )  # fmt: skip
        _database_options(parser)
    for action, text in (("disable", "disable a user (users are never deleted)"),
                         ("enable", "enable a disabled user"),
                         ("unlock", "end a lockout after failed logins")):  # fmt: skip
        one = users_sub.add_parser(action, help=text)
        one.add_argument("user")
        _database_options(one)
    users.set_defaults(func=_cmd_users)

    audit = sub.add_parser("audit", help="verify or export the audit trail")
    audit_sub = audit.add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = audit_sub.add_parser(
        "verify", help="check every hash and link; exit 1 if the chain was tampered with"
    )
    verify.add_argument("--workers", type=int, default=None, help="processes (default: auto)")
    verify.add_argument("--progress", action="store_true", help="a progress bar even if short")
    verify.add_argument(
        "--checkpoint", action="append", metavar="FILE",
        help="a checkpoint (hmi audit checkpoint) the chain must still extend; repeatable",
    )  # fmt: skip
    _database_options(verify)
    verify.set_defaults(func=_cmd_audit_verify)
    export = audit_sub.add_parser("export", help="export records as CSV, JSON or a PDF report")
    export.add_argument("-o", "--output", required=True, help="the file to write")
    export.add_argument("--format", choices=("csv", "json", "pdf"), help="default: by suffix")
    export.add_argument("--from", dest="since", type=_when, help="from this time (local)")
    export.add_argument("--to", dest="until", type=_when, help="until this time (excluded)")
    export.add_argument("--user", help="user id (* wildcard)")
    export.add_argument("--action", action="append", choices=[a.value for a in AuditAction])
    export.add_argument("--result", action="append", choices=[r.value for r in AuditResult])
    export.add_argument("--tag", help="tag (* wildcard)")
    export.add_argument("--workstation")
    export.add_argument("--text", help="search reason, error, names, values")
    export.add_argument("--site", help="the site named on a PDF report")
    export.add_argument(
        "--checkpoint", action="append", metavar="FILE",
        help="a checkpoint the PDF's integrity statement compares the chain with; repeatable",
    )  # fmt: skip
    _database_options(export)
    export.set_defaults(func=_cmd_audit_export)
    from hmi.cli_trust import add_trust_commands

    add_trust_commands(audit_sub, _database_options, settings_from_args)
    from hmi.cli_forward import add_forward_command

    add_forward_command(audit_sub, _database_options, settings_from_args)

    db = sub.add_parser("db", help="the database schema")
    db_sub = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    _database_options(db_sub.add_parser("upgrade", help="create or migrate it (as its owner)"))
    db.set_defaults(func=_cmd_db)
