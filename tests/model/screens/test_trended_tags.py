"""Which tags the station keeps a recent past of: those some trend shows."""

from __future__ import annotations

from hmi.model.screens.loader import load_project
from hmi.model.screens.templates import trended_tags
from tests.model.conftest import MAIN, PUMP, MakeProject

TREND_IN_TEMPLATE = PUMP + '  - {type: trend, tags: ["${unit}.Running"], rect: [0, 100, 200, 40]}\n'
FACEPLATE_BUTTON = """\
  - type: button
    text: Pump 2
    rect: [10, 300, 100, 40]
    action: {kind: faceplate, template: pump, params: {unit: Pump2}}
"""


def test_trends_on_screens_in_instances_and_in_faceplates(
    make_project: MakeProject, base_files
) -> None:
    project_yaml = base_files["project.yaml"].replace(
        "  Flow.Setpoint:",
        "  Pump2.Running: {address: 'sim://square?period=10', datatype: bool}\n"
        "  Pump2.Start: {address: 'local://P2?type=bool', datatype: bool, write: {}}\n"
        "  Flow.Setpoint:",
    )
    main = (
        MAIN
        + "  - {type: trend, tags: [Tank1.Level], rect: [10, 400, 300, 100]}\n"
        + FACEPLATE_BUTTON
    )
    project = load_project(
        make_project(
            {"project.yaml": project_yaml, "main.yaml": main, "pump.yaml": TREND_IN_TEMPLATE}
        )
    )
    assert trended_tags(project.screens.values(), project.templates) == {
        "Tank1.Level",  # on the screen
        "Pump1.Running",  # in the placed pump template
        "Pump2.Running",  # in the faceplate a button opens
    }


def test_no_trends_no_tags(make_project: MakeProject) -> None:
    project = load_project(make_project())
    assert trended_tags(project.screens.values(), project.templates) == frozenset()
