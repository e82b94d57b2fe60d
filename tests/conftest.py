from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import trees  # noqa: E402  (tests/ is on the path only from here on)

# What each optional extra brings, by the module a test needs from it.
EXTRAS = {
    "hydra_plugins.hydra_joblib_launcher": "test-launchers",
    "hydra_plugins.hydra_submitit_launcher": "test-launchers",
    "hydra_plugins.hydra_ray_launcher": "test-launchers",
    "pymatting": "test-matting",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: with one test process per core, a 15 s test that starts last ends the run 15 s later.
    A test marked ``needs(module)`` is skipped, saying which extra brings it, where that module is missing."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    for item in items:
        for mark in item.iter_markers("needs"):
            module = mark.args[0]
            if importlib.util.find_spec(module.split(".")[0]) is None or importlib.util.find_spec(module) is None:
                item.add_marker(pytest.mark.skip(reason=f"needs {module}: pip install -e '.[{EXTRAS[module]}]'"))


@pytest.fixture
def run_cli(capsys, monkeypatch, tmp_path):
    """Run ``himfmt`` in-process from an empty working directory; returns (code, stdout, stderr)."""
    from himfmt.cli.main import main

    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exc:
            main(list(args))
        out, err = capsys.readouterr()
        leftovers = sorted(p.name for p in work.iterdir())
        assert leftovers == [], f"the command left files in the working directory: {leftovers}"
        return int(exc.value.code or 0), out, err

    return run


@pytest.fixture
def inputs(tmp_path):
    """An hhm tree of 6 people (60 x 30, a soft top edge) and 3 backgrounds: image_him's inputs."""
    hhm = tmp_path / "HHM"
    for i in range(6):
        h, w = 60, 30
        m = np.zeros((h, w), np.uint8)
        m[5:55, 8:22] = 255
        m[4, 8:22] = 120  # a soft edge
        trees.save(hhm / "images" / f"p{i}.jpg", trees.rgb(i, w, h))
        trees.save(hhm / "alphas" / f"p{i}.png", m)
    bg = trees.bg_tree(tmp_path / "BG", 3)
    return hhm, bg


@pytest.fixture
def sources(tmp_path):
    """Inputs of the video recipes: video_matte clips, stills/frames/video backgrounds, an hhm tree, DVM sources."""
    clips = trees.video_matte_tree(tmp_path / "clips", ("0000", "0001", "0002"), n_frames=8)
    bg = tmp_path / "bg"
    trees.save(bg / "land.jpg", trees.rgb(1, 64, 48))
    trees.save(bg / "portrait.jpg", trees.rgb(2, 48, 64))
    pan = trees.smooth(10, 80, 48)  # a clip: one picture seen through a window that moves
    for f in range(3):
        trees.save(bg / "frames" / f"{f:05d}.jpg", pan[:, 2 * f : 2 * f + 64])
    trees.write_mp4(bg / "moving.mp4", [trees.rgb(20 + f, 64, 48) for f in range(4)], False)
    hhm = trees.hhm_tree(tmp_path / "hhm", ("p0", "p1", "p2", "p3"))
    dvm = trees.dvm_source_tree(tmp_path / "dvm", n_frames=8)
    return {"clips": clips, "bg": bg, "hhm": hhm, "dvm": dvm}


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory, worker_id):
    """One fill of the demo config per test run, shared by the xdist workers (the first to come builds it,
    the others wait on a lock); tests that change it use ``demo_copy``."""
    import fcntl

    from himfmt.cli.main import run_command

    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent  # the folder every worker's base lies in
    root = shared / "demo-shared" / "demo"
    with open(shared / "demo-shared.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "demo-shared" / "built").exists():
            assert run_command("fill", ["dataset=demo", f"out={root}", "workers=1"]) == 0
            (shared / "demo-shared" / "built").touch()
    return root


@pytest.fixture
def demo_copy(demo_root, tmp_path):
    """A copy of the session's demo root (links and mtimes kept), free to change."""
    import shutil

    dst = tmp_path / "demo"
    shutil.copytree(demo_root, dst, symlinks=True)
    return dst
