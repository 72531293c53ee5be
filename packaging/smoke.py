"""Smoke test of the BUILT program (``make package`` runs it after PyInstaller): every step runs
``dist/hmi/hmi`` from a temporary folder with a bare environment (no venv on PATH, no
PYTHONPATH, its own data folder), so nothing of the source tree or the venv can stand in for
the bundle. Exit 0 when every step passed; the folder's size is printed.

    python packaging/smoke.py --bundle dist/hmi
    python packaging/smoke.py --wheel dist/hmi-0.1.0-py3-none-any.whl
    python packaging/smoke.py --sdist dist/hmi-0.1.0.tar.gz

``--wheel`` (``--sdist``) installs the wheel (builds and installs the sdist) with ``pip install
--no-deps --no-index`` into a fresh venv made for the run, which finds the dependencies through
a ``.pth`` file naming this interpreter's site-packages (offline: nothing is downloaded), then
smoke-tests the ``hmi`` it installed. The last step is ``hmi demo --smoke``: the plant and the
window as ``hmi demo`` starts them, the first screen painted, both closed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Kiwi-Turbine-7743-pq"  # the smoke run's administrator, in its own data folder


class SmokeFailed(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def bare_env(data: Path) -> dict[str, str]:
    """PATH with no venv on it, the station's files in ``data``, Qt offscreen."""
    keep = {k: os.environ[k] for k in ("HOME", "LANG", "TMPDIR") if k in os.environ}
    return {
        **keep,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HMI_DATA_DIR": str(data),
        "QT_QPA_PLATFORM": "offscreen",
    }


def step(name: str, command: list[str], env: dict[str, str], cwd: Path, **kw: object) -> str:
    started = time.monotonic()
    done = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, **kw
    )  # type: ignore[call-overload]
    out = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        raise SmokeFailed(f"{name}: exit {done.returncode}\n{out}")
    lines = out.splitlines() or [""]
    last = next((line for line in lines if "painted" in line or "OK" in line), lines[-1])
    print(f"ok   {name} ({time.monotonic() - started:.1f} s): {last}")
    return out


def demo_copy(bundle_demo: Path, folder: Path, opcua: int, modbus: int) -> Path:
    """The bundled demo project in ``folder``, its connections moved to the ports this run's
    plant serves (never the demo plant's 4840/5020, which a developer's `hmi demo` may hold)."""
    target = folder
    shutil.copytree(bundle_demo, target)
    project = target / "project.yaml"
    text = project.read_text(encoding="utf-8")
    text, n = re.subn(r"opc\.tcp://127\.0\.0\.1:4840", f"opc.tcp://127.0.0.1:{opcua}", text)
    text, m = re.subn(r"(\n\s+port:\s*)5020\b", rf"\g<1>{modbus}", text)
    if (n, m) != (1, 1):
        raise SmokeFailed(f"{project}: expected one 4840 endpoint and one 5020 port")
    project.write_text(text, encoding="utf-8")
    return target


def sim_and_run(program: Path, demo: Path, env: dict[str, str], folder: Path) -> None:
    """`hmi sim` on two free ports, `hmi run --smoke` on a copy of the demo pointed at them,
    the plant stopped by SIGTERM."""
    opcua, modbus = free_port(), free_port()
    plant = subprocess.Popen(
        [str(program), "sim", "--opcua-port", str(opcua), "--modbus-port", str(modbus)],
        env=env,
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        started = time.monotonic()
        while not (answers(opcua) and answers(modbus)):
            if plant.poll() is not None:
                said = plant.stdout.read() if plant.stdout else ""
                raise SmokeFailed(f"sim stopped (exit {plant.returncode}): {said}")
            if time.monotonic() - started > 60:
                raise SmokeFailed("sim did not open its ports in 60 s")
            time.sleep(0.1)
        print(
            f"ok   sim answers on OPC UA {opcua} and Modbus {modbus} "
            f"({time.monotonic() - started:.1f} s)"
        )
        project = demo_copy(demo, folder / "demo", opcua, modbus)
        out = step("run --smoke (first screen)", [str(program), "run", "--smoke", str(project)],
                   env, folder)  # fmt: skip
        if "painted" not in out:
            raise SmokeFailed(f"run --smoke said no paint: {out}")
    finally:
        plant.terminate()
        try:
            code = plant.wait(timeout=15)
        except subprocess.TimeoutExpired:
            plant.kill()
            plant.wait()
            raise SmokeFailed("sim did not stop within 15 s of SIGTERM") from None
    # Windows has no SIGTERM: terminate() is TerminateProcess, which exits 1.
    if code not in ((0, 1) if sys.platform == "win32" else (0, -15)):
        raise SmokeFailed(f"sim exited {code} on SIGTERM")
    print(f"ok   sim stopped on SIGTERM (exit {code})")


def smoke(program: Path, demo: Path, *, full: bool = True) -> None:
    """Every step (``full``), or only what proves an install runs the demo: ``--version``, the
    first administrator and ``hmi demo --smoke``."""
    if not program.is_file():
        raise SmokeFailed(f"no built program at {program}; run `make package`")
    if not (demo / "project.yaml").is_file():
        raise SmokeFailed(f"no demo project in the bundle at {demo}")
    before = _listing(program.parent)
    with tempfile.TemporaryDirectory(prefix="hmi-smoke-") as tmp:
        folder = Path(tmp)
        env = bare_env(folder / "data")
        out = step("--version", [str(program), "--version"], env, folder)
        if not out.startswith("hmi "):
            raise SmokeFailed(f"--version printed {out!r}")
        if full:
            step("check (bundled demo)", [str(program), "check", str(demo)], env, folder)
            step("db upgrade", [str(program), "db", "upgrade"], env, folder)
        step(
            "users add",
            [str(program), "users", "add", "chief", "--role", "admin", "--name", "Build Check"],
            env,
            folder,
            input=PASSWORD + "\n",
        )
        if full:
            sim_and_run(program, demo, env, folder)
        # `hmi demo` as a user types it: its own plant, the window, first screen, both closed.
        # On a copy of the bundled demo moved to free ports (4840/5020 may be a developer's).
        ports = free_port(), free_port()
        project = demo_copy(demo, folder / "demo-run", *ports)
        out = step("demo --smoke (plant + window)", [str(program), "demo", "--smoke",
                   str(project)], env, folder)  # fmt: skip
        if "painted" not in out:
            raise SmokeFailed(f"demo --smoke said no paint: {out}")
        if any(answers(port) for port in ports):
            raise SmokeFailed(f"the demo's plant still answers on {ports} after the window closed")
        print("ok   the demo's plant stopped with its window")
        out = step("users list (kept in the data folder)", [str(program), "users", "list"],
                   env, folder, stdin=subprocess.DEVNULL)  # fmt: skip
        if "chief" not in out:
            raise SmokeFailed(f"the administrator added before is not listed: {out}")
        kept = sorted(p.name for p in (folder / "data").iterdir())
        if "hmi.sqlite" not in kept:
            raise SmokeFailed(f"no hmi.sqlite in the data folder ({kept})")
        print(f"ok   the station's files are in its data folder: {', '.join(kept)}")
    if _listing(program.parent) != before:
        raise SmokeFailed(f"the run wrote into the program folder {program.parent}")
    print(f"ok   nothing written into the program folder ({program.parent})")


def _listing(folder: Path) -> set[str]:
    """Every file and folder below ``folder``, bytecode caches left out (an installed wheel's
    interpreter may write those)."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if "__pycache__" not in p.parts}


def wheel_venv(wheel: Path, folder: Path) -> tuple[Path, Path]:
    """A fresh venv in ``folder`` with ``wheel`` (or an sdist, built by pip from source with
    the build backend this interpreter has) installed; its ``hmi`` and demo project."""
    import site
    import sysconfig
    import venv

    target = folder / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    deps = [sysconfig.get_paths()["purelib"], *site.getsitepackages()]
    (Path(purelib) / "hmi_smoke_deps.pth").write_text("\n".join(dict.fromkeys(deps)) + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
         "--no-index", "--no-build-isolation", str(wheel)],
        check=True, timeout=300,
    )  # fmt: skip
    program = python.parent / ("hmi.exe" if sys.platform == "win32" else "hmi")
    print(f"ok   {wheel.name} installed into a fresh venv ({target})")
    return program, Path(purelib) / "hmi" / "_demo_project"


def folder_mb(folder: Path) -> float:
    """Bytes on disk of the files, each counted once (PyInstaller links Qt's libraries)."""
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.lstat().st_size for p in files) / 2**20


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, help="a PyInstaller folder (dist/hmi)")
    parser.add_argument("--program", type=Path, help="an installed hmi command (with --demo)")
    parser.add_argument("--demo", type=Path, help="the demo project that install holds")
    parser.add_argument("--wheel", type=Path, help="a wheel: installed into a fresh venv first")
    parser.add_argument("--sdist", type=Path, help="an sdist: built and installed the same way")
    args = parser.parse_args(argv)
    scratch = tempfile.TemporaryDirectory(prefix="hmi-wheel-")
    bundle: Path | None = None
    if args.wheel or args.sdist:
        program, demo = wheel_venv((args.wheel or args.sdist).resolve(), Path(scratch.name))
    elif args.bundle:
        bundle = args.bundle.resolve()
        program = bundle / ("hmi.exe" if sys.platform == "win32" else "hmi")
        demo = bundle / "_internal" / "hmi" / "_demo_project"
    elif args.program and args.demo:
        program, demo = args.program.resolve(), args.demo.resolve()
    else:
        parser.error("give --bundle, or --program and --demo")
    try:
        smoke(program, demo, full=not args.sdist)
    except SmokeFailed as exc:
        print(f"FAIL {exc}", file=sys.stderr)
        return 1
    finally:
        scratch.cleanup()
    if bundle is not None:
        print(f"size of {bundle}: {folder_mb(bundle):.0f} MB")
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
