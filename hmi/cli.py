"""The ``hmi`` command: run, check, schema, demo, ...; ``users``, ``audit`` and ``db`` are in
``hmi.cli_admin``, ``login-test`` in ``hmi.cli_directory``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from hmi import __version__

if TYPE_CHECKING:
    from hmi.model.screens.loader import Project


def demo_project_dir() -> Path:
    """The demo plant's project: shipped in the wheel, or the source tree's ``screens/``."""
    packaged = Path(__file__).parent / "_demo_project"
    if (packaged / "project.yaml").exists():
        return packaged
    return Path(__file__).resolve().parent.parent / "screens"


def _cmd_check(args: argparse.Namespace) -> int:
    from hmi.model.screens.loader import check_project, load_project

    problems = check_project(args.project)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{len(problems)} problem(s) in {args.project}", file=sys.stderr)
        return 1
    project = load_project(args.project)
    for name, tag in project.tags.items():
        numeric = tag.datatype.value in ("int", "float") and not tag.states
        if tag.write is not None and numeric and (tag.write.min is None or tag.write.max is None):
            print(
                f"{args.project}: warning: tag {name} is writable without write limits "
                "(write: {min: ..., max: ...}); any number would be sent",
                file=sys.stderr,
            )
    print(
        f"{args.project}: OK ({len(project.screens)} screens, {len(project.templates)} templates, "
        f"{len(project.tags)} tags, {len(project.file.connections)} connections)"
    )
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from hmi.model.screens.loader import json_schema

    text = json.dumps(json_schema(), indent=2)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(text)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from hmi.startup import station_imports

    with station_imports():
        from hmi.app import run

    project = args.project or os.environ.get("HMI_PROJECT") or str(demo_project_dir())
    return run(
        project, kiosk=args.kiosk, fullscreen=args.fullscreen, screen=args.screen, smoke=args.smoke
    )


def _cmd_serve(args: argparse.Namespace) -> int:
    from hmi.serve import serve

    project = args.project or os.environ.get("HMI_PROJECT") or str(demo_project_dir())
    return serve(project, check=args.check, check_s=args.timeout)


def plant_ports(project: Project) -> dict[str, int]:
    """The ports the demo plant must serve for ``project``: the port of its OPC UA endpoint
    and of its Modbus TCP connection ({"OPC UA": p, "Modbus TCP": q}). Raises ``ConfigError``
    if the project has not exactly one of each, or one that is not on this machine."""
    from hmi.model.errors import ConfigError
    from hmi.model.project import ModbusConnection, OpcUaConnection

    found: dict[str, list[tuple[str, str, int]]] = {"OPC UA": [], "Modbus TCP": []}
    for name, connection in project.file.connections.items():
        if isinstance(connection, OpcUaConnection):
            endpoint = urlsplit(connection.endpoint)
            try:
                port = endpoint.port or 4840
            except ValueError:
                raise ConfigError(
                    f"connection {name!r}: endpoint {connection.endpoint!r} has no valid port"
                ) from None
            found["OPC UA"].append((name, endpoint.hostname or "", port))
        elif isinstance(connection, ModbusConnection) and connection.transport == "tcp":
            found["Modbus TCP"].append((name, connection.host or "", connection.port or 502))
    ports: dict[str, int] = {}
    for protocol, connections in found.items():
        if len(connections) != 1:
            names = ", ".join(name for name, _, _ in connections) or "none"
            raise ConfigError(
                f"{project.root}: the demo plant needs exactly one {protocol} connection, "
                f"found {names}"
            )
        name, host, port = connections[0]
        if host not in ("127.0.0.1", "localhost"):
            raise ConfigError(
                f"connection {name!r}: the demo plant runs on 127.0.0.1, not on {host!r}"
            )
        ports[protocol] = port
    return ports


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def start_plant(ports: dict[str, int]) -> subprocess.Popen[bytes] | None:
    """The simulated plant (``hmi sim``) in its own process, serving on ``ports``
    ({"OPC UA": p, "Modbus TCP": q}, see ``plant_ports``); None (after saying why) if a port
    is taken or the plant did not come up. The plant ends when this process ends, SIGKILL
    included; call this from the main thread (on Linux the parent-death signal follows the
    thread that started the plant)."""
    taken = [f"{name} port {port}" for name, port in ports.items() if _port_open(port)]
    if taken:
        print(
            f"hmi demo: {' and '.join(taken)} already answer on 127.0.0.1; is another "
            "'hmi demo' or 'hmi sim' running? Stop it, or run 'hmi run' to use that one.",
            file=sys.stderr,
        )
        return None
    # A PyInstaller build's executable is the ``hmi`` program itself, not a Python.
    frozen = getattr(sys, "frozen", False)
    command = [sys.executable] + ([] if frozen else ["-m", "hmi.cli"]) + ["sim", "--lifeline"]
    command += ["--opcua-port", str(ports["OPC UA"]), "--modbus-port", str(ports["Modbus TCP"])]
    # Its standard input is the lifeline (hmi.sim.lifeline): this process holds the only write
    # end and never writes; when it ends, however it ends, the plant reads end-of-file and stops.
    plant = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not all(_port_open(port) for port in ports.values()):
        if plant.poll() is not None:
            print(
                f"hmi demo: the simulated plant stopped (exit {plant.returncode})", file=sys.stderr
            )
            return None
        if time.monotonic() > deadline:
            print("hmi demo: the simulated plant did not open its ports in 30 s", file=sys.stderr)
            stop_plant(plant)
            return None
        time.sleep(0.1)
    return plant


def stop_plant(plant: subprocess.Popen[bytes]) -> None:
    plant.terminate()
    try:
        plant.wait(timeout=10)
    except subprocess.TimeoutExpired:
        plant.kill()
        plant.wait()
    if plant.stdin is not None:
        plant.stdin.close()


def _cmd_demo(args: argparse.Namespace) -> int:
    """The plant in its own process, on the ports the demo project's connections name; the
    operator window on the demo project (or a copy of it). Closing the window stops the
    plant."""
    from hmi.startup import station_imports

    with station_imports():
        from hmi.app import run
    from hmi.model.errors import ConfigError, ProjectError
    from hmi.model.screens.loader import load_project
    from hmi.qt_platform import xcb_problem

    if (problem := xcb_problem()) is not None:
        print(f"hmi demo: {problem}", file=sys.stderr)  # before the plant is started
        return 1
    folder = Path(args.project) if args.project else demo_project_dir()
    try:
        ports = plant_ports(load_project(folder))
    except ProjectError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"hmi demo: {exc}", file=sys.stderr)
        return 1
    plant = start_plant(ports)
    if plant is None:
        return 1
    try:
        return run(str(folder), fullscreen=args.fullscreen, screen=args.screen, smoke=args.smoke)
    finally:
        stop_plant(plant)


def _cmd_sim(args: argparse.Namespace) -> int:
    from hmi.sim.runner import run

    return run(args)


def _cmd_browse(args: argparse.Namespace) -> int:
    import asyncio

    from hmi.drivers.opcua import browse, format_tree, tags_yaml
    from hmi.model.errors import HmiError

    password = os.environ.get(args.password_env) if args.password_env else None
    try:
        tree = asyncio.run(
            browse(
                args.endpoint,
                depth=args.depth,
                root=args.root,
                security=args.security,
                policy=args.policy,
                username=args.username,
                password=password,
            )
        )
    except HmiError as exc:
        print(f"hmi browse: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"hmi browse: cannot reach {args.endpoint}: {exc}", file=sys.stderr)
        return 1
    print(tags_yaml(tree, args.yaml) if args.yaml else format_tree(tree))
    return 0


def _cmd_certs(args: argparse.Namespace) -> int:
    from hmi.drivers.opcua import certs
    from hmi.model.errors import HmiError

    try:
        if args.action == "list":
            found = certs.list_certificates()
            for info in found:
                print(certs.describe_certificate(info), end="\n\n")
            if not found:
                print("no server certificates yet (trusted or rejected)")
        elif args.action == "show-own":
            print(certs.describe_certificate(certs.own_certificate_info()))
        elif args.action == "trust":
            print("trusted:\n" + certs.describe_certificate(certs.trust_certificate(args.which)))
        else:
            print("rejected:\n" + certs.describe_certificate(certs.reject_certificate(args.which)))
    except HmiError as exc:
        print(f"hmi certs: {exc}", file=sys.stderr)
        return 1
    return 0


def _moment(text: str) -> datetime:
    """An ISO date or date-time; without a zone it is local time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD[THH:MM])") from None
    return moment if moment.tzinfo else moment.astimezone()


def _cmd_alarms_report(args: argparse.Namespace) -> int:
    from hmi.storage.alarm_journal import alarm_report
    from hmi.storage.db import default_database_url

    if args.to <= args.from_:
        print("hmi alarms report: --to must be after --from", file=sys.stderr)
        return 2
    print(alarm_report(args.db or default_database_url(), args.from_, args.to), end="")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hmi", description="HMI/SCADA operator station")
    parser.add_argument("--version", action="version", version=f"hmi {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="open the operator window on a project")
    run.add_argument(
        "project",
        nargs="?",
        help="project folder or project.yaml (default: $HMI_PROJECT, else the demo)",
    )
    run.add_argument(
        "--screen", help="screen id to open first (default: the project's start_screen)"
    )
    run.add_argument("--fullscreen", action="store_true", help="start full screen (F11 toggles)")
    run.add_argument(
        "--kiosk", action="store_true", help="full screen, no window frame; Ctrl+Alt+Q quits"
    )
    run.add_argument(
        "--smoke",
        action="store_true",
        help="exit once the first screen has painted (0) or not within 60 s (1): checks a build",
    )
    run.set_defaults(func=_cmd_run)

    serve = sub.add_parser(
        "serve", help="run the station without a window (drivers, alarms, history, MQTT)"
    )
    serve.add_argument(
        "project",
        nargs="?",
        help="project folder or project.yaml (default: $HMI_PROJECT, else the demo)",
    )
    serve.add_argument(
        "--check",
        action="store_true",
        help="start, wait for every connection, print each one's status and stop (exit 0: all up)",
    )
    serve.add_argument(
        "--timeout", type=float, default=10, help="seconds --check waits (default 10)"
    )
    serve.set_defaults(func=_cmd_serve)

    check = sub.add_parser(
        "check", help="validate a project; prints file:line:column for each problem"
    )
    check.add_argument("project", help="project folder or project.yaml")
    check.set_defaults(func=_cmd_check)

    schema = sub.add_parser("schema", help="print the JSON Schema of screen and template files")
    schema.add_argument("-o", "--output", help="write to this file instead of standard output")
    schema.set_defaults(func=_cmd_schema)

    browse = sub.add_parser(
        "browse", help="print an OPC UA server's address space, or tags to paste"
    )
    browse.add_argument("endpoint", help="opc.tcp://host:port[/path]")
    browse.add_argument("--depth", type=int, default=3, help="levels below the root (default 3)")
    browse.add_argument("--root", default="i=85", help="NodeId to start from (default Objects)")
    browse.add_argument("--security", choices=("None", "Sign", "SignAndEncrypt"), default="None")
    browse.add_argument(
        "--policy",
        default="Basic256Sha256",
        choices=("Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"),
    )
    browse.add_argument("--username")
    browse.add_argument("--password-env", help="environment variable holding the password")
    browse.add_argument(
        "--yaml",
        metavar="CONNECTION",
        help="print tag definitions for project.yaml, addressed via CONNECTION",
    )
    browse.set_defaults(func=_cmd_browse)

    certs = sub.add_parser(
        "certs", help="OPC UA certificates: this station's and the servers' it trusts"
    )
    certs_sub = certs.add_subparsers(dest="action", required=True, metavar="ACTION")
    certs_sub.add_parser("list", help="trusted and rejected server certificates")
    certs_sub.add_parser(
        "show-own", help="this station's application certificate (made on first use)"
    )
    for action, text in (("trust", "trust a server certificate"), ("reject", "stop trusting one")):
        one = certs_sub.add_parser(action, help=text)
        one.add_argument(
            "which", help="a certificate file, or the thumbprint 'hmi certs list' shows"
        )
    certs.set_defaults(func=_cmd_certs)

    from hmi.sim.options import add_arguments as add_sim_arguments

    sim = sub.add_parser("sim", help="serve the simulated water plant over OPC UA and Modbus TCP")
    add_sim_arguments(sim)
    sim.set_defaults(func=_cmd_sim)

    demo = sub.add_parser("demo", help="run the demo plant and the operator window on it")
    demo.add_argument(
        "project", nargs="?", help="a copy of the demo project (default: the shipped one); the "
        "plant serves on the ports its connections name",
    )  # fmt: skip
    demo.add_argument("--screen", help="screen id to open first")
    demo.add_argument("--fullscreen", action="store_true")
    demo.add_argument(
        "--smoke", action="store_true",
        help="close once the first screen has painted (exit 0), or after 60 s (exit 1)",
    )  # fmt: skip
    demo.set_defaults(func=_cmd_demo)

    alarms = sub.add_parser("alarms", help="the alarm journal's KPIs")
    alarms_sub = alarms.add_subparsers(dest="action", required=True, metavar="ACTION")
    report = alarms_sub.add_parser("report", help="alarm KPIs of a period (ISA-18.2 / EEMUA 191)")
    report.add_argument(
        "--from", dest="from_", type=_moment, required=True, help="start, e.g. 2026-11-01"
    )
    report.add_argument("--to", type=_moment, required=True, help="end (exclusive)")
    report.add_argument("--db", help="database URL (default: this station's SQLite file)")
    report.set_defaults(func=_cmd_alarms_report)

    from hmi.cli_admin import add_admin_commands

    add_admin_commands(sub)  # users, audit, db
    from hmi.cli_directory import add_directory_commands

    add_directory_commands(sub, demo=demo_project_dir)  # login-test
    from hmi.cli_edit import add_edit_command

    add_edit_command(sub, demo=demo_project_dir)  # edit
    return parser


EXIT_READER_GONE = 141
"""The exit status when standard output's reader went away (``hmi browse ... | head``): 128 +
SIGPIPE, what the shell reports for a Unix tool that SIGPIPE stopped."""

_LONG_RUNNING = frozenset({"run", "edit", "demo", "sim", "serve"})
"""Commands that run until stopped and print next to nothing: a BrokenPipeError there comes
from a connection, not from standard output, and must not pass for a reader that went away."""


def _reader_gone() -> int:
    """Stop quietly: whatever is still to be written, down to the interpreter's last flush of
    standard output, goes to the null device instead of failing again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
    return EXIT_READER_GONE


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.verbose < 2:
        # asyncua logs a traceback for every lost connection; the station reports those itself.
        logging.getLogger("asyncua").setLevel(logging.CRITICAL)
    if args.command in _LONG_RUNNING:
        result: int = args.func(args)
        return result
    try:
        result = args.func(args)
        sys.stdout.flush()  # output still buffered meets a closed pipe here, not at exit
    except BrokenPipeError:
        return _reader_gone()
    return result


if __name__ == "__main__":
    sys.exit(main())
