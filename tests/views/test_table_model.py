"""The rows-of-objects table model under the alarm summary, alarm history and audit trail:
counts, header, a cell per role, and each way of changing rows telling the views what it did
(checked by Qt's own model tester as well)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot

from hmi.views.table_model import RowTableModel

DISPLAY = Qt.ItemDataRole.DisplayRole
TOOLTIP = Qt.ItemDataRole.ToolTipRole


@dataclass(frozen=True)
class Pump:
    tag: str
    state: str


class PumpModel(RowTableModel[Pump]):
    def __init__(self) -> None:
        super().__init__(("Tag", "State"))

    def cell(self, row: Pump, column: int, role: int) -> Any:
        if role == DISPLAY:
            return (row.tag, row.state)[column]
        if role == TOOLTIP and column == 1:
            return f"{row.tag} is {row.state}"
        return None


@pytest.fixture
def model(qapp: Any) -> PumpModel:
    model = PumpModel()
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal, model)
    return model


def texts(model: PumpModel) -> list[tuple[str, str]]:
    return [
        (model.index(row, 0).data(), model.index(row, 1).data()) for row in range(model.rowCount())
    ]


def test_counts_header_and_cells(model: PumpModel) -> None:
    model.replace_rows([Pump("P101", "running"), Pump("P102", "stopped")])
    assert (model.rowCount(), model.columnCount()) == (2, 2)
    assert model.rowCount(model.index(0, 0)) == 0  # flat: no children
    horizontal = Qt.Orientation.Horizontal
    assert [model.headerData(c, horizontal) for c in range(2)] == ["Tag", "State"]
    assert model.headerData(2, horizontal) is None
    assert model.headerData(0, Qt.Orientation.Vertical) is None
    assert texts(model) == [("P101", "running"), ("P102", "stopped")]
    assert model.index(1, 1).data(TOOLTIP) == "P102 is stopped"
    assert model.index(1, 0).data(TOOLTIP) is None
    assert model.data(QModelIndex()) is None
    assert (model.row_at(1), model.row_at(2), model.row_at(-1)) == (model.rows[1], None, None)


def test_replace_resets_and_append_inserts_at_the_end(qtbot: QtBot, model: PumpModel) -> None:
    with qtbot.waitSignal(model.modelReset):
        model.replace_rows(iter([Pump("P101", "running")]))
    with qtbot.waitSignal(model.rowsInserted) as inserted:
        model.append_rows([Pump("P102", "stopped"), Pump("P103", "tripped")])
    assert inserted.args[1:] == [1, 2]
    with qtbot.assertNotEmitted(model.rowsAboutToBeInserted):
        model.append_rows([])
    assert [p.tag for p in model.rows] == ["P101", "P102", "P103"]


def test_merge_updates_in_place_removes_and_appends_by_key(qtbot: QtBot, model: PumpModel) -> None:
    model.replace_rows([Pump("P101", "running"), Pump("P102", "stopped"), Pump("P103", "off")])
    kept = QPersistentModelIndex(model.index(2, 1))  # P103: a selection survives a merge
    changed: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda a, b, roles: changed.append((a.row(), a.column(), b.row(), b.column()))
    )
    removed: list[tuple[int, int]] = []
    model.rowsRemoved.connect(lambda _parent, first, last: removed.append((first, last)))

    model.merge_rows(
        [Pump("P104", "running"), Pump("P103", "running"), Pump("P101", "running")],
        key=lambda pump: pump.tag,
    )
    assert removed == [(1, 1)]  # P102 went
    assert changed == [(1, 0, 1, 1)]  # only P103 changed: its whole row, nothing else
    assert texts(model) == [("P101", "running"), ("P103", "running"), ("P104", "running")]
    assert kept.isValid() and kept.row() == 1 and kept.data() == "running"


def test_row_changed_names_the_roles(model: PumpModel) -> None:
    model.replace_rows([Pump("P101", "running")])
    seen: list[list[int]] = []
    model.dataChanged.connect(lambda _a, _b, roles: seen.append(list(roles)))
    model.row_changed(0, [TOOLTIP])
    model.row_changed(0)
    assert seen == [[TOOLTIP], []]
