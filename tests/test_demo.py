"""`himfmt demo`: every layout written, detected correctly, rerunnable, never clobbering."""

from __future__ import annotations

import json

import numpy as np
import pytest

from himfmt.io.tree import Tree
from himfmt.layouts.detect import detect

EXPECTED = {
    ("maggie_image_train", "data", ("I-HIM50K",)),
    ("maggie_image_val", "data/HIM2K_M-HIM2K", ("comp", "natural")),
    ("maggie_video", "data", ("V-HIM2K5", "people_walk")),
    ("maggie_video", "data/V-HIM60", ("comp_easy", "comp_hard", "comp_medium")),
    ("hhm", "sources/HHM", ("train",)),
    ("bg_images", "sources/BG-20K", ("train",)),
    ("video_matte", "sources/VideoMatte", ("train",)),
    ("dvm_source", "sources/DVM", ("test",)),
    ("dvm_composed", "data/DVM_composed", ("all",)),
    ("maggie_image_val", "converted/I-HIM50K_as_val", ("I-HIM50K",)),
}


@pytest.mark.slow  # about 15 s: two whole demos, the second over the first's output
def test_demo_builds_detects_and_reruns_to_the_same_bytes(run_cli, tmp_path, demo_root):
    """Every layout written and detected; the data is the demo dataset config's, byte for byte (the session's
    fill of it), also when made again over its own previous output. About 15 s: two runs of the README's
    main job, which no smaller test replaces."""
    out = tmp_path / "demo"
    code, stdout, _ = run_cli("demo", f"out={out}")
    assert code == 0 and "maggie_image_val" in stdout
    assert "All clean: no findings." in stdout
    found = detect(Tree(out))
    assert {(m.layout, m.path, tuple(sorted(m.splits))) for m in found.matches} == EXPECTED
    for ds in found.datasets():
        assert ds.notes == [], ds.notes
        for s in ds.samples:
            for f in s.frames:
                if ds.layout != "bg_images":
                    assert f.instances, (ds.layout, s.id)
                for inst in f.instances:
                    m = inst.matte.read_gray()
                    assert m.dtype == np.uint8 and m.shape[::-1] == f.image.size()
                    for mask in inst.masks.values():
                        assert set(np.unique(mask.read_gray())) <= {0, 255}
    # Sub-folders of the data root are detected on their own too.
    code, stdout, _ = run_cli("detect", str(out / "data"), "output=json")
    assert code == 0 and len(json.loads(stdout)["datasets"]) == 5

    def data_files(root):  # .himfmt/ records name their absolute source path; the previews are the demo's own
        return sorted(
            p.relative_to(root)
            for p in root.rglob("*")
            if p.is_file() and not {".himfmt", ".previews"} & set(p.parts) and p.name != ".himfmt-demo"
        )

    def same_as_the_config(root):
        files = data_files(root)
        assert files == data_files(demo_root)
        for rel in files:
            assert (root / rel).read_bytes() == (demo_root / rel).read_bytes(), rel

    same_as_the_config(out)
    assert run_cli("demo", f"out={out}")[0] == 0  # over its own previous output
    same_as_the_config(out)


def test_demo_refuses_foreign_non_empty_out(run_cli, tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    code, _, err = run_cli("demo", f"out={tmp_path}")
    assert code == 2 and "not empty" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", "precious.txt"]
