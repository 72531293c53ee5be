"""The ``hmi sim`` options, apart from the plant itself: building the ``hmi`` command line
does not load the OPC UA server."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_arguments"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``hmi sim`` options, for a sub-command parser."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--opcua-port", type=int, default=4840, help="OPC UA port (default: %(default)s)"
    )
    parser.add_argument(
        "--modbus-port", type=int, default=5020, help="Modbus TCP port (default: %(default)s)"
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="plant seconds per second (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of the measurement noise")
    parser.add_argument(
        "--cert", type=Path, help="server certificate (DER or PEM) to also offer Basic256Sha256"
    )
    parser.add_argument("--key", type=Path, help="private key (PEM) of --cert")
    parser.add_argument(
        "--lifeline",
        action="store_true",
        help="stop when standard input closes, i.e. when the process that started the plant "
        "ends (hmi demo uses it)",
    )
