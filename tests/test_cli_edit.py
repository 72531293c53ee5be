"""``hmi edit``: the station in design mode, on the same checks as ``hmi run``."""

from __future__ import annotations

from pathlib import Path

import pytest

from hmi.cli import _parser, main

DEMO = Path(__file__).resolve().parents[1] / "screens"


def test_edit_takes_a_project_and_a_screen() -> None:
    args = _parser().parse_args(["edit", str(DEMO), "--screen", "tank_farm"])
    assert args.command == "edit" and args.project == str(DEMO) and args.screen == "tank_farm"


def test_edit_refuses_an_unknown_screen_before_opening_a_window(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["edit", str(DEMO), "--screen", "nowhere"]) == 2
    assert "no screen 'nowhere'" in capsys.readouterr().err
