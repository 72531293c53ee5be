"""Issue 14, point 12 for Modbus: a write the driver refuses before sending is recorded
``denied`` (nothing went out), one the device took is ``done``, and the read-back is compared
in the tag's type. A real pymodbus server, the driver on the I/O thread, a real SQLite trail."""

from __future__ import annotations

from pathlib import Path

from hmi.model.tags import TagConfig, WritePolicy
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import CommandService, Outcome
from tests.drivers.modbus.conftest import TestServer
from tests.drivers.modbus.conftest import connection as modbus_connection
from tests.runtime.test_commands_old_value import run


def test_values_the_register_cannot_hold_are_denied_and_nothing_is_sent(tmp_path: Path) -> None:
    server = TestServer()
    tags = {
        "Speed": TagConfig(address="modbus://plc/1/holding/0?type=int16", write=WritePolicy()),
        "Text": TagConfig(
            address="modbus://plc/1/holding/5?type=int16", datatype="str", write=WritePolicy()
        ),
        "Level": TagConfig(
            address="modbus://plc/1/holding/10?type=float32", datatype="str", write=WritePolicy()
        ),
        "Input": TagConfig(address="modbus://plc/1/input/0", write=WritePolicy()),
    }
    outcomes: list[tuple[str, Outcome, str]] = []

    async def before() -> None:
        await server.start()

    async def scenario(broker: TagBroker, commands: CommandService) -> None:
        def writes() -> list[tuple[int, int, int, int]]:
            return [r for r in server.requests if r[1] in (5, 6, 15, 16)]

        for tag, value in [
            ("Speed", 12.5),  # not a whole number: int16
            ("Speed", 70000),  # outside int16
            ("Text", "abc"),  # not a number for an int16 register
            ("Input", 3),  # a read-only table
        ]:
            result = await commands.write(tag, value)
            outcomes.append((tag, result.outcome, result.message))
            assert result.written is None
        assert writes() == []  # nothing went out
        done = await commands.write("Speed", 12)
        text = await commands.write("Text", "42")  # a str tag: '42' and 42 agree
        level = await commands.write("Level", "12.5")
        for result in (done, text, level):
            outcomes.append((result.request.tag, result.outcome, result.message))
        assert server.registers(1, "holding", 0, 1) == [12]
        assert server.registers(1, "holding", 5, 1) == [42]
        assert len(writes()) == 3

    try:
        records = run(tmp_path, tags, {"plc": modbus_connection(server)}, scenario, before)
    finally:
        pass
    assert [o for _, o, _ in outcomes] == [Outcome.DENIED] * 4 + [Outcome.DONE] * 3, outcomes
    assert "is not a whole number" in outcomes[0][2]
    assert "int16 range" in outcomes[1][2]
    assert "read-only" in outcomes[3][2]
    assert [(r.target_tag, r.result) for r in records] == [
        ("Speed", "denied"), ("Speed", "denied"), ("Text", "denied"), ("Input", "denied"),
        ("Speed", "done"), ("Text", "done"), ("Level", "done"),
    ]  # fmt: skip
