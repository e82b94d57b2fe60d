"""Layouts and recipes from other packages: registered through entry points, used with no edit inside himfmt.

The plugin modules live in ``tests/plugins/``, outside the package. Each test
installs their metadata the way pip would (a ``.dist-info`` folder with
``entry_points.txt`` on the path) and runs the ``himfmt`` command in a fresh
process, as a user of such a package would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import trees

PLUGINS = Path(__file__).parent / "plugins"


@pytest.fixture
def himfmt_with_plugins(tmp_path):
    """Run ``himfmt`` in a new process that sees the plugin package's entry points; returns (code, out, err)."""
    site = tmp_path / "site"
    info = site / "himfmt_example_plugins-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: himfmt-example-plugins\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[himfmt.layouts]\nflat_masks = flat_masks:LAYOUT\n\n[himfmt.recipes]\ntoy = toy_recipe:RECIPE\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(PLUGINS), os.environ.get("PYTHONPATH", "")]), "COLUMNS": "200"}

    def run(*args: str) -> tuple[int, str, str]:
        p = subprocess.run([sys.executable, "-m", "himfmt", *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
        return p.returncode, p.stdout, p.stderr

    return run


def flat_tree(root: Path) -> Path:
    for stem, n in (("a", 2), ("b", 1)):
        trees.save(root / "images" / f"{stem}.jpg", trees.rgb(len(stem) + n))
        for k in range(n):
            trees.save(root / "masks" / f"{stem}_{k}.png", trees.instance_matte(k, n))
    return root


@pytest.mark.slow  # about 10 s: nine commands, each in a new process, the only way entry points are read as installed
def test_a_plugin_layout_is_detected_validated_and_converted_both_ways(himfmt_with_plugins, tmp_path):
    run = himfmt_with_plugins
    code, out, err = run("layouts")
    assert code == 0 and "flat_masks" in out, err
    flat = flat_tree(tmp_path / "flat" / "train")
    code, out, err = run("detect", str(tmp_path / "flat"))
    assert code == 0 and "flat_masks" in out, out + err
    code, out, err = run("validate", str(tmp_path / "flat"))
    assert code == 0 and "All clean" in out, out + err

    code, out, err = run("convert", str(tmp_path / "flat"), f"dst={tmp_path / 'maggie'}", "to=maggie_image_train")
    assert code == 0, out + err
    assert sorted(p.name for p in (tmp_path / "maggie/train/alphas/a").iterdir()) == ["00.png", "01.png"]
    code, out, err = run("convert", str(tmp_path / "maggie"), f"dst={tmp_path / 'back'}", "to=flat_masks")
    assert code == 0, out + err
    assert sorted(p.name for p in (tmp_path / "back/train/masks").iterdir()) == ["a_0.png", "a_1.png", "b_0.png"]
    for name in ("a_0.png", "a_1.png", "b_0.png"):  # PNG mattes come back byte for byte
        assert (tmp_path / "back/train/masks" / name).read_bytes() == (flat / "masks" / name).read_bytes()
    code, out, err = run("validate", str(tmp_path / "back"), "deep=true")
    assert code == 0 and "All clean" in out, out + err


def test_a_plugin_recipe_runs_like_a_built_in(himfmt_with_plugins, tmp_path):
    run = himfmt_with_plugins
    code, out, err = run("synth", "recipe=toy", f"out={tmp_path / 'toy'}", "workers=2")
    assert code == 2 and "n= is required: how many samples to make (recipe toy's published run made 4: n=4)" in err
    code, out, err = run("synth", "recipe=toy", f"out={tmp_path / 'toy'}", "workers=2", "n=4")
    assert code == 0, out + err
    assert sorted(p.name for p in (tmp_path / "toy/train/images").iterdir()) == [f"{i:05d}.jpg" for i in range(4)]
    code, out, err = run("synth", "recipe=toy", f"out={tmp_path / 'flat'}", "n=2", "layout=flat_masks", "recipe.people=3")
    assert code == 0, out + err
    assert len(list((tmp_path / "flat/train/masks").iterdir())) == 6
    code, out, err = run("validate", str(tmp_path / "flat"), "deep=true")
    assert code == 0 and "flat_masks" in out and "All clean" in out, out + err


def test_a_broken_plugin_is_one_line_and_the_built_ins_still_work(himfmt_with_plugins, tmp_path):
    info = next((tmp_path / "site").iterdir())
    (info / "entry_points.txt").write_text("[himfmt.layouts]\nbroken = no_such_module:LAYOUT\n")
    code, out, err = himfmt_with_plugins("layouts")
    assert code == 0 and "maggie_image_train" in out
    assert err.strip().splitlines() == [
        "himfmt: himfmt.layouts plugin no_such_module:LAYOUT not loaded: ModuleNotFoundError: No module named 'no_such_module'"
    ]


def test_plugins_that_misbehave_are_each_one_line_and_disabled(himfmt_with_plugins, tmp_path):
    info = next((tmp_path / "site").iterdir())
    (info / "entry_points.txt").write_text(
        "[himfmt.layouts]\n"
        + "".join(f"{n} = misbehaving:{n}\n" for n in ("Exits", "Interrupts", "NameRaises", "NameNone", "DetectRaises"))
    )
    code, out, err = himfmt_with_plugins("layouts")
    assert code == 0 and "maggie_image_train" in out and "Traceback" not in err
    for n in ("Exits", "Interrupts", "NameRaises", "NameNone"):
        assert f"plugin misbehaving:{n} not loaded" in err
    root = trees.train_tree(tmp_path / "t", "I-HIM50K", stems=("a",))
    code, out, err = himfmt_with_plugins("validate", str(root))
    assert code == 0 and "All clean" in out, out + err
    assert "RuntimeError in detect_raises: detection blew up; disabled" in err and err.count("detect_raises") == 1
    assert "Traceback" not in err and "internal error" not in err


def test_the_example_plugins_import_only_the_supported_module():
    import ast

    for path in PLUGINS.glob("*.py"):
        tree = ast.parse(path.read_text())
        used = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("himfmt")}
        used |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names if a.name.startswith("himfmt")}
        assert used <= {"himfmt.plugin"}, (path.name, used)


def test_a_plugin_check_and_a_plugin_layouts_codes_join_the_catalog(himfmt_with_plugins, tmp_path):
    info = next((tmp_path / "site").iterdir())
    (info / "entry_points.txt").write_text(
        "[himfmt.layouts]\nflat_masks = flat_masks:LAYOUT\n\n[himfmt.checks]\nwide = wide_images:FINDINGS\n"
    )
    root = trees.train_tree(tmp_path / "t", "I-HIM50K", stems=("a", "b"))
    trees.save(root / "I-HIM50K" / "images" / "a.jpg", trees.rgb(1, 200, 40))
    trees.save(root / "I-HIM50K" / "alphas" / "a" / "00.png", trees.matte(1, 200, 40))
    trees.save(root / "I-HIM50K" / "alphas" / "a" / "01.png", trees.matte(2, 200, 40))
    code, out, err = himfmt_with_plugins("validate", str(root))
    assert code == 0 and "image.very_wide" in out and "200x40" in out, out + err
    code, out, err = himfmt_with_plugins("explain", "code=flat.mask_without_image")
    assert code == 0 and "A mask names a stem that has no image." in out, out + err
