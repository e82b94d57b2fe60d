"""Synthesis: recipe image_him through the runner; determinism, shards, resume, bad inputs."""

from __future__ import annotations

import re

import numpy as np
import pytest

from himfmt.layouts.detect import open_datasets
from himfmt.synthesis.image_him import ImageHim, Params
from himfmt.synthesis.runner import rng_for
from himfmt.validation import validate

import trees
from helpers import digest, kill_and_resume


def synth(run_cli, hhm, bg, out, *extra):
    return run_cli("synth", f"hhm={hhm}", f"bg={bg}", f"out={out}", "n=10", *extra)


def test_output_validates_and_counts(run_cli, inputs, tmp_path):
    hhm, bg = inputs
    code, out, _ = synth(run_cli, hhm, bg, tmp_path / "o", "workers=1")
    assert code == 0 and f"next: himfmt validate {(tmp_path / 'o').resolve()}" in out  # what to run next, as convert says
    ds = open_datasets(str(tmp_path / "o"))[0]
    assert ds.layout == "maggie_image_train" and [s.id for s in ds.samples] == [f"{i:05d}" for i in range(10)]
    assert all(1 <= s.n_instances <= 4 for s in ds.samples)
    assert validate(str(tmp_path / "o"), deep_pass=True, workers=1).findings == []


def test_same_bytes_for_any_workers_and_shards(run_cli, inputs, tmp_path):
    hhm, bg = inputs
    assert synth(run_cli, hhm, bg, tmp_path / "w1", "workers=1")[0] == 0
    assert synth(run_cli, hhm, bg, tmp_path / "w2", "workers=2")[0] == 0
    for k in range(2):
        assert synth(run_cli, hhm, bg, tmp_path / "sh", "workers=1", f"shard.index={k}", "shard.count=2")[0] == 0
    assert digest(tmp_path / "w1") == digest(tmp_path / "w2") == digest(tmp_path / "sh")
    assert len(digest(tmp_path / "w1")) > 10


def test_resume_makes_only_missing_ids(run_cli, inputs, tmp_path):
    hhm, bg = inputs
    whole = tmp_path / "whole"
    assert synth(run_cli, hhm, bg, whole, "workers=1")[0] == 0
    part = tmp_path / "part"
    assert run_cli("synth", f"hhm={hhm}", f"bg={bg}", f"out={part}", "n=4", "workers=1")[0] == 0
    code, out, _ = synth(run_cli, hhm, bg, part, "workers=1")
    assert code == 0 and re.search(r"done before\s*│\s*4\b", out)
    assert digest(part) == digest(whole)


def test_composite_equals_float_sum_of_layers(inputs):
    hhm, bg = inputs
    people = [(s.frames[0].image, s.frames[0].instances[0].matte) for s in open_datasets(str(hhm))[0].samples]
    backgrounds = [s.frames[0].image for s in open_datasets(str(bg))[0].samples]
    recipe = ImageHim(people, backgrounds, Params(layers=True))
    for i in range(8):
        sample = recipe.make(i, rng_for(0, "image_him", i))
        if sample is None:
            continue
        f = sample.frames[0]
        vis = [inst.matte.read_gray().astype(float) / 255 for inst in f.instances]
        fgs = [inst.fg.read_rgb().astype(float) for inst in f.instances]
        expected = f.bg.read_rgb().astype(float) * (1 - sum(vis))[..., None] + sum(v[..., None] * g for v, g in zip(vis, fgs))
        # Rebuilt from the written (rounded) mattes, so each matte's rounding (0.5) adds up;
        # the exact bound, <= 0.5 + n/510 against unrounded layers, is in test_composite.
        assert np.abs(f.image.read_rgb() - expected).max() <= 0.5 + 0.5 * len(vis) + 1e-9, i
        total = sum(inst.matte.read_gray().astype(int) for inst in f.instances)
        assert total.max() <= 255 + len(vis)


def test_all_zero_matte_and_empty_bg(run_cli, inputs, tmp_path):
    hhm, bg = inputs
    trees.save(hhm / "alphas" / "p0.png", np.zeros((60, 30), np.uint8))
    code, _, _ = synth(run_cli, hhm, bg, tmp_path / "o", "workers=1")
    assert code == 0  # draws that hit the empty matte are redrawn
    empty = tmp_path / "emptybg"
    empty.mkdir()
    code, _, err = synth(run_cli, hhm, empty, tmp_path / "o2", "workers=1")
    assert code == 2 and "emptybg" in err


def test_background_narrower_than_every_person_ends(run_cli, inputs, tmp_path):
    hhm, _ = inputs
    narrow = tmp_path / "narrow"
    trees.save(narrow / "b.jpg", trees.rgb(0, 4, 200))  # 4 px wide: nobody fits
    code, out, err = synth(run_cli, hhm, narrow, tmp_path / "o", "workers=1", "attempts=3")
    assert code == 1 and "made nothing" in err  # nothing was made: not a success
    assert re.search(r"rejected\s*│\s*10\b", out), out
    assert not (tmp_path / "o" / "I-HIM50K" / "images").exists()


@pytest.mark.slow  # 300 samples made by a subprocess that is killed, then resumed
def test_killed_run_resumes_to_identical_output(inputs, tmp_path):
    hhm, bg = inputs
    kill_and_resume([f"hhm={hhm}", f"bg={bg}", "n=300"], tmp_path, 300, 20)


def test_bg_layers_are_the_background_files_themselves(run_cli, inputs, tmp_path):
    """The pixels composited are the background's own: its JPEG is copied, not encoded a second time."""
    hhm, bg = inputs
    assert synth(run_cli, hhm, bg, tmp_path / "o", "workers=1", "recipe.layers=true")[0] == 0
    sources = {p.read_bytes() for p in bg.rglob("*.jpg")}
    written = sorted((tmp_path / "o" / "I-HIM50K" / "bg").glob("*.jpg"))
    assert len(written) == 10 and all(p.read_bytes() in sources for p in written)
    assert run_cli("validate", str(tmp_path / "o"), "deep=true")[0] == 0
