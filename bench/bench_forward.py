"""Forwarding backlog drain: events/s the station's forwarder sends from the audit trail to a
collector, against a bare socket loop sending the same messages.

- **forwarder**: ``EventForwarder`` from an empty cursor over a backlog of ``--records`` audit
  records in a SQLite file: keyset reads, RFC 5424 formatting, octet-counted frames over TCP,
  the cursor moved (and written) as batches are confirmed. Timed until the cursor reaches the
  last record.
- **bare loop**: the same messages, formatted beforehand, framed and ``sendall`` on one
  socket: the most a sender can do on this machine.

The collector is a thread on loopback that reads and discards (rsyslog's own speed is not
what is measured). Target: ≥ 5,000 events/s (docs/it-integration.md).

Run: ``.venv/bin/python bench/bench_forward.py [--records 50000] [--check]``.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import figure

from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.model.forwarding import SyslogSettings
from hmi.runtime.forwarding import EventForwarder, EventSource, ForwardCursor
from hmi.runtime.forwarding.messages import formatter
from hmi.storage.alarm_journal import AlarmJournal
from hmi.storage.audit import AuditStore

TARGET = 5000.0


def _sink() -> tuple[int, list[int]]:
    server = socket.create_server(("127.0.0.1", 0))
    received = [0]

    def serve() -> None:
        while True:
            conn, _ = server.accept()
            threading.Thread(target=read, args=(conn,), daemon=True).start()

    def read(conn: socket.socket) -> None:
        while chunk := conn.recv(1 << 20):
            received[0] += len(chunk)

    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1], received


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--window", type=int, default=SyslogSettings.model_fields["window"].default)
    parser.add_argument("--check", action="store_true", help="exit 1 below the target")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-forward-"))
    url = f"sqlite:///{folder / 'hmi.sqlite'}"
    store = AuditStore.open(url)
    AlarmJournal.open(url).ready()
    for start in range(0, args.records, 5000):
        store.append_many([
            AuditRecord.create(
                AuditAction.WRITE, user_id=f"user{i % 20}", role="operator", workstation="OS1",
                target_tag=f"TIC{i % 500}.SP", old_value=float(i), new_value=float(i + 1),
                read_back=float(i + 1), reason="setpoint change for the next batch",
            )
            for i in range(start, min(start + 5000, args.records))
        ])  # fmt: skip
    port, _ = _sink()
    settings = SyslogSettings(url=f"tcp://127.0.0.1:{port}", window=args.window)
    source = EventSource.open(url)
    forwarder = EventForwarder(settings, source, cursor=ForwardCursor(folder / "c.json", key="b"))
    t0 = time.perf_counter()
    asyncio.run(forwarder.run(until_caught_up=True))
    forwarded = time.perf_counter() - t0
    assert forwarder.status.delivered.audit == args.records

    fmt = formatter(settings)
    messages = [fmt(r) for r in store.iter_records()]
    sock = socket.create_connection(("127.0.0.1", port))
    t0 = time.perf_counter()
    for message in messages:
        sock.sendall(b"%d %b" % (len(message), message))
    bare = time.perf_counter() - t0
    sock.close()
    rate, bare_rate = args.records / forwarded, args.records / bare
    print(f"records            {args.records:>10,}")
    print(f"forwarder          {rate:>10,.0f} events/s  ({forwarded:.2f} s)")
    print(f"bare socket loop   {bare_rate:>10,.0f} events/s  ({bare:.2f} s)")
    print(f"ratio              {rate / bare_rate:>10.3f}  (forwarder / bare loop)")
    print(f"target             {TARGET:>10,.0f} events/s: {'met' if rate >= TARGET else 'MISSED'}")
    figure("forward", f"syslog backlog drain, {args.records:,} records", rate, "events/s",
           target=f">= {TARGET:,}", met=rate >= TARGET, raw=bare_rate,
           raw_name="pre-formatted frames, sendall on one socket")  # fmt: skip
    source.close()
    return 1 if args.check and rate < TARGET else 0


if __name__ == "__main__":
    raise SystemExit(main())
