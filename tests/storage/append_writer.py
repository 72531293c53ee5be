"""Run by the snapshot tests as a separate process: appends audit records to the chain at
``url``, one durable append at a time, until its stdin closes; prints ``ready`` once the
first record is in, then how many it appended when it stops."""

from __future__ import annotations

import sys
import threading

from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.storage.audit import AuditStore


def main(url: str, workstation: str) -> None:
    store = AuditStore.open(url, migrate=False)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    count = 0
    while not stop.is_set():
        store.append(
            AuditRecord.create(
                AuditAction.WRITE, user_id="op", workstation=workstation, target_tag="SP",
                new_value=count, origin="append-writer",
            )
        )  # fmt: skip
        count += 1
        if count == 1:
            print("ready", flush=True)
    store.close()
    print(count, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
