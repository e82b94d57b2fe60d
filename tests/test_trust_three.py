"""Trust III: what a second attack found (bind mounts, swapped roots, archives, forged records, bad data)."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

import trees


def _bind(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    if subprocess.run(["mount", "--bind", str(src), str(dst)], capture_output=True).returncode != 0:
        pytest.skip("bind mounts need root and a kernel that allows them here")


def _unbind(dst: Path) -> None:
    subprocess.run(["umount", str(dst)], capture_output=True)


def test_a_destination_that_is_the_source_through_a_bind_mount_is_refused(run_cli, tmp_path):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K", stems=("a", "b"))
    conv = tmp_path / "conv"
    assert run_cli("convert", f"src={src / 'I-HIM50K'}", f"dst={conv}", "to=maggie_image_val", "workers=1")[0] == 0
    before = {p: p.read_bytes() for p in conv.rglob("*") if p.is_file() and ".himfmt" not in p.parts}
    root_bind, folder_bind = tmp_path / "dst", tmp_path / "other"
    _bind(conv, root_bind)
    try:
        code, _, err = run_cli("convert", f"src={conv}", f"dst={root_bind}", "to=maggie_image_val", "mode=symlink",
                               "overwrite=true", "workers=1")
        assert code == 2 and "bind mount" in err
    finally:
        _unbind(root_bind)
    # Only a folder inside the destination is the source's: each file is compared before it is replaced.
    assert run_cli("convert", f"src={conv}", f"dst={folder_bind}", "to=maggie_image_val", "workers=1")[0] == 0
    _bind(conv / "images" / "I-HIM50K", folder_bind / "images" / "I-HIM50K")
    try:
        code, _, err = run_cli("convert", f"src={conv}", f"dst={folder_bind}", "to=maggie_image_val", "mode=symlink",
                               "overwrite=true", "workers=1")
        assert code == 2 and "is the source file" in err
    finally:
        _unbind(folder_bind / "images" / "I-HIM50K")
    assert {p: p.read_bytes() for p in conv.rglob("*") if p.is_file() and ".himfmt" not in p.parts} == before


@pytest.mark.slow  # reason: a synth long enough to swap its output folder for a link while it runs
def test_an_output_swapped_for_a_link_during_the_run_stops_it(inputs, tmp_path):
    hhm, bg = inputs
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "himfmt", "synth", "recipe=image_him", f"hhm={hhm}", f"bg={bg}",
                             "n=3000", "workers=2", f"out={out}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    images = out / "I-HIM50K" / "images"
    deadline = time.time() + 60
    while time.time() < deadline and (not images.is_dir() or len(list(images.iterdir())) < 300):
        time.sleep(0.05)
    out.rename(tmp_path / "moved")
    out.symlink_to(elsewhere)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "the output folder was replaced during the run" in err
    assert list(elsewhere.iterdir()) == []
