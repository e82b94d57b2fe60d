"""Conversion: every route on real trees, byte fidelity, safety, kill-and-resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from himfmt.conversion.job import Job, convert
from himfmt.conversion.route import refusal
from himfmt.errors import HimfmtError
from himfmt.layouts import LAYOUTS
from himfmt.layouts.detect import open_datasets
from himfmt.validation import validate

import trees
from helpers import digest

PAIRS = [(s, d) for s in LAYOUTS for d in LAYOUTS if refusal(s, d) is None]


@pytest.mark.parametrize("src,dst", PAIRS, ids=[f"{s}->{d}" for s, d in PAIRS])
def test_every_route_writes_a_clean_tree(tmp_path, src, dst):
    root = trees.example(src, tmp_path / "src")
    out = tmp_path / "out"
    has_bg = any(f.bg is not None for s in open_datasets(str(root))[0].samples for f in s.frames)
    if not LAYOUTS[dst].holds.instances and LAYOUTS[src].holds.instances and not has_bg:
        with pytest.raises(HimfmtError, match="has no background layer"):  # composites have people in them
            convert(Job(str(root), str(out), dst, frame_step=2, workers=1))
        return
    summary = convert(Job(str(root), str(out), dst, frame_step=2, workers=1))
    assert summary.failed == [] and summary.samples > 0
    report = validate(str(out))
    assert [d.layout for d in report.datasets] == [dst]
    assert report.findings == []


def test_round_trip_train_val_train_is_byte_identical(tmp_path):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K", masks=("masks_matched_r50_fpn_3x",))
    convert(Job(str(src), str(tmp_path / "val"), "maggie_image_val", mode="hardlink"))
    convert(Job(str(tmp_path / "val"), str(tmp_path / "back"), "maggie_image_train"))
    assert digest(tmp_path / "back") == digest(src)
    # Hard links really are links to the source files.
    assert os.stat(tmp_path / "val/images/I-HIM50K/a.jpg").st_ino == os.stat(src / "I-HIM50K/images/a.jpg").st_ino


def test_symlink_mode(tmp_path):
    src = trees.hhm_tree(tmp_path / "src")
    convert(Job(str(src), str(tmp_path / "out"), "maggie_image_train", mode="symlink"))
    link = tmp_path / "out/src/images/p0.jpg"  # the split is named after its folder
    assert link.is_symlink() and link.resolve() == (src / "images/p0.jpg").resolve()


def test_video_to_dvm_composed_union_and_measured_error(tmp_path):
    src = trees.video_tree(tmp_path / "src", "s", n_frames=8)
    summary = convert(Job(str(src), str(tmp_path / "out"), "dvm_composed", png_alpha=True))
    assert any("instance identity" in s for s in summary.route.lossy)
    mean, worst = summary.matte_error
    assert 0 <= mean < 2 and worst < 32
    ds = open_datasets(str(tmp_path / "out"))[0]
    got = ds.samples[0].frames[3].instances[0].matte.read_gray()
    a, b = (trees.instance_matte(k, 2, 3) for k in range(2))
    assert np.array_equal(got, np.minimum(a.astype(int) + b, 255))


def test_dvm_composed_to_maggie_video_one_instance(tmp_path):
    src = trees.example("dvm_composed", tmp_path / "src")
    summary = convert(Job(str(src), str(tmp_path / "out"), "maggie_video"))
    ds = open_datasets(str(tmp_path / "out"))[0]
    assert ds.layout == "maggie_video" and {s.n_instances for s in ds.samples} == {1}
    assert any("f/" in s for s in summary.route.lossy)


def test_refusal_writes_nothing(run_cli, tmp_path):
    src = trees.dvm_source_tree(tmp_path / "src")
    code, _, err = run_cli("convert", f"src={src}", f"dst={tmp_path / 'out'}", "to=maggie_image_train")
    assert code == 2 and "compositing backend" in err
    assert not (tmp_path / "out").exists()


def test_overlapping_and_non_empty_destinations(run_cli, tmp_path):
    src = trees.hhm_tree(tmp_path / "src")
    assert run_cli("convert", f"src={src}", f"dst={src / 'inside'}", "to=maggie_image_train")[0] == 2
    assert run_cli("convert", f"src={src}", f"dst={tmp_path}", "to=maggie_image_train")[0] == 2
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    code, _, err = run_cli("convert", f"src={src}", f"dst={busy}", "to=maggie_image_train")
    assert code == 2 and "not empty" in err
    assert run_cli("convert", f"src={src}", f"dst={busy}", "to=maggie_image_train", "overwrite=true")[0] == 0
    assert (busy / "keep.txt").exists()
    assert not any((src / "inside").exists() for _ in [0])


def test_dry_run_writes_nothing(run_cli, tmp_path):
    src = trees.video_tree(tmp_path / "src", "s", n_frames=8)
    code, out, _ = run_cli("convert", f"src={src}", f"dst={tmp_path / 'out'}", "to=dvm_composed", "dry_run=true")
    assert code == 0 and "plan: maggie_video -> dvm_composed" in out and "lossy:" in out
    assert not (tmp_path / "out").exists()


def test_corrupt_sample_is_skipped_and_reported(run_cli, tmp_path):
    src = trees.video_tree(tmp_path / "src", "s", videos=("v0", "v1"), n_frames=8)
    (src / "s/pha/v1/00002/00.png").write_bytes(b"garbage")
    out = tmp_path / "out"
    code, _, err = run_cli("convert", f"src={src}", f"dst={out}", "to=dvm_composed", "workers=1")
    assert code == 1 and "s/v1:" in err and "s/pha/v1/00002/00.png" in err and "not a readable image" in err
    assert len(list((out / "v/v0").iterdir())) == 8
    assert not list(out.rglob("*.tmp"))


def test_read_only_destination(run_cli, tmp_path):
    src = trees.hhm_tree(tmp_path / "src")
    dst = tmp_path / "ro"
    dst.mkdir()
    subprocess.run(["chattr", "+i", str(dst)], check=True)
    try:
        code, _, err = run_cli("convert", f"src={src}", f"dst={dst}", "to=maggie_image_train")
    finally:
        subprocess.run(["chattr", "-i", str(dst)], check=True)
    assert code == 2 and "cannot write" in err and "not permitted" in err
    assert list(dst.iterdir()) == []


def test_disk_full_leaves_no_partial_file(tmp_path):
    """A real write error: the file-size limit makes the kernel refuse writes (EFBIG)."""
    src = trees.train_tree(tmp_path / "src", "s", stems=tuple(f"i{k}" for k in range(5)))
    dst = tmp_path / "out"
    code = (
        "import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1500, 1500)); "
        "from himfmt.cli.main import main; main(sys.argv[1:])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "convert", f"src={src}", f"dst={dst}", "to=dvm_source", "workers=1"], capture_output=True, text=True
    )
    assert proc.returncode == 2, proc.stderr
    assert "cannot write" in proc.stderr and "Traceback" not in proc.stderr
    assert not [p for p in dst.rglob("*") if p.name.endswith(".tmp")]
    for p in dst.rglob("*.png"):
        assert p.stat().st_size > 0 and p.read_bytes().rstrip(b"\0").endswith(b"\xaeB`\x82")  # complete PNGs only


@pytest.mark.slow  # a real subprocess killed mid-conversion, then the conversion run twice more
def test_kill_and_resume_completes_identically(tmp_path):
    src = trees.video_tree(tmp_path / "src", "s", videos=tuple(f"v{i:02d}" for i in range(30)), n_frames=8)
    whole = tmp_path / "whole"
    convert(Job(str(src), str(whole), "dvm_composed", workers=1))
    dst = tmp_path / "dst"
    args = [sys.executable, "-m", "himfmt", "convert", f"src={src}", f"dst={dst}", "to=dvm_composed", "workers=1"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    record = dst / ".himfmt/convert.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and (not record.exists() or len(record.read_text().splitlines()) < 4):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(record.read_text().splitlines()) - 1
    assert 0 < done_before < 30, "the kill must land mid-way"
    rerun = subprocess.run(args, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert "already done (resumed)" in rerun.stdout
    assert digest(dst) == digest(whole)
    assert not [p for p in dst.rglob("*") if p.name.endswith(".tmp")]
