"""``hmi check`` of one large screen: parse, validate and cross-check N labels.

A generated project with one screen of ``--widgets`` labels (default 20,000, the most a
screen may hold; ``--widgets 100000`` shows the refusal past the bound costs no more than
reading). Ours: ``check_project`` on the folder. The raw library on the same file: plain
``yaml.safe_load`` (PyYAML's pure-Python loader), and libyaml's ``CSafeLoader`` which ours
builds on, with and without Python's cyclic collector (which ours pauses while it reads a
file: it was most of the time beyond the parse). Median over ``--runs`` runs after one warm-up; check stays linear: the per-widget
figure is printed so runs of different sizes compare.

Run: ``.venv/bin/python bench/bench_check.py [--runs 3] [--widgets 20000]``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import figure, median_s

from hmi.model.screens.loader import check_project

PROJECT = """\
project: {name: Bench, start_screen: big}
tags:
  T1: {address: "local://T1"}
screens: [big.yaml]
"""


def _screen(count: int) -> str:
    lines = ["screen: {id: big, title: Bench, size: [16000, 16000]}", "widgets:"]
    for i in range(count):
        x, y = (i % 400) * 40, (i // 400) * 60 % 15_000
        lines.append(f'  - {{type: label, text: "L{i}", rect: [{x}, {y}, 38, 20]}}')
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--widgets", type=int, default=20_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "project.yaml").write_text(PROJECT, encoding="utf-8")
        screen = root / "big.yaml"
        screen.write_text(_screen(args.widgets), encoding="utf-8")
        problems = check_project(root)
        print(
            f"{args.widgets:,} labels, {screen.stat().st_size / 1e6:.1f} MB, "
            f"{len(problems)} problem(s){': ' + problems[0].message[:60] if problems else ''}"
        )
        ours = median_s(lambda: check_project(root), args.runs)
        text = screen.read_text(encoding="utf-8")
        raw = median_s(lambda: yaml.safe_load(text), args.runs)
        c_loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        libyaml = median_s(lambda: yaml.load(text, Loader=c_loader), args.runs)
        gc.disable()  # the floor: libyaml's own loader without the cyclic collector
        try:
            bare = median_s(lambda: yaml.load(text, Loader=c_loader), args.runs)
        finally:
            gc.enable()
    per = ours / args.widgets * 1e6
    print(f"hmi check          {ours:8.2f} s  ({per:.0f} us a widget)")
    print(f"yaml.safe_load     {raw:8.2f} s  ratio ours/raw {ours / raw:.2f}")
    print(f"yaml CSafeLoader   {libyaml:8.2f} s  ratio ours/raw {ours / libyaml:.2f}")
    print(f"  same, no cyclic gc {bare:6.2f} s  ratio ours/raw {ours / bare:.2f}")
    figure("check", f"hmi check, one screen of {args.widgets:,} labels", ours, "s",
           raw=libyaml, raw_name="yaml.load with CSafeLoader (libyaml)")  # fmt: skip
    figure("check", f"hmi check, one screen of {args.widgets:,} labels (vs. no cyclic gc)",
           ours, "s", raw=bare, raw_name="CSafeLoader with the cyclic collector off")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
