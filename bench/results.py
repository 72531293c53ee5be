"""Run every bench script and write ``bench/RESULTS.md``: one table of every figure, its target,
the raw library's figure from the same run and the ratio, with the machine it ran on.

``make bench`` runs this. Each script keeps its human output (passed through here) and prints a
``BENCH {json}`` line per figure (``bench/figures.py``); a script that fails or overruns its
time is a row saying so, not a missing row. ``--only broker,check`` runs some scripts (the
others' rows are then absent: commit a RESULTS.md only from a full run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from figures import PREFIX

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LIBRARIES = (
    "PySide6-Essentials", "pyqtgraph", "qasync", "numpy", "asyncua", "pymodbus", "SQLAlchemy",
    "alembic", "psycopg", "paho-mqtt", "PyYAML", "pydantic", "protobuf",
)  # fmt: skip


@dataclass
class Run:
    script: str
    code: int | None  # None: stopped at the time limit
    seconds: float
    load_before: float
    load_after: float
    figures: list[dict[str, Any]] = field(default_factory=list)
    last_error: str = ""


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def run_script(path: Path, timeout_s: float) -> Run:
    """Run one script (offscreen Qt), echoing its output; its BENCH lines become figures."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
    started, load0 = time.monotonic(), _load()
    process = subprocess.Popen(
        [sys.executable, str(path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    run = Run(path.stem.removeprefix("bench_"), None, 0.0, load0, 0.0)
    deadline = started + timeout_s
    for line in process.stdout:
        if line.startswith(PREFIX):
            try:
                run.figures.append(json.loads(line[len(PREFIX) :]))
            except json.JSONDecodeError:
                run.last_error = f"unreadable result line: {line.strip()[:80]}"
            continue
        sys.stdout.write(line)
        if line.strip():
            run.last_error = line.strip()[:160]
        if time.monotonic() > deadline:
            process.kill()
            break
    try:
        run.code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if time.monotonic() > deadline:
        run.code = None
    run.seconds = time.monotonic() - started
    run.load_after = _load()
    return run


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0] if text else "not found"


def machine() -> list[tuple[str, str]]:
    from PySide6.QtCore import qVersion

    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (absent)")
    memory = ""
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        memory = f", {os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.1f} GB"
    return [
        ("code", _version(["git", "-C", str(ROOT), "describe", "--always", "--dirty"])),
        ("CPU", f"{_cpu_model()}, {os.cpu_count()} logical cores{memory}"),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("Qt", qVersion()),
        ("libraries", ", ".join(versions)),
        ("PostgreSQL client", _version(["psql", "--version"])),
        ("Mosquitto", _version(["mosquitto", "-h"])),
    ]


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "-"}[met]


def table(runs: list[Run]) -> list[str]:
    lines = [
        "| bench | figure | ours | unit | target | | raw library (same run) | raw | ours/raw "
        "| load avg |",
        "| --- | --- | --: | --- | --- | --- | --- | --: | --: | --: |",
    ]
    for run in runs:
        load = f"{run.load_before:.1f}-{run.load_after:.1f}"
        if run.code != 0 or not run.figures:
            why = "stopped at the time limit" if run.code is None else f"exit {run.code}"
            if run.code == 0:
                why = "no figure printed"
            detail = run.last_error.replace("|", "/")
            lines.append(
                f"| {run.script} | **{why}** ({detail}) | - | - | - | - | - | - | - | {load} |"
            )
        for fig in run.figures:
            raw = fig.get("raw")
            ratio = fig["value"] / raw if raw and fig.get("value") is not None else None
            lines.append(
                f"| {run.script} | {fig['name']} | {_number(fig['value'])} | {fig['unit']} "
                f"| {fig['target'] or '-'} | {_verdict(fig['met'])} | {fig['raw_name'] or '-'} "
                f"| {_number(raw)} | {'-' if ratio is None else f'{ratio:.3g}'} | {load} |"
            )
    return lines


def write(runs: list[Run], out: Path, started: datetime, complete: bool, note: str = "") -> None:
    total = sum(run.seconds for run in runs)
    lines = [
        "# Bench results",
        "",
        f"Written by `make bench` (`bench/results.py`) on {started:%Y-%m-%d %H:%M} UTC, "
        f"{total / 60:.0f} min for {len(runs)} script(s)"
        + ("." if complete else " (a partial run: `--only`)."),
        "Each figure is the script's own (see `bench/README.md` for what each measures and "
        "why); **raw** is the bare library doing the same work in the same run, and "
        "**ours/raw** divides the two in the figure's unit: for a rate above 1 is faster than "
        "the library, for a time or a lateness above 1 is slower. **load avg** is the "
        "machine's 1-minute load average before and after the script: others' jobs share "
        "this machine, and a load above the core count stretches every wall-clock figure.",
        *(["", f"Note: {note}"] if note else []),
        "",
        *table(runs),
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in machine()),
        "",
    ]
    out.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated scripts, e.g. broker,check")
    parser.add_argument("--timeout", type=float, default=900, help="seconds a script may take")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--note", default="", help="a sentence for the page (what else ran)")
    args = parser.parse_args(argv)
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        wanted = {name.strip().removeprefix("bench_") for name in args.only.split(",")}
        unknown = wanted - {path.stem.removeprefix("bench_") for path in scripts}
        if unknown:
            print(f"results.py: no bench script {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        scripts = [path for path in scripts if path.stem.removeprefix("bench_") in wanted]
    started = datetime.now(UTC)
    runs = []
    for path in scripts:
        print(f"== {path.relative_to(ROOT)}", flush=True)
        runs.append(run_script(path, args.timeout))
    write(runs, args.out, started, complete=not args.only, note=args.note)
    print(f"wrote {args.out}")
    return 0 if all(run.code == 0 and run.figures for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
