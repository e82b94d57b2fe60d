"""Video recipes: video_him (B), dvm (C) and people_walk, through the CLI and directly."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from himfmt.layouts.detect import open_datasets
from himfmt.model import ArrayRef, Frame, Instance, Sample
from himfmt.synthesis.backgrounds import load_backgrounds
from himfmt.synthesis.composite import div255
from himfmt.synthesis.dvm import Dvm, jobs_from, window
from himfmt.synthesis.dvm import Params as DvmParams
from himfmt.synthesis.motion import WalkParams, random_walk
from himfmt.synthesis.runner import rng_for
from himfmt.synthesis.video_him import Level, Person, VideoHim
from himfmt.synthesis.video_him import Params as VhParams
from himfmt.validation import validate

import trees
from helpers import digest, kill_and_resume


def clean(root: Path) -> bool:
    return validate(str(root), deep_pass=True, workers=1).findings == []


def video_him(run_cli, sources, out, *args: str) -> tuple[int, str, str]:
    """``himfmt synth recipe=video_him`` over the fixture's clips and backgrounds, in this process, one worker."""
    return run_cli("synth", "recipe=video_him", f"clips={sources['clips']}", f"bg={sources['bg']}", f"out={out}", "workers=1", *args)


@pytest.mark.parametrize("level", ["easy", "medium", "hard"])
def test_video_him_levels_write_their_own_split(run_cli, sources, tmp_path, level):
    out = tmp_path / "o"
    code, text, err = video_him(run_cli, sources, out, "n=3", f"recipe.difficulty={level}")
    assert code == 0, err
    ds = open_datasets(str(out))[0]
    assert ds.layout == "maggie_video" and list(ds.splits) == [f"comp_{level}"]
    assert [s.id for s in ds.samples] == ["00000", "00001", "00002"]
    for s in ds.samples:
        assert 2 <= s.n_instances <= (3 if level == "easy" else 4)
        assert len({len(f.instances) for f in s.frames}) == 1 and len(s.frames) <= 8
    assert clean(out)


def test_levels_share_an_output_without_overwriting(run_cli, sources, tmp_path):
    out = tmp_path / "o"
    code, text, err = run_cli(
        "synth",
        "schedule=vhim60_test",
        f"clips={sources['clips']}",
        f"bg={sources['bg']}",
        f"out={out}",
        "workers=1",
        "runs.0.n=2",
        "runs.1.n=2",
        "runs.2.n=2",
    )
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["comp_easy", "comp_hard", "comp_medium"]
    assert clean(out)


def test_published_ids_in_one_split(run_cli, sources, tmp_path):
    out = tmp_path / "o"
    code, _, err = run_cli(
        "synth",
        "schedule=vhim2k5_train",
        f"clips={sources['clips']}",
        f"bg={sources['bg']}",
        f"out={out}",
        "workers=1",
        "runs=[{recipe.difficulty:easy,n:2,first:0},{recipe.difficulty:medium,n:2,first:2}]",
    )
    assert code == 0, err
    assert sorted(p.name for p in (out / "V-HIM2K5" / "fgr").iterdir()) == ["00000", "00001", "00002", "00003"]


def _clip(w: int, h: int, n: int) -> Sample:
    """A clip whose matte is an opaque w x h block (at the frame's top-left)."""
    a = np.zeros((h, w), np.uint8) + 255
    return Sample(
        "c", "", [Frame(f"{f:05d}", ArrayRef(np.zeros((h, w, 3), np.uint8)), [Instance("00", ArrayRef(a))]) for f in range(n)], True
    )


@pytest.mark.parametrize("overlap, medium_ok", [(0, False), (4, True), (20, False)])
def test_medium_occlusion_rule(overlap, medium_ok):
    """Two 20-px-wide people side by side: 0 px overlap (nobody >= 5% occluded) and
    20 px (the back one 100% hidden, > 30%) break medium's rule; 4 px (20%) meets it."""
    medium = Level(4, 1.5, 0.5, 0.3, 0.05)
    recipe = VideoHim([_clip(20, 40, 2)], load_backgrounds_stub(), VhParams(difficulty="medium", levels={"medium": medium}))
    people = [
        Person(_clip(20, 40, 2), 0, (0, 0, 20, 40), 20, 40, 0, 0),
        Person(_clip(20, 40, 2), 0, (0, 0, 20, 40), 20, 40, 20 - overlap, 0),
    ]
    assert recipe._meets_rule(people, 2, 64, 40) is medium_ok


def test_step_measure_is_published_and_total_is_stricter():
    """A (40 px) is pasted, then B takes 8 px of it (20%), then C another 8 px of its
    original width: 8 of the 32 px still visible (25% step by step, within medium's 30%),
    but 16 of 40 px in all (40%, over it)."""
    medium = Level(4, 1.5, 0.5, 0.3, 0.05)
    people = [
        Person(_clip(40, 20, 1), 0, (0, 0, 40, 20), 40, 20, 0, 0),
        Person(_clip(8, 20, 1), 0, (0, 0, 8, 20), 8, 20, 32, 0),
        Person(_clip(8, 20, 1), 0, (0, 0, 8, 20), 8, 20, 24, 0),
    ]
    step = VideoHim([_clip(20, 40, 2)], load_backgrounds_stub(), VhParams(difficulty="medium", levels={"medium": medium}))
    total = VideoHim(
        [_clip(20, 40, 2)], load_backgrounds_stub(), VhParams(difficulty="medium", levels={"medium": medium}, occlusion="total")
    )
    assert step._meets_rule(people, 1, 64, 40) is True
    assert total._meets_rule(people, 1, 64, 40) is False


def test_published_shift_is_a_share_of_the_background_width():
    """Medium/hard move each person by up to half the background's width from where the previous
    one ended (published), not by half its own width; unclamped placements show the range."""

    def offsets(shift_of: str) -> float:
        recipe = VideoHim([_clip(20, 40, 2)], load_backgrounds_stub(), VhParams(difficulty="hard", shift_of=shift_of))
        most = 0.0
        for seed in range(60):
            people = [Person(_clip(10, 40, 1), 0, (0, 0, 10, 40)) for _ in range(3)]
            recipe._size_and_place(people, 1000, 400, np.random.default_rng(seed))
            end = 0
            for q in people:
                if 0 < q.x < 1000 - q.w:  # not clamped: the shift is all there is
                    most = max(most, abs(q.x - end) / q.w)
                end = q.x + q.w
        return most

    assert offsets("background") > 1.0  # farther than a person's own width
    assert 0 < offsets("person") <= 0.5 + 1e-6


def load_backgrounds_stub():
    from himfmt.synthesis.backgrounds import Background

    return [Background("b", [ArrayRef(np.zeros((40, 64, 3), np.uint8))], still=True)]  # type: ignore[list-item]


def test_backgrounds_of_every_kind_and_frozen_clips(sources):
    bgs = {b.name: b for b in load_backgrounds(str(sources["bg"]))}
    assert sorted(bgs) == ["frames", "land.jpg", "moving.mp4", "portrait.jpg"]
    assert bgs["land.jpg"].still and bgs["moving.mp4"].count() == 4 and bgs["frames"].count() == 3
    assert np.array_equal(bgs["frames"].read(7), bgs["frames"].read(2))  # frozen on the last frame
    assert bgs["moving.mp4"].ref(9).frame == 3


def test_portrait_stills_only_do_not_hang(run_cli, sources, tmp_path):
    only = tmp_path / "portrait"
    trees.save(only / "p.jpg", trees.rgb(2, 48, 64))
    code, _, err = run_cli("synth", "recipe=video_him", f"clips={sources['clips']}", f"bg={only}", f"out={tmp_path / 'o'}", "n=2")
    assert code == 2 and "neither landscape stills nor clips" in err


def test_rgba_clips_take_boxes_from_alpha(run_cli, tmp_path):
    clips = trees.video_matte_tree(tmp_path / "rgba", ("0000", "0001"), n_frames=8, rgba=True)
    bg = trees.bg_tree(tmp_path / "bg", 2)
    out = tmp_path / "o"
    assert run_cli("synth", "recipe=video_him", f"clips={clips}", f"bg={bg}", f"out={out}", "n=2", "workers=1")[0] == 0
    assert clean(out)


@pytest.mark.parametrize("recipe", ["video_him", "dvm", "people_walk"])
def test_same_bytes_for_any_workers_and_shards(run_cli, sources, tmp_path, recipe):
    args = {
        "video_him": [f"clips={sources['clips']}", f"bg={sources['bg']}", "n=4", "recipe.difficulty=medium"],
        "dvm": [f"source={sources['dvm']}", "phase=test", "recipe.trimap=[3,5]"],
        "people_walk": [f"hhm={sources['hhm']}", f"bg={sources['bg']}", "n=4", "recipe.frames=8"],
    }[recipe]
    run = lambda out, *extra: run_cli("synth", f"recipe={recipe}", f"out={tmp_path / out}", *args, *extra)[0]  # noqa: E731
    assert run("w1", "workers=1") == 0
    assert run("w2", "workers=2") == 0
    for k in range(2):
        assert run("sh", "workers=1", f"shard.index={k}", "shard.count=2") == 0
    assert digest(tmp_path / "w1") == digest(tmp_path / "w2") == digest(tmp_path / "sh")
    assert len(digest(tmp_path / "w1")) > 20
    assert clean(tmp_path / "w1")


def test_dvm_sequences_streams_and_caps(run_cli, sources, tmp_path):
    out = tmp_path / "o"
    code, _, err = run_cli(
        "synth",
        "recipe=dvm",
        f"source={sources['dvm']}",
        "phase=test",
        f"out={out}",
        "workers=1",
        "recipe.trimap=[3,5]",
        "recipe.image_frames=3",
    )
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["a", "a_png", "b", "f", "t", "v"]
    seqs = sorted(p.name for p in (out / "v").iterdir())
    assert seqs == ["image_retriever-348572_1920 (1)_0000", "video_0000_0001"]
    assert len(list((out / "v" / seqs[0]).iterdir())) == 3  # image fg capped at image_frames
    assert len(list((out / "v" / seqs[1]).iterdir())) == 8  # video fg: min(fg, bg, 150)
    assert clean(out)


def test_dvm_layers_add_up(sources):
    source = open_datasets(str(sources["dvm"]))[0]
    recipe = Dvm(jobs_from(source, source.pair_lists["test_pairs.txt"], "test"), DvmParams())
    for i in range(2):
        sample = recipe.make(i, rng_for(0, "dvm", i))
        for f in sample.frames:
            v, a, fg, b = (
                f.image.read_rgb().astype(int),
                f.instances[0].matte.read_gray().astype(np.uint32),
                f.fg.read_rgb().astype(int),
                f.bg.read_rgb(),
            )
            # v = round(a F + (255 - a) B) / 255 and f = round(a F / 255): v - f is the bg term within a grey level
            assert np.abs(v - fg - div255(b.astype(np.uint32) * (255 - a)[..., None]).astype(int)).max() <= 1


def test_dvm_to_maggie_video(run_cli, sources, tmp_path):
    out = tmp_path / "o"
    assert (
        run_cli("synth", "recipe=dvm", f"source={sources['dvm']}", "phase=test", f"out={out}", "layout=maggie_video", "workers=1")[0] == 0
    )
    ds = open_datasets(str(out))[0]
    assert ds.layout == "maggie_video" and list(ds.splits) == ["test"] and all(s.n_instances == 1 for s in ds.samples)
    assert clean(out)


def test_dvm_frame_count_mismatch_is_reported_and_others_written(run_cli, sources, tmp_path):
    trees.write_mp4(sources["dvm"] / "fg" / "video" / "test" / "0000" / "a.mp4", trees.alphas(3), True)  # f.mp4 has 8
    out = tmp_path / "o"
    code, text, err = run_cli("synth", "recipe=dvm", f"source={sources['dvm']}", "phase=test", f"out={out}", "workers=1")
    assert code == 1 and "a.mp4 has 3" in err and "skips this pair" in err
    assert re.search(r"written\s*│\s*1\b", text) and (out / "v" / "image_retriever-348572_1920 (1)_0000").is_dir()


def test_dvm_pair_naming_a_missing_file_stops_before_work(run_cli, sources, tmp_path):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("image+nobody.png+0000.mp4\n")
    code, _, err = run_cli("synth", "recipe=dvm", f"source={sources['dvm']}", f"pairs={pairs}", "phase=test", f"out={tmp_path / 'o'}")
    assert code == 2 and "nobody.png" in err and not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "src, size, win",
    [((128, 72), (341, 192), (138, 192)), ((64, 36), (96, 54), (96, 54)), ((61, 37), (150, 91), (70, 50)), ((40, 30), (40, 30), (20, 10))],
)
def test_bg_window_is_the_full_resize_cropped(src, size, win):
    """Resizing only the window gives its size and, but for a sub-pixel shift, the crop of the full resize."""
    rng = np.random.default_rng(3)
    frame = cv2.GaussianBlur(rng.integers(0, 256, (src[1], src[0], 3), dtype=np.uint8), (9, 9), 0)
    full = cv2.resize(frame, size, interpolation=cv2.INTER_CUBIC)
    for _ in range(10):
        x, y = int(rng.integers(0, size[0] - win[0] + 1)), int(rng.integers(0, size[1] - win[1] + 1))
        got = window(frame, size, (x, y, *win))
        assert got.shape == (win[1], win[0], 3) and got.flags.c_contiguous
        assert np.abs(got.astype(int) - full[y : y + win[1], x : x + win[0]]).mean() < 1.5


def test_random_walk_stays_in_the_box():
    p = WalkParams()
    for seed in range(20):
        poses = random_walk(np.random.default_rng(seed), 400, 60, 40, p)
        xs, ys = np.array([q.x for q in poses]), np.array([q.y for q in poses])
        assert xs.min() >= 0.05 * 59 - 1e-9 and xs.max() <= 0.95 * 59 + 1e-9
        assert ys.min() >= 0.05 * 39 - 1e-9 and ys.max() <= 0.95 * 39 + 1e-9
        assert all(p.zoom_min <= q.zoom <= p.zoom_max for q in poses)
        assert max(abs(q.angle) for q in poses) <= p.angle_max + 2 * p.spin_max
        assert poses[0].x == 29.5 and poses[0].angle == 0 and poses[0].zoom == 0.9


def test_people_walk_output(run_cli, sources, tmp_path):
    out = tmp_path / "o"
    code, _, err = run_cli(
        "synth", "recipe=people_walk", f"hhm={sources['hhm']}", f"bg={sources['bg']}", f"out={out}", "n=3", "workers=1", "recipe.frames=8"
    )
    assert code == 0, err
    ds = open_datasets(str(out))[0]
    assert ds.layout == "maggie_video" and len(ds.samples) == 3
    assert all(1 <= s.n_instances <= 4 and len(s.frames) == 8 for s in ds.samples)
    assert clean(out)


def test_video_bad_inputs(run_cli, sources, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_cli("synth", "recipe=video_him", f"clips={sources['clips']}", f"bg={empty}", f"out={tmp_path / 'o'}", "n=2")
    assert code == 2 and "no background" in err
    for f in range(8):  # one clip with nobody in it: its draws are redrawn, never a crash
        trees.save(sources["clips"] / "pha" / "0001" / f"{f:05d}.jpg", np.zeros((32, 48), np.uint8))
    code, _, err = run_cli(
        "synth", "recipe=video_him", f"clips={sources['clips']}", f"bg={sources['bg']}", f"out={tmp_path / 'o2'}", "n=3", "workers=1"
    )
    assert code == 0, err


@pytest.mark.slow  # about 10 s: 60 samples, so the kill lands mid-run, then the resumed run and a clean one to compare
def test_killed_video_run_resumes_to_identical_output(sources, tmp_path):
    args = ["recipe=video_him", f"clips={sources['clips']}", f"bg={sources['bg']}", "n=60"]
    kill_and_resume(args, tmp_path, 60, 5)


@pytest.mark.parametrize("layout, expect", [("dvm_composed", "instance identity lost"), ("maggie_image_train", "clips become images")])
def test_video_him_into_other_layouts_states_what_is_lost(run_cli, sources, tmp_path, layout, expect):
    out = tmp_path / "o"
    code, text, err = video_him(run_cli, sources, out, "n=2", f"layout={layout}")
    assert code == 0, err
    assert f"lossy: {expect}" in text
    assert open_datasets(str(out))[0].layout == layout and clean(out)


def test_layout_that_cannot_hold_the_recipe_is_refused(run_cli, sources, tmp_path):
    code, _, err = run_cli(
        "synth", "recipe=image_him", f"hhm={sources['hhm']}", f"bg={sources['bg']}", f"out={tmp_path / 'o'}", "n=2", "layout=dvm_composed"
    )
    assert code == 2 and "needs clips" in err and not (tmp_path / "o").exists()


@pytest.mark.parametrize("recipe", ["dvm", "people_walk"])
def test_resume_makes_only_missing_ids(run_cli, sources, tmp_path, recipe):
    args = {
        "dvm": [f"source={sources['dvm']}", "phase=test"],
        "people_walk": [f"hhm={sources['hhm']}", f"bg={sources['bg']}", "recipe.frames=8"],
    }[recipe]
    total = "n=2" if recipe == "dvm" else "n=3"
    assert run_cli("synth", f"recipe={recipe}", f"out={tmp_path / 'whole'}", *args, total, "workers=1")[0] == 0
    assert run_cli("synth", f"recipe={recipe}", f"out={tmp_path / 'part'}", *args, "n=1", "workers=1")[0] == 0
    code, text, _ = run_cli("synth", f"recipe={recipe}", f"out={tmp_path / 'part'}", *args, total, "workers=1")
    assert code == 0 and re.search(r"done before\s*│\s*1\b", text)
    assert digest(tmp_path / "part") == digest(tmp_path / "whole")


def test_people_walk_bad_inputs(run_cli, sources, tmp_path):
    trees.save(sources["hhm"] / "alphas" / "p0.png", np.zeros((32, 48), np.uint8))  # nobody to cut out
    code, _, err = run_cli(
        "synth",
        "recipe=people_walk",
        f"hhm={sources['hhm']}",
        f"bg={sources['bg']}",
        f"out={tmp_path / 'o'}",
        "n=4",
        "workers=1",
        "recipe.frames=8",
    )
    assert code == 0, err  # draws that hit it are redrawn
    tiny = tmp_path / "tiny"
    trees.save(tiny / "b.jpg", trees.rgb(0, 6, 4))  # smaller than every person
    code, text, err = run_cli(
        "synth",
        "recipe=people_walk",
        f"hhm={sources['hhm']}",
        f"bg={tiny}",
        f"out={tmp_path / 'o2'}",
        "n=2",
        "workers=1",
        "recipe.frames=8",
    )
    assert code == 0, err
