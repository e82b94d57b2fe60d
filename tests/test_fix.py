"""``himfmt fix``: a repaired copy in which every repairable fault is mended, the rest left out or said."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
from PIL import Image

from himfmt.io.tree import Tree
from himfmt.layouts.detect import open_datasets
from himfmt.model import FileRef
from himfmt.repair.rules import without_exif
from himfmt.validation import validate

import trees
from helpers import digest

SPLIT = "I-HIM50K"
STEMS = ("rgba", "unpadded", "exif", "pngjpg", "stray", "corrupt", "zeroone", "clean")


def exif_jpeg(rgb: np.ndarray, orientation: int = 6) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=95, exif=exif.tobytes())
    return buf.getvalue()


def broken_tree(root):
    """A train tree with one fault per sample (and one clean sample)."""
    trees.train_tree(root, SPLIT, stems=STEMS)
    base = root / SPLIT
    matte = np.asarray(Image.open(base / "alphas" / "rgba" / "00.png"))
    Image.fromarray(np.dstack([matte, matte, matte, np.full_like(matte, 255)])).save(base / "alphas" / "rgba" / "00.png")
    folder = base / "alphas" / "unpadded"
    for name in sorted(os.listdir(folder)):
        os.remove(folder / name)
    for k in range(11):  # 0.png .. 10.png: the loaders' sort puts 10 before 2
        trees.save(folder / f"{k}.png", trees.instance_matte(k, 11, 7))
    (base / "images" / "exif.jpg").write_bytes(exif_jpeg(trees.rgb(2)))
    trees.save(base / "images" / "pngjpg.jpg", trees.rgb(3), format="PNG")
    (base / "alphas" / "stray" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    jpeg = (base / "images" / "corrupt.jpg").read_bytes()
    (base / "images" / "corrupt.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    zero_one = (np.asarray(Image.open(base / "alphas" / "zeroone" / "00.png")) > 127).astype(np.uint8)
    Image.fromarray(zero_one).save(base / "alphas" / "zeroone" / "00.png")
    return root


def codes(report) -> set[str]:
    return {f.code for f in report.findings if f.severity != "info"}


def test_fix_mends_what_it_can_and_leaves_out_what_it_cannot(run_cli, tmp_path):
    src = broken_tree(tmp_path / "src")
    before = digest(src)
    found = codes(validate(str(src), deep_pass=True, workers=1))
    assert {"matte.not_8bit_gray", "instances.unpadded_names", "image.exif_rotated", "file.wrong_format", "files.stray"} <= found
    assert {"file.corrupt", "matte.tiny"} <= found

    code, out, err = run_cli("fix", f"root={src}", f"out={tmp_path / 'out'}", "deep=true", "workers=1")
    assert code == 0, out + err
    assert digest(src) == before  # the source is never written
    left = [f for f in validate(str(tmp_path / "out"), deep_pass=True, workers=1).findings if f.severity != "info"]
    # Eleven small people in one picture: many, and small, but no fault.
    assert all(f.code in ("instances.too_many", "matte.tiny") and "/unpadded" in f.path for f in left), left
    said = " ".join(out.split())
    for code_ in (
        "matte.not_8bit_gray",
        "instances.unpadded_names",
        "image.exif_rotated",
        "file.wrong_format",
        "files.stray",
        "file.corrupt",
        "matte.tiny",
    ):
        assert code_ in said, code_

    copy = tmp_path / "out" / SPLIT
    ds = open_datasets(str(tmp_path / "out"))[0]
    assert sorted(s.id for s in ds.samples) == sorted(set(STEMS) - {"corrupt"})  # left out, never invented
    assert not (copy / "images" / "corrupt.jpg").exists() and not (copy / "alphas" / "stray" / ".DS_Store").exists()
    rgba = np.asarray(Image.open(src / SPLIT / "alphas" / "rgba" / "00.png").convert("L"))
    assert np.array_equal(np.asarray(Image.open(copy / "alphas" / "rgba" / "00.png")), rgba)  # what the loaders read
    # Numeric order: 10.png becomes 10, not 02 (the position in the loaders' sort).
    assert sorted(os.listdir(copy / "alphas" / "unpadded")) == [f"{k:02d}.png" for k in range(11)]
    for k in (2, 10):
        assert (copy / "alphas" / "unpadded" / f"{k:02d}.png").read_bytes() == (
            src / SPLIT / "alphas" / "unpadded" / f"{k}.png"
        ).read_bytes()
    exif = Image.open(copy / "images" / "exif.jpg")
    assert exif.getexif().get(0x0112) is None
    stored = FileRef(Tree(str(src)), f"{SPLIT}/images/exif.jpg").read_rgb()
    assert np.array_equal(FileRef(Tree(str(copy)), "images/exif.jpg").read_rgb(), stored)  # the same pixels
    assert Image.open(copy / "images" / "pngjpg.jpg").format == "JPEG"
    assert set(np.unique(np.asarray(Image.open(copy / "alphas" / "zeroone" / "00.png")))) <= {0, 255}
    assert os.stat(copy / "images" / "clean.jpg").st_ino == os.stat(src / SPLIT / "images" / "clean.jpg").st_ino  # linked

    lines = [json.loads(ln) for ln in (tmp_path / "out" / ".himfmt" / "fix.jsonl").read_text().splitlines()]
    gray = next(c for c in lines if c["code"] == "matte.not_8bit_gray")
    assert gray["src"] == gray["dst"] == f"{SPLIT}/alphas/rgba/00.png" and gray["before"] != gray["after"]
    assert {c["src"] for c in lines if c["code"] == "file.corrupt"} >= {f"{SPLIT}/images/corrupt.jpg"}
    assert all(c["dst"] is None for c in lines if c["code"] in ("file.corrupt", "files.stray"))

    first = digest(tmp_path / "out")
    again = run_cli("fix", f"root={src}", f"out={tmp_path / 'out'}", "deep=true", "workers=1")  # a rerun: nothing new
    assert again[0] == 0, again[2]
    assert digest(tmp_path / "out") == first


def test_exclude_false_copies_what_cannot_be_mended_and_says_so(run_cli, tmp_path):
    src = broken_tree(tmp_path / "src")
    code, out, _ = run_cli("fix", f"root={src}", f"out={tmp_path / 'out'}", "deep=true", "exclude=false", "workers=1")
    assert code == 1 and "file.corrupt" in out  # the copy still holds the corrupt image: not fixed, exit 1
    assert (tmp_path / "out" / SPLIT / "images" / "corrupt.jpg").exists()


def test_a_dry_run_lists_the_changes_and_writes_nothing(run_cli, tmp_path):
    src = broken_tree(tmp_path / "src")
    code, out, err = run_cli("fix", f"root={src}", f"out={tmp_path / 'out'}", "dry_run=true", "workers=1")
    assert code == 0, err
    assert "matte.not_8bit_gray" in out and "dry run" in out
    assert not (tmp_path / "out").exists()


def test_only_and_skip_choose_the_codes(run_cli, tmp_path):
    src = broken_tree(tmp_path / "src")
    code, out, _ = run_cli("fix", f"root={src}", f"out={tmp_path / 'out'}", "only=[matte.not_8bit_gray]", "workers=1")
    copy = tmp_path / "out" / SPLIT
    assert Image.open(copy / "alphas" / "rgba" / "00.png").mode == "L"
    assert Image.open(copy / "images" / "exif.jpg").getexif().get(0x0112) == 6  # not chosen: copied as it is
    assert code == 1  # what was not chosen is still there


def test_fix_refuses_an_output_inside_its_source(run_cli, tmp_path):
    src = broken_tree(tmp_path / "src")
    code, _, err = run_cli("fix", f"root={src}", f"out={src / 'fixed'}")
    assert code == 2 and "outside root" in err


def test_exif_removal_keeps_the_compressed_pixels():
    rgb = trees.rgb(5)
    data = exif_jpeg(rgb)
    stripped = without_exif(data, "x.jpg")
    assert b"Exif\0\0" in data and b"Exif\0\0" not in stripped
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(stripped))), np.asarray(Image.open(io.BytesIO(data))))


def test_explain_says_whether_fix_repairs_a_code(run_cli):
    code, out, _ = run_cli("explain", "matte.not_8bit_gray")
    assert code == 0 and "himfmt fix: rewritten as the 8-bit grey the loaders read" in " ".join(out.split())
    code, out, _ = run_cli("explain", "video.too_short")
    assert code == 0 and "himfmt fix: not repaired" in out


def test_val_tree_masks_are_binarized_made_where_missing_and_trimaps_snapped(run_cli, tmp_path):
    src = trees.val_tree(tmp_path / "src")
    masks = src / "masks_matched_r50_fpn_3x" / "natural"
    soft = np.asarray(Image.open(masks / "x" / "00.png")).copy()
    soft[soft > 0] = 200  # a soft mask: the loaders never re-binarize it
    Image.fromarray(soft).save(masks / "x" / "00.png")
    os.remove(masks / "y" / "01.png")  # a missing mask
    trimap = np.full(trees.instance_matte(0, 2, 0).shape, 100, np.uint8)  # values other than 0/128/255
    trees.save(src / "trimap" / "natural" / "x" / "00.png", trimap)
    assert "trimap.bad_values" in codes(validate(str(src), deep_pass=True, workers=1))
    code, out, err = run_cli("fix", f"root={src}", f"out={tmp_path / 'out'}", "deep=true", "workers=1")
    said = " ".join(out.split())
    assert code == 0, out + err
    assert "mask.not_binary" in said and "mask.missing" in said
    copy = tmp_path / "out" / "masks_matched_r50_fpn_3x" / "natural"
    assert set(np.unique(np.asarray(Image.open(copy / "x" / "00.png")))) <= {0, 255}
    assert (copy / "y" / "01.png").is_file()  # made by himfmt masks' own code
    assert set(np.unique(np.asarray(Image.open(tmp_path / "out" / "trimap" / "natural" / "x" / "00.png")))) == {128}


def test_a_matte_of_another_size_is_resized_only_when_asked(run_cli, tmp_path):
    src = trees.train_tree(tmp_path / "src", SPLIT, stems=("a", "b"))
    trees.save(src / SPLIT / "alphas" / "a" / "00.png", trees.matte(0, 20, 10))
    code, out, _ = run_cli("fix", f"root={src}", f"out={tmp_path / 'kept'}", "workers=1")
    assert code == 1 and "matte.size_mismatch" in out  # left for the user: a resize is a choice
    code, out, err = run_cli("fix", f"root={src}", f"out={tmp_path / 'resized'}", "resize_mattes=true", "workers=1")
    assert code == 0, out + err
    image = Image.open(src / SPLIT / "images" / "a.jpg")
    assert Image.open(tmp_path / "resized" / SPLIT / "alphas" / "a" / "00.png").size == image.size


def test_a_straight_dvm_foreground_is_premultiplied(run_cli, tmp_path):
    from himfmt.layouts import WriteOptions
    from himfmt.layouts.writer import write_samples

    write_samples("dvm_composed", trees.composed_samples(), tmp_path / "src", WriteOptions(png_alpha=True))
    seq = sorted(os.listdir(tmp_path / "src" / "f"))[0]
    for name in os.listdir(tmp_path / "src" / "f" / seq):  # the straight foreground, not premultiplied
        k = int(name.split(".")[0])
        trees.save(tmp_path / "src" / "f" / seq / name, trees.rgb(k), quality=95)
    assert "dvm.fg_not_premultiplied" in codes(validate(str(tmp_path / "src"), deep_pass=True, workers=1))
    code, out, err = run_cli("fix", f"root={tmp_path / 'src'}", f"out={tmp_path / 'out'}", "deep=true", "workers=1")
    assert code == 0, out + err
    assert "dvm.fg_not_premultiplied" not in codes(validate(str(tmp_path / "out"), deep_pass=True, workers=1))


def test_the_docs_name_every_repair():
    from pathlib import Path

    from himfmt.repair.rules import RULES

    page = (Path(__file__).parents[1] / "docs" / "fix.md").read_text()
    assert [code for code in RULES if f"`{code}`" not in page] == []


def test_a_killed_fix_run_again_gives_the_same_copy(run_cli, tmp_path):
    stems = tuple(f"s{i:02d}" for i in range(40))
    src = trees.train_tree(tmp_path / "src", SPLIT, stems=stems)
    for s in stems[::2]:  # every other sample needs a rewrite
        m = np.asarray(Image.open(src / SPLIT / "alphas" / s / "00.png"))
        Image.fromarray(np.dstack([m, m, m])).save(src / SPLIT / "alphas" / s / "00.png")
    assert run_cli("fix", f"root={src}", f"out={tmp_path / 'whole'}", "workers=1")[0] == 0
    out = tmp_path / "out"
    args = [sys.executable, "-m", "himfmt", "fix", f"root={src}", f"out={out}", "workers=1"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    record = out / ".himfmt" / "fix-maggie_image_train.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and (not record.exists() or len(record.read_text().splitlines()) < 8):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / ".himfmt" / "fix.jsonl").exists(), "the kill must land mid-way"
    rerun = subprocess.run(args, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert digest(out) == digest(tmp_path / "whole")
    assert (out / ".himfmt" / "fix.jsonl").read_text() == (tmp_path / "whole" / ".himfmt" / "fix.jsonl").read_text()
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_a_video_tree_is_mended_frame_by_frame(run_cli, tmp_path):
    """maggie_video: a 16-bit matte in one frame, a stray in a frame folder, a missing xmem mask."""
    src = trees.video_tree(tmp_path / "src", "comp_easy", videos=("v0", "v1"), n_frames=8, masks=("xmem",))
    frame = src / "comp_easy" / "pha" / "v0" / "00003"
    wide = np.asarray(Image.open(frame / "01.png")).astype(np.uint16) * 257
    Image.fromarray(wide).save(frame / "01.png")  # a 16-bit PNG
    (frame / "Thumbs.db").write_bytes(b"\0" * 16)
    os.remove(src / "comp_easy" / "xmem" / "v1" / "00005" / "00.png")
    found = codes(validate(str(src), workers=1))
    assert {"matte.not_8bit_gray", "files.stray", "mask.missing"} <= found, found
    code, out, err = run_cli("fix", f"root={src}", f"out={tmp_path / 'out'}", "workers=1")
    assert code == 0, out + err
    assert codes(validate(str(tmp_path / "out"), deep_pass=True, workers=1)) == set()
    copy = tmp_path / "out" / "comp_easy"
    assert Image.open(copy / "pha" / "v0" / "00003" / "01.png").mode == "L"
    assert not (copy / "pha" / "v0" / "00003" / "Thumbs.db").exists()
    assert (copy / "xmem" / "v1" / "00005" / "00.png").is_file()


def test_fix_reads_a_dataset_inside_a_zip_archive(run_cli, tmp_path):
    import zipfile

    src = broken_tree(tmp_path / "tree")
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in sorted(src.rglob("*")):
            if p.is_file() and p.name != ".DS_Store":
                z.write(p, p.relative_to(src).as_posix())
    code, out, err = run_cli("fix", f"root={archive}", f"out={tmp_path / 'out'}", "deep=true", "workers=1")
    assert code == 0, out + err
    copy = tmp_path / "out" / SPLIT
    assert Image.open(copy / "alphas" / "rgba" / "00.png").mode == "L"
    assert not (copy / "images" / "corrupt.jpg").exists()


def test_the_api_fixes_as_the_command_does_and_prints_nothing(tmp_path, capsys):
    import himfmt

    src = broken_tree(tmp_path / "src")
    done = himfmt.fix(src, tmp_path / "out", deep=True)
    assert done.report is not None and not done.report.fails("error")
    assert {c.code for c in done.changes} >= {"matte.not_8bit_gray", "file.corrupt"}
    assert capsys.readouterr() == ("", "")
