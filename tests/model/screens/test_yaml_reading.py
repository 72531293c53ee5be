"""YAML is read by the 1.2 core schema, with positions, whatever parser sits underneath."""

from __future__ import annotations

from pathlib import Path

from hmi.model.screens._yaml import key_pos, read_yaml, value_pos


def read(tmp_path: Path, text: str):
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    doc = read_yaml(path)
    assert doc.parsed, doc.problems
    return doc.data


def test_on_off_yes_no_stay_text_as_yaml_1_2_says(tmp_path: Path) -> None:
    data = read(tmp_path, "a: ON\nb: off\nc: yes\nd: No\ne: true\nf: FALSE\ng: ~\nh:\n")
    assert data == {
        "a": "ON",
        "b": "off",
        "c": "yes",
        "d": "No",
        "e": True,
        "f": False,
        "g": None,
        "h": None,
    }


def test_numbers_by_the_core_schema(tmp_path: Path) -> None:
    data = read(
        tmp_path, "a: 12\nb: -3.5\nc: 0x1F\nd: 0o17\ne: 1e3\nf: .inf\ng: 010\nh: 1_000\ni: '12'\n"
    )
    assert data["a"] == 12 and data["b"] == -3.5 and data["c"] == 31 and data["d"] == 15
    assert data["e"] == 1000.0 and data["f"] == float("inf")
    assert data["g"] == 10, "no YAML 1.1 octal"
    assert data["h"] == "1_000", "no YAML 1.1 digit separators"
    assert data["i"] == "12"


def test_positions_of_keys_values_and_items(tmp_path: Path) -> None:
    data = read(
        tmp_path, "screen:\n  id: main\nwidgets:\n  - {type: label, text: x}\n  - type: value\n"
    )
    assert key_pos(data, "widgets") == (2, 0)
    assert value_pos(data["screen"], "id") == (1, 6)
    assert value_pos(data["widgets"], 1) == (4, 4)
    assert key_pos(data["widgets"][0], "text") == (3, 18)


def test_anchors_and_merge_keys(tmp_path: Path) -> None:
    data = read(tmp_path, "base: &b {w: 1, h: 2}\nthing:\n  <<: *b\n  h: 3\n")
    assert data["thing"] == {"h": 3, "w": 1}
