"""The wheel carries what a workstation needs: the package, the theme, the symbols, the demo."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    (path,) = out.glob("hmi-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_has_resources_and_demo_project(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert "hmi/cli.py" in names
    assert "hmi/_resources/theme/isa101.qss" in names
    for symbol in ("tank", "pump", "valve", "motor", "fan", "pipe", "arrow"):
        assert f"hmi/_resources/symbols/{symbol}.svg" in names
    assert "hmi/_demo_project/project.yaml" in names


def test_wheel_declares_console_script_and_pins_pyside(wheel: zipfile.ZipFile) -> None:
    (entry_points,) = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    assert "hmi = hmi.cli:main" in wheel.read(entry_points).decode()
    (metadata,) = [n for n in wheel.namelist() if n.endswith("METADATA")]
    requires = wheel.read(metadata).decode().lower()
    assert "requires-dist: pyside6-essentials<6.12,>=6.11" in requires


def _smoke(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "smoke.py"), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.timeout(600)  # a dozen processes that each import the station: slow under load
def test_wheel_installed_into_a_fresh_venv_runs(wheel: zipfile.ZipFile) -> None:
    """pip install of the wheel (offline, --no-deps: the dependencies come from this venv
    through a .pth file), then the installed hmi: --version, check, db upgrade, users add, sim
    on free ports, run --smoke painting the demo's first screen against it."""
    assert wheel.filename is not None
    done = _smoke("--wheel", wheel.filename)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "screen 'overview' painted" in done.stdout
    assert "demo --smoke (plant + window)" in done.stdout
    assert "smoke test passed" in done.stdout


@pytest.mark.timeout(600)
def test_sdist_installed_into_a_fresh_venv_runs_the_demo(tmp_path: Path) -> None:
    """`python -m build --sdist`, then pip builds and installs it in a fresh venv: the
    installed `hmi` starts, takes its first administrator and runs `hmi demo --smoke` (the
    wheel's test runs every other step)."""
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(tmp_path),
         str(ROOT)],
        check=True, timeout=300, capture_output=True,
    )  # fmt: skip
    (sdist,) = tmp_path.glob("hmi-*.tar.gz")
    done = _smoke("--sdist", str(sdist))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "demo --smoke (plant + window)" in done.stdout
    assert "the demo's plant stopped with its window" in done.stdout


BUNDLE = ROOT / "dist" / "hmi"


@pytest.mark.skipif(
    not (BUNDLE / "hmi").is_file(), reason="no PyInstaller build in dist/hmi (make package)"
)
def test_built_bundle_passes_its_smoke_test() -> None:
    """The PyInstaller folder, run outside the source tree with no venv on PATH."""
    done = _smoke("--bundle", str(BUNDLE))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "painted" in done.stdout and "size of" in done.stdout


def test_smoke_refuses_a_folder_without_a_build(tmp_path: Path) -> None:
    done = _smoke("--bundle", str(tmp_path))
    assert done.returncode == 1
    assert "no built program" in done.stderr


def test_run_smoke_without_an_administrator_exits_1(tmp_path: Path) -> None:
    """--smoke never waits on the first-administrator dialog: no admin, a clear refusal."""
    import os
    import shutil

    project = tmp_path / "demo"
    shutil.copytree(ROOT / "screens", project)
    text = (project / "project.yaml").read_text(encoding="utf-8")
    text = text.replace("127.0.0.1:4840", "127.0.0.1:9").replace("port: 5020", "port: 9")
    (project / "project.yaml").write_text(text, encoding="utf-8")
    env = dict(os.environ, HMI_DATA_DIR=str(tmp_path / "data"), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-m", "hmi.cli", "run", "--smoke", str(project)],
        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "hmi run --smoke: no administrator" in done.stderr
    assert "painted" not in done.stdout
