"""Detection and reading of every issue-2 layout, including real-world variants."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from himfmt.errors import HimfmtError
from himfmt.io.tree import Tree
from himfmt.layouts.detect import detect, open_datasets

import trees


def only(root: Path):
    found = detect(Tree(root))
    assert not found.ambiguous
    assert len(found.matches) == 1, [(m.layout, m.path) for m in found.matches]
    return found.datasets()[0]


def test_train_root_of_splits(tmp_path):
    trees.train_tree(tmp_path, "I-HIM50K")
    trees.train_tree(tmp_path, "extra", stems=("z",))
    ds = only(tmp_path)
    assert ds.layout == "maggie_image_train"
    assert ds.path == "" and set(ds.splits) == {"I-HIM50K", "extra"}
    assert len(ds.samples) == 3 and ds.n_instances == 6
    s = ds.samples[0]
    assert s.frames[0].image.path == "I-HIM50K/images/a.jpg"
    assert [i.matte.path for i in s.frames[0].instances] == ["I-HIM50K/alphas/a/00.png", "I-HIM50K/alphas/a/01.png"]


def test_train_single_split_with_pha_and_masks(tmp_path):
    trees.train_tree(tmp_path, "mysplit", alpha_dir="pha", masks=("masks",))
    ds = only(tmp_path / "mysplit")
    assert ds.layout == "maggie_image_train" and list(ds.splits) == ["mysplit"]
    assert ds.alpha_dir == "pha" and ds.mask_dirs == ["masks"]
    inst = ds.samples[0].frames[0].instances[0]
    assert inst.masks["masks"].path == "masks/a/00.png"


def test_train_maggie_synth_output(tmp_path):
    """MaGGIe's synthesizer: 0.png..10.png names, fg/<id>/<k>.jpg and bg/<id>.jpg layers."""
    names = [f"{k}.png" for k in range(11)]
    trees.train_tree(tmp_path, "I-HIM50K", stems=("0",), names=names)
    for k in range(11):
        trees.save(tmp_path / "I-HIM50K" / "fg" / "0" / f"{k}.jpg", trees.rgb(k))
    trees.save(tmp_path / "I-HIM50K" / "bg" / "0.jpg", trees.rgb(99))
    ds = only(tmp_path)
    assert ds.mask_dirs == []  # fg/ is a layer folder, not a mask source
    frame = ds.samples[0].frames[0]
    # The loader's order: plain sort puts 10.png before 2.png.
    assert [i.name for i in frame.instances][:4] == ["0", "1", "10", "2"]
    assert frame.instances[2].fg.path == "I-HIM50K/fg/0/10.jpg"
    assert frame.bg.path == "I-HIM50K/bg/0.jpg"


def test_train_stray_files_and_unmatched(tmp_path):
    trees.train_tree(tmp_path, "s")
    (tmp_path / "s" / "alphas" / "a" / ".DS_Store").write_bytes(b"x")
    trees.save(tmp_path / "s" / "images" / "lonely.jpg", trees.rgb(7))
    ds = only(tmp_path)
    assert "s/alphas/a/.DS_Store" in ds.stray
    lonely = next(s for s in ds.samples if s.id == "lonely")
    assert lonely.frames[0].instances == []


def test_reading_never_decodes(tmp_path):
    """Garbage bytes named .png read fine: reading lists names, it does not decode."""
    trees.train_tree(tmp_path, "s")
    (tmp_path / "s" / "alphas" / "a" / "00.png").write_bytes(b"not a png")
    ds = only(tmp_path)
    assert ds.n_instances == 4


def test_val_with_several_mask_dirs(tmp_path):
    srcs = ("masks_matched_r50_fpn_3x", "masks_matched_x101_fpn_3x")
    trees.val_tree(tmp_path / "HIM2K_M-HIM2K", masks=srcs)
    ds = only(tmp_path)
    assert ds.layout == "maggie_image_val" and ds.path == "HIM2K_M-HIM2K"
    assert sorted(ds.splits) == ["comp", "natural"]
    assert ds.alpha_dir == "alphas" and ds.mask_dirs == sorted(srcs)
    inst = ds.samples[0].frames[0].instances[1]
    assert set(inst.masks) == set(srcs)


def test_val_mask_without_matte_is_recorded(tmp_path):
    trees.val_tree(tmp_path)
    trees.save(tmp_path / "masks_matched_r50_fpn_3x" / "comp" / "x" / "05.png", np.zeros((4, 4), np.uint8))
    ds = only(tmp_path)
    assert [(n.code, n.path) for n in ds.notes] == [("mask.unpaired", "masks_matched_r50_fpn_3x/comp/x/05.png")]


def test_video_with_xmem_and_odd_frame_names(tmp_path):
    trees.video_tree(tmp_path / "V-HIM60", "comp_hard", videos=("a", "b"), masks=("xmem",), frame_names=["f_10", "f_02", "f_07"])
    trees.video_tree(tmp_path / "V-HIM60", "comp_easy")
    ds = only(tmp_path)
    assert ds.layout == "maggie_video" and ds.path == "V-HIM60"
    assert sorted(ds.splits) == ["comp_easy", "comp_hard"]
    assert ds.mask_dirs == ["xmem"]
    clip = next(s for s in ds.samples if s.split == "comp_hard" and s.id == "a")
    assert clip.is_clip and [f.name for f in clip.frames] == ["f_02", "f_07", "f_10"]
    assert clip.frames[0].instances[1].masks["xmem"].path == "V-HIM60/comp_hard/xmem/a/f_02/01.png"


def test_hhm_with_skip_list(tmp_path):
    trees.hhm_tree(tmp_path / "HHM" / "train", skip=("p1.jpg",))
    ds = only(tmp_path)
    assert ds.layout == "hhm" and list(ds.splits) == ["train"]
    assert ds.skip == ["p1.jpg"]
    assert len(ds.samples) == 3 and ds.samples[0].frames[0].instances[0].matte.path == "HHM/train/alphas/p0.png"


def test_bg_images(tmp_path):
    trees.bg_tree(tmp_path / "BG-20K" / "train")
    ds = only(tmp_path)
    assert ds.layout == "bg_images" and len(ds.samples) == 3


def test_video_matte_with_pha(tmp_path):
    trees.video_matte_tree(tmp_path / "VM" / "train")
    ds = only(tmp_path)
    assert ds.layout == "video_matte" and len(ds.samples) == 2
    f = ds.samples[0].frames[0]
    assert f.instances[0].matte.path.endswith("pha/0000/00000.jpg")
    assert f.instances[0].matte.read_gray().shape == (trees.H, trees.W)


def test_video_matte_rgba_frames(tmp_path):
    trees.video_matte_tree(tmp_path, rgba=True)
    ds = only(tmp_path)
    assert ds.layout == "video_matte"
    m = ds.samples[1].frames[2].instances[0].matte
    assert m.channel == 3
    assert np.array_equal(m.read_gray(), trees.matte(12))


def test_data_root_with_everything(tmp_path):
    data = tmp_path / "data"
    trees.train_tree(data, "I-HIM50K")
    trees.val_tree(data / "HIM2K_M-HIM2K")
    trees.video_tree(data, "V-HIM2K5")
    trees.video_tree(data / "V-HIM60", "comp_medium", masks=("xmem",))
    found = detect(Tree(tmp_path))
    got = sorted((m.layout, m.path, tuple(sorted(m.splits))) for m in found.matches)
    assert got == [
        ("maggie_image_train", "data", ("I-HIM50K",)),
        ("maggie_image_val", "data/HIM2K_M-HIM2K", ("comp", "natural")),
        ("maggie_video", "data", ("V-HIM2K5",)),
        ("maggie_video", "data/V-HIM60", ("comp_medium",)),
    ]


def test_near_miss_says_what_is_missing(tmp_path):
    trees.save(tmp_path / "s" / "images" / "a.jpg", trees.rgb())
    (tmp_path / "s" / "alphas").mkdir()
    found = detect(Tree(tmp_path))
    assert found.matches == []
    msg = found.explain_nothing()
    assert "maggie_image_train" in msg and "images/ found but no alphas/<stem>/ dirs" in msg


def test_forced_layout(tmp_path):
    trees.hhm_tree(tmp_path)
    with pytest.raises(HimfmtError, match="not a maggie_video tree"):
        open_datasets(str(tmp_path), layout="maggie_video")
    with pytest.raises(HimfmtError, match="unknown layout"):
        open_datasets(str(tmp_path), layout="nope")
    assert open_datasets(str(tmp_path), layout="hhm")[0].layout == "hhm"


def test_symlink_escaping_root_is_not_followed(tmp_path):
    outside = trees.train_tree(tmp_path / "outside", "s")
    root = trees.train_tree(tmp_path / "root", "s")
    os.symlink(outside / "s" / "alphas" / "a", root / "s" / "alphas" / "evil")
    tree = Tree(root)
    ds = detect(tree).datasets()[0]
    assert "s/alphas/evil" in tree.escapes
    assert all(s.id != "evil" for s in ds.samples)


def test_symlink_loop_terminates(tmp_path):
    trees.train_tree(tmp_path, "s")
    (tmp_path / "other").mkdir()
    os.symlink(tmp_path, tmp_path / "other" / "loop")
    found = detect(Tree(tmp_path))
    assert [m.layout for m in found.matches] == ["maggie_image_train"]


def test_hidden_folders_are_never_splits(tmp_path):
    root = trees.train_tree(tmp_path / "t")
    trees.bg_tree(tmp_path / "t" / ".previews", 2)  # images in a hidden folder beside the split
    found = detect(Tree(tmp_path / "t"))
    assert [(m.layout, sorted(m.splits)) for m in found.matches] == [("maggie_image_train", ["I-HIM50K"])]
    assert root.exists()
