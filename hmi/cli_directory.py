"""``hmi login-test [PROJECT] USER``: what the station would make of a directory sign-in,
for the administrator setting ``security.directory`` up. The password comes on standard
input. Nothing is recorded and no failure is counted: it asks the directory only."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

__all__ = ["add_directory_commands"]


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("password: ")
    return sys.stdin.readline().rstrip("\r\n")


def _cmd_login_test(args: argparse.Namespace, *, demo: Callable[[], Path]) -> int:
    from hmi.model.errors import HmiError
    from hmi.model.screens.loader import load_project
    from hmi.runtime.directory import Directory, DirectoryUnreachable, Outcome

    *given, user = args.names
    if len(given) > 1:
        print("hmi login-test: give at most a project and a user name", file=sys.stderr)
        return 2
    folder = given[0] if given else os.environ.get("HMI_PROJECT") or str(demo())
    try:
        project = load_project(folder)
    except HmiError as exc:
        print(f"hmi login-test: {exc}", file=sys.stderr)
        return 2
    config = project.file.security.directory
    if config is None:
        print(f"{folder}: no security.directory; every user is a local account of the station")
        return 1
    how = (
        f"bind as {config.user_dn}"
        if config.search is None
        else f"search {config.search.filter} under {config.search.base} as {config.search.bind_dn}"
    )
    print(f"directory: {config.url} ({how})")
    if config.is_local(user):
        print(
            f"{user.strip().lower()} is a local account (security.directory.local_accounts): "
            "the station checks it against its own users, never the directory; "
            "try it with hmi users"
        )
        return 1
    password = _read_password()
    directory = Directory(config, folder=Path(project.root))
    try:
        verdict = directory.check(user, password)
    except DirectoryUnreachable as exc:
        print(f"UNREACHABLE: {exc}")
        print(
            "only local accounts could sign in now: " + (", ".join(config.local_accounts) or "none")
        )
        return 2
    _print(verdict, config)
    return 0 if verdict.outcome is Outcome.GRANTED else 1


def _print(verdict: Any, config: Any) -> None:
    from hmi.runtime.directory import Outcome

    if verdict.dn:
        print(f"entry: {verdict.dn}" + (f" ({verdict.full_name})" if verdict.full_name else ""))
    if verdict.outcome in (Outcome.GRANTED, Outcome.NO_ROLE):  # the password was right
        print("password: accepted; the groups of security.directory.roles:")
        for group, role in config.roles.items():
            mark = "member" if group in verdict.groups else "-"
            print(f"  {mark:6} {group} -> {role}")
    if verdict.role is not None:
        print(f"GRANTED: role {verdict.role}")
    else:
        print(f"REFUSED: {verdict.outcome.value}")
    for note in verdict.notes:
        print(f"  {note}")


def add_directory_commands(sub: Any, *, demo: Callable[[], Path]) -> None:
    """``demo()``: the demo project's folder, the default project."""
    test = sub.add_parser(
        "login-test",
        help="which role the directory would give a user, and why (password on standard input)",
        usage="hmi login-test [-h] [PROJECT] USER",
    )
    test.add_argument(
        "names", nargs="+", metavar="[PROJECT] USER",
        help="project folder or project.yaml (default: $HMI_PROJECT, else the demo), user name",
    )  # fmt: skip
    test.set_defaults(func=partial(_cmd_login_test, demo=demo))
