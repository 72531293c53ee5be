"""``hmi sim``: run the demo plant and serve it over OPC UA and Modbus TCP at once.

The process model steps ``DT`` = 0.1 s of plant time at a time; ``speed`` plant seconds pass
per wall-clock second (10 Hz at speed 1). Both servers read the same ``Plant``, so a pump
started over Modbus shows running over OPC UA. Everything runs on the caller's event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import signal
import sys
from collections.abc import Awaitable, Sequence
from pathlib import Path
from types import TracebackType

from hmi.model.errors import HmiError
from hmi.sim.lifeline import set_parent_death_signal, watch_lifeline
from hmi.sim.modbus_server import PlantModbusServer
from hmi.sim.opcua_server import NAMESPACE_URI, PlantOpcUaServer
from hmi.sim.options import add_arguments
from hmi.sim.process import DT, Plant

__all__ = ["PlantStack", "SimStartError", "add_arguments", "main", "run", "serve"]

log = logging.getLogger(__name__)

TICK = 0.1  # wall-clock seconds between publishes
MAX_STEPS_PER_TICK = 2000  # beyond this the plant runs slower than asked rather than stall


class SimStartError(HmiError):
    """The simulated plant could not start (a port in use, a bad certificate, ...)."""


class PlantStack:
    """The process model and both protocol servers. Use ``async with`` (or ``start`` and
    ``stop``) and ``run()`` in between; ``plant`` is the live model, for tests and for
    injecting faults from Python (``stack.plant.set_fault(Fault.P101_TRIP)``)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        opcua_port: int = 4840,
        modbus_port: int = 5020,
        speed: float = 1.0,
        seed: int = 0,
        plant: Plant | None = None,
        certificate: Path | None = None,
        private_key: Path | None = None,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be greater than 0, not {speed!r}")
        self.speed = speed
        self.plant = plant if plant is not None else Plant(seed=seed)
        self.opcua = PlantOpcUaServer(
            self.plant, host=host, port=opcua_port, certificate=certificate, private_key=private_key
        )
        self.modbus = PlantModbusServer(self.plant, host=host, port=modbus_port)

    async def start(self) -> None:
        """Start Modbus first (it binds at once) and OPC UA second (it takes a second)."""
        try:
            await self.modbus.start()
        except (OSError, RuntimeError) as exc:
            await self._stop_quietly(self.modbus.stop())
            host, port = self.modbus.address
            raise SimStartError(
                f"Modbus TCP server could not listen at {host}:{port}: {exc}; "
                "choose another port with --modbus-port"
            ) from exc
        try:
            await self.opcua.start()
        except Exception as exc:  # a port in use, an unreadable certificate or key, ...
            await self._stop_quietly(self.modbus.stop())
            in_use = isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE
            hint = "choose another port with --opcua-port" if in_use else ""
            raise SimStartError(
                f"OPC UA server could not start at {self.opcua.endpoint}: {exc}"
                + (f"; {hint}" if hint else "")
            ) from exc

    async def stop(self) -> None:
        await self._stop_quietly(self.modbus.stop())
        await self._stop_quietly(self.opcua.stop())

    async def run(self, stop_event: asyncio.Event | None = None) -> None:
        """Step the plant in real time (times ``speed``) and publish after every tick, until
        ``stop_event`` is set (forever if there is none)."""
        stop = stop_event or asyncio.Event()
        loop = asyncio.get_running_loop()
        start, done = loop.time(), 0
        while not stop.is_set():
            due = int((loop.time() - start) * self.speed / DT) - done
            if due > MAX_STEPS_PER_TICK:
                log.warning(
                    "demo plant falling behind; dropping %d steps", due - MAX_STEPS_PER_TICK
                )
                start += (due - MAX_STEPS_PER_TICK) * DT / self.speed
                due = MAX_STEPS_PER_TICK
            for _ in range(due):
                self.plant.step()
            done += due
            await self.opcua.publish()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TICK):  # wait_for may swallow a cancel on 3.11
                    await stop.wait()

    async def __aenter__(self) -> PlantStack:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @staticmethod
    async def _stop_quietly(stopping: Awaitable[None]) -> None:
        try:
            await stopping
        except Exception:
            log.exception("error while stopping a demo plant server")


async def serve(
    *,
    host: str = "127.0.0.1",
    opcua_port: int = 4840,
    modbus_port: int = 5020,
    speed: float = 1.0,
    stop_event: asyncio.Event | None = None,
    seed: int = 0,
    certificate: Path | None = None,
    private_key: Path | None = None,
) -> None:
    """Serve the demo plant until ``stop_event`` is set (or the task is cancelled); both
    ports are closed when this returns. Raises ``SimStartError`` if a port is taken."""
    async with PlantStack(
        host=host,
        opcua_port=opcua_port,
        modbus_port=modbus_port,
        speed=speed,
        seed=seed,
        certificate=certificate,
        private_key=private_key,
    ) as stack:
        await stack.run(stop_event)


# --- command line -----------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Run the plant from parsed ``add_arguments`` options until Ctrl+C; the exit code."""
    if args.speed <= 0:
        print("hmi sim: --speed must be greater than 0", file=sys.stderr)
        return 2
    if bool(args.cert) != bool(args.key):
        print("hmi sim: --cert and --key go together", file=sys.stderr)
        return 2
    try:
        asyncio.run(_run(args))
    except SimStartError as exc:
        print(f"hmi sim: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # where the loop cannot take signals (Windows)
        pass
    return 0


async def _run(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if getattr(args, "lifeline", False):
        set_parent_death_signal(signal.SIGTERM)
        watch_lifeline(lambda: _set_soon(loop, stop))
    stack = PlantStack(
        host=args.host,
        opcua_port=args.opcua_port,
        modbus_port=args.modbus_port,
        speed=args.speed,
        seed=args.seed,
        certificate=args.cert,
        private_key=args.key,
    )
    async with stack:
        host, port = stack.modbus.address
        print(f"demo plant running at speed {args.speed:g}; Ctrl+C stops it")
        ns = stack.opcua.namespace_index
        print(f"  OPC UA     {stack.opcua.endpoint}  (namespace {NAMESPACE_URI}, ns={ns})")
        print(f"  Modbus TCP {host}:{port}  (units {', '.join(map(str, stack.modbus.unit_ids))})")
        sys.stdout.flush()
        await stack.run(stop)


def _set_soon(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    with contextlib.suppress(RuntimeError):  # the loop has closed: the plant stopped already
        loop.call_soon_threadsafe(stop.set)


def main(argv: Sequence[str] | None = None) -> int:
    """``hmi sim [options]``; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="hmi sim",
        description="Serve the demo water-treatment plant over OPC UA and Modbus TCP.",
    )
    add_arguments(parser)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        logging.getLogger("asyncua").setLevel(logging.ERROR)  # its start-up chatter is noise here
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
