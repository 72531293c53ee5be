"""Browse server's step into project.yaml, without Qt and without a server: new tag names
checked, the tags planned as one `config_change`, refused with the checker's messages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hmi.model.audit.record import AuditAction
from hmi.model.design.tag_search import name_problem, plan_add_tags
from hmi.model.errors import ConfigError, ProjectError
from hmi.model.screens import load_project

DEMO = Path(__file__).resolve().parents[3] / "screens"

TAGS = """tags:
  Plant.RawWater.T1.Temperature:
    address: opcua://plant_ua/ns=2;s=Plant.RawWater.T1.Temperature
    datatype: float
    units: °C
    range: [0.0, 40.0]
  Stray:
    address: opcua://no_such_connection/ns=2;s=Plant.Stray
    datatype: float
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root)
    return root


def test_names_are_checked() -> None:
    taken = {"T1.Level"}
    assert name_problem("T1.Temperature", taken) is None
    assert name_problem("_x.y_2", taken) is None
    assert "already" in (name_problem("T1.Level", taken) or "")
    assert "give" in (name_problem("", taken) or "")
    for bad in ("9starts", "T1..Level", "T1.2nd", "Tank-1", "T1.Level."):
        assert "digit" in (name_problem(bad, taken) or ""), bad


def test_a_tag_is_planned_as_one_config_change(project: Path) -> None:
    path = project / "project.yaml"
    before = path.read_bytes()
    plan = plan_add_tags(project, TAGS, ["Plant.RawWater.T1.Temperature"], reason="CR-7")
    assert path.read_bytes() == before  # planned, not written
    assert plan.action is AuditAction.CONFIG_CHANGE
    change = plan.change()
    fields = change.record_fields()
    assert fields["target_address"] == "project:tags"
    added = [line for line in change.diff if line.startswith("+") and not line.startswith("+++")]
    removed = [line for line in change.diff if line.startswith("-") and not line.startswith("---")]
    assert not removed and any("T1.Temperature" in line for line in added)
    plan.write()
    assert load_project(project).tags["Plant.RawWater.T1.Temperature"].units == "°C"
    with pytest.raises(ConfigError, match="already"):
        plan_add_tags(project, TAGS, ["Plant.RawWater.T1.Temperature"])


def test_what_the_checker_refuses_is_not_planned(project: Path) -> None:
    path = project / "project.yaml"
    before = path.read_bytes()
    with pytest.raises(ProjectError) as refused:
        plan_add_tags(project, TAGS, ["Stray"])
    assert any("no_such_connection" in str(p) for p in refused.value.problems)
    assert path.read_bytes() == before
