"""Guidance masks degraded from mattes, and trimaps, through `himfmt masks` and directly."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from himfmt.derived.masks import MaskParams, degrade, draw, mask_rng, series
from himfmt.layouts.detect import open_datasets
from himfmt.validation import validate

import trees


def soft_person(h: int = 80, w: int = 60) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    m[10:70, 20:40] = 255
    return cv2.GaussianBlur(m, (9, 9), 3)


@pytest.mark.parametrize("seed", range(30))
def test_mask_is_binary_sized_and_stays_within_the_dilation(seed):
    p = MaskParams()
    matte = soft_person()
    d = draw(mask_rng(seed, "src", "s", 0), p)
    m = degrade(matte, d, drop_small=0.05)
    assert m.shape == matte.shape and set(np.unique(m)) <= {0, 255}
    k = p.kernel[1]
    allowed = cv2.dilate((matte > 0).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    assert not (m[allowed == 0]).any()
    if d.op == "erode" or int(d.kernel) <= 1:
        assert not m[matte == 0].any()  # no dilation drawn: never outside the matte at all


def test_masks_are_deterministic_and_differ_between_sources():
    p, matte = MaskParams(), soft_person()
    a1 = [degrade(matte, d) for d in series(mask_rng(0, "masks_a", "x", 0), p, 3)]
    a2 = [degrade(matte, d) for d in series(mask_rng(0, "masks_a", "x", 0), p, 3)]
    b = [degrade(matte, d) for d in series(mask_rng(0, "masks_b", "x", 0), p, 3)]
    assert all(np.array_equal(x, y) for x, y in zip(a1, a2))
    assert any(not np.array_equal(x, y) for x, y in zip(a1, b))


def test_temporal_masks_drift_slowly():
    p = MaskParams(temporal=True, drift=0.03)
    s = series(mask_rng(0, "xmem", "v", 0), p, 50)
    assert len({d.op for d in s}) == 1
    steps = [abs(b.threshold - a.threshold) for a, b in zip(s, s[1:])]
    assert max(steps) <= 0.03 * (p.threshold[1] - p.threshold[0]) + 1e-12
    independent = series(mask_rng(0, "xmem", "v", 0), MaskParams(), 50)
    assert np.mean(steps) < np.mean([abs(b.threshold - a.threshold) for a, b in zip(independent, independent[1:])])


def test_masks_command_adds_a_set_that_validates(run_cli, tmp_path):
    root = trees.val_tree(tmp_path / "val", masks=())
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    code, out, err = run_cli("masks", str(root), "source=masks_matched_r50_fpn_3x", "workers=1")
    assert code == 0, err
    ds = open_datasets(str(root))[0]
    assert ds.mask_dirs == ["masks_matched_r50_fpn_3x"]
    for s in ds.samples:
        for inst in s.frames[0].instances:
            mask, matte = inst.masks["masks_matched_r50_fpn_3x"], inst.matte
            assert mask.path.rsplit("/", 1)[1] == matte.path.rsplit("/", 1)[1]  # named like its matte
            assert mask.read_gray().shape == matte.read_gray().shape
    assert validate(str(root), deep_pass=True, workers=1).findings == []
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())  # nothing existing rewritten
    code, out, _ = run_cli("masks", str(root), "source=masks_matched_r50_fpn_3x", "workers=1")
    assert code == 0 and "already there" in out


def test_xmem_masks_on_a_video_tree(run_cli, tmp_path):
    root = trees.video_tree(tmp_path / "vid", n_frames=8)
    assert run_cli("masks", str(root), "source=xmem", "mask=xmem", "workers=1")[0] == 0
    ds = open_datasets(str(root))[0]
    assert "xmem" in ds.mask_dirs
    assert all("xmem" in inst.masks for s in ds.samples for f in s.frames for inst in f.instances)
    assert validate(str(root), deep_pass=True, workers=1).findings == []


def test_trimaps_for_any_layout_with_a_place(run_cli, tmp_path):
    train = trees.train_tree(tmp_path / "train")
    assert run_cli("masks", str(train), "kind=trimap", "workers=1")[0] == 0
    tri = sorted(train.rglob("trimap/*/*.png"))
    assert tri and set(np.unique(np.concatenate([cv2.imread(str(t), 0).ravel() for t in tri]))) <= {0, 128, 255}
    assert validate(str(train), workers=1).findings == []  # the trimap dir is not taken for a mask dir
    hhm = trees.hhm_tree(tmp_path / "hhm")
    assert run_cli("masks", str(hhm), "kind=trimap", "workers=1")[0] == 0
    assert sorted(p.name for p in (hhm / "trimap").iterdir()) == ["p0.png", "p1.png", "p2.png"]


def test_masks_refused_where_the_layout_has_no_place(run_cli, tmp_path):
    hhm = trees.hhm_tree(tmp_path / "hhm")
    code, _, err = run_cli("masks", str(hhm), "source=m")
    assert code == 2 and "no place for guidance masks" in err
    val = trees.val_tree(tmp_path / "val", masks=())
    code, _, err = run_cli("masks", str(val), "source=alphas")
    assert code == 2 and "cannot name a mask dir" in err
    code, _, err = run_cli("masks", str(val))
    assert code == 2 and "source= is required" in err


def test_instance_trimaps_are_read_checked_and_converted(run_cli, tmp_path):
    train = trees.train_tree(tmp_path / "train")
    assert run_cli("masks", str(train), "kind=trimap", "workers=1")[0] == 0
    ds = open_datasets(str(train))[0]
    assert all(inst.trimap is not None and not inst.masks for s in ds.samples for inst in s.frames[0].instances)
    assert validate(str(train), deep_pass=True, workers=1).findings == []
    # Carried through a conversion, then checked there.
    assert run_cli("convert", str(train / "I-HIM50K"), f"dst={tmp_path / 'val'}", "to=maggie_image_val")[0] == 0
    assert sorted(p.relative_to(tmp_path / "val").parts[0] for p in (tmp_path / "val").rglob("trimap/*/*/*.png")) != []
    # A trimap painted with other values, and one of the wrong size.
    tri = sorted(train.rglob("trimap/*/00.png"))
    bad = cv2.imread(str(tri[0]), 0)
    bad[:4, :4] = 77
    cv2.imwrite(str(tri[0]), bad)
    cv2.imwrite(str(tri[1]), np.zeros((5, 5), np.uint8))
    codes = {(f.code, f.path.rsplit("/", 3)[-3]) for f in validate(str(train), deep_pass=True, workers=1).findings}
    # The masks job recorded the trimaps it made: the one now of another size is also named as changed.
    assert codes == {("trimap.bad_values", "trimap"), ("trimap.size_mismatch", "trimap"), ("record.file_missing", "trimap")}
