"""A collector that closes the connection in the middle of a frame: the forwarder says so,
reconnects and resends; every record arrives whole at least once."""

from __future__ import annotations

import re
import socket
import sys
import threading
import time
from pathlib import Path

from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.model.forwarding import SyslogSettings
from hmi.runtime.forwarding import EventForwarder, EventSource
from hmi.storage.alarm_journal import AlarmJournal
from hmi.storage.audit import AuditStore

sys.path.insert(0, str(Path(__file__).parent))
from rsyslog import sd_params


class CutCollector:
    """Accepts on a free port; the first connection is closed (RST) after ``cut`` bytes, in
    the middle of a frame; later ones are read to the end and their octet-counted frames
    parsed."""

    def __init__(self, cut: int) -> None:
        self.cut = cut
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.frames: list[bytes] = []
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            if self.connections == 1:
                got = b""
                while len(got) < self.cut:
                    got += conn.recv(self.cut - len(got))
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
                conn.close()  # reset, mid-frame
                continue
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        buffer = b""
        while chunk := conn.recv(65536):
            buffer += chunk
            while (m := re.match(rb"(\d+) ", buffer)) and len(buffer) >= m.end() + int(m[1]):
                end = m.end() + int(m[1])
                self.frames.append(buffer[m.end() : end])
                buffer = buffer[end:]


def test_a_collector_closing_mid_frame_loses_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hmi.sqlite'}"
    AuditStore.open(url).append_many(
        [AuditRecord.create(AuditAction.WRITE, user_id="u", new_value=i) for i in range(3000)]
    )
    AlarmJournal.open(url).ready()
    collector = CutCollector(cut=12_345)
    seen = []
    forwarder = EventForwarder(
        SyslogSettings(url=f"tcp://127.0.0.1:{collector.port}", reconnect_max_s=0.5),
        EventSource.open(url), on_status=seen.append,
    )  # fmt: skip
    forwarder.start()
    deadline = time.monotonic() + 30
    while forwarder.status.delivered.audit < 3000 and time.monotonic() < deadline:
        time.sleep(0.05)
    forwarder.stop()
    collector.server.close()
    ids = [int(sd_params(f.decode())["id"]) for f in collector.frames]
    assert set(ids) == set(range(1, 3001))
    assert any("closed the connection" in s.last_error for s in seen), [s.last_error for s in seen]
