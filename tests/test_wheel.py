"""An installed (not editable) wheel is whole: every command runs without the source checkout."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import trees

REPO = Path(__file__).resolve().parents[1]


def test_the_package_list_holds_every_package():
    """pyproject lists the packages by hand (conf/ and schemas/ are mapped into himfmt): a new folder under
    himfmt/ must be listed too, or the wheel ships without it."""
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "himfmt").rglob("__init__.py")}
    assert found | {"himfmt.conf", "himfmt.schemas"} == listed


@pytest.mark.slow  # about 20 s: a wheel built and installed into a fresh venv, every command run from it
def test_wheel_runs_every_command_from_elsewhere(tmp_path):
    """About 20 s, and worth it: building and installing a wheel into a fresh venv is the only way to know
    the installed package is whole (its configs, schemas and entry points), as a user installs it."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for name in ("himfmt", "conf", "schemas"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(src)],
        check=True,
        cwd=tmp_path,
    )
    wheel = next(dist.glob("himfmt-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)], check=True)
    # Dependencies come from this interpreter's site-packages, added as a plain path
    # (its .pth files, including any editable himfmt, are not run).
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True
    ).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    shutil.rmtree(src)  # no checkout to fall back on

    data = trees.train_tree(tmp_path / "data", "I-HIM50K")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run([str(py), "-c", "import himfmt; print(himfmt.__file__)"], capture_output=True, text=True, cwd=elsewhere)
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
    proc = subprocess.run([str(venv / "bin" / "himfmt"), "detect", str(data), "output=json"], capture_output=True, text=True, cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["datasets"][0]["layout"] == "maggie_image_train"

    def himfmt(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(venv / "bin" / "himfmt"), *args], capture_output=True, text=True, cwd=elsewhere)

    from himfmt.cli.commands import COMMANDS

    helps = subprocess.run(
        [
            str(py),
            "-c",
            "import sys\nfrom himfmt.cli.main import run_command\nfor c in sys.argv[1:]:\n    print('CODE', c, run_command(c, ['--help']))",
            *COMMANDS,
        ],
        capture_output=True,
        text=True,
        cwd=elsewhere,
    )  # every command's help: its config ships
    for command in COMMANDS:
        assert f"CODE {command} 0" in helps.stdout and f"himfmt {command}" in helps.stdout, (command, helps.stderr)
    assert himfmt("validate", str(data), "deep=true").returncode == 0
    converted = himfmt("convert", str(data), f"dst={tmp_path / 'val'}", "to=maggie_image_val", "workers=1")
    assert converted.returncode == 0, converted.stderr
    assert himfmt("validate", str(tmp_path / "val")).returncode == 0  # no guidance masks: a warning, not an error
    people, bgs = trees.hhm_tree(tmp_path / "hhm"), trees.bg_tree(tmp_path / "bg")
    made = himfmt("synth", "recipe=image_him", f"hhm={people}", f"bg={bgs}", f"out={tmp_path / 'synth'}", "n=2", "workers=1")
    assert made.returncode == 0, made.stderr
    assert himfmt("validate", str(tmp_path / "synth")).returncode == 0
    assert list(elsewhere.iterdir()) == []
