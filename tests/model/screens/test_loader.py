"""Loading valid projects, reloading single files, and the JSON Schema for editors."""

from __future__ import annotations

from pathlib import Path

import pytest

from hmi.model.errors import ProjectError
from hmi.model.screens.loader import (
    check_project,
    json_schema,
    listed_files,
    load_project,
    load_screen_file,
    load_template_file,
)
from hmi.model.screens.schema import ButtonSpec, InstanceSpec, ScreenFile, SymbolSpec, TemplateFile
from tests.model.conftest import PROJECT, MakeProject

DEMO = Path(__file__).resolve().parents[3] / "screens"


def test_valid_project_loads(make_project) -> None:
    folder = make_project()
    project = load_project(folder)
    assert project.root == str(folder.resolve())
    assert set(project.screens) == {"main", "detail"}
    assert set(project.templates) == {"pump"}
    assert project.screen_paths["main"] == str(folder / "main.yaml")
    assert project.template_paths["pump"] == str(folder / "pump.yaml")
    assert project.start_screen == "main"
    assert project.tags["Tank1.Level"].name == "Tank1.Level"
    assert project.tags["Flow.Setpoint"].address.connection == "plc"
    assert check_project(folder) == []


def test_project_yaml_path_works_as_well_as_the_folder(make_project) -> None:
    folder = make_project()
    assert load_project(folder / "project.yaml").screens == load_project(folder).screens
    assert load_project(str(folder)).root == str(folder.resolve())


def test_loaded_models_hold_plain_python_values(make_project) -> None:
    """The YAML tree's own types (ScalarFloat, CommentedMap) must not leak into the model."""
    project = load_project(make_project())
    main = project.screens["main"]
    button = main.widgets[2]
    assert isinstance(button, ButtonSpec)
    assert type(button.rect[0]) in (int, float)
    assert type(main.screen.size) is tuple
    instance = main.widgets[3]
    assert isinstance(instance, InstanceSpec)
    assert type(instance.params) is dict


def test_symbol_and_image_files_in_the_project_folder(make_project, base_files) -> None:
    folder = make_project()
    (folder / "symbols").mkdir()
    (folder / "symbols" / "mixer.svg").write_text("<svg/>")
    (folder / "logo.png").write_bytes(b"\x89PNG")
    widgets = (
        "  - {type: symbol, symbol: symbols/mixer.svg, rect: [0, 0, 9, 9]}\n"
        "  - {type: image, source: logo.png, rect: [0, 0, 9, 9]}\n"
        "  - {type: symbol, symbol: ../outside.svg, rect: [0, 0, 9, 9]}\n"
    )
    (folder.parent / "outside.svg").write_text("<svg/>")
    (folder / "main.yaml").write_text(base_files["main.yaml"] + widgets)
    problems = check_project(folder)
    assert [
        (p.location.line, "unknown symbol '../outside.svg'" in p.message) for p in problems
    ] == [(18, True)]


def test_expression_positions_follow_yaml_quoting(make_project, base_files) -> None:
    """Escapes in double quotes and '' in single quotes shift the file column."""
    main = base_files["main.yaml"] + (
        "  - type: label\n"
        "    text: a\n"
        "    rect: [0, 0, 9, 9]\n"
        '    visible: "Pump1.Running == \\"on\\" and Tnk.Level > 1"\n'
        "  - type: label\n"
        "    text: b\n"
        "    rect: [0, 0, 9, 9]\n"
        "    visible: 'Pump1.Running == ''on'' or Tnk.Level > 1'\n"
        "  - type: label\n"
        "    text: c\n"
        "    rect: [0, 0, 9, 9]\n"
        "    visible: Pump1.Running == 1 and\n"
        "      Tnk.Level > 1\n"
    )
    problems = check_project(make_project({"main.yaml": main}))
    assert [(p.location.line, p.location.column) for p in problems] == [
        (19, 43),
        (23, 42),
        (28, 7),
    ], problems
    assert all("unknown tag 'Tnk.Level'" in p.message for p in problems)


def test_reload_a_valid_screen(make_project, base_files) -> None:
    folder = make_project()
    project = load_project(folder)
    path = folder / "detail.yaml"
    path.write_text(base_files["detail.yaml"].replace("title: Detail", "title: Details"))
    screen = load_screen_file(path, project)
    assert isinstance(screen, ScreenFile)
    assert screen.screen.title == "Details"


def test_reload_a_screen_with_a_problem(make_project, base_files) -> None:
    folder = make_project()
    project = load_project(folder)
    path = folder / "main.yaml"
    path.write_text(base_files["main.yaml"].replace("tag: Tank1.Level", "tag: Tank1.Lvl"))
    with pytest.raises(ProjectError) as caught:
        load_screen_file(path, project)
    (problem,) = caught.value.problems
    assert (problem.location.file, problem.location.line, problem.location.column) == (
        path,
        7,
        35,
    )


def test_reload_a_screen_that_takes_another_screens_id(make_project, base_files) -> None:
    folder = make_project()
    project = load_project(folder)
    path = folder / "detail.yaml"
    path.write_text(base_files["detail.yaml"].replace("id: detail", "id: main"))
    with pytest.raises(ProjectError, match="duplicate screen id 'main'"):
        load_screen_file(path, project)


def test_reload_a_screen_that_renames_itself(make_project, base_files) -> None:
    folder = make_project()
    project = load_project(folder)
    path = folder / "detail.yaml"
    path.write_text(base_files["detail.yaml"].replace("id: detail", "id: detail2"))
    assert load_screen_file(path, project).screen.id == "detail2"


def test_reload_a_template(make_project, base_files) -> None:
    folder = make_project()
    project = load_project(folder)
    path = folder / "pump.yaml"
    path.write_text(base_files["pump.yaml"].replace("symbol: pump", "symbol: motor"))
    template = load_template_file(path, project)
    assert isinstance(template, TemplateFile)
    assert isinstance(template.widgets[0], SymbolSpec)
    assert template.widgets[0].symbol == "motor"


def test_reload_a_template_checks_the_screens_that_place_it(make_project, base_files) -> None:
    """Renaming a param breaks every instance that still passes the old one."""
    folder = make_project()
    project = load_project(folder)
    path = folder / "pump.yaml"
    path.write_text(base_files["pump.yaml"].replace("unit", "pump"))
    with pytest.raises(ProjectError) as caught:
        load_template_file(path, project)
    places = [(p.location.file.name, p.location.line) for p in caught.value.problems]
    assert places == [("main.yaml", 14), ("main.yaml", 14)]
    messages = " ".join(p.message for p in caught.value.problems)
    assert "has no param 'unit'" in messages
    assert "misses param 'pump'" in messages


def test_reload_a_broken_template(make_project, base_files) -> None:
    folder = make_project()
    project = load_project(folder)
    path = folder / "pump.yaml"
    path.write_text(base_files["pump.yaml"].replace("size: [200, 200]", "size: [200]"))
    with pytest.raises(ProjectError, match="'size' needs 2 values"):
        load_template_file(path, project)


def test_json_schema_covers_screens_and_templates() -> None:
    schema = json_schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"]
    titles = {branch["$ref"].rsplit("/", 1)[-1] for branch in schema["anyOf"]}
    assert titles == {"ScreenFile", "TemplateFile"}
    assert "ValueSpec" in schema["$defs"]
    assert "rect" in schema["$defs"]["ValueSpec"]["properties"]


def test_the_demo_project_loads_without_problems() -> None:
    if not (DEMO / "project.yaml").exists():
        pytest.skip("the demo project (screens/project.yaml) is not written yet")
    problems = check_project(DEMO)
    assert problems == [], "\n".join(str(p) for p in problems)
    project = load_project(DEMO)
    assert project.start_screen in project.screens


def test_reload_forgets_the_old_id_of_a_renamed_screen(make_project, base_files) -> None:
    folder = make_project()
    project = load_project(folder)
    path = folder / "detail.yaml"
    text = base_files["detail.yaml"].replace("id: detail", "id: detail2")
    path.write_text(text.replace("screen: main}", "screen: detail}"))
    with pytest.raises(ProjectError, match="unknown screen 'detail' in a navigate action"):
        load_screen_file(path, project)


def test_reload_names_the_template_file_relative_to_the_project(make_project, base_files) -> None:
    folder = make_project()
    project = load_project(folder)
    path = folder / "main.yaml"
    path.write_text(base_files["main.yaml"].replace("{unit: Pump1}", "{unit: Pump9}"))
    with pytest.raises(ProjectError) as caught:
        load_screen_file(path, project)
    assert caught.value.problems[0].message.startswith(
        "template 'pump' (pump.yaml) with unit='Pump9': unknown tag 'Pump9.Running'"
    )


def test_listed_files_even_when_the_project_does_not_load(make_project, base_files) -> None:
    """Live reload watches what project.yaml lists, valid or not: a newly listed screen with
    errors, or one that does not exist yet."""
    project_yaml = base_files["project.yaml"].replace("screens:\n", "screens:\n  - new.yaml\n")
    folder = make_project({"project.yaml": project_yaml, "new.yaml": "screen: {id: 3}\n"})
    with pytest.raises(ProjectError):
        load_project(folder)
    listed = listed_files(folder)
    assert listed is not None
    assert listed[(folder / "new.yaml").resolve()] == "screen"
    assert listed[(folder / "main.yaml").resolve()] == "screen"
    assert listed[(folder / "pump.yaml").resolve()] == "template"
    (folder / "project.yaml").write_text("screens: [unclosed\n", encoding="utf-8")
    assert listed_files(folder) is None


def test_a_theme_is_a_name_not_a_path(make_project: MakeProject) -> None:
    """settings.theme names resources/theme/<name>.qss: a path out of that folder is refused
    where it is written."""
    text = PROJECT.replace("connections:", "settings: {theme: ../../etc/passwd}\nconnections:")
    folder = make_project({"project.yaml": text})
    found = [(p.location.line, p.message) for p in check_project(folder)]
    assert len(found) == 1 and found[0][0] == 4 and "theme" in found[0][1], found
    good = PROJECT.replace("connections:", "settings: {theme: isa101}\nconnections:")
    assert load_project(make_project({"project.yaml": good})).file.settings.theme == "isa101"
