"""The demo plant ends with the process that started it, however that process ends.

``hmi demo`` starts ``hmi sim --lifeline`` with a pipe as its standard input and never writes
to it. When the parent ends, normally, by a Qt abort or by SIGKILL, the system closes the
parent's end and the plant reads end-of-file: it stops, and its ports are free again. This works
on every platform. On Linux the plant also asks the kernel for SIGTERM when its parent dies
(``prctl(PR_SET_PDEATHSIG)``), which holds even if a stray copy of the pipe's write end lives on
in some other process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable

__all__ = ["GRACE_S", "set_parent_death_signal", "watch_lifeline"]

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
GRACE_S = 10.0
"""Seconds the plant has to stop by itself once its parent is gone before it exits hard."""


def set_parent_death_signal(sig: int = signal.SIGTERM) -> bool:
    """Linux: have the kernel send ``sig`` to this process when its parent dies. False (and
    nothing done) elsewhere or when the call fails. The "parent" is the thread that started
    this process: start the plant from a thread that lives as long as its parent process."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_PDEATHSIG) failed: %s", os.strerror(ctypes.get_errno()))
            return False
    except (OSError, AttributeError) as exc:
        log.warning("no parent-death signal: %s", exc)
        return False
    return True


def watch_lifeline(
    on_gone: Callable[[], None], *, fd: int = 0, grace_s: float = GRACE_S
) -> threading.Thread:
    """Read ``fd`` (standard input) in a daemon thread until end-of-file, then call
    ``on_gone`` (from that thread: make it thread-safe) and, if the process is still running
    ``grace_s`` later, end it with exit status 1. Whatever is written to ``fd`` is ignored."""

    def watch() -> None:
        try:
            while os.read(fd, 4096):
                pass
        except OSError as exc:
            log.warning("lifeline unreadable (%s): treating the parent as gone", exc)
        log.warning("the process that started the demo plant is gone: stopping")
        on_gone()
        threading.Event().wait(grace_s)  # a daemon thread: the process ending ends it too
        log.error("the demo plant did not stop within %g s: exiting", grace_s)
        os._exit(1)

    thread = threading.Thread(target=watch, name="hmi-sim-lifeline", daemon=True)
    thread.start()
    return thread
