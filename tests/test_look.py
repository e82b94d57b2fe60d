"""Looking at the data: preview sheets, statistics, HTML thumbnails, the Python API."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import himfmt
from himfmt.inspection.preview import GAP, LABEL_H, PALETTE, PANEL_W, preview

import trees


def test_preview_grid_and_overlay_where_the_matte_is(run_cli, tmp_path):
    root = trees.train_tree(tmp_path / "t", stems=("a",), n_inst=2)
    code, out, _ = run_cli("preview", str(root), f"out={tmp_path / 'sheet.png'}", "n=4")
    assert code == 0 and "1 sample(s)" in out
    sheet = np.asarray(Image.open(tmp_path / "sheet.png").convert("RGB")).astype(int)
    ph = round(trees.H * PANEL_W / trees.W)
    assert sheet.shape == (GAP + LABEL_H + ph + GAP, GAP + 2 * (PANEL_W + GAP), 3)  # composite | overlay
    _, panels = preview(himfmt.open(root))
    (x0, y0, w, h), (x1, y1, _, _) = panels[0].box, panels[1].box
    composite, over = sheet[y0 : y0 + h, x0 : x0 + w], sheet[y1 : y1 + h, x1 : x1 + w]
    for k in range(2):
        m = cv2.resize(trees.instance_matte(k, 2, 0), (w, h), interpolation=cv2.INTER_AREA)
        inside = m == 255
        towards = np.abs(over[inside] - PALETTE[k]).sum(axis=1) < np.abs(composite[inside] - PALETTE[k]).sum(axis=1)
        assert towards.mean() > 0.95  # instance k is tinted in its own colour
    union = sum(cv2.resize(trees.instance_matte(k, 2, 0), (w, h), interpolation=cv2.INTER_AREA).astype(int) for k in range(2))
    assert not (np.abs(over - composite).sum(axis=2) > 3)[union == 0].any()


def test_preview_of_clips_and_masks(run_cli, tmp_path):
    vid = trees.video_tree(tmp_path / "v", n_frames=9, masks=("xmem",))
    assert run_cli("preview", str(vid), f"out={tmp_path / 'v.png'}")[0] == 0
    _, panels = preview(himfmt.open(vid))
    assert [p.kind for p in panels] == ["frame"] * 4 and [p.frame for p in panels] == ["00000", "00003", "00005", "00008"]
    val = trees.val_tree(tmp_path / "val")
    _, panels = preview(himfmt.open(val), n=1)
    assert [p.kind for p in panels] == ["composite", "overlay", "masks"]
    code, _, err = run_cli("preview", str(val), "sample=nope", f"out={tmp_path / 'x.png'}")
    assert code == 2 and "no sample matches" in err


def test_stats_report_known_counts(run_cli, tmp_path):
    root = trees.train_tree(tmp_path / "t", stems=("a", "b", "c"), n_inst=2)
    trees.train_tree(tmp_path / "t", split="other", stems=("d",), n_inst=3)
    code, out, _ = run_cli("stats", str(root), "output=json", "n=10")
    assert code == 0
    doc = json.loads(out)
    (ds,) = doc["datasets"]
    by = {s["split"]: s for s in ds["splits"]}
    assert by["I-HIM50K"]["samples"] == 3 and by["I-HIM50K"]["instances"] == 6 and by["I-HIM50K"]["instances_per_sample"] == {"2": 3}
    assert by["other"]["instances_per_sample"] == {"3": 1}
    assert by["I-HIM50K"]["resolutions"] == [{"width": trees.W, "height": trees.H, "samples": 3}]
    px = by["I-HIM50K"]["pixels"]
    assert px["frames_decoded"] == 3 and abs(px["opaque"] + px["soft"] + px["empty"] - 1) < 1e-3
    assert px["occlusion"] == 0.0  # this test tree puts each instance in its own band
    code, out, _ = run_cli("stats", str(tmp_path / "t"))
    assert code == 0 and "instances per sample" in out


def test_video_stats_clip_lengths(tmp_path):
    vid = trees.video_tree(tmp_path / "v", videos=("a", "b"), n_frames=5)
    (ds,) = himfmt.stats(vid, n=4)
    assert ds["splits"][0]["clip_frames"] == {"min": 5, "median": 5, "max": 5} and ds["splits"][0]["frames"] == 10


def test_html_report_draws_the_problem(run_cli, tmp_path):
    root = trees.val_tree(tmp_path / "val")
    bad = next(root.rglob("alphas/*/*/00.png"))
    trees.save(bad, np.full((10, 12), 200, np.uint8))  # a matte of the wrong size
    code, _, _ = run_cli("validate", str(root), f"html={tmp_path / 'r.html'}")
    assert code == 1
    page = (tmp_path / "r.html").read_text()
    assert "matte.size_mismatch" in page and page.count("data:image/png;base64,") >= 1


def doc_block(name: str) -> str:
    text = (Path(__file__).parent.parent / "docs" / "api.md").read_text()
    return re.search(rf"<!-- {name} -->\s*```python\n(.*?)```", text, re.S).group(1)


@pytest.mark.slow  # a new Python process that fills the demo and deep-validates it with spawned workers
def test_the_api_example_runs_as_a_script_file(tmp_path, demo_root):
    """Saved as a file and run in a new process, as a user does: its deep validation spawns workers,
    which import the script (the guard keeps them from running it). The session's demo is copied in,
    so the example's fill finds it complete."""
    shutil.copytree(demo_root, tmp_path / "himfmt-demo", symlinks=True)
    script = tmp_path / "example.py"
    script.write_text(doc_block("api-example"))
    p = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert "maggie_image_train ['I-HIM50K']" in p.stdout and "\n0 findings" in p.stdout
    assert "Traceback" not in p.stderr
