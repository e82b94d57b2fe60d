"""Generating missing splits a researcher can trust: fill and synth touch only what they made, read their
inputs out loud, converge after kills, and never mistake a changed source for an old job."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from himfmt.io.files import JobLock
from himfmt.io.pool import parallel_map
from himfmt.validation import validate

import trees
from helpers import dataset_config, digest, long_synth


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and ".himfmt" not in p.parts}


def _forget(root: Path, split: str) -> None:
    """Make ``split`` of the demo's V-HIM60 look hand-made: no himfmt record or writer list names its files."""
    folder = root / "data" / "V-HIM60" / ".himfmt"
    for rec in folder.glob(f"synth-*-{split}-*.jsonl"):
        rec.unlink()
    for rec in folder.glob("derived-*.jsonl"):
        rec.write_text("".join(ln + "\n" for ln in rec.read_text().splitlines() if f'"{split}"' not in ln))
    shutil.rmtree(folder / "written", ignore_errors=True)


def test_fill_leaves_a_split_the_user_made_alone(run_cli, demo_copy):
    root = demo_copy
    _forget(root, "comp_hard")
    for d in ("fgr", "pha", "xmem"):
        shutil.rmtree(root / "data" / "V-HIM60" / "comp_hard" / d / "00001")  # incomplete: 1 of 2 samples
    before = _files(root)
    code, out, err = run_cli("fill", "dataset=demo", f"out={root}", "workers=1")
    assert code == 1, out + err
    assert "comp_hard" in err and "not made by himfmt; left alone" in err
    assert "leave alone" in out.replace("\n", " ")
    assert _files(root) == before  # not one file touched
    code, out, err = run_cli("fill", "dataset=demo", f"out={root}", "dry_run=true", "overwrite=true")
    assert "may replace:" in out and "comp_hard/fgr/00000/00000.jpg" in out.replace("\n", "")
    code, out, err = run_cli("fill", "dataset=demo", f"out={root}", "workers=1", "overwrite=true")
    assert code == 0, out + err
    assert (root / "data" / "V-HIM60" / "comp_hard" / "fgr" / "00001").is_dir()


def test_synth_never_replaces_a_file_it_did_not_make(run_cli, inputs, tmp_path):
    hhm, bg = inputs
    out = tmp_path / "out"
    args = ["synth", "recipe=image_him", f"hhm={hhm}", f"bg={bg}", "n=2", "workers=1"]
    assert run_cli(*args, f"out={out}")[0] == 0
    mine = out / "I-HIM50K" / "images" / "00002.jpg"
    mine.parent.mkdir(parents=True, exist_ok=True)
    mine.write_bytes(b"the user's own picture")
    code, _, err = run_cli(*args[:-2], "n=3", "workers=1", f"out={out}")
    assert code == 1 and "00002.jpg is there and was not made by himfmt" in err
    assert mine.read_bytes() == b"the user's own picture"


def test_demo_replaces_only_what_a_demo_made(run_cli, tmp_path):
    out = tmp_path / "demo"
    out.mkdir()
    (out / ".himfmt-demo").write_text("made by himfmt demo\n")  # an earlier demo's marker
    (out / "my_notes.txt").write_text("mine")
    (out / "my_converted").mkdir()
    code, _, err = run_cli("demo", f"out={out}")
    assert code == 2 and "my_converted, my_notes.txt" in err and "overwrite=true" in err
    assert (out / "my_notes.txt").read_text() == "mine" and (out / "my_converted").is_dir()


def test_a_split_path_leaving_the_root_is_refused(run_cli, tmp_path):
    cfg = dataset_config(tmp_path, "  people: {layout: hhm, path: ../outside, split: train, samples: 3, from: {kit: hhm}}\n")
    code, _, err = run_cli("fill", f"dataset={cfg}")
    assert code == 2 and "leaves the dataset root" in err
    assert not (tmp_path / "outside").exists() and not (tmp_path / "root").exists()


def test_fill_repairs_what_it_made_by_size_and_digest(run_cli, demo_copy, demo_root):
    root = demo_copy
    (root / "data" / "I-HIM50K" / "alphas" / "00002" / "00.png").unlink()
    frame = root / "data" / "V-HIM2K5" / "fgr" / "00000" / "00003.jpg"
    data = bytearray(frame.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes
    frame.write_bytes(bytes(data))
    val = root / "data" / "HIM2K_M-HIM2K"
    shutil.copy(
        val / "alphas" / "natural" / "00100" / "00.png", val / "masks_matched_r50_fpn_3x" / "natural" / "00100" / "00.png"
    )  # a mask replaced by its matte
    code, out, err = run_cli("fill", "dataset=demo", f"out={root}", "workers=1")
    assert code == 0, out + err
    assert "repair (synthesize): I-HIM50K" in out and "repair (synthesize): V-HIM2K5" in out
    assert "add masks: natural" in out
    assert _files(root) == _files(demo_root)
    assert "nothing to do" in run_cli("fill", "dataset=demo", f"out={root}", "workers=1")[1]


def test_validate_names_a_file_the_record_says_was_made(demo_copy):
    (demo_copy / "data" / "I-HIM50K" / "alphas" / "00002" / "00.png").unlink()
    found = {(f.code, f.path) for f in validate(str(demo_copy), workers=1).findings}
    assert ("record.file_missing", "data/I-HIM50K/alphas/00002/00.png") in found


def test_a_missing_first_instance_is_a_gap(tmp_path):
    root = trees.train_tree(tmp_path / "t", "s", stems=("a",))
    alphas = root / "s" / "alphas" / "a"
    (alphas / "00.png").rename(alphas / "01.png")
    codes = [f.code for f in validate(str(root), workers=1).findings]
    assert "instances.gap" in codes


@pytest.mark.slow  # reason: twelve himfmt processes killed at seeded moments, then a whole demo fill
def test_fill_killed_anywhere_converges_to_the_same_bytes(demo_root, tmp_path):
    root = tmp_path / "killed"
    rng = random.Random(7)
    cmd = [sys.executable, "-m", "himfmt", "fill", "dataset=demo", f"out={root}", "workers=1"]
    for _ in range(12):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.7, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    last = subprocess.run(cmd, capture_output=True, text=True)
    assert last.returncode == 0, last.stdout[-2000:] + last.stderr
    assert digest(root) == digest(demo_root)
    assert not [p for p in root.rglob("*.tmp")]


def _worker_pid(x: float) -> int:
    time.sleep(x)
    return os.getpid()


def test_small_work_stays_in_this_process_and_large_work_spreads():
    assert set(parallel_map(_worker_pid, [0.0] * 50, 50, 2)) == {os.getpid()}


@pytest.mark.slow  # reason: long enough items that a pool pays (about 4 s)
def test_large_work_starts_workers():
    pids = list(parallel_map(_worker_pid, [0.3] * 24, 24, 2))
    assert pids[0] == os.getpid() and set(pids[1:]) - {os.getpid()}


def test_workers_die_with_their_parent(tmp_path):
    script = tmp_path / "parent.py"
    pids = tmp_path / "pids"
    script.write_text(f"""
import os, time
from himfmt.io.pool import spawn_pool
def pid(_):
    time.sleep(0.2)
    return os.getpid()
if __name__ == "__main__":
    with spawn_pool(2) as pool:
        seen = set(pool.map(pid, range(8)))
        open({str(pids)!r}, "w").write(" ".join(map(str, seen)))
        time.sleep(60)
""")
    proc = subprocess.Popen([sys.executable, str(script)])
    deadline = time.time() + 60
    while not pids.exists() and time.time() < deadline:
        time.sleep(0.1)
    workers = [int(p) for p in pids.read_text().split()]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.1)
    assert not any(_alive(p) for p in workers)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def test_one_job_at_a_time_per_destination(run_cli, tmp_path):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K", stems=("a", "b"))
    dst = tmp_path / "dst"
    with JobLock(dst, {"another": "job"}, "convert to maggie_image_val from elsewhere"):
        code, _, err = run_cli("convert", f"src={src}", f"dst={dst}", "to=maggie_image_val", "workers=1")
        assert code == 2 and "another himfmt job is writing here now" in err
    assert run_cli("convert", f"src={src}", f"dst={dst}", "to=maggie_image_val", "workers=1")[0] == 0


def test_a_changed_source_file_is_converted_again(run_cli, tmp_path):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K", stems=("a", "b"))
    dst = tmp_path / "dst"
    assert run_cli("convert", f"src={src}", f"dst={dst}", "to=maggie_image_val", "workers=1")[0] == 0
    image = src / "I-HIM50K" / "images" / "a.jpg"
    trees.save(image, trees.rgb(99))
    os.utime(image, ns=(1, 1))  # another time too, as a copy or an edit leaves it
    code, out, err = run_cli("convert", f"src={src}", f"dst={dst}", "to=maggie_image_val", "workers=1")
    assert code == 0, err
    assert (dst / "images" / "I-HIM50K" / "a.jpg").read_bytes() == image.read_bytes()
    assert "already done (resumed)" in out and "1" in out


def test_synth_over_changed_inputs_is_another_job(run_cli, inputs, tmp_path):
    hhm, bg = inputs
    out = tmp_path / "out"
    args = ["synth", "recipe=image_him", f"hhm={hhm}", f"bg={bg}", "n=2", "workers=1", f"out={out}"]
    assert run_cli(*args)[0] == 0
    first = _files(out)
    trees.save(hhm / "images" / "p0.jpg", trees.rgb(77, 30, 60))
    code, _, err = run_cli(*args)
    assert code == 2 and "the inputs' files changed" in err and "overwrite=true" in err
    assert _files(out) == first
    code, _, err = run_cli(*args, "seed=3")
    assert code == 2 and "seed: 0 -> 3" in err
    assert run_cli(*args, "overwrite=true")[0] == 0


def _stills_folder(root: Path) -> Path:
    """BG-20K as downloaded: train/ and testval/ folders of unrelated stills."""
    for part, seeds in (("train", range(4)), ("testval", range(4, 6))):
        for k in seeds:
            trees.save(root / part / f"bg{k}.jpg", trees.rgb(k, 64, 48))
    return root


def test_a_background_folder_one_level_too_high_is_refused(run_cli, sources, tmp_path):
    bg = _stills_folder(tmp_path / "BG-20K")
    code, out, err = run_cli(
        "synth", "recipe=video_him", f"clips={sources['clips']}", f"bg={bg}", f"out={tmp_path / 'out'}", "n=1", "workers=1"
    )
    assert code == 2, out + err
    assert "differ like unrelated pictures" in err and f"bg={bg}/t" in err.replace("\n", "")
    assert not (tmp_path / "out").exists()
    code, out, err = run_cli(
        "synth", "recipe=video_him", f"clips={sources['clips']}", f"bg={sources['bg']}", f"out={tmp_path / 'ok'}", "n=1", "workers=1"
    )
    assert code == 0, err
    assert "read bg=" in out and "1 frame sequence(s) 'frames' (3 frames)" in out.replace("\n", " ")


def test_frames_of_several_sizes_are_no_clip(run_cli, sources, tmp_path):
    bg = tmp_path / "bg"
    pan = trees.smooth(3, 80, 48)
    trees.save(bg / "clip" / "00000.jpg", pan[:, :64])
    trees.save(bg / "clip" / "00001.jpg", pan[:40, :64])
    code, _, err = run_cli(
        "synth", "recipe=video_him", f"clips={sources['clips']}", f"bg={bg}", f"out={tmp_path / 'out'}", "n=1", "workers=1"
    )
    assert code == 2 and "have 2 sizes" in err


def test_fill_dry_run_makes_the_runs_input_checks(run_cli, sources, tmp_path):
    bg = _stills_folder(tmp_path / "BG-20K")
    cfg = dataset_config(
        tmp_path,
        f"""  comp_easy:
    layout: maggie_video
    path: V-HIM60
    samples: 1
    from: {{recipe: video_him, inputs: {{clips: {sources["clips"]}, bg: {bg}}}, overrides: [recipe.difficulty=easy]}}
""",
    )
    code, _, err = run_cli("fill", f"dataset={cfg}", "dry_run=true")
    assert code == 2 and "differ like unrelated pictures" in err


def test_dvm_phase_the_source_lacks_is_refused(run_cli, sources, tmp_path):
    assert sorted(p.name for p in (sources["dvm"] / "fg" / "image").iterdir()) == ["test"]
    code, _, err = run_cli("synth", "recipe=dvm", f"source={sources['dvm']}", "phase=train", f"out={tmp_path / 'out'}", "workers=1")
    assert code == 2 and "has no train phase, only test" in err
    assert not (tmp_path / "out").exists()


def test_dvm_says_which_pair_list_it_took(run_cli, sources, tmp_path):
    code, out, err = run_cli("synth", "recipe=dvm", f"source={sources['dvm']}", "phase=test", f"out={tmp_path / 'out'}", "workers=1")
    assert code == 0, err
    assert "read pairs:" in out and "pairs)" in out


def test_synth_records_name_their_job_and_every_files_digest(run_cli, inputs, tmp_path):
    hhm, bg = inputs
    out = tmp_path / "out"
    assert run_cli("synth", "recipe=image_him", f"hhm={hhm}", f"bg={bg}", "n=2", "workers=1", f"out={out}")[0] == 0
    rec = next((out / ".himfmt").glob("synth-*.jsonl"))
    lines = [json.loads(ln) for ln in rec.read_text().splitlines()]
    assert lines[0]["job"]["split"] == "I-HIM50K" and len(lines[0]["job"]["inputs"]) == 64
    assert lines[1]["plan"] == {"first": 0, "n": 2, "shard": [0, 1]}
    assert all(len(f) == 4 and len(f[2]) == 64 for ln in lines[2:] for f in ln["files"])
    assert np.all([(out / f[0]).stat().st_size == f[1] for ln in lines[2:] for f in ln["files"]])


def test_merge_names_the_shards_and_ids_that_never_ran(run_cli, inputs, tmp_path):
    hhm, bg = inputs
    out = tmp_path / "out"
    args = ["synth", "recipe=image_him", f"hhm={hhm}", f"bg={bg}", "n=6", "workers=1", f"out={out}"]
    assert run_cli(*args, "shard.index=0", "shard.count=2")[0] == 0
    code, _, err = run_cli("merge", f"root={out}")
    assert code == 1, err
    assert "shard 1 of 2 has no record" in err and "3 of 6 ids no shard made: 1, 3, 5" in err
    assert run_cli(*args, "shard.index=1", "shard.count=3")[0] == 0  # ids 1 and 4: 3 and 5 still missing
    code, _, err = run_cli("merge", f"root={out}")
    assert code == 1 and "2 of 6 ids no shard made: 3, 5" in err
    assert run_cli(*args)[0] == 0  # the whole job: resumes what the shards made
    code, out_text, err = run_cli("merge", f"root={out}")
    assert code == 0, err


def test_a_sweeps_logs_stay_in_the_literal_output(run_cli, inputs, tmp_path, monkeypatch):
    hhm, bg = inputs
    monkeypatch.setenv("ELSEWHERE", str(tmp_path / "elsewhere"))
    out = tmp_path / "o${oc.env:ELSEWHERE}"
    code, _, err = run_cli(
        "synth", "-m", "shard.index=0,1", "shard.count=2", "recipe=image_him", f"hhm={hhm}", f"bg={bg}", "n=2", "workers=1", f"out={out}"
    )
    assert code == 0, err
    assert len(list((out / ".himfmt" / "sweeps").glob("*/*-shard*/himfmt.log"))) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["HHM", "BG", "cwd", out.name])


def test_fill_makes_again_what_was_made_from_inputs_that_changed(run_cli, demo_copy, demo_root):
    root = demo_copy
    person = next((root / "sources" / "HHM" / "train" / "images").iterdir())
    os.utime(person, ns=(10**9, 10**9))  # a copy or an edit: another time, here the same bytes
    code, out, err = run_cli("fill", "dataset=demo", f"out={root}", "workers=1")
    assert code == 0, out + err
    assert "changed since" in out
    for split in ("I-HIM50K", "natural", "comp", "people_walk"):
        assert f"repair (synthesize): {split}" in out
    assert "repair (convert): I-HIM50K_as_val" in out  # it reads I-HIM50K, made again just now
    assert _files(root) == _files(demo_root)
    assert "nothing to do" in run_cli("fill", "dataset=demo", f"out={root}", "workers=1")[1]


@pytest.mark.slow  # reason: a synth long enough to start its workers, then stopped
def test_sigterm_stops_the_workers_and_keeps_what_is_complete(inputs, tmp_path):
    hhm, bg = inputs
    out = tmp_path / "out"
    proc = long_synth(hhm, bg, out)
    images = out / "I-HIM50K" / "images"
    deadline = time.time() + 60

    def count() -> int:
        return len(list(images.iterdir())) if images.is_dir() else 0

    while time.time() < deadline and count() < 400:  # well past the pool's start
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143 and "stopped (SIGTERM)" in err and "Traceback" not in err
    after = count()
    time.sleep(2)
    assert count() == after  # no worker wrote anything after its parent stopped
    assert not list(out.rglob("*.tmp"))


def test_a_kit_tree_cut_short_is_built_again(run_cli, demo_copy, demo_root):
    """Killed half way through the DVM kit: fg pictures there, no bg videos, no kit record."""
    root = demo_copy
    shutil.rmtree(root / "sources" / "DVM" / "bg")
    (root / "sources" / "DVM" / "test_pairs.txt").unlink()
    for rec in (root / "sources" / "DVM" / ".himfmt").glob("kit-*.jsonl"):
        rec.unlink()
    code, out, err = run_cli("fill", "dataset=demo", f"out={root}", "workers=1")
    assert code == 0, out + err
    assert "repair (build): DVM" in out
    assert _files(root) == _files(demo_root)


def test_a_second_source_with_one_changed_image_is_not_the_old_job(run_cli, tmp_path, monkeypatch):
    one = trees.train_tree(tmp_path / "one", "I-HIM50K", stems=("a", "b"))
    two = tmp_path / "two"
    shutil.copytree(one, two)  # the same names, sizes and times...
    trees.save(two / "I-HIM50K" / "images" / "b.jpg", trees.rgb(55))  # ...but one picture changed
    dst = tmp_path / "dst"
    assert run_cli("convert", f"src={one}", f"dst={dst}", "to=maggie_image_val", "workers=1")[0] == 0
    monkeypatch.chdir(tmp_path)  # another working directory
    code, out, err = run_cli("convert", f"src={two}", f"dst={dst}", "to=maggie_image_val", "workers=1")
    assert code == 0, err
    assert (dst / "images" / "I-HIM50K" / "b.jpg").read_bytes() == (two / "I-HIM50K" / "images" / "b.jpg").read_bytes()
    code, out, err = run_cli("convert", f"src={two}", f"dst={dst}", "to=maggie_image_val", "workers=1", "overwrite=true")
    assert code == 0 and "already done" not in out  # overwrite=true writes afresh
