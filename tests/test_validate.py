"""Validation: clean trees are clean; each injected fault gives exactly its finding."""

from __future__ import annotations

import json
import os
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from himfmt.layouts import LAYOUTS
from himfmt.layouts.writer import write_samples
from himfmt.validation import validate

import trees
from trees import composed_samples


def found(root: Path, deep: bool = False, **kw) -> list[tuple[str, str]]:
    report = validate(str(root), deep_pass=deep, workers=1, **kw)
    return sorted((f.code, f.path) for f in report.findings)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_clean_tree_of_every_layout(tmp_path, layout):
    trees.example(layout, tmp_path / "data")
    report = validate(str(tmp_path), deep_pass=True, workers=1)
    assert [d.layout for d in report.datasets] == [layout]
    assert report.findings == []


@pytest.fixture
def train(tmp_path):
    return trees.train_tree(tmp_path / "data", "s", stems=("a", "b"), n_inst=2)


@pytest.fixture
def val(tmp_path):
    return trees.val_tree(tmp_path / "val", splits=("natural",))


@pytest.fixture
def video(tmp_path):
    return trees.video_tree(tmp_path / "vid", "comp", n_frames=8, n_inst=2, masks=("xmem",))


@pytest.mark.parametrize(
    "arr,desc",
    [
        (np.zeros((trees.H, trees.W, 4), np.uint8), "RGBA"),
        (np.zeros((trees.H, trees.W), np.uint16), "16-bit"),
    ],
)
def test_matte_not_8bit_gray(train, arr, desc):
    trees.save(train / "s/alphas/a/01.png", arr)
    assert found(train) == [("matte.not_8bit_gray", "s/alphas/a/01.png")]


def test_palette_matte(train):
    from PIL import Image

    Image.fromarray(trees.matte(1)).convert("P").save(train / "s/alphas/b/00.png")
    assert found(train) == [("matte.not_8bit_gray", "s/alphas/b/00.png")]


def test_mask_not_8bit_gray(val):
    trees.save(val / "masks_matched_r50_fpn_3x/natural/x/00.png", np.zeros((trees.H, trees.W, 3), np.uint8))
    assert found(val) == [("mask.not_8bit_gray", "masks_matched_r50_fpn_3x/natural/x/00.png")]


def test_mask_not_binary(val):
    trees.save(val / "masks_matched_r50_fpn_3x/natural/y/01.png", trees.matte(3))
    assert found(val) == []  # headers only: values need pixels
    assert found(val, deep=True) == [("mask.not_binary", "masks_matched_r50_fpn_3x/natural/y/01.png")]


def test_matte_size_mismatch(train):
    trees.save(train / "s/alphas/a/00.png", trees.matte(0, trees.W + 2, trees.H))
    assert found(train) == [("matte.size_mismatch", "s/alphas/a/00.png")]


def test_mask_size_mismatch(val):
    trees.save(val / "masks_matched_r50_fpn_3x/natural/x/01.png", np.zeros((5, 5), np.uint8))
    assert found(val) == [("mask.size_mismatch", "masks_matched_r50_fpn_3x/natural/x/01.png")]


def test_clip_frame_size_varies(video):
    v = video / "comp"
    trees.save(v / "fgr/v0/00003.jpg", trees.rgb(3, 40, 30))
    for sub in ("pha", "xmem"):
        for k in range(2):
            trees.save(v / f"{sub}/v0/00003/{k:02d}.png", np.zeros((30, 40), np.uint8))
    assert found(video) == [("video.frame_size_varies", "comp/fgr/v0/00003.jpg")]


def test_image_without_instances(train):
    shutil.rmtree(train / "s/alphas/b")
    assert found(train) == [("sample.no_instances", "s/images/b.jpg")]


def test_alpha_without_image(train):
    (train / "s/images/b.jpg").unlink()
    assert found(train) == [("image.missing", "s/alphas/b")]


def test_image_not_jpg(train):
    (train / "s/images/b.jpg").rename(train / "s/images/b.JPG")
    assert found(train) == [("image.not_jpg", "s/images/b.JPG")]


def test_stray_file(train):
    (train / "s/alphas/a/.DS_Store").write_bytes(b"\0\0")
    assert found(train) == [("files.stray", "s/alphas/a/.DS_Store")]


def test_empty_and_tiny_mattes(train):
    trees.save(train / "s/alphas/a/00.png", np.zeros((trees.H, trees.W), np.uint8))
    tiny = np.zeros((trees.H, trees.W), np.uint8)
    tiny[3, 3] = 255
    trees.save(train / "s/alphas/b/01.png", tiny)
    assert found(train) == []
    assert found(train, deep=True) == [("matte.empty", "s/alphas/a/00.png"), ("matte.tiny", "s/alphas/b/01.png")]


def test_unpadded_names_with_more_than_ten(tmp_path):
    root = trees.train_tree(tmp_path, "s", stems=("a",), names=[f"{k}.png" for k in range(11)])
    assert found(root) == [("instances.too_many", "s/alphas/a"), ("instances.unpadded_names", "s/alphas/a")]


def test_padded_names_only_too_many(tmp_path):
    root = trees.train_tree(tmp_path, "s", stems=("a",), n_inst=11)
    assert found(root) == [("instances.too_many", "s/alphas/a")]


def test_unpadded_names_with_few_are_fine(tmp_path):
    root = trees.train_tree(tmp_path, "s", stems=("a",), names=["0.png", "1.png", "2.png"])
    assert found(root, deep=True) == []


def test_video_frame_without_alpha(video):
    shutil.rmtree(video / "comp/pha/v0/00004")
    shutil.rmtree(video / "comp/xmem/v0/00004")
    assert found(video) == [("video.frame_without_alpha", "comp/fgr/v0/00004.jpg")]


def test_video_instance_count_varies(video):
    (video / "comp/pha/v0/00002/01.png").unlink()
    (video / "comp/xmem/v0/00002/01.png").unlink()
    assert found(video) == [("video.instance_count_varies", "comp/pha/v0")]


def test_video_alpha_frame_without_fgr(video):
    (video / "comp/fgr/v0/00007.jpg").unlink()
    assert found(video) == [("video.frame_sets_differ", "comp/pha/v0/00007")]


def test_video_too_short(tmp_path):
    root = trees.video_tree(tmp_path, "s", n_frames=5)
    assert found(root) == [("video.too_short", "s/fgr/v0")]


def test_video_mask_missing(video):
    (video / "comp/xmem/v0/00006/01.png").unlink()
    assert found(video) == [("mask.missing", "comp/xmem/v0/00006/01.png")]


def test_video_frame_not_jpg(video):
    trees.save(video / "comp/fgr/v0/00001.png", trees.rgb(1))
    (video / "comp/fgr/v0/00001.jpg").unlink()
    assert found(video) == [("video.frame_not_jpg", "comp/fgr/v0/00001.png")]


def test_val_mask_dir_missing_an_image(val):
    shutil.rmtree(val / "masks_matched_r50_fpn_3x/natural/y")
    assert found(val) == [
        ("mask.missing", "masks_matched_r50_fpn_3x/natural/y/00.png"),
        ("mask.missing", "masks_matched_r50_fpn_3x/natural/y/01.png"),
    ]


def test_val_mask_name_differs(val):
    (val / "masks_matched_r50_fpn_3x/natural/x/01.png").rename(val / "masks_matched_r50_fpn_3x/natural/x/1.png")
    assert found(val) == [
        ("mask.missing", "masks_matched_r50_fpn_3x/natural/x/01.png"),
        ("mask.unpaired", "masks_matched_r50_fpn_3x/natural/x/1.png"),
    ]


def test_root_path_containing_alpha_dir_name(tmp_path):
    root = trees.val_tree(tmp_path / "alphas_backup" / "HIM2K", splits=("natural",))
    assert found(root) == [("root.contains_alpha_dir", ".")]


def test_dvm_frame_count_mismatch(tmp_path):
    root = trees.dvm_source_tree(tmp_path)
    trees.write_mp4(root / "fg/video/test/0000/a.mp4", [trees.matte(i, 64, 48) for i in range(3)], True)
    assert found(root) == [("dvm.frame_count_mismatch", "fg/video/test/0000")]


def test_dvm_pair_missing_file(tmp_path):
    root = trees.dvm_source_tree(tmp_path)
    (root / "test_pairs.txt").write_text("image+nope.png+0000.mp4\n")
    assert found(root) == [("dvm.pair_missing_file", "test_pairs.txt")]


def test_dvm_fg_not_premultiplied(tmp_path):
    write_samples("dvm_composed", composed_samples(), tmp_path)
    trees.save(tmp_path / "f/video_0000_0001/00002.jpg", np.full((trees.H, trees.W, 3), 250, np.uint8))
    assert found(tmp_path, deep=True) == [("dvm.fg_not_premultiplied", "f/video_0000_0001/00002.jpg")]


def test_dvm_composed_streams_differ(tmp_path):
    write_samples("dvm_composed", composed_samples(), tmp_path)
    (tmp_path / "b/video_0000_0001/00001.jpg").unlink()
    assert found(tmp_path) == [("dvm.stream_mismatch", "b/video_0000_0001")]


def test_corrupt_and_truncated_files(train):
    (train / "s/alphas/a/00.png").write_bytes(os.urandom(300))  # garbage: the header already fails
    data = (train / "s/images/b.jpg").read_bytes()
    (train / "s/images/b.jpg").write_bytes(data[: len(data) - 200])  # truncated: only decoding fails
    assert found(train) == [("file.corrupt", "s/alphas/a/00.png")]
    assert found(train, deep=True) == [("file.corrupt", "s/alphas/a/00.png"), ("file.corrupt", "s/images/b.jpg")]


def test_decompression_bomb_refused_without_decoding(train):
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    (train / "s/alphas/b/00.png").write_bytes(png + b"\0" * 100)
    assert found(train, deep=True) == [("file.too_large", "s/alphas/b/00.png")]


def test_symlink_rule(train, tmp_path):
    """Links to files are read wherever they point; a folder outside the root or nothing at all is a finding."""
    outside = trees.save(tmp_path / "outside" / "x.png", trees.matte(0))
    os.rename(train / "s/alphas/a/01.png", tmp_path / "outside" / "01.png")
    os.symlink(tmp_path / "outside" / "01.png", train / "s/alphas/a/01.png")
    assert found(train) == []
    os.symlink(outside.parent, train / "s/alphas/c")
    os.symlink(tmp_path / "nothing.png", train / "s/alphas/b/02.png")
    assert found(train) == [("file.symlink_escape", "s/alphas/b/02.png"), ("file.symlink_escape", "s/alphas/c")]


def test_instances_overlapping_as_opaque(train):
    full = np.full((trees.H, trees.W), 255, np.uint8)
    trees.save(train / "s/alphas/a/00.png", full)
    trees.save(train / "s/alphas/a/01.png", full)
    assert found(train, deep=True) == [("matte.sum_exceeds", "s/alphas/a")]


@pytest.mark.parametrize("inject", ["random_png", "empty_files", "file_for_dir", "empty_mp4", "symlink_loop"])
def test_garbage_never_raises(tmp_path, inject):
    root = trees.train_tree(tmp_path / "t", "s")
    dvm = trees.dvm_source_tree(tmp_path / "dvm")
    if inject == "random_png":
        for p in (root / "s/alphas/a").iterdir():
            p.write_bytes(os.urandom(64))
    elif inject == "empty_files":
        (root / "s/images/a.jpg").write_bytes(b"")
        (root / "s/alphas/b/00.png").write_bytes(b"")
    elif inject == "file_for_dir":
        shutil.rmtree(root / "s/alphas/b")
        (root / "s/alphas/b").write_bytes(b"not a dir")
    elif inject == "empty_mp4":
        (dvm / "fg/video/test/0000/f.mp4").write_bytes(b"")
        (dvm / "bg/test/0001.mp4").write_bytes(b"")
    else:
        os.symlink(tmp_path, root / "s/alphas/loop")
    report = validate(str(tmp_path), deep_pass=True, workers=1)
    assert report.findings, inject
    assert all(f.code in json.loads((Path(__file__).parents[1] / "schemas/findings.json").read_text())["codes"] for f in report.findings)


def test_parallel_deep_equals_serial(train):
    trees.save(train / "s/alphas/a/00.png", np.zeros((trees.H, trees.W), np.uint8))
    serial = validate(str(train), deep_pass=True, workers=1)
    parallel = validate(str(train), deep_pass=True, workers=2)
    assert sorted(serial.findings) == sorted(parallel.findings) != []


def test_truncated_mp4(tmp_path):
    root = trees.dvm_source_tree(tmp_path)
    data = (root / "fg/video/test/0000/f.mp4").read_bytes()
    (root / "fg/video/test/0000/f.mp4").write_bytes(data[: len(data) // 2])
    assert ("file.corrupt", "fg/video/test/0000/f.mp4") in found(root, deep=True)


def test_schemas_are_valid_and_codes_documented():
    from jsonschema import Draft202012Validator

    from himfmt.layouts import LAYOUTS
    from himfmt.validation.catalog import catalog

    def codes_in(node):
        if isinstance(node, dict):
            yield from node.get("x-findings", {}).values()
            for v in node.values():
                yield from codes_in(v)
        elif isinstance(node, list):
            for v in node:
                yield from codes_in(v)

    root = Path(__file__).parents[1] / "schemas"
    for doc in [*(lay.schema() for lay in LAYOUTS.values()), json.loads((root / "defs.json").read_text())]:
        Draft202012Validator.check_schema(doc)
        assert set(codes_in(doc)) <= set(catalog()), doc["$id"]
    for code, info in catalog().items():
        assert info["severity"] in ("error", "warning", "info") and info["meaning"] and info["breaks"] and info["fix"], code


def test_every_check_emits_only_the_codes_it_declares():
    """Each registered check names its codes; every finding() in its body uses a literal code it declared
    (or one of its literal code tables), so grep finds every emitter of a code."""
    import ast
    import inspect
    import textwrap

    from himfmt.validation.catalog import catalog
    from himfmt.validation.registry import CHECKS

    assert {c.family for c in CHECKS} == {"structure", "deep"}
    for c in CHECKS:
        assert c.codes and set(c.codes) <= set(catalog()), c.name
        tree = ast.parse(textwrap.dedent(inspect.getsource(c.fn)))
        literals = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in catalog()}
        tables = {
            v
            for n in ast.walk(tree)
            if isinstance(n, ast.Name) and isinstance(getattr(inspect.getmodule(c.fn), n.id, None), dict)
            for v in getattr(inspect.getmodule(c.fn), n.id).values()
            if v in catalog()
        }
        assert literals | tables <= set(c.codes), c.name
    emitted = {code for c in CHECKS for code in c.codes}
    schema_codes = {
        "manifest.invalid",
        "image.missing",
        "image.not_jpg",
        "sample.no_instances",
        "instances.too_many",
        "video.too_short",
        "video.frame_not_jpg",
        "video.frame_without_alpha",
        "video.frame_sets_differ",
    }
    # Outside the registry: the schema pass, the cross-dataset leakage check, and "no dataset found".
    assert set(catalog()) - emitted == schema_codes | {"split.shared_image", "dataset.none_found"}
