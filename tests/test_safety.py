"""Nothing is lost, nothing is written where it must not be, options mean what they say.

Each test reproduces a way data was lost or written outside the output, on
real files: several splits sharing ids, second runs, moved roots, links,
killed writers, and options typed the way people type them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from himfmt import validate
from himfmt.conversion.route import refusal
from himfmt.layouts import LAYOUTS
from himfmt.layouts.detect import open_datasets

import trees


def listing(root: Path) -> dict[str, tuple[int, int]]:
    """Relative path -> (inode, size) of every file, himfmt's own folder left out."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and not rel.startswith(".himfmt"):
            st = p.stat()
            out[rel] = (st.st_ino, st.st_size)
    return out


def tmp_files(root: Path) -> list[str]:
    return sorted(str(p) for p in root.rglob("*.tmp"))


# A. No sample is ever lost -------------------------------------------------------------------------


def multi_split_source(root: Path, layout: str) -> Path:
    """Three splits whose samples share ids (as V-HIM60's comp_easy|medium|hard do)."""
    if layout == "maggie_image_train":
        for split in ("s1", "s2", "s3"):
            trees.train_tree(root, split, stems=("a", "b"), layers=True)
    elif layout == "maggie_image_val":
        trees.val_tree(root, splits=("natural", "comp", "extra"))
    elif layout == "maggie_video":
        for split in ("comp_easy", "comp_medium", "comp_hard"):
            trees.video_tree(root, split, videos=("00000", "00001"), n_frames=2)
    elif layout == "hhm":
        for split in ("train", "test"):
            trees.hhm_tree(root / split, stems=("p0", "p1"))
    elif layout == "video_matte":
        for split in ("train", "test"):
            trees.video_matte_tree(root / split, clips=("0000", "0001"), n_frames=2)
    elif layout == "bg_images":
        for split in ("a", "b"):
            trees.bg_tree(root / split, 2)
    elif layout == "dvm_source":  # the same fg names in both phases
        trees.dvm_source_tree(root, n_frames=3)
        for kind in ("fg/image", "fg/video", "bg"):
            shutil.copytree(root / kind / "test", root / kind / "train")
        (root / "train_pairs.txt").write_text((root / "test_pairs.txt").read_text())
    else:  # a layout with no hand-made tree: samples shaped by what it holds
        trees.generic_tree(layout, root, splits=("s1", "s2", "s3"))
    return root


# Every layout that names its splits (dvm_composed keeps one namespace: no splits of its own).
SOURCES = [name for name, lay in LAYOUTS.items() if lay.named_splits]
# To a layout without people only from trees with background layers (the others are refused: test_convert).
PAIRS = [
    (s, d)
    for s in SOURCES
    for d in LAYOUTS
    if refusal(s, d) is None and (LAYOUTS[d].holds.instances or not LAYOUTS[s].holds.instances or s == "maggie_image_train")
]


@pytest.mark.parametrize("src_layout, dst_layout", PAIRS)
def test_every_route_from_splits_sharing_ids_keeps_every_sample(run_cli, tmp_path, src_layout, dst_layout):
    src = multi_split_source(tmp_path / "src", src_layout)
    dst = tmp_path / "dst"
    code, out, err = run_cli("convert", str(src), f"dst={dst}", f"to={dst_layout}", f"from={src_layout}", "workers=1")
    assert code == 0, err
    planned = int(next(line for line in out.splitlines() if "samples" in line).split("│")[2])
    written = [ds for ds in open_datasets(str(dst)) if ds.layout == dst_layout]
    assert len(written) == 1 and len(written[0].samples) == planned
    source_samples = len(open_datasets(str(src), layout=src_layout)[0].samples)
    assert planned >= source_samples
    assert [f for f in validate(str(dst), workers=1).findings if f.severity == "error"] == []


def test_vhim60_to_dvm_composed_names_samples_by_split(run_cli, tmp_path):
    src = multi_split_source(tmp_path / "V-HIM60", "maggie_video")
    code, out, err = run_cli("convert", str(src), f"dst={tmp_path / 'dvm'}", "to=dvm_composed", "workers=1")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "dvm" / "v").iterdir()) == [
        f"{level}_{v}" for level in ("comp_easy", "comp_hard", "comp_medium") for v in ("00000", "00001")
    ]
    assert "renamed: 6 samples are written as <split>_<id>" in out


def test_a_collision_stops_before_anything_is_written(run_cli, tmp_path):
    """Split 'a' holding 'b_c' and split 'a_b' holding 'c' both become 'a_b_c' in one namespace."""
    src = tmp_path / "src"
    trees.video_tree(src, "a", videos=("b_c",), n_frames=2)
    trees.video_tree(src, "a_b", videos=("c",), n_frames=2)
    dst = tmp_path / "dst"
    code, _, err = run_cli("convert", str(src), f"dst={dst}", "to=dvm_composed", "workers=1")
    assert code == 2
    assert "two outputs map to one path" in err and "a/b_c" in err and "a_b/c" in err
    assert not dst.exists()


def fill_config(tmp_path: Path, name: str, overrides: list[str], out: Path | None = None):
    from himfmt.composition import compose_config, normalize
    from himfmt.generation.engine import Filler, dataset_config, make_plan

    sources = [
        f"dataset.sources.{k}={tmp_path / 'none' / k}"
        for k in ("hhm", "bg", "him2k", "clips", "bg_videos", "dvm", "train_pairs", "test_pairs")
    ]
    out = out or tmp_path / name
    cfg = compose_config("fill", normalize("fill", [f"dataset={name}", f"out={out}", "dry_run=true", "workers=1", *overrides]))
    known = set(cfg.dataset.get("sources") or {})
    cfg = compose_config(
        "fill",
        normalize(
            "fill",
            [
                f"dataset={name}",
                f"out={out}",
                "dry_run=true",
                "workers=1",
                *overrides,
                *[s for s in sources if s.split("=")[0].rsplit(".", 1)[1] in known],
            ],
        ),
    )
    ds_cfg = dataset_config(cfg)
    root = Path(str(ds_cfg.root))
    filler = Filler(cfg, ds_cfg, root)
    return make_plan(cfg, filler, ds_cfg, root), filler


@pytest.mark.parametrize("name", ["demo", "dvm", "maggie_him"])
def test_fill_plans_what_it_makes_for_every_shipped_config(tmp_path, name):
    """The plan's sample counts come from the very synth configs the run runs, and match the declared counts."""
    from himfmt.synthesis.jobs import planned_counts

    plan, filler = fill_config(tmp_path, name, [])
    for e in plan.items:
        if e.kind == "recipe":
            made = sum(n or 0 for split, n in planned_counts(filler.synth_config(e)) if split == e.split)
            assert plan.planned[e.name] in (made, None)
            if e.samples is not None:
                assert plan.planned[e.name] == e.samples == made


def test_fill_plan_honours_a_smaller_count_for_a_schedule(tmp_path):
    """samples=2 on the published V-HIM2K5 schedule (9,500 videos) plans, and runs, 2."""
    from himfmt.synthesis.jobs import planned_counts

    plan, filler = fill_config(tmp_path, "maggie_him", ["dataset.splits.V-HIM2K5.samples=2"])
    e = next(e for e in plan.items if e.name == "V-HIM2K5")
    assert plan.planned["V-HIM2K5"] == 2
    assert planned_counts(filler.synth_config(e)) == [("V-HIM2K5", 2)]


def test_fill_repair_replaces_and_never_leaves_a_hole(run_cli, demo_copy):
    """A damaged matte of a converted split (cp -a of the root first) is replaced; nothing left half done."""
    root = demo_copy
    moved = root.parent / "moved"
    shutil.copytree(root, moved, symlinks=True)  # cp -a: records now sit under another absolute path
    converted = moved / "converted" / "I-HIM50K_as_val"
    victim = sorted(converted.glob("alphas/I-HIM50K/*/00.png"))[0]
    data = victim.read_bytes()
    victim.unlink()
    victim.write_bytes(data[:100])  # a new, truncated file: the hard-linked source keeps its good copy
    code, out, err = run_cli("fill", "dataset=demo", f"out={moved}", "workers=1", "deep=true")
    assert code == 0, out + err
    assert victim.read_bytes() == data and tmp_files(moved) == []
    missing = sorted(converted.glob("alphas/I-HIM50K/*/01.png"))[0]
    missing.unlink()  # a hole: fill must notice it, not call the split complete
    plan, _ = fill_config(moved.parent, "demo", [], out=moved)
    assert [e.name for e in plan.todo] == ["I-HIM50K_as_val"]
    assert "1 file(s) of its source missing" in plan.states["I-HIM50K_as_val"].text
    code, out, err = run_cli("fill", "dataset=demo", f"out={moved}", "workers=1")
    assert code == 0 and missing.is_file(), out + err
    assert validate(str(moved), deep=True, workers=1).findings == []


def test_resume_identifies_the_job_not_the_typed_path(run_cli, tmp_path, monkeypatch):
    one, two = tmp_path / "one", tmp_path / "two"
    trees.train_tree(one / "data", "I-HIM50K", stems=("a", "b"))
    trees.train_tree(two / "data", "I-HIM50K", stems=("c", "d", "e"))
    dst = tmp_path / "out"
    monkeypatch.chdir(one)
    code, _, err = run_cli("convert", "data", f"dst={dst}", "to=maggie_image_val", "workers=1")
    assert code == 0, err
    before = listing(dst)
    code, out, err = run_cli("convert", str(one / "data"), f"dst={dst}", "to=maggie_image_val", "workers=1")
    assert code == 0 and "already done (resumed)" in out, err  # the same dataset by its absolute path
    monkeypatch.chdir(two)
    code, _, err = run_cli("convert", "data", f"dst={dst}", "to=maggie_image_val", "workers=1")
    assert code == 2 and "is of a different conversion" in err and "{" not in err  # another dataset, same typed path
    assert listing(dst) == before
    code, out, err = run_cli("convert", "data", f"dst={dst}", "to=maggie_image_val", "workers=1", "overwrite=true")
    assert code == 0, err
    assert sorted(s.id for s in open_datasets(str(dst))[0].samples) == ["c", "d", "e"]  # replaced, nothing stale
    moved = tmp_path / "moved"
    shutil.move(two / "data", moved)
    code, out, err = run_cli("convert", str(moved), f"dst={dst}", "to=maggie_image_val", "workers=1")
    assert code == 0 and "already done (resumed)" in out, err  # a moved root with the same content


def test_a_damaged_record_is_one_line_and_overwrite_still_works(run_cli, tmp_path):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K")
    dst = tmp_path / "dst"
    assert run_cli("convert", str(src), f"dst={dst}", "to=maggie_image_val", "workers=1")[0] == 0
    record = dst / ".himfmt" / "convert.jsonl"
    record.write_text("{not json\n" + "\n".join(record.read_text().splitlines()[1:]) + "\n")
    code, _, err = run_cli("convert", str(src), f"dst={dst}", "to=maggie_image_val", "workers=1")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "is damaged" in err
    code, _, err = run_cli("convert", str(src), f"dst={dst}", "to=maggie_image_val", "workers=1", "overwrite=true")
    assert code == 0, err
    assert validate(str(dst), workers=1).findings == []


def archive_of(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_unpack_refuses_a_foreign_folder_and_resumes_by_crc(run_cli, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("a user's file")
    (out / "a.txt").write_text("keep me")
    v1 = archive_of(tmp_path / "release.zip", {"a.txt": b"version 1", "b.txt": b"bbbbbbbbb"})
    code, _, err = run_cli("unpack", f"archive={v1}", f"out={out}", "validate=false")
    assert code == 2 and "not empty" in err
    assert (out / "a.txt").read_text() == "keep me"
    code, _, err = run_cli("unpack", f"archive={v1}", f"out={out}", "validate=false", "overwrite=true")
    assert code == 0, err
    assert (out / "a.txt").read_bytes() == b"version 1" and (out / "mine.txt").is_file()
    v1.unlink()
    v2 = archive_of(tmp_path / "release.zip", {"a.txt": b"version 2", "b.txt": b"bbbbbbbbb"})  # same sizes, new bytes
    code, out_text, err = run_cli("unpack", f"archive={v2}", f"out={out}", "validate=false")
    assert code == 0, err
    assert (out / "a.txt").read_bytes() == b"version 2"


# B. Nothing is written outside the output, nothing into a source ------------------------------------


def test_a_link_inside_dst_is_never_followed(run_cli, tmp_path):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    dst = tmp_path / "dst"
    (dst / "I-HIM50K").mkdir(parents=True)
    os.symlink(elsewhere, dst / "I-HIM50K" / "images")
    code, _, err = run_cli("convert", str(src), f"dst={dst}", "to=maggie_image_train", "workers=1", "overwrite=true")
    assert code == 2 and "I-HIM50K/images: is a link inside the output" in err
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("mode", ["copy", "hardlink"])
def test_a_link_into_the_source_leaves_the_source_alone(run_cli, tmp_path, mode):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K")
    before = listing(src)
    dst = tmp_path / "dst"
    dst.mkdir()
    os.symlink(src / "I-HIM50K", dst / "I-HIM50K")
    code, _, err = run_cli("convert", str(src), f"dst={dst}", "to=maggie_image_train", f"mode={mode}", "workers=1", "overwrite=true")
    assert code == 2 and "is a link inside the output" in err
    assert listing(src) == before and tmp_files(src) == []


def test_unpack_never_extracts_through_a_link(run_cli, tmp_path):
    archive = archive_of(tmp_path / "x.zip", {"train/a.txt": b"a", "train/b.txt": b"b"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(elsewhere, out / "train")
    code, _, err = run_cli("unpack", f"archive={archive}", f"out={out}", "validate=false", "overwrite=true")
    assert code == 2 and "is a link inside the output" in err  # before anything is counted or written
    assert list(elsewhere.iterdir()) == []


def test_hardlink_reruns_leave_no_temporary_names(run_cli, tmp_path):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K", stems=tuple(f"s{i}" for i in range(6)))
    dst = tmp_path / "dst"
    args = ["convert", str(src), f"dst={dst}", "to=maggie_image_val", "mode=hardlink", "workers=1"]
    assert run_cli(*args)[0] == 0
    (dst / ".himfmt" / "convert.jsonl").unlink()  # every file is redone, onto the same inodes
    code, _, err = run_cli(*args, "overwrite=true")
    assert code == 0, err
    assert tmp_files(dst) == []
    (dst / ".himfmt" / "convert.jsonl").unlink()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "himfmt", *args, "overwrite=true"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]  # two runs at once, same inodes
    assert [p.wait(timeout=120) for p in procs] == [0, 0], [p.stderr.read() for p in procs if p.stderr]
    assert tmp_files(dst) == []
    assert validate(str(dst), workers=1).findings == []


WRITER = """
import sys, time
from himfmt.io.files import OutDir
p = OutDir.at(sys.argv[1]).open_pending("sub/file.png")
p.file.write(b"half")
p.file.flush()
print("ready", flush=True)
time.sleep(60)
"""


def start_writer(root: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(root)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_temporary_files_of_a_killed_writer_go_even_before_it_is_reaped(tmp_path):
    from himfmt.io.files import remove_tmp_files

    live, killed = start_writer(tmp_path), start_writer(tmp_path)
    try:
        killed.send_signal(signal.SIGKILL)
        for _ in range(500):  # dead but not reaped: a zombie, which os.kill(pid, 0) still finds
            with open(f"/proc/{killed.pid}/stat") as f:
                if f.read().split(") ")[1].startswith("Z"):
                    break
            time.sleep(0.01)
        assert len(tmp_files(tmp_path)) == 2
        assert remove_tmp_files(tmp_path) == 1
        assert len(tmp_files(tmp_path)) == 1  # the live writer's is kept
    finally:
        live.kill()
        live.wait()
        killed.wait()
    assert remove_tmp_files(tmp_path) == 1 and tmp_files(tmp_path) == []
    assert os.listdir(tmp_path / ".himfmt" / "writers") == []  # dead writers' lock files go too


def test_symlink_mode_output_validates_and_takes_masks(run_cli, tmp_path):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K")
    dst = tmp_path / "dst"
    code, out, err = run_cli("convert", str(src), f"dst={dst}", "to=maggie_image_val", "mode=symlink", "workers=1")
    assert code == 0, err
    code, out, err = run_cli("validate", str(dst))
    assert code == 0 and "All clean" in out, out + err
    code, _, err = run_cli("masks", str(dst), "source=masks_matched_r50_fpn_3x", "workers=1")
    assert code == 0, err
    dangling = dst / "images" / "I-HIM50K" / "zz.jpg"
    os.symlink(tmp_path / "nowhere.jpg", dangling)
    code, out, _ = run_cli("validate", str(dst))
    assert code == 1 and "file.symlink_escape" in out


# C. Options mean what they say ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["no", "off", "false", "False", "0"])
def test_overwrite_no_means_no(run_cli, tmp_path, value):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K")
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / "mine.txt").write_text("a user's file")
    code, _, err = run_cli("convert", str(src), f"dst={dst}", "to=maggie_image_val", f"overwrite={value}")
    assert code == 2 and "not empty" in err
    assert [p.name for p in dst.iterdir()] == ["mine.txt"]


def test_dry_run_no_writes(run_cli, tmp_path):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K")
    code, out, err = run_cli("convert", str(src), f"dst={tmp_path / 'dst'}", "to=maggie_image_val", "dry_run=no", "workers=1")
    assert code == 0 and "converted:" in out and (tmp_path / "dst" / "images").is_dir()


@pytest.mark.parametrize(
    "args, says",
    [
        (["validate", "ROOT", "deep=maybe"], "deep=maybe: Value 'maybe' is not a valid bool"),
        (["convert", "ROOT", "dst=D", "to=hhm", "frame_step=0"], "frame_step must be >= 1, not 0"),
        (["convert", "ROOT", "dst=D", "to=hhm", "frame_step=-2"], "frame_step must be >= 1, not -2"),
        (["convert", "ROOT", "dst=D", "to=hhm", "mode=sym"], "mode=sym: Invalid value 'sym', expected one of [copy, hardlink, symlink]"),
        (["convert", "ROOT", "dst=D", "to=hmm"], "to=hmm is not a layout; did you mean hhm?"),
        (["detect", "ROOT", "output=foo"], "output=foo: Invalid value 'foo', expected one of [text, json]"),
        (["validate", "ROOT", "fail_on=never"], "fail_on=never: Invalid value 'never'"),
        (["synth", "recipe=image_him", "out=D", "seed=abc"], "seed=abc: Value 'abc' of type 'str' could not be converted to Integer"),
        (["synth", "recipe=image_him", "out=D", "n=abc"], "n=abc: Value 'abc' of type 'str' could not be converted to Integer"),
        (["synth", "recipe=image_him", "out=D", "seed=-5"], "seed must be >= 0, not -5"),
        (["synth", "recipe=image_him", "out=D", "first=-3"], "first must be >= 0, not -3"),
        (["synth", "recipe=image_him", "out=D", "recipe.height_min=2.0", "recipe.height_max=3.0"], "0 < min <= max <= 1"),
        (["synth", "recipe=imag_him", "out=D"], "recipe=imag_him is not a known recipe; did you mean image_him?"),
        (["stats", "ROOT", "n=-5"], "n must be >= 1, not -5"),
        (["preview", "ROOT", "n=-1"], "n must be >= 1, not -1"),
        (["convert", "ROOT", "dst=D", "to=hhm", "dryrun=true"], "dryrun is not an option of this command; did you mean dry_run=?"),
        (["convert", "ROOT", "dst=D", "to=hhm", "+dryrun=true"], "dryrun is not an option of this command; did you mean dry_run=?"),
        (["validate", "root="], "root= is required"),
        (["convert", "src=", "dst=D", "to=hhm"], "src= is required"),
        (["convert", "ROOT", "dst=", "to=hhm"], "dst= is required"),
        (["synth", "recipe=image_him", "out="], "out= is required"),
        (["unpack", "archive=", "out=D"], "archive= is required"),
    ],
)
def test_typed_options_are_one_line_and_exit_2(run_cli, tmp_path, args, says):
    root = trees.train_tree(tmp_path / "root", "I-HIM50K")
    args = [a.replace("ROOT", str(root)).replace("=D", f"={tmp_path / 'd'}") for a in args]
    code, out, err = run_cli(*args)
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and not (tmp_path / "d").exists()


@pytest.mark.parametrize("name", ["lit${oc.env:HOME}", "a,b", "x=y", "~tilde", "back\\slash", "it's", "trail\\"])
def test_paths_are_literal(run_cli, tmp_path, name):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K")
    dst = tmp_path / name
    code, _, err = run_cli("convert", str(src), f"dst={dst}", "to=maggie_image_val", "workers=1")
    assert code == 0, err
    assert dst.is_dir() and [p.name for p in tmp_path.iterdir() if p.name != "src" and p.name != "cwd"] == [name]


def test_synth_runs_that_would_meet_stop_before_writing(run_cli, inputs, tmp_path):
    hhm, bg = inputs
    out = tmp_path / "out"
    code, _, err = run_cli(
        "synth", "recipe=image_him", f"hhm={hhm}", f"bg={bg}", f"out={out}", "workers=1", "runs=[{n: 3, first: 0}, {n: 3, first: 2}]"
    )
    assert code == 2 and "two runs write id 00002" in err
    assert not (out / "I-HIM50K").exists()


def test_synth_splits_into_one_namespace_are_named_by_split(run_cli, tmp_path):
    clips = trees.video_matte_tree(tmp_path / "clips", clips=("0000", "0001", "0002"), n_frames=4)
    bg = trees.bg_tree(tmp_path / "bg", 3)
    out = tmp_path / "dvm"
    code, _, err = run_cli(
        "synth",
        "recipe=video_him",
        f"clips={clips}",
        f"bg={bg}",
        f"out={out}",
        "workers=1",
        "n=1",
        "layout=dvm_composed",
        "runs=[{split: a}, {split: b}]",
    )
    assert code == 0, err
    assert sorted(p.name for p in (out / "v").iterdir()) == ["a_00000", "b_00000"]


def test_replacing_a_conversion_never_deletes_through_a_link(run_cli, tmp_path):
    """overwrite=true removes the earlier conversion's files, but not through a link put inside dst since."""
    one, two = trees.train_tree(tmp_path / "one", "I-HIM50K", stems=("a",)), trees.train_tree(tmp_path / "two", "I-HIM50K", stems=("b",))
    dst = tmp_path / "dst"
    assert run_cli("convert", str(one), f"dst={dst}", "to=maggie_image_val", "workers=1")[0] == 0
    elsewhere = tmp_path / "elsewhere"
    (dst / "images").rename(elsewhere)  # the earlier images now live elsewhere, reached through a link
    os.symlink(elsewhere, dst / "images")
    code, _, err = run_cli("convert", str(two), f"dst={dst}", "to=maggie_image_val", "workers=1", "overwrite=true")
    assert code == 2 and "is a link inside the output" in err
    assert (elsewhere / "I-HIM50K" / "a.jpg").is_file()  # nothing deleted through the link
