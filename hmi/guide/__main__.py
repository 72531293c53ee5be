"""``python -m hmi.guide [--docs DIR] [--check]`` (``make docs``): write docs/screens.md and
its pictures; ``--check`` only says whether screens.md is up to date with the schema and every
widget type has its picture (exit 1 if not)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from hmi.guide.page import PICTURES, guide_markdown, picture_name
from hmi.model.screens.schema import WIDGET_TYPES

DOCS = Path(__file__).resolve().parents[2] / "docs"


def check(docs: Path) -> list[str]:
    """What is out of date in ``docs``: screens.md against the schema, missing pictures."""
    problems = []
    page = docs / "screens.md"
    if not page.exists() or page.read_text(encoding="utf-8") != guide_markdown():
        problems.append(f"{page} is not up to date with the screen schema: run make docs")
    for kind in WIDGET_TYPES:
        if not (docs / picture_name(kind)).is_file():
            problems.append(f"{docs / picture_name(kind)} is missing: run make docs")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hmi.guide", description=__doc__)
    parser.add_argument(
        "--docs", type=Path, default=DOCS, help="the docs folder (default: %(default)s)"
    )
    parser.add_argument("--check", action="store_true", help="check only; write nothing")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.docs)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from hmi.guide.render import render_pictures

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="hmi-guide-") as folder:
        pictures = render_pictures(Path(folder), args.docs / PICTURES)
    page = args.docs / "screens.md"
    page.write_text(guide_markdown(), encoding="utf-8")
    print(f"wrote {page} and {len(pictures)} pictures in {args.docs / PICTURES}")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
